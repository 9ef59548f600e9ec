"""Detector-like corruption of 2D key-points, shared by training augmentation and the "noisy" evaluation.

``docs/interfaces.md``: noisy 2D = ground truth + N(0, 5 px) per coordinate + 5 % of joints dropped (set to the
pelvis with score 0), seed 0.
"""
from __future__ import annotations

from typing import Tuple

import numpy as np

NOISY_EVAL = {"sigma_px": 5.0, "drop_rate": 0.05, "seed": 0}


def detector_noise(kps: np.ndarray, scores: np.ndarray, sigma_px: float, drop_rate: float,
                   rng: np.random.Generator, root: int = 0) -> Tuple[np.ndarray, np.ndarray]:
    """Add N(0, sigma_px) to every coordinate and drop a ``drop_rate`` fraction of joints.

    ``kps`` (..., J, 2) pixels, ``scores`` (..., J). A dropped joint is moved to the (noisy) root joint and gets
    score 0; the root itself is never dropped.
    """
    kps = np.array(kps, dtype=np.float32, copy=True)
    scores = np.array(scores, dtype=np.float32, copy=True)
    if sigma_px > 0:
        kps += rng.normal(0.0, sigma_px, size=kps.shape).astype(np.float32)
    if drop_rate > 0:
        drop = rng.random(scores.shape) < drop_rate
        drop[..., root] = False
        kps = np.where(drop[..., None], kps[..., root:root + 1, :], kps)
        scores = np.where(drop, 0.0, scores).astype(np.float32)
    return kps, scores
