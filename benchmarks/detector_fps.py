"""Speed of the stage-1 2D detectors on the CPU: frames per second at batch 1 and batch 16, 640 x 480 frames.

    python benchmarks/detector_fps.py [--threads 2] [--detectors mmpose_topdown rtmpose_t mediapipe precomputed]
                                      [--batches 1 16] [--frames video|synthetic]
                                      [--out benchmarks/results/detector_fps.md]

Input: RGB uint8 frames of 640 x 480, the first frames of ``../shared/data/video/test.avi`` (320 x 240, read by
:func:`common.video.read_video`, resized with ``cv2.INTER_LINEAR``; the shared root is
:data:`common.paths.SHARED_DATA`), or with ``--frames synthetic`` (and when the video is missing) one sequence of
the synthetic world's renders (256 x 256, stretched to 640 x 480). Batch B always means B frames of one sequence
(the first B), and every figure is frames/s = B / seconds per call. Rows (``--detectors``):

- ``mmpose_topdown``: the project's default network (``configs/mmpose/topdown_small.py``), untrained
  (``checkpoint: null``, random weights: speed does not depend on them), ``box: whole_frame``, with and without
  ``flip_test``. One call is ``MMPoseTopdown.infer_crops`` on B frames with the whole-frame box: the B affine
  crops, one forward pass on the batch (two crops per frame with the flip test), the codec's decode and the
  inverse warp back to image pixels, i.e. what ``predict`` does per ``batch_infer`` chunk.
- ``rtmpose_t``: RTMPose-t built from the config mmpose itself ships
  (``mmpose/.mim/configs/body_2d_keypoint/rtmpose/coco/rtmpose-t_8xb256-420e_coco-256x192.py``, 256 x 192 crops,
  SimCC head) through ``MMPoseTopdown({"config": <that path>, "checkpoint": None, "flip_test": False,
  "box": "whole_frame"})``, timed like ``mmpose_topdown``. The config initialises its backbone from a URL
  (``init_cfg=dict(type='Pretrained', ...)``); ``MMPoseTopdown`` drops such entries when no checkpoint is
  given, so nothing downloads.
- ``network only`` rows (for both mmpose configs): mmpose's bare model as its own inference runs it,
  ``model.extract_feat`` + ``model.head.forward`` on a (B, 3, H, W) tensor (the same frames' whole-frame crops,
  normalised once beforehand, made contiguous NCHW as mmpose's data preprocessor hands them over), eval mode,
  ``torch.no_grad()``, no flip: the difference to the ``no flip`` row above is this project's crop + normalise
  + decode overhead. It can come out negative: ``MMPoseTopdown.normalise`` permutes an NHWC array, which leaves
  the tensor channels-last, and the convolutions ran 15-25 % faster on that than on NCHW (2 threads, batch 1
  and 16, measured while writing this benchmark).
- ``mediapipe`` (MediaPipe Pose 0.10.21, its bundled "full" model, ``mode: video``), without and with
  ``flip_test``. MediaPipe takes one frame at a time, so batch 16 is one ``predict`` call on 16 consecutive
  frames: the person search on the first frame (and on any frame where the person is lost), then one tracked
  landmark pass per frame (two with the flip test); batch 1 is ``predict`` on a single frame, i.e. always the
  first-frame search. For a video the steady state is the batch-16 figure (and longer sequences approach the
  tracked-frame rate). Each ``predict`` also creates (and closes) its tracking graphs. The notes give how often
  the person was (re)acquired by a search: a close-up or a person leaving the image makes searches, and the
  frame rate, vary with the video. MediaPipe runs its own TFLite/XNNPACK threads, which ``--threads`` does not
  set.
- ``precomputed``: key-points imported from a :class:`~common.handoff.Pose2DSeq` ``.npz`` (written by
  ``Pose2DSeq.save`` to a temporary folder; B frames of synthetic h36m17 poses scaled to 640 x 480), the import
  path's cost: ``read + predict`` builds a fresh ``Precomputed`` and reads the file in every call (one video's
  worth), ``predict`` reuses the instance whose file is already read (person tracking, layout conversion, gap
  filling).

OpenMP: the benchmark keeps the runtime's wait policy (the header says which was in force), like the pipeline.
On an idle machine the default (threads spin at a barrier before they sleep) was 2-3x faster than
``OMP_WAIT_POLICY=PASSIVE`` (default network, batch 1: 94 against 29 frames/s); on 2 cores shared with one other
busy process it collapsed (about 1.8 s per batch-1 pass instead of 25 ms, the spinning thread holding the core
its partner needs) where ``PASSIVE`` kept 30-37 ms. Run it on an idle machine, or set ``PASSIVE`` when sharing.

Timing: warm-up (at least one call and at least min(``--min-time``, 0.5) s, a MediaPipe batch's first call
included), then ``--repeats`` timings of enough calls to last ``--min-time`` seconds each; the median per call is
reported, the spread (frames/s of the slowest and of the fastest timing) beside it and, with the seconds, in the
JSON. torch and OpenCV get ``--threads`` threads. All rows run in this one process, one after the other. The
machine is shared: the load average before and after is in the header; compare rows of one run only.
"""
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import argparse
import datetime
import math
import statistics
import tempfile
import time
from importlib import metadata
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import cv2
import numpy as np
import torch

