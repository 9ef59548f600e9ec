"""``pose_image`` encoder: the pose features of Luvizon et al., "Multi-task Deep Learning for Real-Time 3D Human
Pose Estimation and Action Recognition" (seed 001, section 3.3.1, Fig. 5a).

A sequence of T poses of J joints becomes a T x J image (time vertical, joints horizontal) whose channels are
the coordinates ((x, y) for 2D, (x, y, z) for 3D), each weighted by the joint's confidence score so that joints
not seen have less influence.

Choices the paper leaves to the implementation (documented here): coordinates are centred on the pelvis -
per frame for 3D (the lifters' output is root-relative) and on the clip's mean pelvis for 2D (so translation
within the clip, e.g. a jump, stays visible) - and divided by the clip's mean pelvis-to-joint distance, which
makes the image invariant to the subject's size and distance; values are then roughly in [-1, 1] and a
zero-confidence joint reads 0 (the centre).
"""
from __future__ import annotations

import numpy as np

from common.registry import register


@register("encoder", "pose_image")
class PoseImage:
    defaults = {"confidence_weight": True}

    def __init__(self, cfg=None):
        cfg = {**self.defaults, **(cfg or {})}
        self.confidence_weight = bool(cfg["confidence_weight"])

    @staticmethod
    def channels(coord_dim: int) -> int:
        return coord_dim

    def encode(self, coords: np.ndarray, scores: np.ndarray) -> np.ndarray:
        """(T, J, D) coordinates and (T, J) scores -> (D, T, J) float32 image."""
        coords = np.asarray(coords, dtype=np.float32)
        scores = np.asarray(scores, dtype=np.float32)
        if coords.shape[-1] == 3:
            centred = coords - coords[:, :1]
        else:
            centred = coords - coords[:, 0].mean(0)
        w = scores[..., None] if self.confidence_weight else np.ones_like(scores)[..., None]
        dist = np.linalg.norm(centred, axis=-1)
        scale = float((dist * w[..., 0]).sum() / max(float(w.sum()), 1e-6))
        img = centred / max(scale, 1e-6) * w
        return np.ascontiguousarray(img.transpose(2, 0, 1), dtype=np.float32)
