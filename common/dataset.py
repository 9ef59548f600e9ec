"""What a stage trains and is evaluated on: labelled pose sequences, optionally with their RGB frames.

Every data source (the synthetic world, Penn Action, NTU, mocap) yields :class:`Sample` objects grouped in a
:class:`Dataset` with ``train`` / ``val`` / ``test`` splits, so a stage's ``fit`` does not care where they came
from.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, List, Optional, Tuple

import numpy as np

from .camera import Camera


@dataclass
class Sample:
    """One sequence of one person, joints in the h36m17 layout (``layout`` says otherwise).

    ``joints3d`` are camera-frame metres (absolute, not root-relative); ``joints2d`` are pixels in an image of
    ``image_size`` (width, height); ``visible`` is False where a joint is occluded or outside the image;
    ``joints2d_right`` is the same pose seen by the right camera of a stereo pair (if the source has one);
    ``load_frames`` returns the RGB frames (T, H, W, 3) uint8 where the source has images.
    """

    name: str
    action: int
    subject: int
    fps: float
    joints2d: np.ndarray
    visible: np.ndarray
    joints3d: Optional[np.ndarray]
    camera: Optional[Camera]
    image_size: Tuple[int, int]
    layout: str = "h36m17"
    joints2d_right: Optional[np.ndarray] = None
    camera_right: Optional[Camera] = None
    load_frames: Optional[Callable[[], np.ndarray]] = field(default=None, repr=False)
    #: per-joint confidences (T, J) where the poses are predictions rather than ground truth
    scores: Optional[np.ndarray] = None
    #: the file the sample was read from, where a dataset reports per file (e.g. a BVH file's name)
    source: Optional[str] = None
    #: annotated person boxes (T, 4) ``x, y, w, h`` px: a top-down detector crops these ("given boxes")
    boxes: Optional[np.ndarray] = None
    #: MPII head segment lengths (T,) px (0.6 x the head box diagonal) where head boxes are annotated (PCKh)
    head_sizes: Optional[np.ndarray] = None

    @property
    def n_frames(self) -> int:
        return int(self.joints2d.shape[0])

    def frames(self) -> np.ndarray:
        if self.load_frames is None:
            raise ValueError(f"sample {self.name} has no frames")
        return self.load_frames()


@dataclass
class Dataset:
    """Splits of samples plus the action label names (index = ``Sample.action``)."""

    name: str
    action_names: List[str]
    train: List[Sample]
    val: List[Sample]
    test: List[Sample]
    has_frames: bool = False

    def split(self, name: str) -> List[Sample]:
        return {"train": self.train, "val": self.val, "test": self.test}[name]