from benchmarks.lifter_speed import log
from common.errors import InputError
from common.io import write_json, write_text
from common.paths import SHARED_DATA
from common.reproducibility import cpu_model

REPO = Path(__file__).resolve().parents[1]
DEFAULT_OUT = "benchmarks/results/detector_fps.md"
DETECTORS = ("mmpose_topdown", "rtmpose_t", "mediapipe", "precomputed")
FRAME_SOURCES = ("video", "synthetic")
FRAME_SIZE = (640, 480)  # (W, H)
VIDEO = "video/test.avi"  # under SHARED_DATA
DEFAULT_CONFIG = "configs/mmpose/topdown_small.py"
#: RTMPose-t's config inside the installed mmpose package
RTMPOSE_T = ".mim/configs/body_2d_keypoint/rtmpose/coco/rtmpose-t_8xb256-420e_coco-256x192.py"


# ---------------------------------------------------------------------------------------------- input
def synthetic_frames(n: int, seed: int = 0) -> np.ndarray:
    """``n`` raw renders (n, 256, 256, 3) of one synthetic sequence."""
    from common.synth.world import make_sequence, resolve_cfg

    cfg = resolve_cfg({"seed": seed, "frames": max(2, n), "render": True})
    s = make_sequence(cfg, {"split_index": 2, "action": 0, "index": 0, "subject": 0}, encode=False)
    return np.asarray(s["frames"][:n])


def load_frames(n: int, source: str = "video") -> Tuple[np.ndarray, str]:
    """(``n`` RGB uint8 frames of :data:`FRAME_SIZE`, where they come from)."""
    video = SHARED_DATA / VIDEO
    frames = None
    if source == "video":
        if video.is_file():
            from common.video import read_video
            frames, _ = read_video(video, max_frames=n)
            if len(frames) < n:
                log(f"  {video}: only {len(frames)} frames, {n} needed; using the synthetic renders")
                frames = None
            else:
                what = f"{video} (first {n} frames, {frames.shape[2]}x{frames.shape[1]})"
        else:
            log(f"  {video} not found; using the synthetic renders")
    if frames is None:
        frames = synthetic_frames(n)
        what = f"synthetic renders (one sequence, {n} frames, {frames.shape[2]}x{frames.shape[1]})"
    W, H = FRAME_SIZE
    out = np.stack([cv2.resize(f, (W, H), interpolation=cv2.INTER_LINEAR) for f in frames])
    return np.ascontiguousarray(out, dtype=np.uint8), f"{what} resized to {W}x{H}"


