"""Which person a single-person pipeline follows when a frame holds several.

The rule, the same for every detector that sees several people (``mediapipe``'s candidate search,
``precomputed`` multi-person files): on the first frame, and whenever the followed person is lost, take the
**largest and most central** person - the highest :func:`salience`, the box's share of the image area times
its centrality (1 at the image centre, 0 at a corner); on the other frames keep the person whose box overlaps
the previous kept box most (IoU), so the choice does not jump to a bigger passer-by. What was done is
summarised by :meth:`PersonTracker.info` and reported with the 2D sequence.
"""
from __future__ import annotations

from typing import List, Optional, Sequence

import numpy as np

POLICY = "largest_central"


def keypoint_box(kps: np.ndarray, scores: Optional[np.ndarray] = None, min_score: float = 0.2) -> Optional[np.ndarray]:
    """The tight ``x1, y1, x2, y2`` box of a person's finite key-points (J, 2) scoring at least ``min_score``;
    None when fewer than two qualify."""
    kps = np.asarray(kps, np.float64).reshape(-1, 2)
    ok = np.all(np.isfinite(kps), axis=1)
    if scores is not None:
        ok &= np.asarray(scores, np.float64).reshape(-1) >= min_score
    if ok.sum() < 2:
        return None
    p = kps[ok]
    return np.concatenate([p.min(0), p.max(0)])


def box_iou(a, b) -> float:
    """Intersection over union of two ``x1, y1, x2, y2`` boxes."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    iw = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    ih = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = iw * ih
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return float(inter / union) if union > 0 else 0.0


def salience(box, image_size) -> float:
    """Area share of the image times centrality ``max(0, 1 - d / (half the image diagonal))``, ``d`` the
    distance from the box centre to the image centre."""
    W, H = (float(v) for v in image_size)
    x1, y1, x2, y2 = (float(v) for v in box)
    area = max(0.0, x2 - x1) * max(0.0, y2 - y1) / (W * H)
    d = np.hypot((x1 + x2 - W) / 2, (y1 + y2 - H) / 2)
    return area * max(0.0, 1.0 - d / (0.5 * np.hypot(W, H)))


def choose(boxes: Sequence, image_size) -> int:
    """Index of the largest and most central of ``boxes`` (``x1, y1, x2, y2``); -1 when there are none."""
    if len(boxes) == 0:
        return -1
    return int(np.argmax([salience(b, image_size) for b in boxes]))


class PersonTracker:
    """Keeps one person across frames: :func:`choose` to start (and after a loss), best IoU with the last kept
    box (at least ``min_iou``) afterwards."""

    def __init__(self, image_size, min_iou: float = 0.1):
        self.image_size = tuple(image_size)
        self.min_iou = float(min_iou)
        self.last: Optional[np.ndarray] = None
        self.frames = self.several = self.max_people = self.without = self.acquired = 0

    def step(self, boxes: List) -> int:
        """The index of the followed person among this frame's ``boxes`` (None entries allowed), or -1."""
        self.frames += 1
        idx = [i for i, b in enumerate(boxes) if b is not None]
        self.max_people = max(self.max_people, len(idx))
        self.several += len(idx) > 1
        if not idx:
            self.without += 1
            return -1
        pick = -1
        if self.last is not None:
            ious = [box_iou(self.last, boxes[i]) for i in idx]
            if max(ious) >= self.min_iou:
                pick = idx[int(np.argmax(ious))]
        if pick < 0:
            pick = idx[choose([boxes[i] for i in idx], self.image_size)]
            self.acquired += 1
        self.last = np.asarray(boxes[pick], np.float64)
        return pick

    def info(self) -> dict:
        """What the tracker did: the policy, frames seen, frames with several people, the most people in one
        frame, frames without anyone, and how often a person was (re)acquired by the policy."""
        return {"policy": POLICY, "frames": self.frames, "frames_with_several": self.several,
                "max_people": self.max_people, "frames_without_person": self.without, "acquired": self.acquired}
