"""Identities across frames for every person a detector finds: tracking by overlap, re-identification by
appearance after short occlusions, and the arrays of a multi-person :class:`~common.handoff.Pose2DSeq`.

Per frame, :meth:`MultiTracker.update` takes the people found (key-points, scores) and gives each an identity:

0. **Followed.** A person the detector followed in its own view from a track's last frame keeps that
   identity (the detector's tracking is the evidence).
1. **Overlap.** Each live track predicts its box (the last box moved by its velocity for the frames since it
   was seen); people and tracks seen within ``max_gap`` frames are matched one to one (the Hungarian method,
   ``scipy.optimize.linear_sum_assignment``) on the IoU of the boxes, blended with the object key-point
   similarity (OKS, the COCO keypoint metric with one falloff for all joints) of their shared joints; a pair
   needs IoU >= ``min_iou`` or OKS >= ``min_oks``.
2. **Re-identification.** A person left over is compared with the tracks lost for up to ``reid_seconds``:
   appearance is a hue-saturation histogram of the torso (shoulders to hips), compared by the Bhattacharyya
   coefficient, and the person must be where the lost track could have walked (within one box height plus
   ``reach`` box heights per second lost, of the predicted box). The best match above ``reid_similarity``
   takes the lost identity back. When exactly one person is left and exactly one track was lost within
   ``max_gap`` frames, within reach, they are one (a pose that jumped too far for overlap); the rest start
   new tracks.

Afterwards, tracks seen in fewer than ``min_frames`` frames are dropped (flickers of a detector), and the rest
are ordered with the **main person** first: the largest and most central over the video (the sum over its
frames of :func:`stage1_2d.person.salience`), so a hand-off's person 0 is what a single-person pipeline
would have followed.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import cv2
import numpy as np
from scipy.optimize import linear_sum_assignment

from .person import box_iou, keypoint_box, salience

#: a person found in a frame: (J, 2) pixels and (J,) scores in [0, 1]
Person = Tuple[np.ndarray, np.ndarray]
#: OKS falloff (a fraction of the box scale), one for all joints
OKS_KAPPA = 0.1
#: histogram bins of hue and saturation for appearance
HIST_BINS = (12, 8)


@dataclass
class Track:
    id: int
    seen: Dict[int, int] = field(default_factory=dict)  # frame -> index of the person in that frame's list
    box: Optional[np.ndarray] = None                    # last seen box (x1, y1, x2, y2)
    kps: Optional[np.ndarray] = None                    # last seen key-points and scores
    scores: Optional[np.ndarray] = None
    velocity: np.ndarray = field(default_factory=lambda: np.zeros(2))  # box centre, pixels per frame
    last: int = -1                                      # the last frame seen
    hist: Optional[np.ndarray] = None                   # appearance (running mean of torso histograms)
    salience: float = 0.0                               # sum over frames of the box's salience
    reidentified: int = 0                               # how often it came back after being lost

    def predicted(self, t: int) -> np.ndarray:
        return self.box + np.tile(self.velocity * (t - self.last), 2)


def oks(a: np.ndarray, sa: np.ndarray, b: np.ndarray, sb: np.ndarray, area: float, min_score: float = 0.3) -> float:
    """Object key-point similarity of two poses on the joints both see (score >= ``min_score``): the mean of
    COCO's ``exp(-d^2 / (2 s^2 k^2))``, ``s^2`` = ``area``, ``k = 2 OKS_KAPPA``; 0 when they share fewer than 3
    joints."""
    both = (sa >= min_score) & (sb >= min_score)
    if both.sum() < 3 or area <= 0:
        return 0.0
    d2 = np.sum((a[both] - b[both]) ** 2, axis=1)
    return float(np.mean(np.exp(-d2 / (2 * area * OKS_KAPPA ** 2 * 4))))


def torso_histogram(frame: np.ndarray, kps: np.ndarray, scores: np.ndarray, torso: Sequence[int],
                    min_score: float = 0.3) -> Optional[np.ndarray]:
    """The normalised hue-saturation histogram of the box of the torso joints ``torso`` (indices into
    ``kps``), or None when fewer than three of them are seen or the box is empty."""
    idx = [j for j in torso if scores[j] >= min_score and np.all(np.isfinite(kps[j]))]
    if len(idx) < 3:
        return None
    H, W = frame.shape[:2]
    x1, y1 = np.floor(kps[idx].min(0)).astype(int)
    x2, y2 = np.ceil(kps[idx].max(0)).astype(int) + 1
    x1, y1, x2, y2 = max(x1, 0), max(y1, 0), min(x2, W), min(y2, H)
    if x2 - x1 < 3 or y2 - y1 < 3:
        return None
    hsv = cv2.cvtColor(np.ascontiguousarray(frame[y1:y2, x1:x2]), cv2.COLOR_RGB2HSV)
    h = cv2.calcHist([hsv], [0, 1], None, list(HIST_BINS), [0, 180, 0, 256]).ravel()
    return h / max(h.sum(), 1e-9)


def bhattacharyya(p: np.ndarray, q: np.ndarray) -> float:
    """Bhattacharyya coefficient of two normalised histograms: 1 = the same, 0 = disjoint."""
    return float(np.sum(np.sqrt(p * q)))


def cover(a, b) -> float:
    """Intersection of two ``x1, y1, x2, y2`` boxes over the smaller one's area: 1 when one lies inside the
    other."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    iw = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    ih = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    small = min((a[2] - a[0]) * (a[3] - a[1]), (b[2] - b[0]) * (b[3] - b[1]))
    return float(iw * ih / small) if small > 0 else 0.0


