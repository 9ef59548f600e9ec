"""Live frame sources for ``--stream``: a camera index, a stream URL (``rtsp://``, ``http://``, ...) or a video
file replayed at its own frame rate, read by OpenCV in a thread of its own and handed over as they arrive.

The hand-over holds at most ``queue`` frames: when processing falls behind, the oldest waiting frame is dropped
(and counted), so the delay from a frame's arrival to its processing stays bounded instead of growing. A file is
released frame by frame at its timestamps (``realtime``), as a camera would deliver it; without ``realtime`` it is
read as fast as it decodes (nothing dropped: the reader waits for room).
"""
from __future__ import annotations

import collections
import math
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Optional, Union

import cv2
import numpy as np

from .errors import InputError

#: the frame rate assumed for a camera or stream that does not report one
DEFAULT_LIVE_FPS = 30.0


def parse_source(spec: str) -> Union[int, str, Path]:
    """``--input`` as a live source: a file path when one exists, else an int (camera index, ``"0"``) or a URL
    (``scheme://...``)."""
    text = str(spec).strip()
    if Path(text).is_file():
        return Path(text)
    if text.isdigit():
        return int(text)
    if "://" in text:
        return text
    raise InputError(f"--input {spec}: not a camera index, a stream URL or a video file")


def is_live(spec: str) -> bool:
    """True for a camera index or a URL: a source that is not a file or folder on disk."""
    text = str(spec).strip()
    return not Path(text).exists() and (text.isdigit() or "://" in text)


@dataclass
class Frame:
    index: int          # position in the source (0, 1, ...)
    arrival: float      # time.perf_counter() when it was read (for a replayed file: when it was due)
    rgb: np.ndarray     # (H, W, 3) uint8


class LiveSource:
    """Frames of ``spec`` (see :func:`parse_source`) as they arrive; iterate over it, then read ``dropped``."""

    def __init__(self, spec: str, realtime: bool = True, queue: int = 2, max_frames: Optional[int] = None):
        self.source = parse_source(spec)
        self.cap = cv2.VideoCapture(self.source if not isinstance(self.source, Path) else str(self.source))
        if not self.cap.isOpened():
            self.cap.release()
            what = f"camera {self.source}" if isinstance(self.source, int) else str(self.source)
            raise InputError(f"--input {what}: cannot be opened by OpenCV (no such device, unreachable URL or "
                             "undecodable file)")
        fps = float(self.cap.get(cv2.CAP_PROP_FPS) or 0.0)
        self.fps = fps if math.isfinite(fps) and 0 < fps < 1000 else DEFAULT_LIVE_FPS
        self.is_file = isinstance(self.source, Path)
        self.realtime, self.max_frames = realtime, max_frames
        self.dropped = self.read = 0
        self._frames: collections.deque = collections.deque(maxlen=max(1, int(queue)))
        self._cond = threading.Condition()
        self._done = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._reader, name="live-source", daemon=True)

    def _reader(self) -> None:
        t0 = None
        try:
            while not self._stop.is_set() and (self.max_frames is None or self.read < self.max_frames):
                ok, bgr = self.cap.read()
                if not ok:
                    break
                now = time.perf_counter()
                if self.is_file and self.realtime:  # release the file's frame at its own time
                    t0 = now if t0 is None else t0
                    due = t0 + self.read / self.fps
                    if due > now:
                        time.sleep(due - now)
                    now = max(due, time.perf_counter()) if due > now else now
                frame = Frame(self.read, now, cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
                self.read += 1
                with self._cond:
                    if not (self.is_file and not self.realtime):
                        if len(self._frames) == self._frames.maxlen:
                            self.dropped += 1       # the oldest waiting frame gives way
                    else:
                        self._cond.wait_for(lambda: len(self._frames) < self._frames.maxlen or self._stop.is_set())
                    self._frames.append(frame)
                    self._cond.notify_all()
        finally:
            self.cap.release()
            with self._cond:
                self._done = True
                self._cond.notify_all()

    def __iter__(self) -> Iterator[Frame]:
        self._thread.start()
        try:
            while True:
                with self._cond:
                    self._cond.wait_for(lambda: self._frames or self._done)
                    if not self._frames:
                        break
                    frame = self._frames.popleft()
                    self._cond.notify_all()
                yield frame
        finally:
            self.stop()
        if self.read == 0:
            raise InputError(f"--input {self.source}: no frame could be read")

    def stop(self) -> None:
        self._stop.set()
        with self._cond:
            self._cond.notify_all()
        if self._thread.is_alive():
            self._thread.join(timeout=5)
