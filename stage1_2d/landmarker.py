"""MediaPipe's own multi-person pose landmarker, built offline from the models the 0.10.21 wheel ships.

MediaPipe's ``tasks`` API (``PoseLandmarker`` with ``num_poses``) finds and tracks several people: its person
detector (``pose_detection.tflite``, BlazePose's) proposes a region per person, the landmark model
(``pose_landmark_full.tflite``) runs on each, and in video mode each person's region follows its previous
landmarks, the detector running again only while fewer than ``num_poses`` people are tracked. The task wants
its two models as a ``.task`` bundle (a zip) whose models carry TFLite metadata saying how to normalise the
input image; the wheel ships the same two models bare (for its older ``solutions`` API) and later releases
download the bundle at run time, which cannot work here. :func:`bundle_path` therefore writes the bundle once
from the wheel's files, adding only the input normalisation that MediaPipe's own graphs use for them
(detector: pixels to [-1, 1]; landmarks: pixels to [0, 1]), with MediaPipe's metadata writer; the weights are
the wheel's, unchanged.
"""
from __future__ import annotations

import hashlib
import os
import zipfile
from pathlib import Path
from typing import List, Optional

import numpy as np

from common.errors import InputError
from common.io import atomic_path
from common.paths import CACHE_DIR

#: the wheel's model files, the bundle's names for them, and each model's input normalisation (mean, std) and
#: number of output tensors: what MediaPipe's own pose graphs feed them (the detector's image in [-1, 1], the
#: landmark model's in [0, 1])
MODELS = (("pose_detection/pose_detection.tflite", "pose_detector.tflite", 127.5, 127.5, 2),
          ("pose_landmark/pose_landmark_full.tflite", "pose_landmarks_detector.tflite", 0.0, 255.0, 5))


def _mediapipe():
    os.environ.setdefault("GLOG_minloglevel", "2")
    try:
        import mediapipe as mp
    except ImportError as e:  # pragma: no cover - the set-up installs it
        raise InputError(f"stages.stage1_2d.type=mediapipe needs mediapipe==0.10.21 ({e})") from None
    return mp


def bundle_path(root: Optional[Path] = None) -> Path:
    """The ``pose_landmarker_full.task`` bundle built from the installed wheel's models (module docstring),
    written under the cache once (its name carries a hash of the source models)."""
    mp = _mediapipe()
    from mediapipe.tasks.python.metadata.metadata_writers import metadata_writer as mw

    modules = Path(mp.__file__).parent / "modules"
    sources = [modules / src for src, *_ in MODELS]
    missing = [str(p) for p in sources if not p.is_file()]
    if missing:
        raise InputError(f"mediapipe: the wheel has no bundled pose models ({', '.join(missing)}); "
                         "install mediapipe==0.10.21")
    digest = hashlib.sha256(b"".join(p.read_bytes() for p in sources)).hexdigest()[:12]
    out = Path(root or CACHE_DIR) / "mediapipe" / f"pose_landmarker_full-{digest}.task"
    if out.is_file():
        return out
    out.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(out) as tmp:
        with zipfile.ZipFile(tmp, "w", zipfile.ZIP_STORED) as z:
            for src, (_, name, mean, std, n_out) in zip(sources, MODELS):
                w = mw.MetadataWriter.create(bytearray(src.read_bytes()))
                w.add_general_info(name)
                w.add_image_input(norm_mean=[mean], norm_std=[std])
                for i in range(n_out):
                    w.add_feature_output(name=f"output_{i}")
                z.writestr(name, bytes(w.populate()[0]))
    return out


class PoseLandmarker:
    """Several people's 33 landmarks per image: ``mode`` ``image`` (every call on its own) or ``video`` (calls are
    consecutive frames; people are tracked between them by MediaPipe). ``num_poses`` is the most people found."""

    def __init__(self, num_poses: int, mode: str = "image", min_confidence: float = 0.3):
        mp = _mediapipe()
        from mediapipe.tasks import python as mpt
        from mediapipe.tasks.python import vision

        from .mediapipe_pose import quiet

        self.mp, self.video, self.t_ms = mp, mode == "video", 0
        running = vision.RunningMode.VIDEO if self.video else vision.RunningMode.IMAGE
        opts = vision.PoseLandmarkerOptions(
            base_options=mpt.BaseOptions(model_asset_path=str(bundle_path())), running_mode=running,
            num_poses=int(num_poses), min_pose_detection_confidence=float(min_confidence),
            min_pose_presence_confidence=float(min_confidence), min_tracking_confidence=float(min_confidence))
        self._task = quiet(vision.PoseLandmarker.create_from_options, opts)
        self._quiet = quiet

    def __call__(self, image: np.ndarray, dt_ms: int = 40) -> List[np.ndarray]:
        """Each person's (33, 3) ``x, y, visibility`` in pixels of ``image`` (pixel centres at integers);
        in video mode ``dt_ms`` is the time since the previous frame."""
        h, w = image.shape[:2]
        img = self.mp.Image(image_format=self.mp.ImageFormat.SRGB, data=np.ascontiguousarray(image))
        if self.video:
            self.t_ms += max(1, int(dt_ms))
            res = self._quiet(self._task.detect_for_video, img, self.t_ms)
        else:
            res = self._quiet(self._task.detect, img)
        out = []
        for pose in res.pose_landmarks:
            lm = np.array([[p.x * w - 0.5, p.y * h - 0.5, p.visibility] for p in pose], np.float64)
            lm[:, 2] = np.clip(np.nan_to_num(lm[:, 2]), 0.0, 1.0)
            out.append(lm)
        return out

    def close(self) -> None:
        self._task.close()
