"""``pose_image`` encoder: the pose features of Luvizon et al., "Multi-task Deep Learning for Real-Time 3D Human
Pose Estimation and Action Recognition" (Luvizon et al. 2021, section 3.3.1, Fig. 5a).

A sequence of T poses of J joints becomes a T x J image (time vertical, joints horizontal) whose channels are
the coordinates ((x, y) for 2D, (x, y, z) for 3D), each weighted by the joint's confidence score so that joints
not seen have less influence.

Choices the paper leaves to the implementation (documented here): coordinates are centred on the pelvis -
per frame for 3D (the lifters' output is root-relative) and on the clip's mean pelvis for 2D (so translation
within the clip, e.g. a jump, stays visible) - and divided by the clip's mean pelvis-to-joint distance, which
makes the image invariant to the subject's size and distance; values are then roughly in [-1, 1] and a
zero-confidence joint reads 0 (the centre).

``streams`` stacks further views of the same sequence as more channels (the joint / bone / motion streams of
skeleton action recognition, e.g. Shi et al., "Two-Stream Adaptive Graph Convolutional Networks for
Skeleton-Based Action Recognition", CVPR 2019, and the multi-stream inputs of pyskl): ``joints`` (the image
above), ``bones`` (each joint minus its parent in the ``layout``, the root 0, weighted by the lower of the two
scores) and ``motion`` (each joint's displacement to the next frame, 0 at the last frame, weighted by the lower
of the two frames' scores); ``streams`` is a list or one string joined by ``+`` (``joints+bones+motion``). All
use the joints' normalisation, and motion is multiplied by :data:`MOTION_GAIN` so that a typical movement
between frames reads about as large as a pose does.
"""
from __future__ import annotations

import numpy as np

from common.errors import InputError
from common.registry import register, with_defaults
from common.skeleton import get_layout

STREAMS = ("joints", "bones", "motion")
#: motion is scaled by this (frame-to-frame displacements are small against a pose's extent)
MOTION_GAIN = 8.0


@register("encoder", "pose_image")
class PoseImage:
    defaults = {"confidence_weight": True, "streams": ["joints"], "layout": "h36m17"}

    def __init__(self, cfg=None):
        cfg = with_defaults("pose_image encoder", cfg, self.defaults)
        self.confidence_weight = bool(cfg["confidence_weight"])
        # a list, or one string joined by "+" ("joints+bones+motion": what a sweep's categorical can hold)
        streams = cfg["streams"].split("+") if isinstance(cfg["streams"], str) else list(cfg["streams"] or [])
        bad = [x for x in streams if x not in STREAMS]
        if not streams or bad or len(set(streams)) != len(streams):
            raise InputError(f"pose_image encoder: streams must be a non-empty list of distinct {', '.join(STREAMS)}; "
                             f"got {cfg['streams']!r}")
        self.streams = streams
        self.layout = get_layout(cfg["layout"])

    def channels(self, coord_dim: int) -> int:
        return coord_dim * len(self.streams)

    def encode(self, coords: np.ndarray, scores: np.ndarray) -> np.ndarray:
        """(T, J, D) coordinates and (T, J) scores -> (D, T, J) float32 image."""
        coords = np.asarray(coords, dtype=np.float32)
        scores = np.asarray(scores, dtype=np.float32)
        if coords.shape[-1] == 3:
            centred = coords - coords[:, :1]
        else:
            centred = coords - coords[:, 0].mean(0)
        sc = scores if self.confidence_weight else np.ones_like(scores)
        dist = np.linalg.norm(centred, axis=-1)
        scale = float((dist * sc).sum() / max(float(sc.sum()), 1e-6))
        x = centred / max(scale, 1e-6)
        parts = []
        for stream in self.streams:
            if stream == "joints":
                parts.append(x * sc[..., None])
            elif stream == "bones":
                if x.shape[1] != self.layout.n_joints:
                    raise InputError(f"pose_image bones: {x.shape[1]} joints, layout {self.layout.name} has "
                                     f"{self.layout.n_joints}")
                par = np.array([p if p >= 0 else j for j, p in enumerate(self.layout.parents)])
                parts.append((x - x[:, par]) * np.minimum(sc, sc[:, par])[..., None])
            else:
                nxt = np.concatenate([x[1:], x[-1:]]) if len(x) > 1 else x
                snxt = np.concatenate([sc[1:], sc[-1:]]) if len(x) > 1 else sc
                parts.append((nxt - x) * MOTION_GAIN * np.minimum(sc, snxt)[..., None])
        img = np.concatenate(parts, axis=-1)
        return np.ascontiguousarray(img.transpose(2, 0, 1), dtype=np.float32)
