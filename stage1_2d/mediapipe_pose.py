"""``mediapipe``: MediaPipe Pose (BlazePose, Bazarevsky et al. 2020), the real pretrained in-the-wild detector.

The 0.10.21 wheel ships the model files of its ``mp.solutions.pose`` API (a person detector and the "full"
33-landmark model), so it runs offline; later releases download them (``ENVIRONMENT.md``). Its 33 landmarks
become ``h36m17`` by the tested rule of :mod:`common.skeleton` (limbs as they are, pelvis / thorax / spine from
hips and shoulders, neck and head top from the face), its per-landmark ``visibility`` becomes the score.

Used as shipped, MediaPipe looks at a whole image and its detector picks one person; on the annotated COCO
people of ``../shared/data/images`` that scores about 73 % PCK@0.2 (and far less on crowded scenes, where it
finds somebody else). This stage uses it as a top-down detector instead:

- **given boxes** (``Sample.boxes``: evaluation crops each annotated person by its box): an ensemble of square
  crops around the box, grown by each of ``paddings``, with the image outside ``context`` x the box greyed or
  not, each run also mirrored (``flip_test``; left and right swapped back) and each refined by ``refine``
  landmark passes (a pass re-centres the model's region of interest on the previous pass's landmarks, which is
  what MediaPipe's own tracking does between video frames). The candidates whose key-points fit the box
  (IoU of their extent with the box x mean visibility, at least ``keep`` x the best) are fused by a per-joint
  median.
- **video** (``mode: video``, no boxes): the first frame, and any frame after the person is lost, is searched
  for people (the whole frame and overlapping square windows across it); the largest and most central is
  chosen (:mod:`stage1_2d.person`) and then followed inside a view around its seen landmarks (grown by
  ``box_padding``) that stays put while the person stays well inside it, fed to MediaPipe in its video mode,
  whose own landmark tracking then sees a steady image; a lost person (fewer than ``MIN_SEEN`` landmarks
  seen) triggers a new search that keeps the same person when it is there. Which person was followed is
  reported (``last_info``).
- ``mode: image``: every frame on its own, with the same person search.
"""
from __future__ import annotations

import os
import sys
from typing import List, Optional, Tuple

import numpy as np

from common import crop as C
from common.errors import InputError
from common.handoff import Pose2DSeq
from common.progress import progress_bar
from common.registry import register
from common.skeleton import H36M17, MEDIAPIPE33, to_h36m17
from common.smoothing import one_euro
from common.stage import Detector2D, check_frames
from common.video import native_stderr

from .landmarker import PoseLandmarker
from .person import PersonTracker, box_iou, keypoint_box
from .tracks import MultiTracker, merge_duplicates, track_arrays

MODES = ("video", "image")
PERSON = ("all", "largest_central")
#: what MediaPipe 0.10.21 prints every time a graph (re)starts, which says nothing about the result
NOTICES = ("inference_feedback_manager", "Created TensorFlow Lite XNNPACK delegate", "All log messages before absl",
           "landmark_projection_calculator", "GPU suport is not available", "gl_context")
#: a landmark counts as seen at this visibility; a person needs MIN_SEEN of them, or it is lost (MediaPipe
#: extrapolates landmarks outside the frame: a close-up still has legs, at low visibility)
SEEN_VISIBILITY, MIN_SEEN = 0.5, 4
#: person: all, video: when another followed person reaches into a person's view, the view shows the image only
#: within this x the person's last seen box (grey outside), so the tracking does not jump to the neighbour
CONTEXT = 1.6
#: a person found in a search window counts when its seen landmarks lie within this x the window (about its
#: centre): strict in video, where a person cut by the edge is found again by a later search and the bodies
#: MediaPipe imagines around a close-up would become tracks; lenient on a still image, searched only once
#: (measured on the shared sets: video test.avi, a face close-up, 1 track at 1.02 and 10 at 1.25; COCO
#: recall 9/12 at 1.02 and 12/12 at 1.25)
WINDOW_MARGIN = {"video": 1.02, "image": 1.25}


def _mediapipe():
    os.environ.setdefault("GLOG_minloglevel", "2")  # MediaPipe's C++ logging: warnings and errors only
    try:
        import mediapipe as mp
    except ImportError as e:  # pragma: no cover - the set-up installs it
        raise InputError(f"stages.stage1_2d.type=mediapipe needs mediapipe==0.10.21 ({e})") from None
    if not hasattr(mp, "solutions"):  # pragma: no cover
        raise InputError("mediapipe: this release has no bundled 'solutions.pose' models; install 0.10.21")
    return mp


