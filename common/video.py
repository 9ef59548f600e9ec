"""Reading videos into RGB uint8 frames with OpenCV, with one-line errors for missing, unreadable or empty files.

Bad input - a missing file, a file that is not a decodable video (text, a truncated file), a video without
frames - raises :class:`~common.errors.InputError` with one line; what FFmpeg prints while failing to open a
file is folded into that line instead of being left on stderr.
"""
from __future__ import annotations

import contextlib
import math
import os
import re
import struct
import sys
import tempfile
import warnings
from pathlib import Path
from typing import Iterator, Tuple

import cv2
import numpy as np

from .errors import InputError

__all__ = ["read_video", "read_frames", "iter_video", "video_info", "native_stderr"]

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp")

DEFAULT_FPS = 25.0


@contextlib.contextmanager
def native_stderr(out: list):
    """Collect what native code (FFmpeg, OpenCV) writes on file descriptor 2 into ``out`` (one string)."""
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError):      # no usable fd 2: nothing to capture
        yield
        return
    with tempfile.TemporaryFile() as tmp:
        os.dup2(tmp.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            tmp.seek(0)
            out.append(tmp.read().decode(errors="replace"))


def _summary(text: str) -> str:
    """FFmpeg/OpenCV log lines without their ``[component @ 0x...]`` / ``[ERROR:0@0.03] global file:line fn``
    prefixes, joined into one short line."""
    lines = []
    for ln in text.splitlines():
        ln = re.sub(r"^(\[[^\]]*\]\s*)+(global \S+:\d+ \S+ )?", "", ln.strip())
        if ln and ln not in lines:
            lines.append(ln)
    return "; ".join(lines)[:200]


def _mp4_without_tracks(path: Path) -> bool:
    """True for a complete ISO-BMFF file (.mp4/.mov) whose ``moov`` box holds no track: what ``cv2.VideoWriter``
    leaves when it is released before any frame is written (FFmpeg then refuses to open it)."""
    with open(path, "rb") as f:
        size = os.fstat(f.fileno()).st_size
        pos, moov, first = 0, None, True
        while pos + 8 <= size:
            f.seek(pos)
            n, kind = struct.unpack(">I4s", f.read(8))
            if first and kind != b"ftyp":
                return False
            first = False
            head = 8
            if n == 1:
                n, head = struct.unpack(">Q", f.read(8))[0], 16
            elif n == 0:
                n = size - pos
            if n < head or pos + n > size:
                return False            # a cut box: truncated, not empty
            if kind == b"moov":
                moov = f.read(n - head)
            pos += n
    return moov is not None and b"trak" not in moov


def _open(path):
    """Open ``path``; returns ``(path, capture)`` or raises a one-line :class:`InputError`."""
    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: video file not found")
    if not path.is_file():
        raise InputError(f"{path}: expected a video file, got a directory or special file")
    log: list = []
    with native_stderr(log):
        cap = cv2.VideoCapture(str(path))
    if cap.isOpened():
        return path, cap
    cap.release()
    if path.stat().st_size == 0 or _mp4_without_tracks(path):
        raise InputError(f"{path}: video has no frames (an empty file or container)")
    why = _summary("".join(log))
    raise InputError(f"{path}: not a decodable video (OpenCV/FFmpeg could not open it"
                     + (f": {why})" if why else "; unknown format, corrupt or truncated file)"))


def _fps(cap, path) -> float:
    fps = float(cap.get(cv2.CAP_PROP_FPS) or 0.0)
    if not (math.isfinite(fps) and fps > 0):
        warnings.warn(f"{path}: no frame rate in the file; assuming {DEFAULT_FPS} fps", stacklevel=2)
        fps = DEFAULT_FPS
    return fps


def _frames(path, cap, stride: int, max_frames) -> Iterator[Tuple[int, np.ndarray]]:
    """Yield ``(source index, RGB frame)`` for every ``stride``-th frame; raise if none decodes."""
    if int(stride) < 1:
        raise InputError(f"stride: expected an integer >= 1, got {stride}")
    declared = int(cap.get(cv2.CAP_PROP_FRAME_COUNT) or 0)
    index = n = 0
    try:
        while max_frames is None or n < max_frames:
            ok, frame = cap.read()
            if not ok:
                break
            yield index, cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)
            n += 1
            index += 1
            for _ in range(int(stride) - 1):              # grab() skips the colour conversion and the copy
                if not cap.grab():
                    break
                index += 1
    finally:
        cap.release()
    if index == 0:
        if declared > 0:
            raise InputError(f"{path}: not a decodable video (the header declares {declared} frames but none "
                             "decodes; truncated or corrupt file?)")
        raise InputError(f"{path}: video has no frames")
    if max_frames is None and declared > 0 and index < declared - 1:
        warnings.warn(f"{path}: decoded {index} of the {declared} frames the header declares; truncated file?",
                      stacklevel=2)


