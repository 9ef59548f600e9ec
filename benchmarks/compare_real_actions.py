"""Real actions (UTD-MHAD) through the chain: a classifier trained on what the chain feeds it against one trained
on the clean 3D skeletons, each arm from several seeds; one command:

    python benchmarks/compare_real_actions.py [--seeds 0 1 2] [--holdout 7] [--epochs 60] [--jobs 1]
    python benchmarks/compare_real_actions.py --only both --seeds 0 --holdout 1 3 5 7   # leave one subject out

Every run is ``pipelines/run.py pipelines/utd_mhad.yaml --set seed=S data.holdout_subjects=[H] ...`` (plus the
arm's options) in its own process, so checkpoints are cached and a rerun trains only what is missing. The
shared data hold the training subjects 1, 3, 5, 7 only, so subject ``H`` (not trained on) stands in for the
test subjects: ``stage3_action.top1`` is the classifier on the subject's 3D skeletons, ``end_to_end.top1`` the
same sequences projected through the Kinect-like camera, noised like a detector and lifted by the pipeline's
lifter. With several ``--holdout`` subjects each is held out in turn (results in ``compare_real_actions_loso``)
and the mean over subjects is added. Claims (per held-out subject) follow ``docs/interfaces.md``: a gap counts
when it exceeds 2 std (sample std over seeds, the larger of the two arms).
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
OUT = REPO / "benchmarks" / "results" / "compare_real_actions"
WORK = REPO / "work_dirs" / "compare_real_actions"
#: arm -> (--set options, description)
ARMS = {
    "clean_3d": (["stages.stage3_action.train_on=ground_truth", "stages.stage3_action.chain_views=0"],
                 "trained on the clean 3D skeletons"),
    "chain": (["stages.stage3_action.train_on=chain"],
              "trained through the chain: 4 virtual cameras per sequence, detector noise, lifted"),
    "both": ([], "the chain's output and the clean 3D (utd_mhad.yaml's default)"),
}
CLAIMS = [("training through the chain beats clean 3D, end to end", "chain", "clean_3d", "end_to_end"),
          ("chain + clean 3D beats clean 3D, end to end", "both", "clean_3d", "end_to_end"),
          ("chain + clean 3D beats the chain alone, on 3D skeletons", "both", "chain", "stage3_action"),
          ("chain + clean 3D beats clean 3D, on 3D skeletons", "both", "clean_3d", "stage3_action")]


def run_one(arm: str, seed: int, holdout: int, epochs: int, extra) -> dict:
    work = WORK / f"{arm}_s{holdout}_seed{seed}"
    cmd = [sys.executable, "pipelines/run.py", "pipelines/utd_mhad.yaml", "--work-dir", str(work), "--set",
           f"seed={seed}", f"data.holdout_subjects=[{holdout}]", f"stages.stage3_action.epochs={epochs}",
           *ARMS[arm][0], *extra]
    r = subprocess.run(cmd, cwd=REPO, env={**os.environ}, capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"{arm} seed {seed} failed:\n{r.stderr[-2000:]}")
    rep = json.loads((work / "report.json").read_text())
    tr = rep["train"]["stage3_action"]
    row = {"arm": arm, "seed": seed, "holdout": holdout, "epochs": epochs,
           "stage3_action": rep["stage3_action"]["top1"], "end_to_end": rep["end_to_end"]["top1"],
           "train_seconds": tr.get("train_seconds"), "n_clips": rep["stage3_action"]["n_clips"],
           "lift_mpjpe_mm": rep.get("stage2_lift", {}).get("mpjpe_mm")}
    print(f"{arm} seed {seed}: 3D {row['stage3_action']:.3f}, end to end {row['end_to_end']:.3f}", file=sys.stderr,
          flush=True)
    return row


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--holdout", type=int, nargs="+", default=[7], help="training subject(s) held out in turn")
    p.add_argument("--epochs", type=int, default=60)
    p.add_argument("--jobs", type=int, default=1)
    p.add_argument("--only", nargs="+", choices=list(ARMS), default=None)
    p.add_argument("--set", nargs="*", default=[], dest="sets", help="more --set options for every run")
    a = p.parse_args(argv)
    arms = a.only or list(ARMS)
    jobs = [(arm, h, s) for arm in arms for h in a.holdout for s in a.seeds]
    with ThreadPoolExecutor(a.jobs) as ex:
        rows = list(ex.map(lambda j: run_one(j[0], j[2], j[1], a.epochs, a.sets), jobs))
    claims = []
    for h in a.holdout:
        for what, x, y, key in CLAIMS:
            va = [r[key] for r in rows if r["arm"] == x and r["holdout"] == h]
            vb = [r[key] for r in rows if r["arm"] == y and r["holdout"] == h]
            if va and vb:
                c = compare(va, vb)
                claims.append({"claim": f"{what} (subject {h})", "a": x, "b": y, "metric": key, "gap": c["gap"],
                               "std": c["std"], "verdict": c["verdict"]})
    out = OUT if len(a.holdout) == 1 else OUT.with_name(OUT.name + "_loso")
    write_json(out.with_suffix(".json"), {"rows": rows, "claims": claims, "holdout": a.holdout, "sets": a.sets})
    lines = [f"# UTD-MHAD, subject(s) {', '.join(map(str, a.holdout))} held out (never trained on): top-1 mean ± std "
             "over seeds", "", "| arm | what | held out | seeds | epochs | top-1 from 3D skeletons | top-1 end to end "
             "(2D -> lifter) | train s |", "|---|---|---|---|---|---|---|---|"]

    def line(arm, held, rs):
        m3, s3 = mean_std([r["stage3_action"] for r in rs])
        me, se = mean_std([r["end_to_end"] for r in rs])
        return (f"| {arm} | {ARMS[arm][1]} | {held} | {len({r['seed'] for r in rs})} | {rs[0]['epochs']} | "
                f"{100 * m3:.1f} ± {100 * s3:.1f} | {100 * me:.1f} ± {100 * se:.1f} | "
                f"{np.mean([r['train_seconds'] for r in rs]):.0f} |")

    for arm in ARMS:
        for h in a.holdout:
            rs = [r for r in rows if r["arm"] == arm and r["holdout"] == h]
            if rs:
                lines.append(line(arm, h, rs))
        if len(a.holdout) > 1 and any(r["arm"] == arm for r in rows):
            per = [[r for r in rows if r["arm"] == arm and r["holdout"] == h] for h in a.holdout]
            lines.append(line(arm, "mean over subjects (± std over subjects)",
                              [{"seed": 0, "epochs": p[0]["epochs"], "train_seconds": p[0]["train_seconds"],
                                "stage3_action": float(np.mean([r["stage3_action"] for r in p])),
                                "end_to_end": float(np.mean([r["end_to_end"] for r in p]))} for p in per if p]))
    lines += ["", *claims_markdown(claims)]
    write_text(out.with_suffix(".md"), "\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
