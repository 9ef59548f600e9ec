"""The ablations of Luvizon et al. 2021 (Tables 4-5) on the joint mode, each arm from several seeds; one command:

    python benchmarks/joint_ablation.py [--seeds 0 1 2] [--jobs 2] [--only last pose] [--set KEY=VALUE ...]

Every run is ``pipelines/run.py pipelines/joint_multitask.yaml --set seed=S`` plus the arm's switches (and the
``--set`` options given here, e.g. a smaller training budget), in its own process (``OMP_NUM_THREADS=1``,
``--jobs`` at once); checkpoints are cached, so a rerun only trains what is missing. Metrics are those of the
last prediction block on the synthetic test split. Claims follow ``docs/interfaces.md``: a gap counts when it
exceeds 2 std (sample std over seeds, the larger of the two arms); otherwise "not resolved". Results:
``benchmarks/results/joint_ablation.{json,md}``.
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import argparse
import json
import os
import subprocess
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from common.claims import claims_markdown, compare, mean_std
from common.io import write_json, write_text

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "benchmarks" / "results" / "joint_ablation"
PIPELINE = "pipelines/joint_multitask.yaml"
#: arm -> (--set switches, description); Table 5's feature rows are without decoupled poses
ARMS = {
    "default": ([], "supervision on all blocks, combined features, decoupled poses"),
    "last": (["joint.supervise=last"], "supervision on the last block only (Table 4)"),
    "coupled": (["joint.decoupled_poses=false"], "combined features, poses not decoupled (Table 5)"),
    "pose": (["joint.action_features=pose", "joint.decoupled_poses=false"], "pose features only (Table 5)"),
    "appearance": (["joint.action_features=appearance", "joint.decoupled_poses=false"],
                   "appearance features only (Table 5)"),
}
#: (claim, arm a, arm b, metric, higher is better): "a at least matches b" as the seed reports
CLAIMS = [("all-block supervision beats last-block only: top-1", "default", "last", "top1", True),
          ("all-block supervision beats last-block only: PCK", "default", "last", "pck", True),
          ("combined features beat pose features only: top-1", "coupled", "pose", "top1", True),
          ("combined features beat appearance features only: top-1", "coupled", "appearance", "top1", True),
          ("decoupled poses beat coupled: top-1", "default", "coupled", "top1", True),
          ("decoupled poses beat coupled: PCK", "default", "coupled", "pck", True)]
METRICS = [("top1", "top-1 multi-clip", 100, "{:.1f}"), ("top1_single_clip", "top-1 single clip", 100, "{:.1f}"),
           ("pck", "PCK@0.2", 100, "{:.1f}"), ("mpjpe_mm", "MPJPE mm", 1, "{:.1f}")]


def run_one(arm: str, seed: int, extra: list) -> dict:
    work = REPO / "work_dirs" / "joint_ablation" / f"{arm}_seed{seed}"
    cmd = [sys.executable, "pipelines/run.py", PIPELINE, "--work-dir", str(work), "--set", f"seed={seed}",
           *ARMS[arm][0], *extra]
    r = subprocess.run(cmd, cwd=REPO, env={**os.environ, "OMP_NUM_THREADS": "1"}, capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"{arm} seed {seed} failed:\n{r.stderr[-2000:]}")
    rep = json.loads((work / "report.json").read_text())
    j = rep["joint"]
    print(f"{arm} seed {seed}: top-1 {j['top1']:.3f} pck {j['pck']:.3f} mpjpe {j['mpjpe_mm']:.1f}",
          file=sys.stderr, flush=True)
    return {"arm": arm, "seed": seed, **{k: j[k] for k, *_ in METRICS},
            "train_seconds": rep["train"]["joint"].get("train_seconds")}


def claim(rows, what, a, b, key, higher) -> dict:
    va, vb = [r[key] for r in rows if r["arm"] == a], [r[key] for r in rows if r["arm"] == b]
    if not va or not vb:
        return {"claim": what, "verdict": "not measured"}
    c = compare(va, vb, higher)
    return {"claim": what, "a": a, "b": b, "key": key, "gap": c["gap"], "std": c["std"], "verdict": c["verdict"]}


def markdown(rows, claims, extra) -> str:
    lines = ["# Joint mode ablations (seed 001, Tables 4-5): last block on the synthetic test split, mean ± std "
             "over seeds", "", f"Options for every arm: `{' '.join(extra) or '(pipeline defaults)'}`", "",
             "| arm | what | seeds | " + " | ".join(m[1] for m in METRICS) + " | train s |",
             "|---|---|---|" + "---|" * len(METRICS) + "---|"]
    for arm, (_, what) in ARMS.items():
        rs = [r for r in rows if r["arm"] == arm]
        if not rs:
            continue
        cells = []
        for key, _, scale, fmt in METRICS:
            m, s = mean_std([r[key] * scale for r in rs])
            cells.append(f"{fmt.format(m)} ± {fmt.format(s)}")
        secs = [r["train_seconds"] for r in rs if r["train_seconds"] is not None]
        tail = f"{np.mean(secs):.0f}" if secs else "-"
        lines.append(f"| {arm} | {what} | {len(rs)} | " + " | ".join(cells) + f" | {tail} |")
    lines += ["", *claims_markdown(claims)]
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--jobs", type=int, default=2)
    p.add_argument("--only", nargs="+", choices=list(ARMS), default=None)
    p.add_argument("--set", nargs="+", default=[], dest="sets", metavar="KEY=VALUE",
                   help="pipeline options for every arm (e.g. a smaller joint.train budget)")
    p.add_argument("--out", default=str(OUT), help="results path without suffix")
    a = p.parse_args(argv)
    out = Path(a.out)
    arms = a.only or list(ARMS)
    jobs = [(arm, s) for arm in arms for s in a.seeds]
    with ThreadPoolExecutor(a.jobs) as ex:
        rows = list(ex.map(lambda j: run_one(j[0], j[1], a.sets), jobs))
    old = (json.loads(out.with_suffix(".json").read_text())["rows"]
           if a.only and out.with_suffix(".json").is_file() else [])
    rows = [r for r in old if r["arm"] not in arms] + rows
    claims = [claim(rows, *c) for c in CLAIMS]
    write_json(out.with_suffix(".json"), {"rows": rows, "claims": claims, "options": a.sets})
    text = markdown(rows, claims, a.sets)
    write_text(out.with_suffix(".md"), text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
