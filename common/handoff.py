"""Typed hand-offs between stages, validated when constructed, saved and loaded as ``.npz``.

- :class:`Pose2DSeq`: ``keypoints`` (P persons, T frames, J joints, 2) in pixels, ``scores`` (P, T, J) in
  [0, 1], ``image_size`` (width, height), ``fps``, ``layout`` name.
- :class:`Pose3DSeq`: ``joints`` (P, T, J, 3) in metres, camera frame, root-relative (pelvis at the origin),
  ``scores`` (P, T, J), ``fps``, ``layout`` name.
- :class:`ActionResult`: ``scores`` (C,) class probabilities, ``labels`` (C names), ``unknown_threshold``,
  ``distance`` (open-set feature distance) and ``unknown_distance``; ``label`` is the arg-max, ``decision`` the
  same or ``"unknown"`` when the top probability is below ``unknown_threshold`` or the distance above
  ``unknown_distance`` (the open-set answer written to ``action.json``).
"""
from __future__ import annotations

import json
import zipfile
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Tuple

import numpy as np

from .errors import InputError
from .io import atomic_path
from .skeleton import get_layout


def _check_array(name: str, a, ndim: int, last: int | None = None) -> np.ndarray:
    a = np.asarray(a, dtype=np.float32)
    if a.ndim != ndim:
        raise InputError(f"{name}: expected {ndim} dimensions, got shape {a.shape}")
    if last is not None and a.shape[-1] != last:
        raise InputError(f"{name}: expected last dimension {last}, got shape {a.shape}")
    if not np.all(np.isfinite(a)):
        raise InputError(f"{name}: contains NaN or infinite values ({int((~np.isfinite(a)).sum())} entries)")
    return a


def _check_layout(name: str, layout: str, n_joints: int) -> None:
    L = get_layout(layout)
    if L.n_joints != n_joints:
        raise InputError(f"{name}: layout {layout} has {L.n_joints} joints but the array has {n_joints}")


class _NpzMixin:
    """Save every field to one ``.npz`` (written to a temporary name, then renamed); load it back."""

    def save(self, path) -> Path:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        arrays = {}
        for f in fields(self):
            v = getattr(self, f.name)
            arrays[f.name] = np.asarray(json.dumps(v)) if isinstance(v, (list, tuple, str)) else np.asarray(v)
        arrays["__kind__"] = np.asarray(type(self).__name__)
        with atomic_path(path) as tmp, open(tmp, "wb") as fh:
            np.savez_compressed(fh, **arrays)
        return path

    @classmethod
    def load(cls, path):
        path = Path(path)
        if not path.is_file():
            raise InputError(f"{path}: file not found")
        try:
            with np.load(path, allow_pickle=False) as z:
                data = {k: z[k] for k in z.files}
        except (OSError, ValueError, zipfile.BadZipFile, EOFError) as e:
            raise InputError(f"{path}: not a readable .npz file ({e})") from None
        kind = str(data.pop("__kind__", ""))
        if kind != cls.__name__:
            raise InputError(f"{path}: holds a {kind or 'foreign array file'}, expected a {cls.__name__}")
        kwargs = {}
        for f in fields(cls):
            if f.name not in data:
                raise InputError(f"{path}: field {f.name!r} missing")
            v = data[f.name]
            if v.dtype.kind == "U":
                v = json.loads(str(v))
                if isinstance(v, list):
                    v = tuple(v)
            elif v.ndim == 0:
                v = v.item()
            kwargs[f.name] = v
        return cls(**kwargs)


@dataclass(frozen=True)
class Pose2DSeq(_NpzMixin):
    keypoints: np.ndarray
    scores: np.ndarray
    image_size: Tuple[int, int]
    fps: float = 25.0
    layout: str = "h36m17"

    def __post_init__(self):
        kp = _check_array("Pose2DSeq.keypoints", self.keypoints, 4, 2)
        sc = _check_array("Pose2DSeq.scores", self.scores, 3)
        if sc.shape != kp.shape[:3]:
            raise InputError(f"Pose2DSeq.scores: expected shape {kp.shape[:3]}, got {sc.shape}")
        _check_layout("Pose2DSeq.keypoints", self.layout, kp.shape[2])
        size = tuple(int(s) for s in np.asarray(self.image_size).reshape(-1))
        if len(size) != 2 or min(size) <= 0:
            raise InputError(f"Pose2DSeq.image_size: expected (width, height) > 0, got {self.image_size}")
        if not float(self.fps) > 0:
            raise InputError(f"Pose2DSeq.fps: expected > 0, got {self.fps}")
        object.__setattr__(self, "keypoints", kp)
        object.__setattr__(self, "scores", sc)
        object.__setattr__(self, "image_size", size)
        object.__setattr__(self, "fps", float(self.fps))

    @property
    def n_frames(self) -> int:
        return self.keypoints.shape[1]

    @property
    def n_persons(self) -> int:
        return self.keypoints.shape[0]


