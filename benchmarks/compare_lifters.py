#!/usr/bin/env python
"""The lifters side by side on real mocap of people none of them trained on, and the seeds' claims, 3 seeds per arm.

    python benchmarks/compare_lifters.py [--seeds 0 1 2] [--epochs 8] [--jobs 2] [--out benchmarks/results]

Protocol (``docs/interfaces.md``, "Mocap evaluation protocol"): leave one source out over every shared real mocap
source - each model trains on synthetic-world poses plus all the other sources and is evaluated on the one left
out (Bandai datasets 1 and 2 are one source: the same studio and, likely, the same performers); the evaluation
views are the 8 real H36M cameras of S9 and S11, ground-truth 2D (and detector-like noisy 2D: 5 px, 5 % dropped
joints). For time the training mocap is filmed by 8 H36M cameras (:data:`BUDGET`) instead of the default 20.
Each run is ``pipelines/lift_mocap.yaml`` with ``--set`` overrides, so every number here is reproducible from
the command line, and trained checkpoints land in the shared cache (a second run of this script only evaluates).
The "all sources" row pools every fold's frames (each evaluated by the model that never saw it).

Arms: ``stereo_lifter`` (the default; evaluated with and without its geometric search: one trained model),
``martinez_mlp``, ``two_stream_mlp`` (with the fix of its module docstring; evaluated also with each stream
alone) and ``two_stream_mlp`` trained as the paper reads literally, ``martinez_mlp`` without synthetic poses,
all with the same data, augmentation and epochs; ``temporal_conv`` trained on all actions against one expert
per action (Bai), on the synthetic world's test split, which has action labels.

A claim (one arm better than another) counts only when the gap of the means exceeds 2 standard deviations
(sample std over seeds, the larger of the two arms); otherwise the report says "not resolved".
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from common.claims import compare

MOCAP = "../shared/data/mocap"
#: left-out source -> its folders (every other source trains)
SOURCES = {"bandai": ["bandai", "bandai2"], "cmu": ["cmu"], "cmu_iclone": ["cmu_iclone"], "deepmimic": ["deepmimic"],
           "pymo": ["pymo"], "hdm05": ["hdm05"]}
POOLED = "all sources"
#: the leave-one-source-out runs film the training mocap with the 8 cameras of S1 and S5 (the default: 20, S1 and
#: S5-S8), which keeps 6 folds x 5 arms x 3 seeds within about 1.5 h on 2 cores
BUDGET = ["data.train_cameras=[S1,S5]"]
#: (arm name, --set overrides); ``{epochs}`` is bound at run time
LIFTERS = [("stereo_lifter", ["stages.stage2_lift.type=stereo_lifter", "stages.stage2_lift.synth_epochs={epochs}"]),
           ("martinez_mlp", ["stages.stage2_lift.type=martinez_mlp"]),
           ("two_stream_mlp", ["stages.stage2_lift.type=two_stream_mlp"]),
           ("two_stream_mlp, as the paper reads", ["stages.stage2_lift.type=two_stream_mlp",
                                                   "stages.stage2_lift.gt_noise_px=0",
                                                   "stages.stage2_lift.stream_loss=0"]),
           ("martinez_mlp, no synthetic", ["stages.stage2_lift.type=martinez_mlp", "data.synthetic=false"])]
#: other readings of one trained model, evaluated beside it: (name suffix, options changed at inference)
VARIANTS = {"stereo_lifter": [(" without search", {"geometric_search": False})],
            "two_stream_mlp": [(" detector stream only", {"inference": "detected"}),
                               (" GT stream only", {"inference": "gt"})]}
#: the action-directed arms train 12 experts each, on a smaller synthetic set
SMALL_SYNTH = ["data.synthetic_cfg.per_class.train=16", "data.synthetic_cfg.subjects.train=10"]
KEYS = ("mpjpe_mm", "p_mpjpe_mm", "mpjpe_mm_noisy", "p_mpjpe_mm_noisy", "fps", "train_seconds", "n_frames")


def arms():
    """``(arm name, data, --set overrides)`` of every run, seeds aside."""
    out = []
    for held, folders in SOURCES.items():
        train = [f"{MOCAP}/{f}" for s, fs in SOURCES.items() if s != held for f in fs]
        evaluated = ",".join(f"{MOCAP}/{f}" for f in folders)
        base = [f"data.mocap_dirs=[{','.join(train)}]", f"data.motion_dir=[{evaluated}]", *BUDGET]
        for name, sets in LIFTERS:
            out.append((name, held, base + sets))
    for ad in (False, True):
        out.append((f"temporal_conv, action_directed={str(ad).lower()}", "synthetic test",
                    ["data.real_mocap=false", *SMALL_SYNTH, "stages.stage2_lift.type=temporal_conv",
                     f"stages.stage2_lift.action_directed={str(ad).lower()}"]))
    return out


def run_one(sets, seed: int, epochs: int, cached_only: bool = False) -> dict:
    """Resolve ``lift_mocap.yaml`` with ``sets``, train (or load) the lifter, evaluate; the stage2 section
    (``{}`` when ``cached_only`` and the lifter has no cached checkpoint)."""
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    import torch

    torch.set_num_threads(1)
    from pipelines.chain import Chain
    from pipelines.data import build_dataset
    from pipelines.evaluate import evaluate
    from pipelines.run import parse_args, resolve_pipeline

    args = parse_args([str(ROOT / "pipelines/lift_mocap.yaml"), "--set", f"seed={seed}", "device=cpu",
                       f"stages.stage2_lift.epochs={epochs}", *[x.format(epochs=epochs) for x in sets]])
    cwd = os.getcwd()
    os.chdir(ROOT)  # the folders above are relative to the repository root
    try:
        cfg = resolve_pipeline(args)
    finally:
        os.chdir(cwd)
    chain = Chain(cfg, "cpu", log=lambda m: None)
    if cached_only:
        from common import cache
        if not cache.checkpoint_path("stage2_lift", cfg["stages"]["stage2_lift"]["type"],
                                     chain.checkpoint_key("stage2_lift")).is_file():
            return {}
    ds = build_dataset(cfg["data"])
    chain.prepare(lambda: ds)
    info = chain.train_info["stage2_lift"]
    lifter = chain.parts["stage2_lift"]
    results = {}
    variants = [("", {})] + VARIANTS.get(cfg["stages"]["stage2_lift"]["type"], [])
    for suffix, opts in variants:
        lifter.cfg.update(opts)  # the first reading is the configured one
        sec = evaluate(chain, ds.test, ds.action_names, keep=0)["stage2_lift"]
        sec.pop("per_file", None)
        sec["train_seconds"] = info.get("train_seconds", float("nan"))
        results[suffix] = sec
    return results


def pool_folds(table: dict) -> None:
    """Add an ``all sources`` row per arm that has every left-out source: per seed, each error averaged over all
    frames of all sources (each source evaluated by its own fold's model)."""
    for arm in sorted({a for a, d in table if d in SOURCES}):
        rows = [table.get((arm, d)) for d in SOURCES]
        if any(r is None or not r.get("n_frames") for r in rows):
            continue
        seeds = sorted(set.intersection(*[set(r["seed"]) for r in rows]))
        pooled = {**{k: [] for k in ("seed",) + KEYS}, "epochs": rows[0]["epochs"]}
        for seed in seeds:
            at = [(r, r["seed"].index(seed)) for r in rows]
            n = np.array([r["n_frames"][i] for r, i in at], float)
            pooled["seed"].append(seed)
            for k in KEYS:
                v = np.array([r[k][i] for r, i in at], float)
                pooled[k].append(float(n.sum()) if k == "n_frames" else float(v.sum()) if k == "train_seconds"
                                 else float((v * n).sum() / n.sum()))
        if seeds:
            table[(arm, POOLED)] = pooled


def _fmt(vals) -> str:
    v = np.asarray(vals, float)
    return f"{v.mean():.1f} ± {v.std(ddof=1) if len(v) > 1 else 0:.1f}"


def claim(table, what, a, b, key, direction) -> dict:
    """``a`` better (lower ``key``) than ``b`` on ``direction``: resolved when the gap exceeds 2 std."""
    c = compare(table[(a, direction)][key], table[(b, direction)][key], higher_is_better=False)
    return {"claim": what, "direction": direction, "key": key, "a": f"{c['mean_a']:.1f} ± {c['std_a']:.1f}",
            "b": f"{c['mean_b']:.1f} ± {c['std_b']:.1f}", "gap": round(c["gap"], 1), "verdict": c["verdict"]}


def report(table: dict, a, seconds: float, out: Path) -> list:
    """Pool the folds, judge the claims, write ``compare_lifters.md`` / ``.json``; the markdown lines."""
    table = dict(table)
    pool_folds(table)
    claims = []
    pairs = [("two-stream beats single-stream under noisy 2D", "two_stream_mlp", "martinez_mlp", "mpjpe_mm_noisy"),
             ("two-stream, as the paper reads, beats single-stream under noisy 2D",
              "two_stream_mlp, as the paper reads", "martinez_mlp", "mpjpe_mm_noisy"),
             ("the two-stream fix helps under noisy 2D", "two_stream_mlp", "two_stream_mlp, as the paper reads",
              "mpjpe_mm_noisy"),
             ("geometric search helps the stereo lifter (seed 000)", "stereo_lifter", "stereo_lifter without search",
              "mpjpe_mm"),
             ("synthetic poses in training help (seed 000)", "martinez_mlp", "martinez_mlp, no synthetic", "mpjpe_mm")]
    for direction in [POOLED] + list(SOURCES):
        for what, x, y, key in pairs:
            if (x, direction) in table and (y, direction) in table:
                claims.append(claim(table, what, x, y, key, direction))
    ad, al = "temporal_conv, action_directed=true", "temporal_conv, action_directed=false"
    if (ad, "synthetic test") in table and (al, "synthetic test") in table:
        claims.append(claim(table, "action-directed training beats training on all actions (seed 004)", ad, al,
                            "mpjpe_mm", "synthetic test"))

    order = {POOLED: 0, **{d: i + 1 for i, d in enumerate(SOURCES)}}
    lines = [f"# Lifters on real mocap of people never trained on: leave one source out ({len(a.seeds)} seeds per arm, "
             "mean ± std)", "",
             f"`python benchmarks/compare_lifters.py --seeds {' '.join(map(str, a.seeds))} --epochs {a.epochs}` "
             f"(epochs per lifter in the table, {os.cpu_count()} CPU cores, {a.jobs} runs in parallel with one "
             f"thread each; the last invocation took {seconds:.0f} s{' for ' + ' '.join(a.only) if a.only else ''}"
             "). Left out: the source evaluated (the model trained on synthetic poses and every other source); "
             f"`{POOLED}`: every source's frames pooled. Errors in mm; frames: evaluated poses "
             "(8 views x every frame); "
             "poses/s of `predict` (encode, model, flip test, search), one thread while another run shares the "
             "machine; "
             "train s: wall seconds of training (summed over the folds in the pooled row).", ""]
    target = table.get(("stereo_lifter", POOLED))
    if target:
        m, pm, mn = (float(np.mean(target[k])) for k in ("mpjpe_mm", "p_mpjpe_mm", "mpjpe_mm_noisy"))
        lines += [f"Targets (issue 16), the default lifter pooled: MPJPE {m:.1f} mm (target <= 45: "
                  f"{'met' if m <= 45 else 'not met'}), P-MPJPE {pm:.1f} mm "
                  f"(<= 35: {'met' if pm <= 35 else 'not met'}), "
                  f"MPJPE under noisy 2D {mn:.1f} mm (<= 60: {'met' if mn <= 60 else 'not met'}).", ""]
    lines += ["| lifter | left out | seeds | epochs | MPJPE | P-MPJPE | MPJPE noisy 2D | P-MPJPE noisy 2D | poses/s "
              "| train s | frames |", "|---|---|---|---|---|---|---|---|---|---|---|"]
    for (name, d), row in sorted(table.items(), key=lambda kv: (order.get(kv[0][1], 99), kv[0][1], kv[0][0])):
        cells = [_fmt(row[k]) if k not in ("fps", "train_seconds", "n_frames") else
                 f"{np.mean(row[k]):.0f}" if row[k] else "" for k in KEYS]
        lines.append(f"| {name} | {d} | {len(row['mpjpe_mm'])} | {row['epochs']} | " + " | ".join(cells) + " |")
    lines += ["", "## Claims (a gap counts when it exceeds 2 std)", "",
              "| claim | data | metric | arm | against | gap | verdict |", "|---|---|---|---|---|---|---|"]
    lines += [f"| {c['claim']} | {c['direction']} | {c['key']} | {c['a']} | {c['b']} | {c['gap']} | {c['verdict']} |"
              for c in claims]
    out.mkdir(parents=True, exist_ok=True)
    (out / "compare_lifters.md").write_text("\n".join(lines) + "\n")
    (out / "compare_lifters.json").write_text(json.dumps(
        {"seeds": a.seeds, "epochs": a.epochs,
         "table": [{"arm": n, "data": d, **row} for (n, d), row in table.items()], "claims": claims}, indent=1))
    return lines


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--epochs", type=int, default=8, help="training epochs of every lifter (same budget)")
    p.add_argument("--jobs", type=int, default=2, help="runs in parallel, one CPU thread each")
    p.add_argument("--only", nargs="+", default=None,
                   help="re-run only the arms whose name starts with one of these; the other rows are kept from the "
                        "last results with the same seeds")
    p.add_argument("--cached-only", action="store_true", help="evaluate only runs whose lifter is cached")
    p.add_argument("--out", default=str(ROOT / "benchmarks" / "results"))
    a = p.parse_args(argv)
    runs = [(name, d, sets, seed) for seed in a.seeds for name, d, sets in arms()  # seed by seed: a run cut short
            if a.only is None or any(name.startswith(o) for o in a.only)]        # leaves whole seeds
    out = Path(a.out)
    table: dict = {}
    if a.only and (out / "compare_lifters.json").is_file():  # merge: rows not re-run are kept from the last run
        prev = json.loads((out / "compare_lifters.json").read_text())
        if prev["seeds"] == a.seeds:
            known = {d for _, d, _ in arms()}
            table = {(r["arm"], r["data"]): {**{k: r.get(k, []) for k in ("seed",) + KEYS},
                                             "epochs": r.get("epochs", prev["epochs"])}
                     for r in prev["table"] if r["data"] in known}
    rerun = {(n + suffix, d) for n, d, _, _ in runs for suffix in ("", *[v[0] for vs in VARIANTS.values() for v in vs])}
    table = {k: v for k, v in table.items() if k not in rerun}
    t0 = time.time()
    os.environ["TQDM_DISABLE"] = "1"  # one line per finished run instead of interleaved progress bars
    print(f"{len(runs)} runs, {a.jobs} at a time, {a.epochs} epochs each", flush=True)
    with ProcessPoolExecutor(max_workers=a.jobs) as pool:
        futs = {pool.submit(run_one, sets, seed, a.epochs, a.cached_only): (name, d, seed)
                for name, d, sets, seed in runs}
        for i, f in enumerate(as_completed(futs), 1):
            name, d, seed = futs[f]
            if not f.result():
                print(f"[{i}/{len(runs)}] {name} {d} seed {seed}: not cached, skipped", flush=True)
                continue
            for suffix, sec in f.result().items():
                row = table.setdefault((name + suffix, d), {**{k: [] for k in ("seed",) + KEYS}, "epochs": a.epochs})
                row["seed"].append(seed)
                for k in KEYS:
                    row[k].append(sec[k])
            sec = f.result()[""]
            print(f"[{i}/{len(runs)} {time.time() - t0:.0f} s] {name} {d} seed {seed}: MPJPE {sec['mpjpe_mm']:.1f} "
                  f"P-MPJPE {sec['p_mpjpe_mm']:.1f} noisy {sec['mpjpe_mm_noisy']:.1f} mm", flush=True)
            report(table, a, time.time() - t0, out)  # the files follow the runs: a cut-short run keeps its rows

    print("\n".join(report(table, a, time.time() - t0, out)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
