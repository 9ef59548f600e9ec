"""Actions along a video's timeline: a sliding window over the pose sequence, one classification per window,
consecutive windows with the same answer merged into ``segments`` (``action.json``)."""
from __future__ import annotations

from typing import Callable, List, Sequence, Tuple

from .handoff import ActionResult, slice_frames


def windows(n_frames: int, fps: float, window_s: float, hop_s: float) -> List[Tuple[int, int]]:
    """``[start, stop)`` frame ranges of ``window_s`` seconds every ``hop_s`` seconds covering ``n_frames``; the
    last window ends at the last frame. A sequence shorter than 1.5 windows is one window."""
    win = max(1, int(round(window_s * fps)))
    hop = max(1, int(round(hop_s * fps)))
    if n_frames < 1.5 * win:
        return [(0, n_frames)]
    starts = list(range(0, n_frames - win + 1, hop))
    if starts[-1] + win < n_frames:
        starts.append(n_frames - win)
    return [(s, s + win) for s in starts]


def segments(results: Sequence[Tuple[int, int, ActionResult]], fps: float) -> List[dict]:
    """Merge per-window answers into segments ``{start_s, end_s, label, probability, top5}``: a window owns the
    frames nearer its centre than its neighbours' (from 0 for the first, to the end for the last), and
    consecutive windows with the same ``decision`` form one segment (``probability`` and ``top5`` of the most
    confident of them)."""
    if not results:
        return []
    bounds = []
    for i, (a, b, _) in enumerate(results):
        lo = 0 if i == 0 else (results[i - 1][0] + results[i - 1][1] + a + b) / 4
        hi = b if i == len(results) - 1 else (a + b + results[i + 1][0] + results[i + 1][1]) / 4
        bounds.append((lo, hi))
    out: List[dict] = []
    for (lo, hi), (_, _, r) in zip(bounds, results):
        if out and out[-1]["label"] == r.decision:
            out[-1]["end_s"] = hi / fps
            if r.probability > out[-1]["probability"]:
                out[-1].update(probability=r.probability, top5=r.top(5))
        else:
            out.append({"start_s": lo / fps, "end_s": hi / fps, "label": r.decision, "probability": r.probability,
                        "top5": r.top(5)})
    return out


def caption_at(segs: Sequence[dict], t: float) -> str:
    """``"label 0.87"`` of the segment that holds time ``t`` (seconds): what an overlay shows at that frame."""
    for s in segs:
        if t < s["end_s"] or s is segs[-1]:
            return f"{s['label']} {s['probability']:.2f}"
    return ""


def classify_timeline(seq, classify: Callable[..., ActionResult], window_s: float, hop_s: float,
                      pose2d=None) -> List[Tuple[int, int, ActionResult]]:
    """``classify`` on each window of a pose hand-off: ``[(start, stop, result)]``; given ``pose2d`` (the 2D a
    3D hand-off was lifted from), the same window of it is passed as ``classify(..., pose2d=)``."""
    def one(a, b):
        if pose2d is None:
            return classify(slice_frames(seq, a, b))
        return classify(slice_frames(seq, a, b), pose2d=slice_frames(pose2d, a, b))

    return [(a, b, one(a, b)) for a, b in windows(seq.n_frames, seq.fps, window_s, hop_s)]