def quiet(fn, *args, **kwargs):
    """``fn(*args, **kwargs)`` with MediaPipe's C++ log filtered: its :data:`NOTICES` are dropped, anything
    else is passed on to stderr."""
    log: list = []
    with native_stderr(log):
        out = fn(*args, **kwargs)
    rest = [ln for ln in "".join(log).splitlines() if ln.strip() and not any(k in ln for k in NOTICES)]
    if rest:
        sys.stderr.write("\n".join(rest) + "\n")
    return out


def square_box(box_xyxy, padding: float) -> Tuple[np.ndarray, np.ndarray]:
    """(center, scale) of the square around an ``x1, y1, x2, y2`` box, its longer side grown by ``padding``."""
    x1, y1, x2, y2 = (float(v) for v in box_xyxy)
    side = max(x2 - x1, y2 - y1, 8.0) * padding
    return np.array([(x1 + x2) / 2, (y1 + y2) / 2]), np.array([side, side])


def seen_box(lm: np.ndarray, image_size) -> Optional[np.ndarray]:
    """The ``x1, y1, x2, y2`` box of a person's seen landmarks (33, 3), clipped to the image; None when fewer
    than :data:`MIN_SEEN` are seen."""
    seen = lm[:, 2] >= SEEN_VISIBILITY
    if seen.sum() < MIN_SEEN:
        return None
    b = keypoint_box(lm[seen, :2])
    W, H = image_size
    return np.clip(b, 0, [W - 1, H - 1, W - 1, H - 1])


def view_box(view) -> np.ndarray:
    """The ``x1, y1, x2, y2`` box of a view (center, scale)."""
    center, scale = view
    return np.concatenate([center - np.asarray(scale) / 2, center + np.asarray(scale) / 2])


def grown(box, factor: float) -> np.ndarray:
    """An ``x1, y1, x2, y2`` box grown by ``factor`` about its centre."""
    b = np.asarray(box, np.float64)
    c, half = (b[:2] + b[2:]) / 2, (b[2:] - b[:2]) * factor / 2
    return np.concatenate([c - half, c + half])


def windows(image_size, levels: int = 1) -> List[Tuple[np.ndarray, np.ndarray]]:
    """Overlapping square windows (center, scale) across an image: at level ``k`` the side is the image's
    shorter side / 2**k, and along an axis longer than 1.2 sides ``ceil(length / side) + 1`` windows reach from
    edge to edge (one, centred, otherwise). A level that is one window (the whole image) is left out."""
    W, H = (float(v) for v in image_size)
    out = []
    for k in range(levels):
        side = min(W, H) / 2 ** k
        nx, ny = (1 if n <= side * 1.2 else int(np.ceil(n / side)) + 1 for n in (W, H))
        if nx == ny == 1:
            continue
        for cy in np.linspace(side / 2, H - side / 2, ny):
            for cx in np.linspace(side / 2, W - side / 2, nx):
                out.append((np.array([cx - 0.5, cy - 0.5]), np.array([side, side])))
    return out


def box_fit(lm: np.ndarray, box_xyxy) -> float:
    """How well landmarks (33, 3: x, y, visibility) fit a person box: IoU of their extent x mean visibility."""
    ext = keypoint_box(lm[:, :2])
    return 0.0 if ext is None else box_iou(ext, box_xyxy) * float(lm[:, 2].mean())


