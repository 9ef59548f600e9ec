"""``--stream``: the chain on frames as they arrive from a camera, a stream URL or a video file replayed at its own
frame rate (``common/live.py``), with bounded latency (``docs/interfaces.md``, "Live streams").

Per frame: the detector's per-frame form (``Detector2D.stream``, which carries a tracked box from frame to
frame), the lifter on the newest ``causal_frames`` 2D poses (one for a single-frame lifter; the receptive field of
a causal ``temporal_conv``; a lifter that looks ahead is refused), the 3D appended to a window of one action's
length (``window_seconds``). Every ``hop`` seconds of video the classifier labels that window; the label holds
until the next update. The main person (person 0) is followed.

Written as it goes, one JSON line each, flushed: ``stream.jsonl`` (per frame: index, arrival time, 2D, 3D in mm,
the current label) and ``actions.jsonl`` (per label update: frame, label, probability, top 3, latency). At the end
``report.json``: frames read, processed and dropped, sustained frames/s, and the latency from the arrival of the
newest frame of a window to its label (mean, median, 95th percentile, max). ``--preview`` shows the frames with
the skeleton and the label in a window (``q`` stops).
"""
from __future__ import annotations

import collections
import json
import math
import time
from pathlib import Path
from typing import Optional

import numpy as np

from common.errors import InputError
from common.handoff import Pose2DSeq, Pose3DSeq
from common.io import write_json
from common.live import LiveSource
from common.logs import get_logger
from common.progress import progress_bar
from common.reproducibility import environment

_log = get_logger("stream").info

#: seconds of video between two label updates
DEFAULT_HOP_S = 0.5


def _stack(frames, fps: float, layout: str, image_size=None):
    """One person's last frames as a hand-off (Pose2DSeq when ``image_size`` is given, else Pose3DSeq)."""
    coords = np.stack([f[0] for f in frames])[None]
    scores = np.stack([f[1] for f in frames])[None]
    if image_size is not None:
        return Pose2DSeq(coords, scores, image_size, fps, layout)
    return Pose3DSeq(coords, scores, fps=fps, layout=layout)


class _Preview:
    """An OpenCV window with the frame, its skeleton and the current label."""

    def __init__(self, layout: str):
        import cv2

        self.cv2, self.layout = cv2, layout
        try:
            cv2.namedWindow("rgb3d stream", cv2.WINDOW_NORMAL)
        except cv2.error as e:
            raise InputError(f"--preview: no window can be opened here ({str(e).splitlines()[-1][:100]}); "
                             "run without --preview") from None

    def show(self, rgb, kps, scores, label: str) -> bool:
        """False when the user pressed q."""
        from common import plots

        img = plots.caption(plots.draw_skeleton2d(rgb, kps, self.layout, scores), label)
        self.cv2.imshow("rgb3d stream", self.cv2.cvtColor(img, self.cv2.COLOR_RGB2BGR))
        return (self.cv2.waitKey(1) & 0xFF) != ord("q")

    def close(self) -> None:
        self.cv2.destroyAllWindows()


def _classify_window(cls, past2d, past3d, fps: float, p2, p3):
    """The classifier on the sliding window: the last 3D poses and, for a classifier that also reads 2D, the
    2D poses of the same frames."""
    kw = {"pose2d": _stack(list(past2d)[-len(past3d):], fps, p2.layout, p2.image_size)} if cls.needs_pose2d else {}
    return cls.predict(_stack(past3d, fps, p3.layout), **kw)


def _latency_summary(latencies) -> Optional[dict]:
    """Seconds from a frame's arrival to the label it completes: mean, median, 95th percentile, max."""
    if not latencies:
        return None
    lat = np.asarray(latencies)
    return {"mean": float(lat.mean()), "p50": float(np.median(lat)), "p95": float(np.percentile(lat, 95)),
            "max": float(lat.max())}