def synthetic_keypoints(n: int, seed: int = 0) -> Tuple[np.ndarray, np.ndarray]:
    """(key-points (n, 17, 2) in :data:`FRAME_SIZE` pixels, detector-like scores (n, 17)) of one synthetic
    sequence (poses only, no rendering)."""
    from common.synth.world import make_sequence, resolve_cfg

    cfg = resolve_cfg({"seed": seed, "frames": max(2, n), "render": False})
    s = make_sequence(cfg, {"split_index": 2, "action": 0, "index": 0, "subject": 0})
    kp = np.asarray(s["joints2d"], np.float64)[:n] * np.array(FRAME_SIZE) / float(cfg["image_size"])
    vis = np.asarray(s["visible"], bool)[:n]
    rng = np.random.default_rng(seed)
    sc = np.where(vis, rng.uniform(0.7, 1.0, vis.shape), rng.uniform(0.2, 0.6, vis.shape))
    return kp.astype(np.float32), sc.astype(np.float32)


# ---------------------------------------------------------------------------------------------- timing
def time_calls(fn: Callable[[], object], repeats: int, min_time: float) -> dict:
    """Median seconds per call of ``fn`` over ``repeats`` timings of enough calls to last ``min_time`` s each,
    after a warm-up of at least one call and min(``min_time``, 0.5) s."""
    t0, n_warm = time.perf_counter(), 0
    while n_warm < 1 or (time.perf_counter() - t0 < min(min_time, 0.5) and n_warm < 50):
        fn()
        n_warm += 1
    per = (time.perf_counter() - t0) / n_warm
    calls = max(1, math.ceil(min_time / max(per, 1e-9)))
    times = []
    for _ in range(max(1, repeats)):
        t = time.perf_counter()
        for _ in range(calls):
            fn()
        times.append((time.perf_counter() - t) / calls)
    return {"median_s": statistics.median(times), "min_s": min(times), "max_s": max(times), "calls": calls,
            "times_s": times}


def rate(t: dict, b: int) -> dict:
    """Frames/s figures of a :func:`time_calls` result for calls of ``b`` frames."""
    return {**t, "batch": b, "frames_per_s": b / t["median_s"], "ms_per_frame": 1000 * t["median_s"] / b,
            "frames_per_s_min": b / t["max_s"], "frames_per_s_max": b / t["min_s"]}


# ---------------------------------------------------------------------------------------------- detectors
def rtmpose_t_config() -> Path:
    """The absolute path of RTMPose-t's config shipped inside the installed mmpose; a clear error if absent."""
    try:
        import mmpose
    except ImportError as e:
        raise InputError(f"rtmpose_t needs mmpose ({e})") from None
    p = Path(mmpose.__file__).resolve().parent / RTMPOSE_T
    if not p.is_file():
        raise InputError(f"RTMPose-t config not found at {p}: this mmpose install ({mmpose.__version__}) lacks "
                         "its bundled .mim configs (reinstall mmpose from its wheel)")
    return p


def build_topdown(config):
    """An untrained ``MMPoseTopdown`` (whole-frame boxes, no flip) from ``config``."""
    from stage1_2d.mmpose_topdown import MMPoseTopdown

    return MMPoseTopdown({"config": str(config), "checkpoint": None, "flip_test": False, "box": "whole_frame"})


# ---------------------------------------------------------------------------------------------- rows
def n_params(module: torch.nn.Module) -> int:
    return int(sum(p.numel() for p in module.parameters()))


def mmpose_rows(name: str, det, frames: np.ndarray, batches, repeats, min_time, flips=(True, False),
                extra: Optional[dict] = None) -> List[dict]:
    """``infer_crops`` on B frames with the whole-frame box (flip test per ``flips``), then the bare network."""
    from common import crop as C

    H, W = frames.shape[1:3]
    center, scale = C.whole_frame_box((W, H), det.aspect)
    w_in, h_in = det.input_size
    info = {"params": n_params(det.model), "input_size": [w_in, h_in], **(extra or {})}
    rows = []
    for flip in flips:
        det.cfg["flip_test"] = flip
        row = {"detector": name, "variant": f"infer_crops {w_in}x{h_in}, " + ("flip test" if flip else "no flip"),
               "flip_test": flip, **info, "batches": {}}
        for b in batches:
            f = frames[:b]
            row["batches"][str(b)] = rate(
                time_calls(lambda f=f, b=b: det.infer_crops(f, [center] * b, [scale] * b), repeats, min_time), b)
        rows.append(row)
        log_row(row)
    det.cfg["flip_test"] = False
    model = det.model.eval()
    row = {"detector": name, "variant": f"network only (extract_feat + head.forward) 3x{h_in}x{w_in}",
           "flip_test": False, **info, "batches": {}}
    mat = C.crop_matrix(center, scale, det.input_size)
    crops = det.normalise(np.stack([C.warp(f, mat, det.input_size) for f in frames]))
    for b in batches:
        x = crops[:b].contiguous()

        def fwd(x=x):
            with torch.no_grad():
                model.head.forward(model.extract_feat(x))
        row["batches"][str(b)] = rate(time_calls(fwd, repeats, min_time), b)
    rows.append(row)
    log_row(row)
    return rows


