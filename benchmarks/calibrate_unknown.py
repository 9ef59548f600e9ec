"""Calibrate the open-set "unknown" decision of the real-action classifier on data built from UTD-MHAD:

    python benchmarks/calibrate_unknown.py [--folds 3] [--holdout 7] [--false-unknown 0.1] [--epochs 60]

Fold k trains ``pipelines/utd_mhad.yaml`` without the classes ``i % 5 == k`` (``data.exclude_classes``) and
without subject ``--holdout``; that subject's clips then go through the chain (Kinect-like projection,
detector-like noise, lifter, classifier) and their top probability and open-set distance are read from
``end_to_end.per_clip``: clips of trained classes are "known", clips of the left-out classes "unknown" (actions
outside the vocabulary). Three rules are compared: ``probability`` (unknown when the top probability is below
``unknown_threshold``), ``distance`` (unknown when the clip's features are further than ``unknown_distance``
from the training clips', ``K_NEAREST`` neighbours, ``stage3_action/classifier.py``) and ``either`` (both, each
at half the false-unknown budget). Each fold is scored with thresholds taken from the OTHER folds' known clips
(the ``--false-unknown`` quantile), so no fold is scored with thresholds it chose; the reported thresholds, for
``stages.stage3_action.unknown_threshold`` / ``unknown_distance``, are the same quantiles over every fold, for the
rule that misses the fewest unknown clips. Rates: false unknown = known clips answered "unknown"; missed unknown
= unknown clips given a class; confident wrong = unknown clips given a class with probability above 0.5.
Writes ``benchmarks/results/calibrate_unknown.{json,md}`` and a figure of the rates against the thresholds.
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import argparse
import json
import subprocess

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from common.io import write_json, write_text
from common.utd_mhad import UTD_ACTIONS

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
    known = [c for c in clips if c["true"] not in idx]
    unknown = [c for c in clips if c["true"] in idx]
    return {"fold": k, "excluded": excluded, "known_correct": [c["pred"] == c["true"] for c in known],
            "known": [c["probability"] for c in known], "known_distance": [c["distance"] for c in known],
            "unknown": [c["probability"] for c in unknown], "unknown_distance": [c["distance"] for c in unknown]}


RULES = ("probability", "distance", "either")


def thresholds(known_p, known_d, rule: str, fu: float) -> dict:
    """The thresholds of ``rule`` that call a ``fu`` share of these known clips unknown."""
    q = fu / 2 if rule == "either" else fu
    out = {}
    if rule in ("probability", "either"):
        out["unknown_threshold"] = float(np.quantile(known_p, q))
    if rule in ("distance", "either"):
        out["unknown_distance"] = float(np.quantile(known_d, 1 - q))
    return out


def flagged(p, d, thr: dict) -> np.ndarray:
    p, d = np.asarray(p, float), np.asarray(d, float)
    out = np.zeros(len(p), bool)
    if "unknown_threshold" in thr:
        out |= p < thr["unknown_threshold"]
    if "unknown_distance" in thr:
        out |= d > thr["unknown_distance"]
    return out


def rates(known_p, known_d, unknown_p, unknown_d, thr: dict) -> dict:
    fu, fk = flagged(known_p, known_d, thr), flagged(unknown_p, unknown_d, thr)
    return {**thr, "false_unknown": float(np.mean(fu)), "missed_unknown": float(np.mean(~fk)),
            "confident_wrong": float(np.mean(~fk & (np.asarray(unknown_p) > 0.5)))}


def figure(folds, path: Path) -> None:
    kp, up = (np.concatenate([f[k] for f in folds]) for k in ("known", "unknown"))
    kd, ud = (np.concatenate([f[k] for f in folds]) for k in ("known_distance", "unknown_distance"))
    fig = Figure(figsize=(10, 3.6))
    for i, (name, k, u, sign) in enumerate((("top probability", kp, up, -1), ("open-set distance", kd, ud, 1))):
        ax = fig.add_subplot(1, 2, i + 1)
        bins = np.linspace(min(k.min(), u.min()), max(k.max(), u.max()), 30)
        ax.hist(k, bins, alpha=0.6, density=True, label="known classes")
        ax.hist(u, bins, alpha=0.6, density=True, label="left-out classes")
        ax.set_xlabel(name + (" (low = unknown)" if sign < 0 else " (high = unknown)"))
        ax.legend(fontsize=8)
    fig.suptitle("UTD-MHAD held-out subject through the chain: known vs left-out classes")
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
    if a.folds < 2:
        p.error("--folds: at least 2 (each fold is scored with the thresholds of the others)")
    folds = [run_fold(k, a.holdout, a.epochs, a.seed, a.sets) for k in range(a.folds)]
    rows, pooled = [], {}
    for rule in RULES:
        for f in folds:
            others = [g for g in folds if g is not f]
            thr = thresholds([x for g in others for x in g["known"]],
                             [x for g in others for x in g["known_distance"]], rule, a.false_unknown)
            rows.append({"rule": rule, "fold": f["fold"], "excluded": f["excluded"], "n_known": len(f["known"]),
                         "n_unknown": len(f["unknown"]), "known_top1": float(np.mean(f["known_correct"])),
                         **rates(f["known"], f["known_distance"], f["unknown"], f["unknown_distance"], thr)})
        rs = [r for r in rows if r["rule"] == rule]
        every = lambda k: [x for f in folds for x in f[k]]  # noqa: E731
        pooled[rule] = {"cross_fold": {k: float(np.mean([r[k] for r in rs]))
                                       for k in ("false_unknown", "missed_unknown", "confident_wrong")},
                        "thresholds": thresholds(every("known"), every("known_distance"), rule, a.false_unknown)}
    best = min(RULES, key=lambda r: pooled[r]["cross_fold"]["missed_unknown"])
    write_json(OUT.with_suffix(".json"), {"rows": rows, "pooled": pooled, "best": best, "folds": folds,
                                          "holdout": a.holdout, "epochs": a.epochs, "sets": a.sets,
                                          "false_unknown_target": a.false_unknown})
    figure(folds, OUT.parent / "figures" / "calibrate_unknown.png")
    lines = [f"# Open-set decision: UTD-MHAD subject {a.holdout} held out, classes left out per fold "
             f"(false-unknown target {a.false_unknown:.0%})", "",
             "| rule | fold | classes left out | known / unknown clips | top-1 on known | thresholds (other folds) | "
             "false unknown | missed unknown | confident wrong |", "|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        thr = ", ".join(f"{k} {r[k]:.3f}" for k in ("unknown_threshold", "unknown_distance") if k in r)
        lines.append(f"| {r['rule']} | {r['fold']} | {', '.join(r['excluded'])} | {r['n_known']} / {r['n_unknown']} | "
                     f"{100 * r['known_top1']:.1f} % | {thr} | {100 * r['false_unknown']:.1f} % | "
                     f"{100 * r['missed_unknown']:.1f} % | {100 * r['confident_wrong']:.1f} % |")
    lines += ["", "| rule | false unknown | missed unknown | confident wrong | thresholds over every fold |",
              "|---|---|---|---|---|"]
    for rule in RULES:
        c, t = pooled[rule]["cross_fold"], pooled[rule]["thresholds"]
        lines.append(f"| {rule} | {100 * c['false_unknown']:.1f} % | {100 * c['missed_unknown']:.1f} % | "
                     f"{100 * c['confident_wrong']:.1f} % | {', '.join(f'{k} {v:.3f}' for k, v in t.items())} |")
    lines += ["", f"Fewest missed unknown clips: **{best}**; thresholds "
              + ", ".join(f"`{k}: {v:.3f}`" for k, v in pooled[best]["thresholds"].items()) + ".", "",
              "![scores](figures/calibrate_unknown.png)"]
    write_text(OUT.with_suffix(".md"), "\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