def run_stream(chain, source: str, work_dir: Path, hop_s: float = DEFAULT_HOP_S, preview: bool = False,
               realtime: bool = True, max_frames: Optional[int] = None) -> dict:
    """Run ``chain`` (prepared) on the live ``source``; returns the report."""
    det, lifter, cls = (chain.parts.get(k) for k in ("stage1_2d", "stage2_lift", "stage3_action"))
    if det is None or det.needs_ground_truth:
        raise InputError("--stream needs a stage1_2d detector that reads frames")
    if hop_s <= 0:
        raise InputError(f"--hop: expected seconds > 0, got {hop_s}")
    live = LiveSource(source, realtime=realtime, max_frames=max_frames)
    fps = live.fps
    step2d = det.stream(fps)
    n_lift = lifter.causal_frames(fps) if lifter is not None else 0
    window = max(1, round(cls.window_seconds() * fps)) if cls is not None else 0
    hop = max(1, round(hop_s * fps))
    work_dir.mkdir(parents=True, exist_ok=True)
    past2d = collections.deque(maxlen=max(n_lift, window, 1))
    past3d = collections.deque(maxlen=max(window, 1))
    view = _Preview("h36m17") if preview else None
    label, latencies, n, t_first, busy = "", [], 0, None, 0.0
    _log(f"{live.source}: {fps:g} frames/s{' (replayed at its own rate)' if live.is_file and realtime else ''}; "
         f"lifting on {n_lift} frame(s), a label every {hop} frames over the last {window}")
    with open(work_dir / "stream.jsonl", "w") as frames_out, open(work_dir / "actions.jsonl", "w") as actions_out, \
            progress_bar(desc="stream", unit="frame") as bar:
        try:
            for f in live:
                t0 = time.perf_counter()
                t_first = f.arrival if t_first is None else t_first
                p2 = step2d(f.rgb)
                past2d.append((p2.keypoints[0, 0], p2.scores[0, 0]))
                rec = {"frame": f.index, "t": round(f.arrival - t_first, 4),
                       "keypoints": np.round(p2.keypoints[0, 0], 1).tolist(),
                       "scores": np.round(p2.scores[0, 0], 3).tolist()}
                if lifter is not None:
                    seq2 = _stack(list(past2d)[-n_lift:], fps, p2.layout, p2.image_size)
                    p3 = lifter.predict(seq2)
                    past3d.append((p3.joints[0, -1], p3.scores[0, -1]))
                    rec["joints3d_mm"] = np.round(p3.joints[0, -1] * 1000).astype(int).tolist()
                    if cls is not None and (f.index + 1) % hop == 0:
                        res = _classify_window(cls, past2d, past3d, fps, p2, p3)
                        label = res.decision
                        latencies.append(time.perf_counter() - f.arrival)
                        actions_out.write(json.dumps({"frame": f.index, "t": rec["t"], "label": label,
                                                      "probability": round(res.probability, 4),
                                                      "top3": [t["label"] for t in res.top(3)],
                                                      "window_frames": len(past3d),
                                                      "latency_s": round(latencies[-1], 4)}) + "\n")
                        actions_out.flush()
                rec["label"] = label
                frames_out.write(json.dumps(rec) + "\n")
                frames_out.flush()
                busy += time.perf_counter() - t0
                n += 1
                bar.update()
                bar.set_postfix(label=label or "-", dropped=live.dropped)
                if view is not None and not view.show(f.rgb, p2.keypoints[0, 0], p2.scores[0, 0], label):
                    break
        finally:
            live.stop()
            if view is not None:
                view.close()
    wall = time.perf_counter() - (t_first or time.perf_counter())
    report = {"input": str(source), "stream": True, "source_fps": fps, "realtime": bool(live.is_file and realtime),
              "frames_read": live.read, "frames_processed": n, "frames_dropped": live.dropped,
              "fps": n / wall if wall > 0 else float("nan"),
              "processing_fps": n / busy if busy > 0 else float("nan"),
              "hop_s": hop / fps, "window_frames": window, "lift_frames": n_lift, "label_updates": len(latencies),
              "latency_s": _latency_summary(latencies), "label": label,
              "environment": environment(chain.cfg["seed"], chain.device)}
    write_json(work_dir / "report.json", report)
    lat = report["latency_s"]
    _log(f"{n} of {live.read} frames processed ({live.dropped} dropped) at {report['fps']:.1f} frames/s sustained, "
         f"{report['processing_fps']:.1f} frames/s of processing"
         + (f"; label latency {lat['p50'] * 1000:.0f} ms median, {lat['p95'] * 1000:.0f} ms p95" if lat else "")
         + f" -> {work_dir}")
    if not math.isfinite(report["fps"]):
        raise InputError(f"--input {source}: no frame was processed")
    return report
