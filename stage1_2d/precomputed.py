"""``precomputed`` 2D detector: key-points imported from files another tool wrote, instead of a model.

Formats (option ``format``, ``auto`` picks by ``path``):

- ``coco_results``: a COCO keypoint result ``.json`` (a list of ``{image_id, category_id, keypoints, score}``),
  read by :func:`common.readers.read_coco_results`. Frame ``t`` is ``image_id = first_image_id + t``
  (``first_image_id`` null: the smallest image_id of the file). A result file names no key-points: option
  ``layout`` says which set its entries hold, ``auto`` (the default) meaning ``coco17``; any layout of
  :mod:`common.skeleton` with an h36m17 conversion is accepted (``posetrack18``, ``crowdpose14``, ``aic14``,
  ``halpe26``, ``halpe136``, ``coco_wholebody133``, ``mpii16``, ...). An entry with another number of
  key-points than the layout has is an error naming the layout and both counts.
- ``openpose``: an OpenPose ``--write_json`` folder (BODY_25 or COCO-18), read by
  :func:`common.readers.read_openpose_folder` as ``coco17``; frame ``t`` is the ``t``-th file in natural name
  order. ``layout`` must be ``auto`` or ``coco17``.
- ``npz``: a :class:`~common.handoff.Pose2DSeq` saved with ``.save`` (any layout with an h36m17 conversion);
  frame ``t`` is its frame ``t``. The file names its layout: ``layout`` must be ``auto`` or that name.

An unknown ``layout`` name, or one that contradicts an OpenPose folder or ``.npz`` file, is an InputError.

One person is followed, by the rule of :mod:`stage1_2d.person`: per frame every person with at least two
joints scoring ``min_score`` or more is a candidate (its key-point box), and a
:class:`~stage1_2d.person.PersonTracker` keeps the largest and most central one across frames. Frames
without the person (absent from the file, no candidate, or past the file's end when it is shorter than
the video) get key-points interpolated linearly in time between the nearest frames with the person (held
before the first and after the last) and scores 0. The output is ``h36m17``, one person, the video's frame
count and size.

With ``person: all`` every person of the file is kept, each with its identity across frames
(:class:`~stage1_2d.tracks.MultiTracker`: overlap, then re-identification by the video's colours), the main
person first, gaps filled the same way; the default stays ``largest_central``, since result files often
hold low-scoring bystanders and false detections.
"""
from __future__ import annotations

import math
import warnings
from pathlib import Path
from typing import List, Optional, Tuple

import numpy as np

from common.errors import InputError
from common.handoff import Pose2DSeq
from common.paths import repo_path
from common.readers import read_coco_results, read_openpose_folder
from common.registry import register
from common.skeleton import get_layout, h36m17_layouts, to_h36m17
from common.stage import Detector2D, check_frames

from .person import PersonTracker, keypoint_box
from .tracks import MultiTracker, track_arrays

FORMATS = ("auto", "coco_results", "openpose", "npz")
#: a frame's candidates: a list of people, each ``(kps (J, 2), scores (J,))`` in the file's layout
Frame = List[Tuple[np.ndarray, np.ndarray]]