def merge_duplicates(people: List[Person], image_size=None, prefer: Optional[Sequence[bool]] = None,
                     min_iou: float = 0.6, min_cover: float = 0.7, min_oks: float = 0.5,
                     min_score: float = 0.3) -> List[Person]:
    """People who are one person: key-point boxes (clipped to ``image_size`` when given: a model may place
    joints it guesses outside the image) overlapping by IoU >= ``min_iou``, or one lying mostly inside the
    other (:func:`cover` >= ``min_cover``: a person seen whole and again cut by a window's edge, or the
    several bodies a model imagines around one close-up), or seen joints that agree (OKS >= ``min_oks``). Of
    each group the ``prefer``-red one (a person already followed), then the one with more seen joints, then
    the higher mean score is kept; the kept people keep their order."""
    boxes = [keypoint_box(k, s, min_score) for k, s in people]
    if image_size is not None:
        W, H = image_size
        boxes = [None if b is None else np.clip(b, 0, [W - 1, H - 1, W - 1, H - 1]) for b in boxes]
    prefer = [False] * len(people) if prefer is None else list(prefer)
    rank = sorted(range(len(people)), key=lambda i: (not prefer[i], -(people[i][1] >= min_score).sum(),
                                                    -people[i][1].mean()))
    kept: List[int] = []
    for i in rank:
        if boxes[i] is None:
            continue
        area = (boxes[i][2] - boxes[i][0]) * (boxes[i][3] - boxes[i][1])
        if all(box_iou(boxes[i], boxes[k]) < min_iou and cover(boxes[i], boxes[k]) < min_cover and
               oks(*people[i], *people[k], area, min_score) < min_oks for k in kept):
            kept.append(i)
    return [people[i] for i in sorted(kept)]