@dataclass(frozen=True)
class Pose3DSeq(_NpzMixin):
    joints: np.ndarray
    scores: np.ndarray
    fps: float = 25.0
    layout: str = "h36m17"

    def __post_init__(self):
        j = _check_array("Pose3DSeq.joints", self.joints, 4, 3)
        sc = _check_array("Pose3DSeq.scores", self.scores, 3)
        if sc.shape != j.shape[:3]:
            raise InputError(f"Pose3DSeq.scores: expected shape {j.shape[:3]}, got {sc.shape}")
        _check_layout("Pose3DSeq.joints", self.layout, j.shape[2])
        if not float(self.fps) > 0:
            raise InputError(f"Pose3DSeq.fps: expected > 0, got {self.fps}")
        object.__setattr__(self, "joints", j)
        object.__setattr__(self, "scores", sc)
        object.__setattr__(self, "fps", float(self.fps))

    @property
    def n_frames(self) -> int:
        return self.joints.shape[1]

    @property
    def n_persons(self) -> int:
        return self.joints.shape[0]


@dataclass(frozen=True)
class ActionResult(_NpzMixin):
    scores: np.ndarray
    labels: Tuple[str, ...] = field(default_factory=tuple)
    unknown_threshold: float = 0.0
    #: open-set distance of the clip's features from the training clips' (NaN where the classifier has none)
    distance: float = float("nan")
    unknown_distance: float = 0.0

    def __post_init__(self):
        s = _check_array("ActionResult.scores", self.scores, 1)
        labels = tuple(str(x) for x in self.labels)
        if len(labels) != s.shape[0]:
            raise InputError(f"ActionResult.labels: {len(labels)} names for {s.shape[0]} class scores")
        object.__setattr__(self, "scores", s)
        object.__setattr__(self, "labels", labels)
        object.__setattr__(self, "unknown_threshold", float(self.unknown_threshold))
        object.__setattr__(self, "distance", float(self.distance))
        object.__setattr__(self, "unknown_distance", float(self.unknown_distance))

    @property
    def index(self) -> int:
        return int(np.argmax(self.scores))

    @property
    def label(self) -> str:
        return self.labels[self.index]

    @property
    def probability(self) -> float:
        return float(self.scores[self.index])

    @property
    def unknown(self) -> bool:
        """True when the top probability is below ``unknown_threshold``, or the open-set ``distance`` exceeds
        ``unknown_distance`` (when that is > 0): the action is outside the vocabulary."""
        far = self.unknown_distance > 0 and np.isfinite(self.distance) and self.distance > self.unknown_distance
        return self.probability < self.unknown_threshold or bool(far)

    @property
    def decision(self) -> str:
        return UNKNOWN if self.unknown else self.label

    def top(self, k: int = 5) -> list:
        """The ``k`` most probable classes as ``[{label, probability}]``, most probable first."""
        order = np.argsort(-self.scores, kind="stable")[:k]
        return [{"label": self.labels[i], "probability": float(self.scores[i])} for i in order]

    def to_json(self) -> dict:
        """``action.json``: ``label`` (``"unknown"`` outside the vocabulary), ``probability`` (of the top class),
        ``top5``, ``unknown``, ``unknown_threshold``, ``distance``, ``unknown_distance``, ``scores`` and
        ``label_set``."""
        return {"label": self.decision, "probability": self.probability, "top5": self.top(5),
                "unknown": self.unknown, "unknown_threshold": self.unknown_threshold,
                "distance": self.distance if np.isfinite(self.distance) else None,
                "unknown_distance": self.unknown_distance,
                "scores": [float(x) for x in self.scores], "label_set": list(self.labels)}


#: the open-set answer for an action outside the vocabulary
UNKNOWN = "unknown"


# ------------------------------------------------------------------ a dataset sample as a hand-off
def gt_pose2d(sample) -> Pose2DSeq:
    """The annotated 2D of a :class:`~common.dataset.Sample` as a hand-off; scores = its annotated scores
    (visibility, say) where it has them, else 1."""
    kp = np.asarray(sample.joints2d, np.float32)[None]
    sc = (np.ones(kp.shape[:3], np.float32) if sample.scores is None
          else np.asarray(sample.scores, np.float32)[None])
    return Pose2DSeq(kp, sc, sample.image_size, sample.fps, sample.layout)


def gt_pose3d(sample) -> Pose3DSeq:
    """The sample's ground-truth 3D, root-relative, scores 1."""
    j = np.asarray(sample.joints3d, np.float32)
    j = (j - j[:, :1])[None]
    return Pose3DSeq(j, np.ones(j.shape[:3], np.float32), sample.fps, sample.layout)


def select_person(seq, person: int):
    """Person ``person`` of a :class:`Pose2DSeq` or :class:`Pose3DSeq`, as a one-person hand-off."""
    if not 0 <= person < seq.n_persons:
        raise InputError(f"person {person}: the hand-off holds {seq.n_persons} person(s)")
    if isinstance(seq, Pose2DSeq):
        return Pose2DSeq(seq.keypoints[person:person + 1], seq.scores[person:person + 1], seq.image_size, seq.fps,
                         seq.layout)
    return Pose3DSeq(seq.joints[person:person + 1], seq.scores[person:person + 1], seq.fps, seq.layout)


def slice_frames(seq, start: int, stop: int):
    """Frames ``[start, stop)`` of a :class:`Pose2DSeq` or :class:`Pose3DSeq` (every person)."""
    if isinstance(seq, Pose2DSeq):
        return Pose2DSeq(seq.keypoints[:, start:stop], seq.scores[:, start:stop], seq.image_size, seq.fps, seq.layout)
    return Pose3DSeq(seq.joints[:, start:stop], seq.scores[:, start:stop], seq.fps, seq.layout)
