"""Video reading on the real test clip and on bad input."""
import cv2
import numpy as np
import pytest

from common.errors import InputError
from common.paths import shared
from common.video import iter_video, read_video, video_info

CLIP = shared("video", "test.avi")
needs_clip = pytest.mark.skipif(not CLIP.is_file(), reason=f"real test video {CLIP} not present")


@needs_clip
def test_read_real_video():
    assert video_info(CLIP) == dict(width=320, height=240, fps=25.0, n_frames=164)
    frames, fps = read_video(CLIP)
    assert frames.shape == (164, 240, 320, 3) and frames.dtype == np.uint8
    assert fps == 25.0
    # RGB, not BGR: the same frame straight from OpenCV is its channel reversal
    cap = cv2.VideoCapture(str(CLIP))
    ok, bgr = cap.read()
    cap.release()
    assert ok and np.array_equal(frames[0], bgr[..., ::-1])


@needs_clip
def test_stride_max_frames_and_iter():
    full, _ = read_video(CLIP, max_frames=20)
    assert full.shape[0] == 20
    sub, fps = read_video(CLIP, stride=3, max_frames=5)
    assert sub.shape[0] == 5 and fps == pytest.approx(25.0 / 3)
    assert np.array_equal(sub, full[0:15:3])
    every4, _ = read_video(CLIP, stride=4)
    assert every4.shape[0] == 41                          # ceil(164 / 4)
    it = iter_video(CLIP, stride=2)
    first = [next(it) for _ in range(3)]
    assert [i for i, _ in first] == [0, 2, 4]
    assert np.array_equal(first[2][1], full[4])
    it.close()


def test_missing_file(tmp_path):
    with pytest.raises(InputError, match="not found"):
        read_video(tmp_path / "nope.mp4")


@pytest.mark.parametrize("name", ["notes.mp4", "notes.avi"])
def test_text_file_is_not_a_video(tmp_path, name, capfd):
    p = tmp_path / name
    p.write_text("this is not a video\n" * 20)
    with pytest.raises(InputError, match="not a decodable video") as e:
        read_video(p)
    assert "\n" not in str(e.value) and str(p) in str(e.value)
    assert capfd.readouterr().err == ""                   # FFmpeg's complaint is folded into the error


@needs_clip
@pytest.mark.parametrize("fraction", [0.01, 0.05])
def test_truncated_file(tmp_path, fraction):
    data = CLIP.read_bytes()
    p = tmp_path / "cut.avi"
    p.write_bytes(data[: int(len(data) * fraction)])
    with pytest.raises(InputError, match="not a decodable video"):
        read_video(p)


def test_truncated_mp4(tmp_path):
    good = tmp_path / "good.mp4"
    w = cv2.VideoWriter(str(good), cv2.VideoWriter_fourcc(*"mp4v"), 25, (64, 48))
    for i in range(5):
        w.write(np.full((48, 64, 3), 40 * i, np.uint8))
    w.release()
    assert read_video(good)[0].shape == (5, 48, 64, 3)
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    with pytest.raises(InputError, match="not a decodable video"):
        read_video(cut)


@pytest.mark.parametrize("suffix, fourcc", [(".mp4", "mp4v"), (".avi", "MJPG")])
def test_video_with_zero_frames(tmp_path, suffix, fourcc):
    p = tmp_path / f"empty{suffix}"
    w = cv2.VideoWriter(str(p), cv2.VideoWriter_fourcc(*fourcc), 25, (64, 48))
    w.release()                                           # no frames written
    assert p.is_file()
    for fn in (read_video, video_info, iter_video):
        with pytest.raises(InputError, match="no frames") as e:
            fn(p)
        assert "\n" not in str(e.value)


def test_empty_file(tmp_path):
    p = tmp_path / "zero.mp4"
    p.write_bytes(b"")
    with pytest.raises(InputError, match="no frames"):
        read_video(p)


def test_bad_stride(tmp_path):
    p = tmp_path / "v.avi"
    w = cv2.VideoWriter(str(p), cv2.VideoWriter_fourcc(*"MJPG"), 10, (32, 32))
    w.write(np.zeros((32, 32, 3), np.uint8))
    w.release()
    with pytest.raises(InputError, match="stride"):
        read_video(p, stride=0)