def read_video(path, stride: int = 1, max_frames: int | None = None) -> Tuple[np.ndarray, float]:
    """Read a whole video: ``(frames (T, H, W, 3) uint8 RGB, fps)``.

    Keeps every ``stride``-th frame (0, stride, 2*stride, ...), at most ``max_frames`` of them. The returned
    ``fps`` is the rate of the returned frames, i.e. the file's frame rate divided by ``stride``.
    """
    path, cap = _open(path)
    fps = _fps(cap, path)
    frames = [f for _, f in _frames(path, cap, stride, max_frames)]
    return np.stack(frames), fps / int(stride)


def iter_video(path, stride: int = 1) -> Iterator[Tuple[int, np.ndarray]]:
    """Yield ``(index, frame)`` (source frame index, (H, W, 3) uint8 RGB) for long videos, frame by frame.

    The file is opened and its first frame decoded when this is called, so bad input raises here, not at the
    first ``next()``.
    """
    path, cap = _open(path)
    gen = _frames(path, cap, stride, None)
    first = next(gen)

    def chain():
        yield first
        yield from gen

    return chain()


def video_info(path) -> dict:
    """``dict(width, height, fps, n_frames)`` from the container header (frames counted when it has none)."""
    path, cap = _open(path)
    try:
        info = dict(width=int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)), height=int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT)),
                    fps=_fps(cap, path), n_frames=int(cap.get(cv2.CAP_PROP_FRAME_COUNT) or 0))
        if info["n_frames"] <= 0:
            while cap.grab():
                info["n_frames"] += 1
    finally:
        cap.release()
    if info["n_frames"] <= 0:
        raise InputError(f"{path}: video has no frames")
    return info


def read_frames(path, stride: int = 1, max_frames: int | None = None) -> Tuple[np.ndarray, float]:
    """What ``--input`` names, as ``(frames (T, H, W, 3) uint8 RGB, fps)``: a video file (:func:`read_video`),
    a single image, or a folder of images (sorted by name, one frame each, all of one size; ``fps`` is then
    :data:`DEFAULT_FPS` / ``stride``)."""
    path = Path(path)
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())
        if not files:
            raise InputError(f"{path}: no image files ({', '.join(IMAGE_SUFFIXES)}) in the folder")
    elif path.suffix.lower() in IMAGE_SUFFIXES and path.is_file():
        files = [path]
    else:
        return read_video(path, stride, max_frames)
    if int(stride) < 1:
        raise InputError(f"stride: expected an integer >= 1, got {stride}")
    files = files[::int(stride)][:max_frames]
    frames = []
    for f in files:
        img = cv2.imread(str(f), cv2.IMREAD_COLOR)
        if img is None:
            raise InputError(f"{f}: not a readable image")
        if frames and img.shape != frames[0].shape:
            raise InputError(f"{f}: size {img.shape[1]}x{img.shape[0]} differs from the first image's "
                             f"{frames[0].shape[1]}x{frames[0].shape[0]}")
        frames.append(img)
    return np.stack([cv2.cvtColor(f, cv2.COLOR_BGR2RGB) for f in frames]), DEFAULT_FPS / int(stride)
