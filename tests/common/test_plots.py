"""Figures and overlays: files are written, readable, and limbs are drawn where they should be."""
import cv2
import numpy as np
import pytest

from common.errors import InputError
from common.plots import draw_skeleton2d, limb_sides, plot_confusion, plot_curves, plot_skeleton3d, write_overlay_video
from common.skeleton import H36M17

# a standing h36m17 pose in the camera frame (metres; x right, y down, z forward), 3 m in front of the camera
STAND = np.array([
    [0, 0, 0], [-0.12, 0, 0], [-0.12, 0.45, 0], [-0.12, 0.9, 0], [0.12, 0, 0], [0.12, 0.45, 0], [0.12, 0.9, 0],
    [0, -0.25, 0], [0, -0.5, 0], [0, -0.6, 0], [0, -0.75, 0], [0.18, -0.5, 0], [0.2, -0.25, 0], [0.22, 0, 0],
    [-0.18, -0.5, 0], [-0.2, -0.25, 0], [-0.22, 0, 0]]) + [0, 0, 3.0]


def kps2d(size=(200, 160)):
    """STAND projected to an image of ``size`` (width, height) with a simple pinhole."""
    w, h = size
    f = 0.8 * h / 2
    return STAND[:, :2] / STAND[:, 2:] * f + [w / 2, h / 2]


def test_limb_sides():
    sides = {(p, c): s for p, c, s in limb_sides(H36M17)}
    assert sides[(0, 1)] == "right" and sides[(0, 4)] == "left" and sides[(8, 9)] == "centre"
    assert sides[(11, 12)] == "left" and sides[(14, 15)] == "right"


def test_plot_skeleton3d(tmp_path):
    out = plot_skeleton3d(STAND, H36M17, tmp_path / "one.png", title="standing")
    img = cv2.imread(str(out))
    assert img is not None and img.shape[0] > 100 and img.shape[1] > 100
    two = plot_skeleton3d([STAND, STAND + 0.05], "h36m17", tmp_path / "sub" / "two.png")
    img2 = cv2.imread(str(two))
    assert img2 is not None and img2.shape[1] > img.shape[1]          # two panels side by side
    assert not any(p.name.startswith(".") for p in tmp_path.rglob("*"))  # no temporary files left
    with pytest.raises(InputError, match="joints"):
        plot_skeleton3d(STAND[:16], H36M17, tmp_path / "bad.png")


def test_plot_confusion_and_curves(tmp_path):
    cm = np.array([[5, 1, 0], [0, 0, 0], [2, 3, 9]])
    out = plot_confusion(cm, ["walk", "sit", "wave"], tmp_path / "cm.png", title="test")
    assert cv2.imread(str(out)) is not None
    with pytest.raises(InputError, match="cm"):
        plot_confusion(cm, ["walk", "sit"], tmp_path / "cm2.png")
    out = plot_curves({"train": [1.0, 0.6, 0.4], "val": [1.1, 0.8, 0.7]}, tmp_path / "loss.png", "epoch", "loss")
    assert cv2.imread(str(out)) is not None


def test_draw_skeleton2d_changes_pixels_along_limbs():
    h, w = 160, 200
    image = np.zeros((h, w, 3), np.uint8)
    kp = kps2d((w, h))
    drawn = draw_skeleton2d(image, kp, H36M17)
    assert drawn.shape == image.shape and drawn.dtype == np.uint8
    assert not image.any()                                            # input left untouched
    for p, c in [(H36M17["l_hip"], H36M17["l_knee"]), (H36M17["r_shoulder"], H36M17["r_elbow"])]:
        x, y = np.round((kp[p] + kp[c]) / 2).astype(int)
        assert drawn[y, x].any(), f"limb {p}-{c} not drawn at its midpoint"
    lx, ly = np.round((kp[4] + kp[5]) / 2).astype(int)
    rx, ry = np.round((kp[1] + kp[2]) / 2).astype(int)
    assert not np.array_equal(drawn[ly, lx], drawn[ry, rx])           # left and right colours differ
    # a low-score knee removes both of its limbs
    scores = np.ones(17)
    scores[H36M17["l_knee"]] = 0.1
    skipped = draw_skeleton2d(image, kp, H36M17, scores=scores, thr=0.3)
    assert not skipped[ly, lx].any()
    with pytest.raises(InputError, match="image"):
        draw_skeleton2d(image.astype(np.float32), kp, H36M17)


def test_write_overlay_video(tmp_path):
    T, h, w = 6, 96, 128
    frames = np.full((T, h, w, 3), 30, np.uint8)
    kp = np.repeat(kps2d((w, h))[None], T, axis=0) + np.arange(T)[:, None, None]
    out = write_overlay_video(frames, kp, H36M17, tmp_path / "ov.mp4", fps=10, scores=np.ones((T, 17)))
    assert out.is_file() and [p.name for p in tmp_path.iterdir()] == ["ov.mp4"]
    cap = cv2.VideoCapture(str(out))
    assert cap.isOpened() and int(cap.get(cv2.CAP_PROP_FRAME_COUNT)) == T
    n = 0
    while True:
        ok, frame = cap.read()
        if not ok:
            break
        assert frame.shape == (h, w, 3) and (np.abs(frame.astype(int) - 30) > 40).any()   # skeleton visible
        n += 1
    cap.release()
    assert n == T
    with pytest.raises(InputError, match="keypoints"):
        write_overlay_video(frames, kp[:3], H36M17, tmp_path / "bad.mp4", fps=10)
    assert not (tmp_path / "bad.mp4").exists()
