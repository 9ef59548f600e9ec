"""Joint mode against the modular chain on the same synthetic test split; one command:

    python benchmarks/compare_joint_chain.py [--seeds 0 1 2] [--chain pipelines/rgb_to_action.yaml]
                                            [--joint pipelines/joint_multitask.yaml] [--set KEY=VALUE ...]
                                            [--chain-set KEY=VALUE ...] [--work-root DIR]

Runs both pipeline files through ``pipelines/run.py`` (checkpoints cached; a rerun only evaluates), each on its
own work dir under ``--work-root`` (``work_dirs/compare_joint_chain/``), and tabulates, from frames: action top-1
(multi-clip), MPJPE of the 3D poses (root-aligned, mm), input frames per second of the whole evaluation (decoding
included) and training seconds (as recorded when the checkpoint was trained). For the chain these are
``end_to_end.top1`` / ``mpjpe_mm`` / ``fps``; for the joint mode ``joint.top1`` / ``mpjpe_mm`` / ``fps`` (its 3D
uses the ground-truth root depth to place the crop-normalised pose in metres, as the seed evaluates).
Results: ``benchmarks/results/compare_joint_chain.{json,md}``.
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import argparse
import json
import subprocess

from common.claims import mean_std
from common.io import write_json, write_text

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "benchmarks" / "results" / "compare_joint_chain"


def run(system: str, pipeline: str, seed: int, sets: list, work_root: Path) -> dict:
    work = work_root / f"{system}_seed{seed}"
    cmd = [sys.executable, "pipelines/run.py", pipeline, "--work-dir", str(work), "--set", f"seed={seed}", *sets]
    r = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"{system} seed {seed} failed:\n{r.stderr[-2000:]}")
    rep = json.loads((work / "report.json").read_text())
    sec = rep["joint"] if system == "joint" else rep["end_to_end"]
    train = sum(v.get("train_seconds") or 0 for v in rep.get("train", {}).values())
    row = {"system": system, "seed": seed, "pipeline": pipeline, "top1": sec["top1"], "mpjpe_mm": sec["mpjpe_mm"],
           "fps": sec["fps"], "train_seconds": train}
    print(f"{system} seed {seed}: top-1 {row['top1']:.3f}  MPJPE {row['mpjpe_mm']:.1f} mm  {row['fps']:.1f} fps",
          file=sys.stderr, flush=True)
    return row


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--chain", default="pipelines/rgb_to_action.yaml")
    p.add_argument("--joint", default="pipelines/joint_multitask.yaml")
    p.add_argument("--set", nargs="+", default=[], dest="sets", metavar="KEY=VALUE",
                   help="options for the joint pipeline (e.g. joint.entry_flow=vgg16)")
    p.add_argument("--chain-set", nargs="+", default=[], dest="chain_sets", metavar="KEY=VALUE",
                   help="options for the chain pipeline")
    p.add_argument("--work-root", default=str(REPO / "work_dirs" / "compare_joint_chain"))
    p.add_argument("--out", default=str(OUT), help="results path without suffix")
    a = p.parse_args(argv)
    root = Path(a.work_root)
    rows = [run("chain", a.chain, s, a.chain_sets, root) for s in a.seeds] + \
        [run("joint", a.joint, s, a.sets, root) for s in a.seeds]
    lines = ["# Joint mode vs the modular chain, synthetic test split, from frames (mean ± std over seeds)", "",
             f"Seeds {a.seeds}; chain `{a.chain}` {' '.join(a.chain_sets)}; joint `{a.joint}` {' '.join(a.sets)}", "",
             "| system | action top-1 % | MPJPE mm | frames/s | train s |", "|---|---|---|---|---|"]
    for system in ("chain", "joint"):
        rs = [r for r in rows if r["system"] == system]
        cells = [mean_std([r["top1"] * 100 for r in rs]), mean_std([r["mpjpe_mm"] for r in rs]),
                 mean_std([r["fps"] for r in rs])]
        train = mean_std([r["train_seconds"] for r in rs])[0]
        lines.append(f"| {system} | " + " | ".join(f"{m:.1f} ± {s:.1f}" for m, s in cells) + f" | {train:.0f} |")
    text = "\n".join(lines) + "\n"
    out = Path(a.out)
    write_json(out.with_suffix(".json"), {"rows": rows})
    write_text(out.with_suffix(".md"), text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