def run_mmpose_topdown(frames, batches, repeats, min_time, tmp) -> List[dict]:
    det = build_topdown(REPO / DEFAULT_CONFIG)
    return mmpose_rows("mmpose_topdown", det, frames, batches, repeats, min_time, (True, False),
                       {"config": DEFAULT_CONFIG})


def run_rtmpose_t(frames, batches, repeats, min_time, tmp) -> List[dict]:
    cfg = rtmpose_t_config()
    return mmpose_rows("rtmpose_t", build_topdown(cfg), frames, batches, repeats, min_time, (False,),
                       {"config": str(cfg)})


def run_mediapipe(frames, batches, repeats, min_time, tmp) -> List[dict]:
    from stage1_2d.mediapipe_pose import MediaPipePose

    rows = []
    for flip in (False, True):
        det = MediaPipePose({"mode": "video", "flip_test": flip})
        row = {"detector": "mediapipe", "variant": "video mode, " + ("flip test" if flip else "no flip"),
               "flip_test": flip, "batches": {}}
        for b in batches:
            f = frames[:b]
            row["batches"][str(b)] = rate(time_calls(lambda det=det, f=f: det.predict(f), repeats, min_time), b)
            person = (det.last_info or {}).get("person", {})
            row["batches"][str(b)]["person"] = person
        rows.append(row)
        log_row(row)
    return rows


def run_precomputed(frames, batches, repeats, min_time, tmp) -> List[dict]:
    from common.handoff import Pose2DSeq
    from stage1_2d.precomputed import Precomputed

    kp, sc = synthetic_keypoints(max(batches))
    rows = [{"detector": "precomputed", "variant": "npz: read + predict", "fresh": True, "batches": {}},
            {"detector": "precomputed", "variant": "npz: predict (file already read)", "fresh": False,
             "batches": {}}]
    for b in batches:
        path = Pose2DSeq(kp[None, :b], sc[None, :b], FRAME_SIZE, 25.0, "h36m17").save(Path(tmp) / f"kp_{b}.npz")
        f = frames[:b]
        loaded = Precomputed({"path": str(path)})
        loaded.predict(f)
        rows[0]["batches"][str(b)] = rate(
            time_calls(lambda path=path, f=f: Precomputed({"path": str(path)}).predict(f), repeats, min_time), b)
        rows[1]["batches"][str(b)] = rate(
            time_calls(lambda loaded=loaded, f=f: loaded.predict(f), repeats, min_time), b)
    for row in rows:
        log_row(row)
    return rows


RUNNERS = {"mmpose_topdown": run_mmpose_topdown, "rtmpose_t": run_rtmpose_t, "mediapipe": run_mediapipe,
           "precomputed": run_precomputed}


def log_row(row: dict) -> None:
    log(f"  {row['detector']} {row['variant']}: " + ", ".join(
        f"B={b} {r['frames_per_s']:,.1f} frames/s" for b, r in row["batches"].items()))


def run_all(detectors: Sequence[str], frames: np.ndarray, batches: Sequence[int], repeats: int = 3,
            min_time: float = 1.0) -> List[dict]:
    """The rows of every detector in ``detectors`` (a failing detector gives one row with its error)."""
    results = []
    with tempfile.TemporaryDirectory(prefix="detector_fps_") as tmp:
        for i, name in enumerate(detectors, 1):
            log(f"[{i}/{len(detectors)}] {name}")
            t0 = time.perf_counter()
            try:
                rows = RUNNERS[name](frames, batches, repeats, min_time, tmp)
            except Exception as e:
                log(f"  FAILED: {type(e).__name__}: {e}")
                rows = [{"detector": name, "variant": "-", "error": f"{type(e).__name__}: {e}"}]
            for r in rows:
                r["seconds"] = round(time.perf_counter() - t0, 1)
            results += rows
            log(f"  done in {time.perf_counter() - t0:.1f} s")
    return results


