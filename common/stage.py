"""The interface every registered stage part implements, so that swapping one is a one-line change.

A part is built from its resolved options (``defaults`` of the class, overridden by the pipeline file),
trained by ``fit`` on a :class:`~common.dataset.Dataset` when it has no cached checkpoint, saved and restored
with ``state`` / ``load_state``, and run by ``predict`` on one sequence:

- :class:`Detector2D` frames (T, H, W, 3) uint8 RGB -> :class:`~common.handoff.Pose2DSeq` (h36m17)
- :class:`Lifter` :class:`Pose2DSeq` -> :class:`~common.handoff.Pose3DSeq`
- :class:`ActionClassifier` :class:`Pose3DSeq` or :class:`Pose2DSeq` -> :class:`~common.handoff.ActionResult`

``sample`` (a :class:`~common.dataset.Sample`) is passed during evaluation so that ``oracle`` parts can read
the ground truth; real parts ignore it.
"""
from __future__ import annotations

import copy
from typing import Any, Callable, ClassVar, Dict, Optional, Union

import numpy as np

from .dataset import Dataset, Sample
from .errors import InputError
from .handoff import ActionResult, Pose2DSeq, Pose3DSeq


class Stage:
    kind: ClassVar[str] = ""
    registered_name: ClassVar[str] = ""
    #: every option the part accepts, with its default value (``type`` excluded)
    defaults: ClassVar[Dict[str, Any]] = {}
    #: False for parts with nothing to learn (``oracle``): the pipeline never calls ``fit`` or caches them
    trainable: ClassVar[bool] = True
    #: True for ``oracle`` parts, which read the ground truth of an evaluation sample (so never run on a video)
    needs_ground_truth: ClassVar[bool] = False
    #: options that change only inference, not training (a test-time flip, say): a checkpoint's cache key
    #: leaves them out, so switching one reuses the trained part
    inference_options: ClassVar[tuple] = ()
    #: the keys of ``state()`` that hold network weights; the rest is the codec state (see ``codec_state``)
    network_state_keys: ClassVar[tuple] = ("model",)

    def __init__(self, cfg: Optional[dict] = None, device: str = "cpu", seed: int = 0):
        cfg = dict(cfg or {})
        cfg.pop("type", None)
        unknown = sorted(set(cfg) - set(self.defaults))
        if unknown:
            raise InputError(f"{self.kind} {self.registered_name}: unknown option(s) {', '.join(unknown)}; "
                             f"known: {', '.join(sorted(self.defaults)) or 'none'}")
        self.cfg = {**copy.deepcopy(self.defaults), **cfg}
        self.device = device
        self.seed = int(seed)

    def fit(self, data: Dataset) -> Dict[str, Any]:
        """Train from scratch on ``data``; returns a summary (losses, validation metric) for the report."""
        return {}

    def state(self) -> Dict[str, Any]:
        """Everything needed to restore the trained part (``torch.save``-able)."""
        return {}

    def load_state(self, state: Dict[str, Any]) -> None:
        pass

    # ------------------------------------------------------------------ export (pipelines/export.py)
    def networks(self) -> Dict[str, Any]:
        """The trained tensor networks by name, each a :class:`~common.onnx_backend.ExportSpec` (empty: the
        part has nothing to export and runs as it is under ``backend: onnx``)."""
        return {}

    def codec_state(self) -> Dict[str, Any]:
        """``state()`` without the networks' weights: the pre- and post-processing parameters (normalisation
        statistics, labels, temperature, options) that are written beside the exported networks."""
        return {k: v for k, v in self.state().items() if k not in self.network_state_keys}

    def load_exported(self, state: Dict[str, Any], networks: Dict[str, Any]) -> None:
        """Restore from ``codec_state()`` with ``networks`` (callables on tensors, by the names of
        :meth:`networks`) in place of the torch networks."""
        if networks:
            raise InputError(f"{self.kind} {self.registered_name}: cannot run from exported networks")
        self.load_state(state)


class Detector2D(Stage):
    kind = "detector2d"

    def __init__(self, cfg: Optional[dict] = None, device: str = "cpu", seed: int = 0):
        super().__init__(cfg, device, seed)
        #: what the last ``predict`` did beyond its key-points (e.g. which person it followed), for the report
        self.last_info: Dict[str, Any] = {}

    def predict(self, frames: np.ndarray, fps: float = 25.0, sample: Optional[Sample] = None) -> Pose2DSeq:
        raise NotImplementedError  # abstract

    def stream(self, fps: float) -> Callable[[np.ndarray], Pose2DSeq]:
        """A per-frame detector for live input (``--stream``): called with one (H, W, 3) frame at a time, it
        returns that frame's 2D, carrying from frame to frame whatever the part tracks. Default: ``predict`` on
        the frame alone."""
        return lambda frame: self.predict(check_frames(frame[None]), fps)


class Lifter(Stage):
    kind = "lifter"

    def predict(self, pose2d: Pose2DSeq, sample: Optional[Sample] = None) -> Pose3DSeq:
        raise NotImplementedError  # abstract

    def causal_frames(self, fps: float) -> int:
        """How many frames up to the newest one (at ``fps``) lifting the newest one needs, when frames arrive
        one by one (``--stream``): 1 for a single-frame lifter; a lifter that looks ahead raises."""
        return 1


class ActionClassifier(Stage):
    kind = "action"
    #: True for a classifier of 3D poses that also reads the 2D they were lifted from (``predict(..., pose2d=)``)
    needs_pose2d: ClassVar[bool] = False

    def predict(self, seq: Union[Pose2DSeq, Pose3DSeq], sample: Optional[Sample] = None) -> ActionResult:
        raise NotImplementedError  # abstract

    def window_seconds(self) -> float:
        """How long one action lasts for this classifier: the sliding window of a video's timeline."""
        return 2.0


def check_frames(frames, where: str = "frames") -> np.ndarray:
    """Validate a stack of RGB frames: (T, H, W, 3) uint8 with T >= 1."""
    frames = np.asarray(frames)
    if frames.ndim != 4 or frames.shape[-1] != 3 or frames.shape[0] == 0:
        raise InputError(f"{where}: expected (T>0, H, W, 3) RGB frames, got shape {frames.shape}")
    if frames.dtype != np.uint8:
        raise InputError(f"{where}: expected uint8 frames, got {frames.dtype}")
    return frames
