#!/usr/bin/env python
"""Every lifter side by side on real mocap none of them trained on, and the seeds' claims, from 3 seeds per arm.

    python benchmarks/compare_lifters.py [--seeds 0 1 2] [--epochs 10] [--jobs 2] [--out benchmarks/results]

Protocol (``docs/interfaces.md``, "Mocap evaluation protocol"): leave one source out - train on synthetic-world
poses plus the Bandai mocap and evaluate on the CMU files, then train with CMU and evaluate on Bandai; the
evaluation views are the 8 real H36M cameras of S9 and S11, ground-truth 2D (and detector-like noisy 2D:
5 px, 5 % dropped joints). Each run is ``pipelines/lift_mocap.yaml`` with ``--set`` overrides, so every number
here is reproducible from the command line, and trained checkpoints land in the shared cache (a second run of
this script only evaluates).

Arms: ``martinez_mlp``, ``two_stream_mlp``, ``stereo_lifter`` (evaluated with and without its geometric
search: one trained model), ``temporal_conv`` and mmpose's SimpleBaseline3D (``mmpose_simplebaseline3d``), all
trained with the same data, augmentation and number of epochs; ``martinez_mlp`` again without real mocap and
without synthetic poses; ``temporal_conv`` trained on all actions against one expert per action (seed 004),
on the synthetic world's test split, which has action labels.

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

from common.claims import compare  # noqa: E402

MOCAP = "../shared/data/mocap"
#: (name, training mocap folder, evaluation folder)
DIRECTIONS = [("bandai->cmu", f"{MOCAP}/bandai", f"{MOCAP}/cmu"), ("cmu->bandai", f"{MOCAP}/cmu", f"{MOCAP}/bandai")]
LIFTERS = ["martinez_mlp", "two_stream_mlp", "stereo_lifter", "temporal_conv", "mmpose_simplebaseline3d"]
#: per-lifter settings for an equal budget: the stereo lifter's two phases get the same epochs each (bound at run
#: time), mmpose's SimpleBaseline3D the width of our MLPs (512; 1024 as shipped), the temporal lifter works at the
#: mocap's training rate (10 fps; at its default 25 fps the 10 fps mocap is upsampled and an epoch is 2.5x longer)
EXTRA = {"stereo_lifter": ["stages.stage2_lift.synth_epochs={epochs}"], "mmpose_simplebaseline3d": ["stages.stage2_lift.width=512"],
         "temporal_conv": ["stages.stage2_lift.fps=10.0"]}
#: other readings of one trained model, evaluated beside it: (name suffix, options changed at inference)
VARIANTS = {"stereo_lifter": [(" without search", {"geometric_search": False})],
            "two_stream_mlp": [(" detector stream only", {"inference": "detected"})]}
#: the action-directed arms train 12 experts each, on a smaller synthetic set
SMALL_SYNTH = ["data.synthetic_cfg.per_class.train=16", "data.synthetic_cfg.subjects.train=10"]
KEYS = ("mpjpe_mm", "p_mpjpe_mm", "mpjpe_mm_noisy", "p_mpjpe_mm_noisy", "fps", "train_seconds")


def arms():
    """``(arm name, direction or None, --set overrides)`` of every run, seeds aside."""
    out = []
    for d, train_dir, eval_dir in DIRECTIONS:
        base = [f"data.mocap_dirs=[{train_dir}]", f"data.bvh_dir={eval_dir}"]
        for lifter in LIFTERS:
            out.append((lifter, d, base + [f"stages.stage2_lift.type={lifter}", *EXTRA.get(lifter, [])]))
        mlp = base + ["stages.stage2_lift.type=martinez_mlp"]
        out.append(("martinez_mlp, no real mocap", d, mlp + ["data.real_mocap=false"]))
        out.append(("martinez_mlp, no synthetic", d, mlp + ["data.synthetic=false"]))
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
    from pipelines.run import parse_args, resolve_pipeline
    from pipelines.chain import Chain
    from pipelines.data import build_dataset
    from pipelines.evaluate import evaluate

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


def _fmt(vals) -> str:
    v = np.asarray(vals, float)
    return f"{v.mean():.1f} ± {v.std(ddof=1) if len(v) > 1 else 0:.1f}"


def claim(table, what, a, b, key, direction) -> dict:
    """``a`` better (lower ``key``) than ``b`` on ``direction``: resolved when the gap exceeds 2 std."""
    c = compare(table[(a, direction)][key], table[(b, direction)][key], higher_is_better=False)
    return {"claim": what, "direction": direction, "key": key, "a": f"{c['mean_a']:.1f} ± {c['std_a']:.1f}",
            "b": f"{c['mean_b']:.1f} ± {c['std_b']:.1f}", "gap": round(c["gap"], 1), "verdict": c["verdict"]}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--epochs", type=int, default=10, help="training epochs of every lifter (same budget)")
    p.add_argument("--jobs", type=int, default=2, help="runs in parallel, one CPU thread each")
    p.add_argument("--only", nargs="+", default=None,
                   help="re-run only the arms whose name starts with one of these; the other rows are kept from the "
                        "last results with the same seeds and epochs")
    p.add_argument("--cached-only", action="store_true", help="evaluate only runs whose lifter is cached")
    p.add_argument("--out", default=str(ROOT / "benchmarks" / "results"))
    a = p.parse_args(argv)
    runs = [(name, d, sets, seed) for name, d, sets in arms() for seed in a.seeds
            if a.only is None or any(name.startswith(o) for o in a.only)]
    out = Path(a.out)
    table: dict = {}
    if a.only and (out / "compare_lifters.json").is_file():  # merge: rows not re-run are kept from the last run
        prev = json.loads((out / "compare_lifters.json").read_text())
        if prev["seeds"] == a.seeds and prev["epochs"] == a.epochs:
            table = {(r["arm"], r["data"]): {k: r[k] for k in KEYS} for r in prev["table"]}
    rerun = {(n + suffix, d) for n, d, _, _ in runs for suffix in ("", *[v[0] for vs in VARIANTS.values() for v in vs])}
    table = {k: v for k, v in table.items() if k not in rerun}
    t0 = time.time()
    os.environ["TQDM_DISABLE"] = "1"  # one line per finished run instead of interleaved progress bars
    print(f"{len(runs)} runs, {a.jobs} at a time, {a.epochs} epochs each", flush=True)
    with ProcessPoolExecutor(max_workers=a.jobs) as pool:
        futs = {pool.submit(run_one, sets, seed, a.epochs, a.cached_only): (name, d, seed) for name, d, sets, seed in runs}
        for i, f in enumerate(as_completed(futs), 1):
            name, d, seed = futs[f]
            if not f.result():
                print(f"[{i}/{len(runs)}] {name} {d} seed {seed}: not cached, skipped", flush=True)
                continue
            for suffix, sec in f.result().items():
                row = table.setdefault((name + suffix, d), {k: [] for k in KEYS})
                for k in KEYS:
                    row[k].append(sec[k])
            sec = f.result()[""]
            print(f"[{i}/{len(runs)} {time.time() - t0:.0f} s] {name} {d} seed {seed}: MPJPE {sec['mpjpe_mm']:.1f} "
                  f"P-MPJPE {sec['p_mpjpe_mm']:.1f} noisy {sec['mpjpe_mm_noisy']:.1f} mm", flush=True)

    claims = []
    for _, direction in {(None, d) for (_, d) in table if d != "synthetic test"}:
        pairs = [("two-stream beats single-stream under noisy 2D", "two_stream_mlp", "martinez_mlp", "mpjpe_mm_noisy"),
                 ("two-stream (detector stream only) beats single-stream under noisy 2D",
                  "two_stream_mlp detector stream only", "martinez_mlp", "mpjpe_mm_noisy"),
                 ("geometric search helps the stereo lifter", "stereo_lifter", "stereo_lifter without search", "mpjpe_mm"),
                 ("real mocap in training helps", "martinez_mlp", "martinez_mlp, no real mocap", "mpjpe_mm"),
                 ("synthetic poses in training help (seed 000)", "martinez_mlp", "martinez_mlp, no synthetic", "mpjpe_mm")]
        for what, x, y, key in pairs:
            if (x, direction) in table and (y, direction) in table:
                claims.append(claim(table, what, x, y, key, direction))
    ad, al = "temporal_conv, action_directed=true", "temporal_conv, action_directed=false"
    if (ad, "synthetic test") in table and (al, "synthetic test") in table:
        claims.append(claim(table, "action-directed training beats training on all actions (seed 004)", ad, al,
                            "mpjpe_mm", "synthetic test"))
    claims.sort(key=lambda c: (c["claim"], c["direction"]))

    lines = [f"# Lifters on real mocap, leave one source out ({len(a.seeds)} seeds per arm, mean ± std)", "",
             f"`python benchmarks/compare_lifters.py --seeds {' '.join(map(str, a.seeds))} --epochs {a.epochs}` "
             f"({a.epochs} epochs per lifter, {os.cpu_count()} CPU cores, {a.jobs} runs in parallel with one "
             f"thread each; the last invocation took {time.time() - t0:.0f} s{' for ' + ' '.join(a.only) if a.only else ''}"
             "). Errors in mm; poses/s of `predict` (encode, model, flip test, search) over the evaluation set, one "
             "thread while another run shares the machine; train s: wall seconds of training, the same.", "",
             "| lifter | train -> eval | seeds | MPJPE | P-MPJPE | MPJPE noisy 2D | P-MPJPE noisy 2D | poses/s | train s |",
             "|---|---|---|---|---|---|---|---|---|"]
    for (name, d), row in sorted(table.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        lines.append(f"| {name} | {d} | {len(row['mpjpe_mm'])} | " + " | ".join(_fmt(row[k]) if k not in ("fps", "train_seconds")
                                                      else f"{np.mean(row[k]):.0f}" for k in KEYS) + " |")
    lines += ["", "## Claims (a gap counts when it exceeds 2 std)", "", "| claim | data | metric | arm | against | gap | verdict |",
              "|---|---|---|---|---|---|---|"]
    lines += [f"| {c['claim']} | {c['direction']} | {c['key']} | {c['a']} | {c['b']} | {c['gap']} | {c['verdict']} |"
              for c in claims]
    out.mkdir(parents=True, exist_ok=True)
    (out / "compare_lifters.md").write_text("\n".join(lines) + "\n")
    (out / "compare_lifters.json").write_text(json.dumps(
        {"seeds": a.seeds, "epochs": a.epochs,
         "table": [{"arm": n, "data": d, **row} for (n, d), row in table.items()], "claims": claims}, indent=1))
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
