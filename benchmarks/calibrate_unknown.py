"""Calibrate the open-set "unknown" threshold of the real-action classifier on data built from UTD-MHAD:

    python benchmarks/calibrate_unknown.py [--folds 3] [--holdout 7] [--false-unknown 0.1] [--epochs 60]

Fold k trains ``pipelines/utd_mhad.yaml`` without the classes ``i % 5 == k`` (``data.exclude_classes``) and
without subject ``--holdout``; that subject's clips then go through the chain (Kinect-like projection,
detector-like noise, lifter, classifier) and their top probability is read from ``end_to_end.per_clip``:
clips of trained classes are "known", clips of the left-out classes "unknown" (actions outside the vocabulary).
A clip is answered "unknown" when its top probability is below the threshold. The threshold is the
``--false-unknown`` quantile of the known clips' top probabilities of the OTHER folds (so each fold is scored
with a threshold it did not choose); the reported one, to put in ``stages.stage3_action.unknown_threshold``,
is the same quantile over every fold. Rates: false unknown = known clips answered "unknown"; missed unknown =
unknown clips given a class; wrong above 0.5 = unknown clips whose (necessarily wrong) top class has
probability above 0.5. Writes ``benchmarks/results/calibrate_unknown.{json,md}`` and a figure of both rates
against the threshold.
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import argparse  # noqa: E402
import json  # noqa: E402
import subprocess  # noqa: E402

import numpy as np  # noqa: E402
from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from common.io import write_json, write_text  # noqa: E402
from common.utd_mhad import UTD_ACTIONS  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "benchmarks" / "results" / "calibrate_unknown"
WORK = REPO / "work_dirs" / "calibrate_unknown"


def fold_classes(k: int):
    return [c for i, c in enumerate(UTD_ACTIONS) if i % 5 == k]


def run_fold(k: int, holdout: int, epochs: int, seed: int, sets) -> dict:
    excluded = fold_classes(k)
    work = WORK / f"fold{k}"
    cmd = [sys.executable, "pipelines/run.py", "pipelines/utd_mhad.yaml", "--work-dir", str(work), "--set",
           f"seed={seed}", f"data.holdout_subjects=[{holdout}]", f"data.exclude_classes=[{','.join(excluded)}]",
           f"stages.stage3_action.epochs={epochs}", *sets]
    r = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"fold {k} failed:\n{r.stderr[-2000:]}")
    rep = json.loads((work / "report.json").read_text())
    idx = {UTD_ACTIONS.index(c) for c in excluded}
    clips = rep["end_to_end"]["per_clip"]
    return {"fold": k, "excluded": excluded,
            "known": [c["probability"] for c in clips if c["true"] not in idx],
            "known_correct": [c["pred"] == c["true"] for c in clips if c["true"] not in idx],
            "unknown": [c["probability"] for c in clips if c["true"] in idx]}


def rates(known, unknown, thr: float) -> dict:
    known, unknown = np.asarray(known), np.asarray(unknown)
    return {"threshold": thr, "false_unknown": float(np.mean(known < thr)),
            "missed_unknown": float(np.mean(unknown >= thr)),
            "wrong_above_half": float(np.mean(unknown > 0.5))}


def figure(folds, thr: float, path: Path) -> None:
    known = np.concatenate([f["known"] for f in folds])
    unknown = np.concatenate([f["unknown"] for f in folds])
    ts = np.linspace(0, 1, 101)
    fig = Figure(figsize=(6, 3.6))
    ax = fig.add_subplot()
    ax.plot(ts, [np.mean(known < t) for t in ts], label="false unknown (known classes)")
    ax.plot(ts, [np.mean(unknown >= t) for t in ts], label="missed unknown (left-out classes)")
    ax.axvline(thr, color="k", linestyle=":", label=f"threshold {thr:.2f}")
    ax.set_xlabel("threshold on the top probability")
    ax.set_ylabel("rate")
    ax.legend(fontsize=8)
    ax.set_title("UTD-MHAD held-out subject through the chain")
    FigureCanvasAgg(fig)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100, bbox_inches="tight")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--folds", type=int, default=3)
    p.add_argument("--holdout", type=int, default=7)
    p.add_argument("--false-unknown", type=float, default=0.1, help="target rate of known clips called unknown")
    p.add_argument("--epochs", type=int, default=60)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--set", nargs="*", default=[], dest="sets", help="more --set options for every run")
    a = p.parse_args(argv)
    folds = [run_fold(k, a.holdout, a.epochs, a.seed, a.sets) for k in range(a.folds)]
    rows = []
    for f in folds:
        others = [x for g in folds if g is not f for x in g["known"]] or f["known"]
        thr = float(np.quantile(others, a.false_unknown))
        rows.append({"fold": f["fold"], "excluded": f["excluded"], "n_known": len(f["known"]),
                     "n_unknown": len(f["unknown"]), "known_top1": float(np.mean(f["known_correct"])),
                     **rates(f["known"], f["unknown"], thr)})
    thr = float(np.quantile([x for f in folds for x in f["known"]], a.false_unknown))
    pooled = rates([x for f in folds for x in f["known"]], [x for f in folds for x in f["unknown"]], thr)
    write_json(OUT.with_suffix(".json"), {"rows": rows, "threshold": thr, "pooled": pooled, "folds": folds,
                                          "holdout": a.holdout, "epochs": a.epochs, "sets": a.sets})
    figure(folds, thr, OUT.parent / "figures" / "calibrate_unknown.png")
    lines = [f"# Open-set threshold: UTD-MHAD subject {a.holdout} held out, classes left out per fold", "",
             "| fold | classes left out | known clips | unknown clips | top-1 on known | threshold (other folds) | "
             "false unknown | missed unknown | unknown clips above 0.5 |", "|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['fold']} | {', '.join(r['excluded'])} | {r['n_known']} | {r['n_unknown']} | "
                     f"{100 * r['known_top1']:.1f} % | {r['threshold']:.3f} | {100 * r['false_unknown']:.1f} % | "
                     f"{100 * r['missed_unknown']:.1f} % | {100 * r['wrong_above_half']:.1f} % |")
    lines += ["", f"Threshold over every fold (the {a.false_unknown:.0%} quantile of the known clips' top "
              f"probability): **{thr:.3f}**; pooled false unknown {100 * pooled['false_unknown']:.1f} %, missed "
              f"unknown {100 * pooled['missed_unknown']:.1f} %, unknown clips above 0.5 "
              f"{100 * pooled['wrong_above_half']:.1f} %.", "", "![rates](figures/calibrate_unknown.png)"]
    write_text(OUT.with_suffix(".md"), "\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
