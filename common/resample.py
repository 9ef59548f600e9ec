"""Resampling pose sequences in time: a sequence at one frame rate evaluated at another (linear interpolation,
or causal sample-and-hold), every other axis (persons, joints, coordinates) carried along."""
from __future__ import annotations

import math

import numpy as np


def n_resampled(n_frames: int, src_fps: float, dst_fps: float) -> int:
    """Frames of a sequence of ``n_frames`` at ``src_fps`` resampled to ``dst_fps``: one per ``1 / dst_fps`` s
    from time 0 over its duration ``(n_frames - 1) / src_fps``, i.e. ``round((n_frames - 1) * dst_fps /
    src_fps) + 1`` (half rounded up), at least 1."""
    if n_frames <= 0:
        return 0
    return max(1, int(math.floor((n_frames - 1) * float(dst_fps) / float(src_fps) + 0.5)) + 1)


def sample_frames(x, pos, mode: str = "linear", axis: int = 0) -> np.ndarray:
    """``x`` along ``axis`` (its frames) evaluated at fractional frame positions ``pos`` (clipped to the first
    and last frame); every other axis (persons, joints, coordinates) is carried along.

    ``mode="linear"`` interpolates between the two frames around each position (a position that is a whole
    number gives that frame exactly); ``mode="hold"`` takes the frame at or before each position
    (sample-and-hold: the result at ``pos`` uses frames ``<= pos`` only, a causal resampling)."""
    x = np.asarray(x)
    if mode not in ("linear", "hold"):
        raise ValueError(f"sample_frames: mode must be 'linear' or 'hold', got {mode!r}")
    axis = axis % x.ndim
    T = x.shape[axis]
    if T == 0:
        raise ValueError("sample_frames: no frames to sample")
    pos = np.clip(np.asarray(pos, np.float64), 0, T - 1)
    shape = [1] * x.ndim
    shape[axis] = len(pos)
    if mode == "hold":  # the small margin absorbs rounding of positions that are whole numbers
        return np.take(x, np.minimum(np.floor(pos + 1e-6), T - 1).astype(np.int64), axis=axis)
    i0 = np.minimum(np.floor(pos), T - 1).astype(np.int64)
    i1 = np.minimum(i0 + 1, T - 1)
    w = (pos - i0).reshape(shape)
    x0, x1 = np.take(x, i0, axis=axis), np.take(x, i1, axis=axis)
    out = x0 + (x1 - x0) * w
    return out.astype(x.dtype) if np.issubdtype(x.dtype, np.floating) else out


def resample_time(x, src_fps: float, dst_fps: float, mode: str = "linear", axis: int = 0) -> np.ndarray:
    """A sequence ``x`` (frames along ``axis``, e.g. ``(T, J, 3)`` joints) at ``src_fps`` resampled to
    ``dst_fps``: :func:`n_resampled` frames at times ``t_k = k / dst_fps``, clipped to the sequence's duration
    ``[0, (T - 1) / src_fps]``, by :func:`sample_frames` (``"linear"`` interpolation or causal ``"hold"``). The
    same rate returns a copy; a 1-frame sequence stays 1 frame."""
    x = np.asarray(x)
    src_fps, dst_fps = float(src_fps), float(dst_fps)
    if not (src_fps > 0 and dst_fps > 0):
        raise ValueError(f"resample_time: frame rates must be > 0, got {src_fps} -> {dst_fps}")
    T = x.shape[axis]
    if src_fps == dst_fps or T <= 1:
        return x.copy()
    pos = np.arange(n_resampled(T, src_fps, dst_fps)) * (src_fps / dst_fps)
    return sample_frames(x, pos, mode, axis)