@register("detector2d", "precomputed")
class Precomputed(Detector2D):
    """Key-points read from ``path`` (a COCO result ``.json``, an OpenPose folder or a Pose2DSeq ``.npz``)."""

    defaults = {"path": None, "format": "auto", "first_image_id": None, "min_score": 0.2, "layout": "auto",
                "person": "largest_central"}
    trainable = False

    def __init__(self, cfg: Optional[dict] = None, device: str = "cpu", seed: int = 0):
        super().__init__(cfg, device, seed)
        c = self.cfg
        if c["format"] not in FORMATS:
            raise InputError(f"stages.stage1_2d.format: unknown format {c['format']!r}; known: {', '.join(FORMATS)}")
        if c["path"] is None or str(c["path"]).strip() == "":
            raise InputError("stages.stage1_2d.path must name a file: a COCO keypoint result .json, an OpenPose "
                             "--write_json folder or a Pose2DSeq .npz")
        fid = c["first_image_id"]
        if fid is not None and (isinstance(fid, bool) or not isinstance(fid, int)):
            raise InputError(f"stages.stage1_2d.first_image_id: expected an integer or null, got {fid!r}")
        lay = "auto" if c["layout"] is None else c["layout"]
        if not isinstance(lay, str) or (lay != "auto" and lay not in h36m17_layouts()):
            raise InputError(f"stages.stage1_2d.layout: unknown key-point layout {lay!r}; known: auto (coco17 for "
                             f"a result file, else the file's own), {', '.join(h36m17_layouts())}")
        if c["person"] not in ("largest_central", "all"):
            raise InputError(f"stages.stage1_2d.person: expected largest_central or all, got {c['person']!r}")
        ms = c["min_score"]
        if isinstance(ms, bool) or not isinstance(ms, (int, float)) or not 0.0 <= ms <= 1.0:
            raise InputError(f"stages.stage1_2d.min_score: expected a number in [0, 1], got {ms!r}")
        self.path: Path = repo_path(c["path"])
        self.layout_option: str = lay  # "auto" or a layout name
        self._loaded: Optional[tuple] = None  # (format, layout, frames, image size or None), on first use

    # ------------------------------------------------------------------------------------------ loading
    def _format(self) -> str:
        p, fmt = self.path, self.cfg["format"]
        if not p.exists():
            raise InputError(f"{p}: precomputed key-points file not found (stages.stage1_2d.path)")
        if fmt != "auto":
            return fmt
        if p.is_dir():
            return "openpose"
        if p.suffix.lower() == ".npz":
            return "npz"
        if p.suffix.lower() == ".json":
            return "coco_results"
        raise InputError(f"{p}: cannot tell the key-points format from the name (a folder, .json or .npz); "
                         f"set stages.stage1_2d.format to one of {', '.join(FORMATS[1:])}")

    def load(self) -> Tuple[str, str, List[Frame], Optional[Tuple[int, int]]]:
        """The file, read once: ``(format, layout, candidates per file frame, image size or None)``."""
        if self._loaded is None:
            fmt = self._format()
            size = None
            want = self.layout_option
            if fmt == "coco_results":
                layout = "coco17" if want == "auto" else want
                frames = self._coco_frames(layout)
            elif fmt == "openpose":
                layout = "coco17"
                self._check_layout(layout, "an OpenPose folder (BODY_25 or COCO-18 key-points, read as coco17)")
                frames = [[(p[:, :2], p[:, 2]) for p in people] for people in read_openpose_folder(self.path)]
            else:
                seq = Pose2DSeq.load(self.path)
                layout, size = seq.layout, seq.image_size
                self._check_layout(layout, f"a Pose2DSeq of layout {layout}")
                kps, sc = seq.keypoints.astype(np.float64), seq.scores.astype(np.float64)
                frames = [[(kps[p, t], sc[p, t]) for p in range(kps.shape[0])] for t in range(kps.shape[1])]
            self._loaded = (fmt, layout, frames, size)
        return self._loaded

    def _check_layout(self, layout: str, what: str) -> None:
        """The ``layout`` option agrees with the file's own layout (``auto`` always does)."""
        want = self.layout_option
        if want not in ("auto", layout):
            raise InputError(f"{self.path}: stages.stage1_2d.layout is {want} but the file is {what}; set it to "
                             f"auto or {layout}")

    def _coco_frames(self, layout: str) -> List[Frame]:
        hint = (f"; stages.stage1_2d.layout: {layout}" if self.layout_option != "auto" else
                "; stages.stage1_2d.layout: auto reads result files as coco17: set it to the file's key-point set")
        by_id = read_coco_results(self.path, layout, count_hint=hint)
        if not by_id:
            raise InputError(f"{self.path}: no person (category_id 1) results in the file")
        first = min(by_id) if self.cfg["first_image_id"] is None else self.cfg["first_image_id"]
        if min(by_id) < first:
            raise InputError(f"{self.path}: image_id {min(by_id)} comes before stages.stage1_2d.first_image_id "
                             f"{first}")
        frames: List[Frame] = [[] for _ in range(max(by_id) - first + 1)]
        for image_id, people in by_id.items():
            frames[image_id - first] = people
        return frames

    # ------------------------------------------------------------------------------------------ predict
    def predict(self, frames, fps=25.0, sample=None) -> Pose2DSeq:
        fmt, layout, cands, file_size = self.load()
        n_file = len(cands)
        if frames is None:
            T = n_file
            size = file_size or _extent(cands)
        else:
            frames = check_frames(frames)
            T, size = frames.shape[0], (frames.shape[2], frames.shape[1])
            if file_size is not None and tuple(file_size) != size:
                raise InputError(f"{self.path}: key-points for a {file_size[0]}x{file_size[1]} image but the video "
                                 f"is {size[0]}x{size[1]}")
        if n_file > T:
            raise InputError(f"{self.path}: {n_file} frames of key-points but the video has {T} frames")
        if n_file < T:
            warnings.warn(f"{self.path}: {n_file} frames of key-points for a {T}-frame video; the last "
                          f"{T - n_file} count as frames without the person", stacklevel=2)

        if self.cfg["person"] == "all":
            return self._all(fmt, layout, cands, frames, T, size, fps)
        J = get_layout(layout).n_joints
        kps, scores = np.zeros((T, J, 2)), np.zeros((T, J))
        present = np.zeros(T, dtype=bool)
        tracker = PersonTracker(size)
        for t in range(T):
            people = cands[t] if t < n_file else []
            i = tracker.step([keypoint_box(k, s, self.cfg["min_score"]) for k, s in people])
            if i >= 0:
                kps[t], scores[t], present[t] = people[i][0], people[i][1], True
        if not present.any():
            raise InputError(f"{self.path}: no frame has a person with two or more joints scoring at least "
                             f"min_score {self.cfg['min_score']}")
        try:
            kps, scores = to_h36m17(kps, layout, scores)
        except InputError as e:
            raise InputError(f"{self.path}: {e}") from None
        kps = _fill_gaps(kps, present)
        scores = np.where(present[:, None], np.clip(scores, 0.0, 1.0), 0.0)
        self.last_info = {"source": str(self.path), "format": fmt, "person": tracker.info(),
                          "frames_missing": int(T - present.sum())}
        return Pose2DSeq(kps[None], scores[None], size, fps=fps, layout="h36m17")


    def _all(self, fmt, layout, cands, frames, T, size, fps) -> Pose2DSeq:
        """``person: all``: every person of the file, with identities across frames (:mod:`stage1_2d.tracks`;
        appearance from the video's frames where there are frames), the main person first."""
        L = get_layout(layout)
        torso = [L[j] for j in ("l_shoulder", "r_shoulder", "l_hip", "r_hip") if j in L.index]
        tracker = MultiTracker(size, fps, torso, min_score=float(self.cfg["min_score"]))
        per_frame = []
        for t in range(T):
            people = [(np.asarray(k, np.float64), np.asarray(s, np.float64)) for k, s in
                      (cands[t] if t < len(cands) else [])]
            tracker.update(t, people, None if frames is None else frames[t])
            per_frame.append(people)
        tracks = tracker.final()
        if not tracks:
            raise InputError(f"{self.path}: no frame has a person with two or more joints scoring at least "
                             f"min_score {self.cfg['min_score']}")
        try:
            kps, scores = track_arrays(tracks, per_frame, T, lambda k, s: to_h36m17(k, layout, s))
        except InputError as e:
            raise InputError(f"{self.path}: {e}") from None
        self.last_info = {"source": str(self.path), "format": fmt, "person": tracker.info(tracks)}
        return Pose2DSeq(kps, np.clip(scores, 0.0, 1.0), size, fps=fps, layout="h36m17")


def _extent(cands: List[Frame]) -> Tuple[int, int]:
    """(W, H): the largest x and y of the scored key-points (all, if none scores), rounded up; at least 1."""
    pts = [k[s > 0] for people in cands for k, s in people]
    pts = [p for p in pts if len(p)] or [k for people in cands for k, _ in people]
    if not pts:
        return 1, 1
    hi = np.concatenate(pts).max(axis=0)
    return max(1, math.ceil(hi[0])), max(1, math.ceil(hi[1]))


def _fill_gaps(kps: np.ndarray, present: np.ndarray) -> np.ndarray:
    """Key-points (T, J, 2) with the frames where ``present`` is False replaced by linear interpolation in time
    between the nearest present frames (held constant before the first and after the last)."""
    if present.all():
        return kps
    t, have = np.arange(len(kps)), np.flatnonzero(present)
    flat = kps.reshape(len(kps), -1)
    out = np.stack([np.interp(t, have, flat[have, c]) for c in range(flat.shape[1])], axis=1)
    return out.reshape(kps.shape)