# ---------------------------------------------------------------------------------------------- report
def versions() -> Dict[str, str]:
    out = {"torch": torch.__version__, "opencv": cv2.__version__}
    for pkg in ("mmpose", "mmcv", "mmengine", "mediapipe"):
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            out[pkg] = "not installed"
    return out


def _fmt(v, digits=1):
    return "-" if v is None else f"{v:,.{digits}f}"


def markdown(results: List[dict], header: dict) -> str:
    v = header["versions"]
    lines = [f"# 2D detector speed on the CPU ({header['date']})", "",
             f"- machine: {header['machine']}, {header['cpu_count']} CPUs; torch {v['torch']} with "
             f"{header['threads']} thread(s) (OpenCV too); load average {header['load_before']} before, "
             f"{header['load_after']} after; {header['wall_seconds']:.0f} s in all",
             f"- OpenMP wait policy: {header['omp_wait_policy']}",
             f"- versions: mmpose {v['mmpose']}, mmcv {v['mmcv']}, mmengine {v['mmengine']}, mediapipe "
             f"{v['mediapipe']}, OpenCV {v['opencv']}",
             f"- command: `{header['command']}`",
             f"- frames: {header['frames']}; batch B = B frames of the sequence per call, frames/s = B / seconds "
             "per call",
             f"- median of {header['repeats']} timings of >= {header['min_time']} s after a warm-up; spread: "
             "frames/s of the slowest and the fastest timing",
             "- mmpose rows: untrained (random weights), whole-frame box; infer_crops = crop + forward + decode "
             "on B frames at once; network only = mmpose's bare model (extract_feat + head.forward) on the "
             "same B crops as a ready (B, 3, H, W) tensor",
             "- mediapipe: `predict` in video mode; B=1 is a single-frame sequence (always the first-frame person "
             "search), B=16 one sequence of 16 frames (search, then tracking): for a video the B=16 figure is "
             "the steady state", ""]
    cols = ["detector", "variant", "batch", "frames/s (median)", "ms/frame", "spread (frames/s min-max)"]
    lines += ["| " + " | ".join(cols) + " |", "|---|---|---:|---:|---:|---:|"]
    for r in results:
        if "error" in r:
            lines.append(f"| {r['detector']} | failed: {r['error']} | | | | |")
            continue
        for b, t in r["batches"].items():
            lines.append(f"| {r['detector']} | {r['variant']} | {b} | {_fmt(t['frames_per_s'])} | "
                         f"{_fmt(t['ms_per_frame'], 2)} | {_fmt(t['frames_per_s_min'])}-"
                         f"{_fmt(t['frames_per_s_max'])} |")
    notes = []
    seen = set()
    for r in results:
        if "params" in r and r["detector"] not in seen:
            seen.add(r["detector"])
            notes.append(f"- {r['detector']}: {r['params'] / 1e6:.2f} M parameters, crops "
                         f"{r['input_size'][0]}x{r['input_size'][1]} (w x h), config `{_short(r['config'])}`")
        if r["detector"] == "mediapipe" and "batches" in r:
            parts = []
            for b, t in r["batches"].items():
                p = t.get("person") or {}
                if p:
                    parts.append(f"B={b}: person acquired by a search {p.get('acquired', '-')} time(s), "
                                 f"{p.get('frames_without_person', '-')} frame(s) without a person")
            if parts:
                notes.append(f"- mediapipe {r['variant']} (last call): " + "; ".join(parts))
    if notes:
        lines += ["", *notes]
    comp = overheads(results)
    if comp:
        lines += ["", "Network share of an `infer_crops` call without flip test (network-only ms/frame / "
                  "infer_crops ms/frame; the rest is crop + normalise + decode; over 100 %: the channels-last input of "
                  "infer_crops beats the NCHW tensor of the network-only row, see the script's docstring):", ""]
        lines += [f"- {c}" for c in comp]
    return "\n".join(lines) + "\n"