class MultiTracker:
    """Identities for every person across frames (module docstring)."""

    def __init__(self, image_size, fps: float, torso: Sequence[int], min_iou: float = 0.2, min_oks: float = 0.3,
                 max_gap: int = 3, reid_seconds: float = 2.0, reid_similarity: float = 0.6, reach: float = 1.5,
                 min_frames: int = 3, min_score: float = 0.3):
        self.image_size = tuple(image_size)
        self.fps = float(fps)
        self.torso = list(torso)
        self.min_iou, self.min_oks, self.max_gap = float(min_iou), float(min_oks), int(max_gap)
        self.reid_frames = max(1, int(round(float(reid_seconds) * self.fps)))
        self.reid_similarity, self.reach = float(reid_similarity), float(reach)
        self.min_frames, self.min_score = int(min_frames), float(min_score)
        self.tracks: List[Track] = []
        self.frames = self.without = self.max_people = 0

    # ------------------------------------------------------------------ one frame
    def update(self, t: int, people: List[Person], frame: Optional[np.ndarray] = None,
               followed: Optional[List[Optional[int]]] = None) -> List[int]:
        """Identities of ``people`` found in frame ``t`` (frames in increasing order); -1 for a person without
        a box (fewer than two seen joints). ``followed[i]``, where given, is the identity a detector followed
        person ``i`` from (its own view and tracking since that identity's last frame): it is kept, and only
        the other people are matched."""
        self.frames += 1
        boxes = [keypoint_box(k, s, self.min_score) for k, s in people]
        live = [i for i, b in enumerate(boxes) if b is not None]
        self.max_people = max(self.max_people, len(live))
        self.without += not live
        ids = [-1] * len(people)
        known = {tr.id for tr in self.tracks}
        for i in live:
            hint = None if followed is None else followed[i]
            if hint is not None and hint in known and hint not in ids:
                ids[i] = hint
        recent = [tr for tr in self.tracks if 0 < t - tr.last <= self.max_gap and tr.id not in ids]
        left = self._match(t, people, boxes, [i for i in live if ids[i] < 0], recent, ids)
        lost = [tr for tr in self.tracks if tr.id not in ids and 0 < t - tr.last <= self.reid_frames]
        hists = {i: None if frame is None else torso_histogram(frame, *people[i], self.torso, self.min_score)
                 for i in live}
        left = self._reidentify(t, boxes, left, lost, hists, ids)
        gone = [tr for tr in self.tracks if tr.id not in ids and 0 < t - tr.last <= self.max_gap]
        if len(left) == 1 and len(gone) == 1 and self._reachable(gone[0], boxes[left[0]], t):
            ids[left[0]] = gone[0].id  # the one person just lost and the one newly found: the same
            left = []
        for i in left:
            self.tracks.append(Track(id=len(self.tracks)))
            ids[i] = self.tracks[-1].id
        for i in live:
            self._observe(self.tracks[ids[i]], t, i, people[i], boxes[i], hists[i])
        return ids

    def _match(self, t, people, boxes, live, tracks, ids) -> List[int]:
        """Overlap matching of ``live`` people to ``tracks``; the people left over."""
        if not live or not tracks:
            return list(live)
        sim = np.zeros((len(live), len(tracks)))
        for a, i in enumerate(live):
            for b, tr in enumerate(tracks):
                pred = tr.predicted(t)
                iou = box_iou(boxes[i], pred)
                area = max((pred[2] - pred[0]) * (pred[3] - pred[1]), 1.0)
                o = oks(people[i][0], people[i][1], tr.kps, tr.scores, area, self.min_score)
                if iou >= self.min_iou or o >= self.min_oks:
                    sim[a, b] = 0.5 * (iou + o)
        rows, cols = linear_sum_assignment(-sim)
        taken = set()
        for a, b in zip(rows, cols):
            if sim[a, b] > 0:
                ids[live[a]] = tracks[b].id
                taken.add(live[a])
        return [i for i in live if i not in taken]

    def _reidentify(self, t, boxes, left, lost, hists, ids) -> List[int]:
        """Appearance matching of the people ``left`` to ``lost`` tracks that could have reached them; the
        people still left over."""
        cand = [i for i in left if hists.get(i) is not None]
        lost = [tr for tr in lost if tr.hist is not None]
        if not cand or not lost:
            return left
        sim = np.zeros((len(cand), len(lost)))
        for a, i in enumerate(cand):
            for b, tr in enumerate(lost):
                if self._reachable(tr, boxes[i], t):
                    s = bhattacharyya(hists[i], tr.hist)
                    sim[a, b] = s if s >= self.reid_similarity else 0.0
        rows, cols = linear_sum_assignment(-sim)
        taken = set()
        for a, b in zip(rows, cols):
            if sim[a, b] > 0:
                ids[cand[a]] = lost[b].id
                lost[b].reidentified += 1
                taken.add(cand[a])
        return [i for i in left if i not in taken]

    def _reachable(self, tr: Track, box: np.ndarray, t: int) -> bool:
        """Whether the person of ``tr`` could be at ``box`` in frame ``t``: within one box height plus ``reach``
        heights per second since it was last seen, of where it was predicted to be."""
        pred = tr.predicted(t) if t - tr.last <= self.max_gap else tr.box
        height = max(pred[3] - pred[1], box[3] - box[1], 1.0)
        reach = height * (1.0 + self.reach * (t - tr.last) / self.fps)
        return bool(np.linalg.norm((box[:2] + box[2:]) / 2 - (pred[:2] + pred[2:]) / 2) <= reach)

    def _observe(self, tr: Track, t: int, i: int, person: Person, box: np.ndarray, hist) -> None:
        if tr.box is not None and 0 < t - tr.last <= self.max_gap:
            step = ((box[:2] + box[2:]) - (tr.box[:2] + tr.box[2:])) / 2 / (t - tr.last)
            tr.velocity = 0.5 * tr.velocity + 0.5 * step
        elif tr.box is not None:
            tr.velocity = np.zeros(2)
        tr.seen[t] = i
        tr.box, tr.kps, tr.scores, tr.last = box, person[0], person[1], t
        if hist is not None:
            tr.hist = hist if tr.hist is None else 0.8 * tr.hist + 0.2 * hist
        tr.salience += salience(box, self.image_size)

    # ------------------------------------------------------------------ the result
    def final(self) -> List[Track]:
        """The tracks kept (seen in at least ``min_frames`` frames; all of them when none is), the main person
        (largest salience sum) first, then by first appearance."""
        kept = [tr for tr in self.tracks if len(tr.seen) >= self.min_frames] or list(self.tracks)
        if not kept:
            return []
        main = max(kept, key=lambda tr: tr.salience)
        rest = sorted((tr for tr in kept if tr is not main), key=lambda tr: min(tr.seen))
        return [main] + rest

    def info(self, tracks: List[Track]) -> dict:
        """What the tracker did, for ``report.json``: frames, the most people in one frame, and per kept track
        its ``id`` (0 = the main person), first and last frame, frames seen and re-identifications."""
        return {"policy": "all", "frames": self.frames, "max_people": self.max_people,
                "frames_without_person": self.without,
                "tracks_found": len(self.tracks), "tracks": [
                    {"id": k, "first": min(tr.seen), "last": max(tr.seen), "frames_seen": len(tr.seen),
                     "reidentified": tr.reidentified} for k, tr in enumerate(tracks)]}


