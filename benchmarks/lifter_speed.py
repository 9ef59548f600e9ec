"""Speed and memory of every registered lifter on the CPU: poses per second and peak memory, one process each.

    python benchmarks/lifter_speed.py [--threads 2] [--width 1024] [--only martinez_mlp mmpose_simplebaseline3d]
                                      [--batches 1 1024] [--out benchmarks/results/lifter_speed.md]

Every lifter registered as ``lifter`` (``oracle`` and other ground-truth parts skipped) is built untrained with its
defaults and, when it has a ``width`` option and ``--width`` differs from its default, once more at that width, so
that lifters can be compared at equal width (``martinez_mlp`` against mmpose's own SimpleBaseline3D,
``mmpose_simplebaseline3d``, measured in the same run). ``--set NAME.KEY=VALUE`` adds a row with other options
(e.g. ``--set temporal_conv.channels=1024``).

Untrained means random weights: a :class:`~stage2_lift.lifting.SingleFrameLifter` gets identity normalisation
statistics (x mean 0, std 1; y mean 0, std 1) and a fresh ``build_model``; a lifter for which that is not enough
(``predict`` fails on a smoke input) is trained for one epoch (every ``*epochs`` option set to 1) on a tiny
synthetic pose set (``build_synthetic`` without rendering, in a temporary directory). The prepared state is saved
and each row is measured in a fresh subprocess that restores it with ``load_state``, so rows do not disturb each
other's memory.

Two measurements per batch size B:

- ``model``: the bare network, ``lifter.forward`` on an encoded (B, 34) batch (the ``nn.Module``, plus the
  stream combination of lifters that override ``forward``), eval mode, ``torch.no_grad()``; only for lifters
  whose network maps one frame to one pose (skipped, with the reason, otherwise, e.g. a temporal convolution);
- ``predict``: the whole stage, ``lifter.predict`` on a :class:`~common.handoff.Pose2DSeq` of shape (1, B, 17, 2)
  (B consecutive frames of 2D poses of the synthetic world, so temporal lifters see a sequence): encode + model
  + decode + each lifter's default flip test (two network passes) and any post-step. Poses/s = frames/s.

Timing: warm-up, then ``--repeats`` timings of enough calls to last ``--min-time`` seconds each; the median per
call is reported (the spread is in the JSON). Peak memory: the increase of the process's peak resident set size
(``VmHWM``, reset through ``/proc/self/clear_refs`` after ``gc`` and ``malloc_trim`` return freed memory to the
system) over its resident size just before one call at the largest batch, with transparent huge pages off for
that call (with them, the figure moved by 10 MB between runs); where the reset is not possible, the increase of
``getrusage(RUSAGE_SELF).ru_maxrss`` (only the first measurement of a process is then meaningful).
The machine is shared: the load average before and after is in the header; compare rows of one run only.
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import argparse
import ctypes
import datetime
import gc
import json
import math
import os
import resource
import statistics
import subprocess
import tempfile
import time
from typing import Dict, List, Optional, Sequence

import numpy as np
import torch
import yaml

import stage2_lift  # noqa: F401  (fills the lifter registry)
from common.handoff import Pose2DSeq
from common.registry import build, known, lookup
from common.reproducibility import cpu_model
from stage2_lift.lifting import SingleFrameLifter

REPO = Path(__file__).resolve().parents[1]
DEFAULT_OUT = "benchmarks/results/lifter_speed.md"
#: the tiny synthetic pose set for lifters that must be trained before they can predict, and for the 2D inputs
TINY_SYNTH = {"seed": 0, "frames": 32, "render": False,
              "subjects": {"train": 2, "val": 1, "test": 1}, "per_class": {"train": 1, "val": 1, "test": 1}}


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------------------------- rows
def rows_to_measure(only: Optional[Sequence[str]] = None, width: Optional[int] = None,
                    sets: Sequence[str] = ()) -> List[dict]:
    """``{"name", "options", "label"}`` per row: each lifter with its defaults, at ``width`` when it has that
    option with another default, and the ``--set NAME.KEY=VALUE`` rows."""
    names = all_names = [n for n in known("lifter")
                         if lookup("lifter", n).trainable and not lookup("lifter", n).needs_ground_truth]
    if only:
        unknown = sorted(set(only) - set(names))
        if unknown:
            raise SystemExit(f"--only: unknown or unmeasurable lifter(s) {', '.join(unknown)}; "
                             f"known: {', '.join(names)}")
        names = [n for n in names if n in only]
    rows = []
    for n in names:
        d = lookup("lifter", n).defaults
        rows.append({"name": n, "options": {}, "label": n + (f" (width {d['width']})" if "width" in d else "")})
        if width and "width" in d and d["width"] != width:
            rows.append({"name": n, "options": {"width": int(width)}, "label": f"{n} (width {width})"})
    extra: Dict[str, dict] = {}
    for s in sets:
        try:
            key, value = s.split("=", 1)
            n, opt = key.split(".", 1)
        except ValueError:
            raise SystemExit(f"--set {s}: expected NAME.KEY=VALUE") from None
        if n not in all_names:
            raise SystemExit(f"--set {s}: unknown or unmeasurable lifter {n}; known: {', '.join(all_names)}")
        extra.setdefault(n, {})[opt] = yaml.safe_load(value)
    for n, opts in extra.items():
        rows.append({"name": n, "options": opts,
                     "label": f"{n} ({', '.join(f'{k} {v}' for k, v in opts.items())})"})
    return rows


# ---------------------------------------------------------------------------------------------- preparation
def tiny_data(cache_dir):
    from common.synth.world import build_synthetic
    return build_synthetic(TINY_SYNTH, cache_dir=cache_dir, progress=False)


def input_keypoints(data, n: int) -> np.ndarray:
    """(n, 17, 2) consecutive frames of 2D poses (the test sequences, joined and repeated as needed)."""
    kp = np.concatenate([np.asarray(s.joints2d, np.float32) for s in data.test])
    return np.resize(kp, (n,) + kp.shape[1:])


def seq(keypoints: np.ndarray, image_size) -> Pose2DSeq:
    kp = keypoints[None]
    return Pose2DSeq(kp, np.ones(kp.shape[:3], np.float32), image_size)


def init_untrained(lifter, n_joints: int = 17) -> bool:
    """Random weights and identity statistics for a single-frame lifter (what ``prepare`` would set); False when
    the lifter is not a :class:`SingleFrameLifter`."""
    if not isinstance(lifter, SingleFrameLifter):
        return False
    torch.manual_seed(lifter.seed)
    in_dim, out_dim = 2 * n_joints, 3 * (n_joints - 1)
    lifter.stats = {"x_mean": torch.zeros(in_dim), "x_std": torch.ones(in_dim),
                    "y_mean": torch.zeros(out_dim), "y_std": torch.ones(out_dim)}
    lifter.model = lifter.build_model(in_dim, out_dim).to(lifter.device).eval()
    return True


def prepare(name: str, options: dict, data, seed: int = 0) -> dict:
    """An untrained lifter's ``state()`` plus what the measurement needs: identity statistics when that makes
    ``predict`` work, otherwise one epoch of training on ``data``."""
    lifter = build("lifter", {"type": name, **options}, seed=seed)
    smoke = seq(input_keypoints(data, 4), data.test[0].image_size)
    how = None
    try:
        if init_untrained(lifter):
            lifter.predict(smoke)
            how = "identity stats"
    except Exception as e:
        log(f"  {name}: identity-stats init not enough ({type(e).__name__}: {e}); training 1 epoch instead")
    if how is None:
        lifter = build("lifter", {"type": name, **options, **{k: 1 for k in lifter.defaults
                                                               if k.endswith("epochs") and k not in options}},
                       seed=seed)
        t0 = time.perf_counter()
        lifter.fit(data)
        lifter.predict(smoke)
        how = f"1 epoch on tiny synthetic set ({time.perf_counter() - t0:.1f} s)"
    return {"name": name, "options": options, "seed": seed, "init": how, "state": lifter.state(),
            "image_size": data.test[0].image_size,
            "all_keypoints": np.concatenate([np.asarray(s.joints2d, np.float32) for s in data.test])}


# ---------------------------------------------------------------------------------------------- measuring
_LIBC = None


def _malloc_trim() -> None:
    global _LIBC
    try:
        if _LIBC is None:
            _LIBC = ctypes.CDLL("libc.so.6")
        _LIBC.malloc_trim(0)
    except OSError:
        pass


def _status_kb(field: str) -> Optional[int]:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def _reset_peak() -> bool:
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


PR_SET_THP_DISABLE = 41


def _thp_disable(flag: bool) -> bool:
    """Transparent huge pages off (on) for this process's new page faults (Linux ``prctl``)."""
    global _LIBC
    try:
        if _LIBC is None:
            _LIBC = ctypes.CDLL("libc.so.6")
        return _LIBC.prctl(PR_SET_THP_DISABLE, int(flag), 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def peak_increase_mb(fn) -> tuple:
    """(MB, method): how far one call of ``fn`` raises the peak resident set size over the size before it.

    Transparent huge pages are off during the call: with them, resident memory grows in 2 MB steps that the
    kernel grants or not depending on fragmentation, which made the figure vary by 10 MB between runs."""
    gc.collect()
    _malloc_trim()
    no_thp = _thp_disable(True)
    try:
        if _reset_peak() and _status_kb("VmHWM") is not None:
            before = _status_kb("VmRSS")
            fn()
            mb, method = (_status_kb("VmHWM") - before) / 1024, "VmHWM reset"
        else:
            before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            fn()
            mb, method = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024, "ru_maxrss"
    finally:
        if no_thp:
            _thp_disable(False)
    return mb, method + (", huge pages off" if no_thp else "")


def time_per_call(fn, repeats: int, min_time: float) -> dict:
    """Median seconds per call of ``fn`` over ``repeats`` timings of enough calls to last ``min_time`` s."""
    t0, n_warm = time.perf_counter(), 0
    while n_warm < 3 or (time.perf_counter() - t0 < min(min_time, 0.5) and n_warm < 50):
        fn()
        n_warm += 1
    per = (time.perf_counter() - t0) / n_warm
    calls = max(1, math.ceil(min_time / max(per, 1e-9)))
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        for _ in range(calls):
            fn()
        times.append((time.perf_counter() - t) / calls)
    return {"median_s": statistics.median(times), "min_s": min(times), "max_s": max(times), "calls": calls}


def restore(prepared: dict):
    lifter = build("lifter", {"type": prepared["name"], **prepared["options"]}, seed=prepared["seed"])
    lifter.load_state(prepared["state"])
    return lifter


def single_frame_forward(lifter):
    """``lifter.forward`` when the lifter's network maps a (B, 34) encoded batch to (B, 48); else (None, why)."""
    if not isinstance(lifter, SingleFrameLifter) or not isinstance(getattr(lifter, "model", None), torch.nn.Module):
        return None, "no single-frame model"
    in_dim, out_dim = int(lifter.stats["x_mean"].numel()), int(lifter.stats["y_mean"].numel())
    lifter.model.eval()
    try:
        with torch.no_grad():
            out = lifter.forward(torch.zeros(2, in_dim))
    except Exception as e:
        return None, f"network is not single-frame ({type(e).__name__})"
    if tuple(out.shape) != (2, out_dim):
        return None, f"network is not single-frame (output {tuple(out.shape)})"
    return lifter.forward, None


def measure(prepared: dict, batches: Sequence[int] = (1, 1024), repeats: int = 7, min_time: float = 0.2,
            memory: bool = True) -> dict:
    """Poses/s of the bare network and of ``predict`` at each batch size, and the peak memory increase of one
    call of each at the largest batch size (measured first, before the timings, so freed memory of earlier
    calls does not hide it). ``prepared`` comes from :func:`prepare`."""
    lifter = restore(prepared)
    torch.manual_seed(0)
    fwd, why = single_frame_forward(lifter)
    n_params = sum(p.numel() for m in _modules(lifter) for p in m.parameters())
    in_dim = int(lifter.stats["x_mean"].numel()) if getattr(lifter, "stats", None) else 34
    kp_all = prepared["all_keypoints"]
    seqs = {b: seq(np.resize(kp_all, (b,) + kp_all.shape[1:]), prepared["image_size"]) for b in batches}
    xs = {b: torch.randn(b, in_dim) for b in batches}

    def model_call(b):
        def f():
            with torch.no_grad():
                fwd(xs[b])
        return f

    def predict_call(b):
        return lambda: lifter.predict(seqs[b])

    res = {"name": prepared["name"], "options": prepared["options"], "init": prepared["init"],
           "params": int(n_params), "model": {}, "predict": {}, "model_skipped": why,
           "threads": torch.get_num_threads()}
    big = max(batches)
    # small warm-up calls load lazily initialised kernels, so the memory figure is the batch's working memory
    if fwd is not None:
        with torch.no_grad():
            fwd(torch.randn(1, in_dim))
    lifter.predict(seq(kp_all[:1], prepared["image_size"]))
    if memory:
        if fwd is not None:
            res["model_peak_mb"], res["memory_method"] = peak_increase_mb(model_call(big))
        res["predict_peak_mb"], res["memory_method"] = peak_increase_mb(predict_call(big))
        res["memory_batch"] = big
    for b in batches:
        if fwd is not None:
            t = time_per_call(model_call(b), repeats, min_time)
            res["model"][str(b)] = {**t, "poses_per_s": b / t["median_s"]}
        t = time_per_call(predict_call(b), repeats, min_time)
        res["predict"][str(b)] = {**t, "poses_per_s": b / t["median_s"]}
        log(f"    batch {b}: " + (f"model {res['model'][str(b)]['poses_per_s']:,.0f} poses/s, " if fwd else "")
            + f"predict {res['predict'][str(b)]['poses_per_s']:,.0f} poses/s")
    return res


def _modules(lifter):
    """The lifter's networks (its ``model``, or the ``experts`` of a mixture), for the parameter count."""
    mods = [m for m in vars(lifter).values() if isinstance(m, torch.nn.Module)]
    for v in vars(lifter).values():
        if isinstance(v, dict):
            mods += [m for m in v.values() if isinstance(m, torch.nn.Module)]
    return mods


# ---------------------------------------------------------------------------------------------- subprocess
def worker(prep_file: str, batches, repeats, min_time, threads) -> None:
    torch.set_num_threads(threads)
    prepared = torch.load(prep_file, weights_only=False)
    res = measure(prepared, batches, repeats, min_time)
    print("RESULT " + json.dumps(res), flush=True)


def run_in_subprocess(prepared: dict, batches=(1, 1024), repeats: int = 7, min_time: float = 0.2,
                      threads: int = 1, tmp_dir=None) -> dict:
    """:func:`measure` in a fresh Python process (own heap, own peak memory) with ``threads`` torch threads."""
    with tempfile.TemporaryDirectory(dir=tmp_dir) as d:
        f = Path(d) / "prepared.pt"
        torch.save(prepared, f)
        env = {**os.environ, "OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads)}
        cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", str(f), "--threads", str(threads),
               "--repeats", str(repeats), "--min-time", str(min_time), "--batches", *map(str, batches)]
        p = subprocess.run(cmd, cwd=REPO, env=env, stdout=subprocess.PIPE, text=True)
    lines = [ln for ln in p.stdout.splitlines() if ln.startswith("RESULT ")]
    if p.returncode != 0 or not lines:
        raise RuntimeError(f"measuring {prepared['name']} failed (exit code {p.returncode}); see its output above")
    return json.loads(lines[-1][len("RESULT "):])


# ---------------------------------------------------------------------------------------------- report
def _fmt(v, digits=0):
    return "-" if v is None else f"{v:,.{digits}f}"


def markdown(results: List[dict], header: dict) -> str:
    b = header["batches"]
    lines = [f"# Lifter speed on the CPU ({header['date']})", "",
             f"- machine: {header['machine']}, {header['cpu_count']} CPUs; torch {header['torch']} with "
             f"{header['threads']} thread(s); load average {header['load_before']} before, "
             f"{header['load_after']} after",
             f"- command: `{header['command']}`",
             f"- untrained lifters (random weights); median of {header['repeats']} timings of "
             f">= {header['min_time']} s; "
             f"poses/s (frames/s for `predict` on a (1, B, 17, 2) sequence)",
             "- model: the bare network (`lifter.forward`, eval, no_grad); predict: encode + model + decode + flip "
             "test + any post-step",
             f"- peak MB: increase of the peak resident memory during one call at batch {max(b)} "
             f"({header.get('memory_method', '-')}), fresh process per row", ""]
    cols = (["lifter", "params (M)"] + [f"model B={x}" for x in b] + [f"predict B={x}" for x in b]
            + [f"model peak MB (B={max(b)})", f"predict peak MB (B={max(b)})"])
    lines += ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for r in results:
        if "error" in r:
            lines.append(f"| {r['label']} | failed: {r['error']} |" + " |" * (len(cols) - 2))
            continue
        cells = [r["label"], f"{r['params'] / 1e6:.2f}"]
        cells += [_fmt(r["model"].get(str(x), {}).get("poses_per_s")) for x in b]
        cells += [_fmt(r["predict"][str(x)]["poses_per_s"]) for x in b]
        cells += [_fmt(r.get("model_peak_mb"), 1), _fmt(r.get("predict_peak_mb"), 1)]
        lines.append("| " + " | ".join(cells) + " |")
    notes = [f"- {r['label']}: model forward skipped ({r['model_skipped']})" for r in results
             if r.get("model_skipped")]
    notes += [f"- {r['label']}: prepared by {r['init']}" for r in results
              if "init" in r and not r["init"].startswith("identity")]
    if notes:
        lines += ["", *notes]
    comp = comparisons(results, b)
    if comp:
        lines += ["", "Equal width, ours against mmpose's SimpleBaseline3D (ratio of poses/s, > 1: ours faster):", ""]
        lines += [f"- {c}" for c in comp]
    return "\n".join(lines) + "\n"


def comparisons(results: List[dict], batches) -> List[str]:
    """``martinez_mlp`` against ``mmpose_simplebaseline3d`` at equal width, where both were measured."""
    def width(r):
        return r["options"].get("width", lookup("lifter", r["name"]).defaults.get("width"))

    ok = [r for r in results if "error" not in r]
    out = []
    for mm in [r for r in ok if r["name"] == "mmpose_simplebaseline3d"]:
        for ours in [r for r in ok if r["name"] == "martinez_mlp" and width(r) == width(mm)]:
            parts = []
            for kind in ("model", "predict"):
                for x in batches:
                    a, c = ours[kind].get(str(x)), mm[kind].get(str(x))
                    if a and c:
                        parts.append(f"{kind} B={x}: {a['poses_per_s'] / c['poses_per_s']:.2f}")
            out.append(f"width {width(mm)}: " + ", ".join(parts))
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=os.cpu_count(), help="torch threads (default: all CPUs)")
    ap.add_argument("--width", type=int, default=1024,
                    help="also measure lifters with a 'width' option at this width (0: defaults only)")
    ap.add_argument("--only", nargs="+", metavar="NAME", help="measure only these lifters")
    ap.add_argument("--set", action="append", default=[], metavar="NAME.KEY=VALUE",
                    help="an extra row with this option (repeatable; options of one lifter share a row)")
    ap.add_argument("--batches", type=int, nargs="+", default=[1, 1024])
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--min-time", type=float, default=0.2, help="seconds per timing")
    ap.add_argument("--out", default=DEFAULT_OUT, help="markdown report; the JSON goes beside it (.json)")
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.worker:
        return worker(args.worker, args.batches, args.repeats, args.min_time, args.threads)

    torch.set_num_threads(args.threads)
    rows = rows_to_measure(args.only, args.width, args.set)
    load_before = [round(x, 2) for x in os.getloadavg()]
    log(f"lifter speed: {len(rows)} row(s), batches {args.batches}, {args.threads} thread(s), "
        f"{os.cpu_count()} CPUs, load average {load_before[0]}")
    results = []
    with tempfile.TemporaryDirectory(prefix="lifter_speed_") as tmp:
        data = tiny_data(Path(tmp) / "synth")
        for i, row in enumerate(rows, 1):
            log(f"[{i}/{len(rows)}] {row['label']}: preparing")
            t0 = time.perf_counter()
            try:
                prepared = prepare(row["name"], row["options"], data)
                log(f"  prepared ({prepared['init']}); measuring in a fresh process")
                res = run_in_subprocess(prepared, args.batches, args.repeats, args.min_time, args.threads, tmp)
            except Exception as e:
                log(f"  FAILED: {type(e).__name__}: {e}")
                res = {"name": row["name"], "options": row["options"], "error": f"{type(e).__name__}: {e}"}
            res["label"] = row["label"]
            results.append(res)
            log(f"  done in {time.perf_counter() - t0:.1f} s")
    methods = {r.get("memory_method") for r in results if r.get("memory_method")}
    header = {"date": datetime.datetime.now().strftime("%Y-%m-%d %H:%M"),
              "machine": cpu_model(), "cpu_count": os.cpu_count(),
              "torch": torch.__version__, "threads": args.threads, "batches": args.batches,
              "repeats": args.repeats, "min_time": args.min_time, "load_before": load_before,
              "load_after": [round(x, 2) for x in os.getloadavg()], "memory_method": ", ".join(sorted(methods)),
              "command": "python benchmarks/lifter_speed.py " + " ".join(sys.argv[1:] if argv is None else argv)}
    md = markdown(results, header)
    print(md)
    out = Path(args.out)
    out = out if out.is_absolute() else REPO / out
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(md)
    out.with_suffix(".json").write_text(json.dumps({"header": header, "results": results}, indent=2))
    log(f"wrote {out} and {out.with_suffix('.json')}")
    return results


if __name__ == "__main__":
    main()