def overheads(results: List[dict]) -> List[str]:
    out = []
    for det in ("mmpose_topdown", "rtmpose_t"):
        full = [r for r in results if r["detector"] == det and "error" not in r and r["variant"].startswith(
            "infer_crops") and not r["flip_test"]]
        net = [r for r in results if r["detector"] == det and "error" not in r and r["variant"].startswith("network")]
        if full and net:
            parts = []
            for b, t in full[0]["batches"].items():
                n = net[0]["batches"].get(b)
                if n:
                    parts.append(f"B={b}: {n['ms_per_frame']:.2f} of {t['ms_per_frame']:.2f} ms "
                                 f"({100 * n['ms_per_frame'] / t['ms_per_frame']:.0f} %)")
            out.append(f"{det}: " + ", ".join(parts))
    return out


def _short(p) -> str:
    p = str(p)
    i = p.find("mmpose/.mim/")
    return f"<mmpose>/{p[i + len('mmpose/'):]}" if i >= 0 else p


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=2, help="torch (and OpenCV) threads")
    ap.add_argument("--detectors", nargs="+", choices=DETECTORS, default=list(DETECTORS), help="rows to measure")
    ap.add_argument("--batches", type=int, nargs="+", default=[1, 16], help="frames per call")
    ap.add_argument("--frames", choices=FRAME_SOURCES, default="video",
                    help=f"input frames: the shared {VIDEO} (default; synthetic when missing) or synthetic renders")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--min-time", type=float, default=1.0, help="seconds per timing")
    ap.add_argument("--out", default=DEFAULT_OUT, help="markdown report; the JSON goes beside it (.json)")
    args = ap.parse_args(argv)
    if any(b < 1 for b in args.batches):
        raise SystemExit(f"--batches: expected positive batch sizes, got {args.batches}")
    if args.repeats < 1 or args.min_time <= 0:
        raise SystemExit("--repeats must be >= 1 and --min-time > 0")

    detectors = list(dict.fromkeys(args.detectors))
    batches = sorted(set(args.batches))
    torch.set_num_threads(args.threads)
    cv2.setNumThreads(args.threads)
    load_before = [round(x, 2) for x in os.getloadavg()]
    log(f"detector fps: {', '.join(detectors)}; batches {batches}, {args.threads} thread(s), {os.cpu_count()} CPUs, "
        f"load average {load_before[0]}")
    if load_before[0] + args.threads > (os.cpu_count() or 1) + 0.5:
        log(f"  warning: load average {load_before[0]} + {args.threads} thread(s) > {os.cpu_count()} CPUs: "
            "compare rows of one run only")
    t0 = time.perf_counter()
    frames, what = load_frames(max(batches), args.frames)
    log(f"  frames: {what}")
    results = run_all(detectors, frames, batches, args.repeats, args.min_time)
    header = {"date": datetime.datetime.now().strftime("%Y-%m-%d %H:%M"), "machine": cpu_model(),
              "cpu_count": os.cpu_count(), "threads": args.threads, "torch_threads": torch.get_num_threads(),
              "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY", "runtime default"),
              "versions": versions(), "detectors": detectors, "batches": batches, "repeats": args.repeats,
              "min_time": args.min_time, "frames": what, "frame_size": list(FRAME_SIZE),
              "load_before": load_before, "load_after": [round(x, 2) for x in os.getloadavg()],
              "wall_seconds": round(time.perf_counter() - t0, 1),
              "command": "python benchmarks/detector_fps.py " + " ".join(sys.argv[1:] if argv is None else argv)}
    md = markdown(results, header)
    print(md)
    out = Path(args.out)
    out = out if out.is_absolute() else REPO / out
    write_text(out, md)
    write_json(out.with_suffix(".json"), {"header": header, "results": results})
    log(f"wrote {out} and {out.with_suffix('.json')} ({header['wall_seconds']:.0f} s)")
    return results


if __name__ == "__main__":
    main()
