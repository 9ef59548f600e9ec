"""Boxes and affine crops for top-down 2D pose estimation.

A top-down detector (SimpleBaseline, Xiao et al. 2018; RTMPose, Jiang et al. 2023) looks at one person at a
time: a box around the person is warped to the network's fixed input size, the network predicts key-points in
crop pixels, and the inverse warp brings them back to image pixels. This module holds that geometry, with
the same vocabulary as mmpose (a box is a ``center`` and a ``scale`` = its width and height in pixels), but
one convention throughout: **pixel centres sit at integer coordinates** (pixel ``i`` covers ``[i-0.5,
i+0.5]``), which is what ``cv2.warpAffine`` assumes. Under it the crop's centre is ``((W-1)/2, (H-1)/2)``,
a box of width ``s`` maps onto exactly ``W`` crop pixels, and mirroring a crop is ``u -> W-1-u``, so a
horizontally flipped crop is the crop of the flipped image.
"""
from __future__ import annotations

from typing import Tuple

import cv2
import numpy as np


def fix_aspect(scale, aspect: float) -> np.ndarray:
    """Grow the shorter side of ``scale`` (w, h) so that w / h == ``aspect`` (the network input's w / h)."""
    w, h = (float(v) for v in scale)
    if w > aspect * h:
        h = w / aspect
    else:
        w = h * aspect
    return np.array([w, h], dtype=np.float64)


def box_from_keypoints(keypoints: np.ndarray, padding: float = 1.25, aspect: float = 1.0,
                       min_size: float = 8.0) -> Tuple[np.ndarray, np.ndarray]:
    """The (center, scale) of the tight box around ``keypoints`` (J, 2), grown by ``padding`` and fixed to
    ``aspect``. Non-finite points are ignored; ``min_size`` (pixels) keeps degenerate boxes usable."""
    kp = np.asarray(keypoints, dtype=np.float64).reshape(-1, 2)
    kp = kp[np.all(np.isfinite(kp), axis=1)]
    if len(kp) == 0:
        raise ValueError("box_from_keypoints: no finite key-point")
    lo, hi = kp.min(0), kp.max(0)
    center = (lo + hi) / 2
    scale = np.maximum(hi - lo, min_size) * padding
    return center, fix_aspect(scale, aspect)


def box_from_xywh(box, padding: float = 1.25, aspect: float = 1.0) -> Tuple[np.ndarray, np.ndarray]:
    """The (center, scale) of an ``x, y, w, h`` box (COCO's convention), grown by ``padding`` and fixed to
    ``aspect``, as mmpose's top-down pipeline crops an annotated person."""
    x, y, w, h = (float(v) for v in box)
    return np.array([x + w / 2 - 0.5, y + h / 2 - 0.5]), fix_aspect((w * padding, h * padding), aspect)


def whole_frame_box(image_size, aspect: float = 1.0) -> Tuple[np.ndarray, np.ndarray]:
    """The (center, scale) of the whole image (w, h), fixed to ``aspect`` (grown, never cut)."""
    w, h = (float(v) for v in image_size)
    return np.array([(w - 1) / 2, (h - 1) / 2]), fix_aspect((w, h), aspect)


def crop_matrix(center, scale, out_size, rotation: float = 0.0, flip: bool = False) -> np.ndarray:
    """The 2x3 affine matrix taking image pixels to crop pixels.

    The box (``center``, ``scale`` = (w, h) in image pixels), rotated by ``rotation`` degrees
    (counter-clockwise, as seen in the crop) about its centre, fills the crop of ``out_size`` (W, H); with
    ``flip`` the crop is mirrored left-right afterwards.
    """
    W, H = out_size
    cx, cy = (float(v) for v in center)
    sx, sy = W / float(scale[0]), H / float(scale[1])
    a = np.deg2rad(rotation)
    c, s = np.cos(a), np.sin(a)
    # crop = R(a) * S * (p - center) + crop_center; rotating by +a counter-clockwise in y-down pixel axes
    A = np.array([[c * sx, s * sy], [-s * sx, c * sy]])
    t = np.array([(W - 1) / 2, (H - 1) / 2]) - A @ np.array([cx, cy])
    M = np.concatenate([A, t[:, None]], axis=1)
    if flip:
        M = np.array([[-1.0, 0.0, W - 1.0], [0.0, 1.0, 0.0]]) @ np.vstack([M, [0, 0, 1]])
    return M


def invert_affine(M: np.ndarray) -> np.ndarray:
    """The inverse of a 2x3 affine matrix."""
    return cv2.invertAffineTransform(np.asarray(M, dtype=np.float64))


def apply_affine(points: np.ndarray, M: np.ndarray) -> np.ndarray:
    """Apply a 2x3 affine ``M`` to points (..., 2)."""
    p = np.asarray(points, dtype=np.float64)
    return p @ M[:, :2].T + M[:, 2]


def warp(image: np.ndarray, M: np.ndarray, out_size, border=0) -> np.ndarray:
    """Crop ``image`` (H, W, C) with the image -> crop matrix ``M`` to ``out_size`` (W, H), bilinear;
    outside the image is filled with ``border`` (a grey level or a colour tuple)."""
    W, H = out_size
    value = tuple(border) if isinstance(border, (tuple, list)) else (border,) * 3
    return cv2.warpAffine(image, np.asarray(M, dtype=np.float64), (int(W), int(H)), flags=cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_CONSTANT, borderValue=value)
