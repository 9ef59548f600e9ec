"""Detector-like corruption of 2D key-points, shared by training augmentation and the "noisy" evaluation.

``docs/interfaces.md``: noisy 2D = ground truth + N(0, 5 px) per coordinate + 5 % of joints dropped (set to the
pelvis with score 0), seed 0.
"""
from __future__ import annotations

import numpy as np

from .augment import Compose, Draw, DropToRoot, Noise

NOISY_EVAL = {"sigma_px": 5.0, "drop_rate": 0.05, "seed": 0}


def detector_noise(kps, scores, sigma_px: float, drop_rate: float, rng, root: int = 0):
    """Add N(0, sigma_px) to every coordinate and drop a ``drop_rate`` fraction of joints.

    ``kps`` (..., J, 2) pixels, ``scores`` (..., J): numpy arrays (copied as float32) with a numpy ``Generator``,
    or torch tensors with a torch ``Generator`` (``scores`` may then be None). A dropped joint is moved to the
    (noisy) root joint and gets score 0; the root itself is never dropped. Returns ``(kps, scores)``.
    """
    if isinstance(rng, np.random.Generator):
        kps = np.array(kps, dtype=np.float32, copy=True)
        scores = np.array(scores, dtype=np.float32, copy=True)
    return Compose(Noise(sigma_px), DropToRoot(drop_rate, root))(kps, scores, Draw(rng))