@register("detector2d", "mediapipe")
class MediaPipePose(Detector2D):
    """MediaPipe's bundled pose model as a top-down, tracking detector (module docstring)."""

    trainable = False
    defaults = {
        "mode": "video",               # video: follow one person frame to frame; image: every frame on its own
        "crop_size": 256,              # crops are resized to this square side before MediaPipe sees them
        "box_padding": 2.0,            # video: the view around the followed person's seen landmarks
        "flip_test": False,            # also run the mirrored crops and average (doubles the cost)
        "paddings": [1.25, 1.5, 2.0],  # given boxes: one crop per padding of the box ...
        "context": [0.0, 1.2],         # ... and per context: 0 = the whole crop, k = grey outside k x the box
        "refine": 2,                   # given boxes: landmark passes per crop
        "keep": 0.6,                   # given boxes: fuse candidates fitting the box at least this x the best
        "search_windows": True,        # person search: also overlapping square windows, not only the whole frame
        "person": "all",               # all: every person, tracked (stage1_2d/tracks.py); largest_central: one
        "max_people": 5,               # person: all: the most people found in one view
        "search_seconds": 1.0,         # person: all, video: search the frame for new people this often
        "reid_seconds": 2.0,           # person: all: a lost person keeps its identity this long (appearance)
        "smooth_cutoff": 0.0,          # person: all: One-Euro filter on each track, min cutoff in Hz (0 = off)
        "smooth_beta": 0.0,            # ... and its speed coefficient, per box height per second
        "min_detection_confidence": 0.3,
        "min_tracking_confidence": 0.3,
    }

    def __init__(self, cfg: Optional[dict] = None, device: str = "cpu", seed: int = 0):
        super().__init__(cfg, device, seed)
        c = self.cfg
        if c["mode"] not in MODES:
            raise InputError(f"detector2d mediapipe.mode: expected one of {', '.join(MODES)}, got {c['mode']!r}")
        if c["person"] not in PERSON:
            raise InputError(f"detector2d mediapipe.person: expected one of {', '.join(PERSON)}, got {c['person']!r}")
        if int(c["max_people"]) < 1 or float(c["smooth_cutoff"]) < 0 or float(c["smooth_beta"]) < 0:
            raise InputError("detector2d mediapipe: max_people must be >= 1, smooth_cutoff and smooth_beta >= 0")
        if int(c["crop_size"]) < 64 or int(c["refine"]) < 1:
            raise InputError("detector2d mediapipe: crop_size must be >= 64 and refine >= 1")
        if not c["paddings"] or min(float(p) for p in c["paddings"]) < 1.0:
            raise InputError(f"detector2d mediapipe.paddings: expected a non-empty list of values >= 1, "
                             f"got {c['paddings']}")
        self.mp = _mediapipe()
        self.size = (int(c["crop_size"]),) * 2
        self.flip33 = MEDIAPIPE33.flip_permutation
        self._static = self._graph(static=True)
        self._refiner = self._graph(static=False)

    # ------------------------------------------------------------------ MediaPipe calls
    def _graph(self, static: bool):
        return quiet(self.mp.solutions.pose.Pose, static_image_mode=static, model_complexity=1,
                     smooth_landmarks=False, enable_segmentation=False,
                     min_detection_confidence=float(self.cfg["min_detection_confidence"]),
                     min_tracking_confidence=float(self.cfg["min_tracking_confidence"]))

    @staticmethod
    def _landmarks(graph, image: np.ndarray) -> Optional[np.ndarray]:
        """(33, 3) ``x, y, visibility`` in pixels of ``image`` (pixel centres at integers), or None."""
        res = quiet(graph.process, image)
        if res.pose_landmarks is None:
            return None
        h, w = image.shape[:2]
        lm = np.array([[p.x * w - 0.5, p.y * h - 0.5, p.visibility] for p in res.pose_landmarks.landmark])
        lm[:, 2] = np.clip(np.nan_to_num(lm[:, 2]), 0.0, 1.0)
        return lm

    def _on_crop(self, graph, frame, center, scale, flip: bool = False, context_box=None,
                 passes: int = 1) -> Optional[np.ndarray]:
        """Landmarks of the crop (``center``, ``scale``) of ``frame``, in frame pixels; ``flip`` runs the
        mirrored crop (and swaps left and right back); ``context_box`` greys the crop outside that box;
        ``passes`` > 1 feeds the crop again so the model re-centres on its own landmarks."""
        M = C.crop_matrix(center, scale, self.size, flip=flip)
        fill = tuple(int(v) for v in frame[::4, ::4].reshape(-1, 3).mean(0))  # outside the frame: its mean colour
        crop = C.warp(frame, M, self.size, border=fill)
        if context_box is not None:
            corners = C.apply_affine(np.array(context_box, np.float64).reshape(2, 2), M)
            lo, hi = np.floor(corners.min(0)).astype(int), np.ceil(corners.max(0)).astype(int) + 1
            keep = crop[max(lo[1], 0):max(hi[1], 0), max(lo[0], 0):max(hi[0], 0)].copy()
            crop[:] = fill
            crop[max(lo[1], 0):max(hi[1], 0), max(lo[0], 0):max(hi[0], 0)] = keep
        lm = None
        for _ in range(passes):
            lm = self._landmarks(graph, crop)
            if lm is None:
                return None
        if flip:
            lm = lm[self.flip33]
        lm[:, :2] = C.apply_affine(lm[:, :2], C.invert_affine(M))
        return lm

    # ------------------------------------------------------------------ given boxes: the ensemble
    def on_box(self, frame: np.ndarray, box_xywh) -> Optional[np.ndarray]:
        """The fused (33, 3) landmarks of the person in ``box_xywh`` (module docstring), or None."""
        x, y, w, h = (float(v) for v in box_xywh)
        box = np.array([x, y, x + w, y + h])
        cands = []
        for pad in self.cfg["paddings"]:
            center, scale = square_box(box, float(pad))
            for ctx in self.cfg["context"]:
                cbox = None
                if float(ctx) > 0:
                    half = np.array([w, h]) * float(ctx) / 2
                    cbox = np.concatenate([box[:2] + box[2:] - 2 * half, box[:2] + box[2:] + 2 * half]) / 2
                for flip in (False, True) if self.cfg["flip_test"] else (False,):
                    self._refiner.reset()  # a fresh tracker per crop: its passes refine, nothing leaks between
                    lm = self._on_crop(self._refiner, frame, center, scale, flip, cbox, int(self.cfg["refine"]))
                    if lm is not None:
                        cands.append(lm)
        if not cands:
            return None
        fits = np.array([box_fit(c, box) for c in cands])
        kept = np.stack([c for c, f in zip(cands, fits) if f >= float(self.cfg["keep"]) * fits.max()])
        return np.median(kept, axis=0)

    # ------------------------------------------------------------------ no boxes: search and follow
    def search(self, frame: np.ndarray) -> List[Tuple[np.ndarray, np.ndarray]]:
        """Every person found in the whole frame and, with ``search_windows``, in overlapping square windows
        across its longer side, with the box of its seen landmarks; duplicates (IoU > 0.3) merged, the more
        visible kept."""
        H, W = frame.shape[:2]
        views = [C.whole_frame_box((W, H))] + (windows((W, H)) if self.cfg["search_windows"] else [])
        found: List[Tuple[np.ndarray, np.ndarray]] = []
        for center, scale in views:
            lm = self._on_crop(self._static, frame, center, scale)
            b = None if lm is None else seen_box(lm, (W, H))
            if b is None:
                continue
            dup = [i for i, (_, fb) in enumerate(found) if box_iou(fb, b) > 0.3]
            if not dup:
                found.append((lm, b))
            elif lm[:, 2].mean() > found[dup[0]][0][:, 2].mean():
                found[dup[0]] = (lm, b)
        return found

    def _view(self, box: np.ndarray, view=None):
        """The crop that follows a person: ``view`` (center, scale) is kept while the person's seen box stays
        inside its central 90 % and spans 20-80 % of it, so MediaPipe's own tracking sees a steady image;
        otherwise a new square around the box, grown by ``box_padding``."""
        if view is not None:
            center, side = view[0], float(view[1][0])
            span = max(box[2] - box[0], box[3] - box[1]) / side
            inside = np.all(np.abs(box.reshape(2, 2) - center) <= 0.45 * side)
            if inside and 0.2 <= span <= 0.8:
                return view
        return square_box(box, float(self.cfg["box_padding"]))

    def _follow(self, frames: np.ndarray) -> Tuple[np.ndarray, dict]:
        T, H, W = frames.shape[:3]
        out = np.zeros((T, 33, 3))
        tracker = PersonTracker((W, H))
        flips = (False, True) if self.cfg["flip_test"] else (False,)
        if self.cfg["mode"] == "video":  # one MediaPipe tracker per view (plain, mirrored)
            graphs = [self._graph(static=False) for _ in flips]
        else:
            graphs = [self._static for _ in flips]
        view, last = None, None

        def run_view():
            runs = [self._on_crop(g, frames[t], *view, flip=f) for g, f in zip(graphs, flips)]
            runs = [r for r in runs if r is not None]
            return np.mean(runs, axis=0) if runs else None

        for t in range(T):
            lm = box = None
            if view is not None and self.cfg["mode"] == "video":  # follow inside the current view
                lm = run_view()
                box = None if lm is None else seen_box(lm, (W, H))
                if box is not None:
                    tracker.step([box])
            if box is None:  # (re)acquire: search the frame, keep the same person if it is there
                found = self.search(frames[t])
                pick = tracker.step([b for _, b in found])
                lm, box = found[pick] if pick >= 0 else (None, None)
                if box is not None:
                    view = self._view(box)
                    for g in graphs:
                        g.reset()
                    lm = run_view()
                    if lm is None:
                        lm = found[pick][0]
            if box is None:  # nobody: hold the last pose with zero scores
                view = None
                out[t] = last * [1, 1, 0] if last is not None else 0.0
            else:
                seen = seen_box(lm, (W, H))
                view = self._view(box if seen is None else seen, view)
                out[t] = last = lm
        if self.cfg["mode"] == "video":
            for g in graphs:
                g.close()
        return out, tracker.info()

    # ------------------------------------------------------------------ no boxes: every person
    def find_people(self, frame: np.ndarray, landmarker, levels: int = 2, still: bool = True) -> List[np.ndarray]:
        """Every person in one image: MediaPipe's multi-person landmarker on the whole image and, with
        ``search_windows``, on the overlapping windows of ``levels`` sizes (:func:`windows`), each window a
        crop of ``crop_size``; people seen twice merged (:func:`stage1_2d.tracks.merge_duplicates`). A person
        found in a window counts only when its seen landmarks lie inside that window: one cut by the window's
        edge is found whole in a neighbouring window or the whole image, and the bodies the model imagines
        around a close-up (a face filling the frame) reach out of their window."""
        H, W = frame.shape[:2]
        found = list(landmarker(frame))
        for center, scale in windows((W, H), levels) if self.cfg["search_windows"] else []:
            half = scale / 2 * WINDOW_MARGIN["image" if still else "video"]
            for lm in self._in_view(landmarker, frame, center, scale):
                seen = lm[lm[:, 2] >= SEEN_VISIBILITY, :2]
                if len(seen) >= MIN_SEEN and np.all(np.abs(seen - center) <= half):
                    found.append(lm)
        return [np.concatenate([k, s[:, None]], 1)
                for k, s in merge_duplicates([(f[:, :2], f[:, 2]) for f in found], (W, H))]

    def _in_view(self, landmarker, frame, center, scale, dt_ms: int = 40) -> List[np.ndarray]:
        """``landmarker`` on the crop (``center``, ``scale``) of ``frame``: each person in frame pixels."""
        M = C.crop_matrix(center, scale, self.size)
        back = C.invert_affine(M)
        out = landmarker(C.warp(frame, M, self.size), dt_ms)
        for lm in out:
            lm[:, :2] = C.apply_affine(lm[:, :2], back)
        return out

    def _all(self, frames: np.ndarray, fps: float) -> Tuple[np.ndarray, np.ndarray, dict]:
        """Every person of a sequence, tracked (``person: all``): (P, T, 17, 2) ``h36m17`` key-points, (P, T, 17)
        scores and what the tracker did; P >= 1 (one person of zero scores when nobody was found).

        ``mode: video``: each tracked person is followed in its own view (:meth:`_view`) by its own MediaPipe
        tracking graph, as ``largest_central`` follows one; the frame is searched for people
        (:meth:`find_people`, whole frame and one level of windows) on the first frame, every
        ``search_seconds``, and when a followed person is lost (or nobody is followed), then at most five
        times per ``search_seconds``; people found there who are not followed yet get a view. ``mode: image``
        (and a single frame): every frame is searched as a still (two levels of windows)."""
        T, H, W = frames.shape[:3]
        c = self.cfg
        video = c["mode"] == "video" and T > 1  # a single frame is searched as a still image
        torso = [MEDIAPIPE33.index[j] for j in ("l_shoulder", "r_shoulder", "l_hip", "r_hip")]
        tracker = MultiTracker((W, H), fps, torso, reid_seconds=float(c["reid_seconds"]))
        still = PoseLandmarker(int(c["max_people"]), "image", float(c["min_detection_confidence"]))
        every = max(1, int(round(float(c["search_seconds"]) * fps)))
        retry, searched = max(1, every // 5), -every  # after a loss, search again at most 5 times a period
        views: dict = {}  # track id -> [graph, (center, scale), the person's last seen box]
        per_frame = []
        for t in progress_bar(range(T), desc="stage1_2d: people", unit="frame"):
            found, owners, lost = [], [], False
            for tid, (graph, view, box) in list(views.items()):
                crowded = any(box_iou(view_box(view), b) > 0 for k, (_, _, b) in views.items() if k != tid)
                lm = self._on_crop(graph, frames[t], *view, context_box=grown(box, CONTEXT) if crowded else None)
                if lm is None or seen_box(lm, (W, H)) is None:
                    graph.close()
                    del views[tid]
                    lost = True
                    continue
                found.append(lm)
                owners.append(tid)
            people = [(f[:, :2], f[:, 2]) for f in found]
            kept = merge_duplicates(people, (W, H))
            missing = not views or lost or len(kept) < len(people)
            if not video or t - searched >= every or (missing and t - searched >= retry):
                searched = t
                found += self.find_people(frames[t], still, 1 if video else 2, still=not video)
                owners += [None] * (len(found) - len(owners))
                people = [(f[:, :2], f[:, 2]) for f in found]
                kept = merge_duplicates(people, (W, H), [o is not None for o in owners])
            keep = [i for i, p in enumerate(people) if any(p is k for k in kept)]
            people, owners = [people[i] for i in keep], [owners[i] for i in keep]
            ids = tracker.update(t, people, frames[t], owners)
            if video:
                views = self._move_views(views, people, owners, ids, (W, H))
            per_frame.append(people)
        for graph, *_ in views.values():
            graph.close()
        still.close()
        tracks = tracker.final()
        if not tracks:
            return np.zeros((1, T, H36M17.n_joints, 2)), np.zeros((1, T, H36M17.n_joints)), tracker.info(tracks)
        kps, scores = track_arrays(tracks, per_frame, T, lambda k, s: to_h36m17(k, MEDIAPIPE33.name, s))
        if float(c["smooth_cutoff"]) > 0:
            for p in range(len(tracks)):
                valid = scores[p] > 0
                height = np.array([np.ptp(kps[p, t, valid[t], 1]) if valid[t].sum() > 1 else 1.0 for t in range(T)])
                kps[p] = one_euro(kps[p], fps, float(c["smooth_cutoff"]), float(c["smooth_beta"]), valid=valid,
                                  scale=np.maximum(height, 1.0))
        return kps, scores, tracker.info(tracks)

    def _move_views(self, views: dict, people, owners, ids, image_size) -> dict:
        """The views after a frame: each identified person keeps (or, when it was found by the search, gets) a
        view and a tracking graph, moved with :meth:`_view`; views of people no longer there are closed."""
        out = {}
        for (kps, sc), owner, tid in zip(people, owners, ids):
            if tid < 0 or tid in out:
                continue
            box = seen_box(np.concatenate([kps, sc[:, None]], 1), image_size)
            if box is None:
                continue
            if owner is not None and owner in views:
                graph, view, _ = views.pop(owner)
                moved = self._view(box, view)
                if moved is not view:
                    graph.reset()
            else:
                graph, moved = self._graph(static=False), self._view(box)
            out[tid] = [graph, moved, box]
        for graph, *_ in views.values():
            graph.close()
        return out

    # ------------------------------------------------------------------ the stage
    def predict(self, frames, fps: float = 25.0, sample=None) -> Pose2DSeq:
        frames = check_frames(frames)
        T, H, W = frames.shape[:3]
        boxes = None if sample is None else sample.boxes
        if boxes is not None:
            boxes = np.asarray(boxes, np.float64).reshape(-1, 4)
            if len(boxes) != T:
                raise InputError(f"sample {sample.name}: {len(boxes)} boxes for {T} frames")
            lm = np.zeros((T, 33, 3))
            for t in range(T):
                r = self.on_box(frames[t], boxes[t])
                lm[t] = r if r is not None else 0.0
            self.last_info = {"boxes": "given", "frames_without_person": int((lm[:, :, 2].max(1) == 0).sum())}
            lm = lm[None]
        elif self.cfg["person"] == "all":
            kps, scores, person = self._all(frames, fps)
            self.last_info = {"boxes": self.cfg["mode"], "person": person}
        else:
            lm, person = self._follow(frames)
            lm = lm[None]
            self.last_info = {"boxes": self.cfg["mode"], "person": person}
        if self.cfg["person"] != "all" or boxes is not None:
            kps, scores = to_h36m17(lm[..., :2], MEDIAPIPE33.name, lm[..., 2])
        kps = np.nan_to_num(kps.astype(np.float32))
        return Pose2DSeq(kps, np.clip(scores, 0, 1).astype(np.float32), (W, H), fps, H36M17.name)
