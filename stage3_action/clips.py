"""Temporal clips: how a sequence of any length becomes fixed-length classifier inputs.

Training takes one random window (random start, random speed) resampled to ``clip_len`` frames; testing
takes the middle window (single-clip) or windows spaced half a window apart whose class probabilities are
averaged (multi-clip), as in Luvizon et al. 2021, section 4.4 and Tang et al. 2020, "Implementation
Details". A window spans ``span`` frames of the sequence (default ``clip_len``: one frame per clip frame); a
longer span covers a whole action in one clip (subsampled), a sequence shorter than the span is taken whole.
"""
from __future__ import annotations

from typing import List, Optional

import numpy as np


def window_indices(n_frames: int, clip_len: int, start: float, length: float) -> np.ndarray:
    """``clip_len`` frame indices covering ``[start, start + length)`` of a sequence of ``n_frames``."""
    length = min(max(length, 1.0), float(n_frames))
    start = min(max(start, 0.0), n_frames - length)
    t = start + (np.arange(clip_len) + 0.5) * length / clip_len  # centres of clip_len equal segments
    return np.clip(np.floor(t), 0, n_frames - 1).astype(int)


def random_window(n_frames: int, clip_len: int, rng: np.random.Generator, speed: float = 0.2,
                  span: Optional[int] = None) -> np.ndarray:
    length = (span or clip_len) * rng.uniform(1 - speed, 1 + speed)
    start = rng.uniform(0, max(n_frames - length, 0.0))
    return window_indices(n_frames, clip_len, start, length)


def eval_windows(n_frames: int, clip_len: int, multi: bool, span: Optional[int] = None) -> List[np.ndarray]:
    """The middle window, or all windows spaced ``span // 2`` apart (at least one); ``span`` defaults to
    ``clip_len``."""
    span = span or clip_len
    if not multi or n_frames <= span:
        return [window_indices(n_frames, clip_len, (n_frames - span) / 2, span)]
    step = max(span // 2, 1)
    starts = list(range(0, n_frames - span + 1, step))
    if starts[-1] != n_frames - span:
        starts.append(n_frames - span)
    return [window_indices(n_frames, clip_len, s, span) for s in starts]
