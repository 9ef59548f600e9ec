"""Live sources (``common/live.py``): a video file replayed at its own frame rate, read as fast as it decodes,
frames dropped (and counted) when the consumer falls behind, and clear errors for what cannot be opened."""
import time

import cv2
import numpy as np
import pytest

from common.errors import InputError
from common.live import LiveSource, is_live, parse_source


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    """20 frames of 64 x 48 at 25 frames/s, each frame's index in its pixel values."""
    path = tmp_path_factory.mktemp("live") / "clip.avi"
    w = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 25.0, (64, 48))
    for i in range(20):
        w.write(np.full((48, 64, 3), 10 * i, np.uint8))
    w.release()
    return path


def test_sources_are_parsed(clip, tmp_path):
    assert parse_source("0") == 0 and parse_source("rtsp://cam/1") == "rtsp://cam/1"
    assert parse_source(str(clip)) == clip
    assert is_live("0") and is_live("http://host/x.mjpg") and not is_live(str(clip)) and not is_live(str(tmp_path))
    with pytest.raises(InputError, match="not a camera index, a stream URL or a video file"):
        parse_source(str(tmp_path / "missing.mp4"))


def test_a_file_is_replayed_at_its_own_rate(clip):
    src = LiveSource(str(clip), realtime=True, queue=32)
    frames = list(src)
    assert src.fps == pytest.approx(25.0) and len(frames) == 20 and src.dropped == 0
    assert [f.index for f in frames] == list(range(20))
    span = frames[-1].arrival - frames[0].arrival
    assert span == pytest.approx(19 / 25, abs=0.08)  # due at i / fps, not as fast as it decodes
    assert abs(int(frames[7].rgb.mean()) - 70) <= 3


def test_without_realtime_nothing_is_dropped_however_slow_the_consumer(clip):
    src = LiveSource(str(clip), realtime=False, queue=1)
    t0 = time.perf_counter()
    got = []
    for f in src:
        got.append(f.index)
        time.sleep(0.01)
    assert got == list(range(20)) and src.dropped == 0 and time.perf_counter() - t0 < 19 / 25 + 0.5


def test_a_slow_consumer_drops_the_oldest_frames_and_stays_current(clip):
    src = LiveSource(str(clip), realtime=True, queue=1)
    got, lag = [], []
    for f in src:
        got.append(f)
        lag.append(time.perf_counter() - f.arrival)
        time.sleep(0.1)  # 10 frames/s against 25 arriving
    assert src.dropped > 5 and len(got) + src.dropped == src.read == 20
    assert max(lag[1:]) < 0.15  # bounded: a frame waits at most one processing step, however long the stream


def test_what_cannot_be_opened_is_one_clear_error(tmp_path):
    with pytest.raises(InputError, match="camera 97: cannot be opened"):
        list(LiveSource("97"))
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"not a video")
    with pytest.raises(InputError, match="cannot be opened"):
        list(LiveSource(str(bad)))