def track_arrays(tracks: List[Track], frames_people: List[List[Person]], n_frames: int,
                 convert: Optional[Callable] = None) -> Tuple[np.ndarray, np.ndarray]:
    """(P, T, J, 2) key-points and (P, T, J) scores of ``tracks`` from each frame's people, each seen frame
    first passed through ``convert`` (``(kps (N, J, 2), scores (N, J)) -> the same in another layout``, say
    :func:`common.skeleton.to_h36m17`); frames where a track was not seen get key-points interpolated linearly
    in time between its nearest seen frames (held before the first and after the last) and scores 0."""
    out_k, out_s = [], []
    for tr in tracks:
        ts = np.array(sorted(tr.seen))
        pts = np.stack([frames_people[t][tr.seen[t]][0] for t in ts]).astype(np.float64)
        sc = np.stack([frames_people[t][tr.seen[t]][1] for t in ts]).astype(np.float64)
        if convert is not None:
            pts, sc = (np.asarray(a, np.float64) for a in convert(pts, sc))
        flat = pts.reshape(len(ts), -1)
        k = np.stack([np.interp(np.arange(n_frames), ts, flat[:, c]) for c in range(flat.shape[1])], 1)
        scores = np.zeros((n_frames,) + sc.shape[1:])
        scores[ts] = sc
        out_k.append(k.reshape((n_frames,) + pts.shape[1:]))
        out_s.append(scores)
    return np.stack(out_k), np.stack(out_s)
