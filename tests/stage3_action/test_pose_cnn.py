import numpy as np
import pytest

import stage3_action  # noqa: F401
from common import metrics
from common.errors import InputError
from common.registry import build
from pipelines.chain import gt_pose2d, gt_pose3d
from stage3_action.clips import eval_windows, random_window, window_indices


def test_pose_image_encoding():
    enc = build("encoder", {"type": "pose_image"})
    rng = np.random.default_rng(0)
    x = rng.normal(size=(10, 17, 3)).astype(np.float32)
    sc = np.ones((10, 17), np.float32)
    img = enc.encode(x, sc)
    assert img.shape == (3, 10, 17)  # channels = coordinates, time vertical, joints horizontal
    assert np.allclose(img[:, :, 0], 0)  # root-relative
    assert np.allclose(enc.encode(2.5 * x, sc), img, atol=1e-5)  # scale invariant
    sc[:, 5] = 0
    assert np.allclose(enc.encode(x, sc)[:, :, 5], 0)  # confidence-weighted


def test_pose_image_streams():
    """Bones and motion as more channels, against values built by hand: a 2-frame 3D sequence whose pelvis
    stays at the origin, scale 1 (the mean pelvis-to-joint distance), joint 1 (r_hip, parent the pelvis)
    moving 0.1 along x."""
    from common.skeleton import H36M17

    x = np.zeros((2, 17, 3), np.float32)
    x[:, 1:, 1] = 1.0                      # every joint 1 above the pelvis: mean distance 16/17
    x[1, 1, 0] = 0.1
    sc = np.ones((2, 17), np.float32)
    sc[1, 2] = 0.5
    enc = build("encoder", {"type": "pose_image", "streams": ["joints", "bones", "motion"]})
    img = enc.encode(x, sc)
    assert img.shape == (9, 2, 17) and enc.channels(3) == 9
    scale = float((np.linalg.norm(x, axis=-1) * sc).sum() / sc.sum())
    j = x / scale * sc[..., None]
    assert np.allclose(img[:3], j.transpose(2, 0, 1), atol=1e-6)
    # bones: r_knee (2) minus r_hip (1); r_hip minus the pelvis; the pelvis 0
    p = H36M17.parents
    assert p[2] == 1 and p[1] == 0
    bones = img[3:6].transpose(1, 2, 0)
    assert np.allclose(bones[:, 0], 0)
    assert np.allclose(bones[1, 2], (x[1, 2] - x[1, 1]) / scale * 0.5, atol=1e-6)   # min of the two scores
    assert np.allclose(bones[0, 1], x[0, 1] / scale, atol=1e-6)
    # motion: frame 0 -> 1 for r_hip is +0.1 x, times the gain; the last frame 0
    from stage3_action.pose_image import MOTION_GAIN
    motion = img[6:9].transpose(1, 2, 0)
    assert np.allclose(motion[0, 1], [0.1 / scale * MOTION_GAIN, 0, 0], atol=1e-6)
    assert np.allclose(motion[0, 2], 0) and np.allclose(motion[1], 0)
    # one string joined by "+" is the same list (a sweep's categorical holds strings)
    assert np.array_equal(build("encoder", {"type": "pose_image", "streams": "joints+bones+motion"}).encode(x, sc), img)
    # the default is the paper's image alone
    assert np.allclose(build("encoder", {"type": "pose_image"}).encode(x, sc), img[:3])


@pytest.mark.parametrize("opts,match", [({"streams": ["joints", "angles"]}, "streams"), ({"streams": []}, "streams"),
                                        ({"streams": ["bones", "bones"]}, "streams"), ({"stream": "bones"}, "unknown"),
                                        ({"streams": "joints+angles"}, "streams")])
def test_pose_image_option_errors(opts, match):
    with pytest.raises(InputError, match=match):
        build("encoder", {"type": "pose_image", **opts})


def test_clip_windows():
    assert list(window_indices(8, 4, 0, 8)) == [1, 3, 5, 7]
    assert len(eval_windows(100, 32, multi=True)) == 6
    assert len(eval_windows(100, 32, multi=False)) == 1
    assert eval_windows(10, 32, multi=True)[0].max() == 9
    # a span longer than the clip: a whole short sequence, subsampled; windows half a span apart on long ones
    w = eval_windows(60, 32, multi=True, span=80)
    assert len(w) == 1 and len(w[0]) == 32 and w[0].min() == 0 and w[0].max() == 59
    w = eval_windows(200, 32, multi=True, span=80)
    assert [int(x.min()) for x in w] == [1, 41, 81, 121] and all(np.ptp(x) > 70 for x in w)
    rng = np.random.default_rng(0)
    r = [random_window(300, 32, rng, 0.2, span=80) for _ in range(50)]
    assert all(len(x) == 32 for x in r) and 62 <= min(np.ptp(x) for x in r) and max(np.ptp(x) for x in r) <= 96


@pytest.mark.parametrize("dim", ["3d", "2d"])
def test_training_beats_chance(tiny_poses, dim):
    cls = build("action", {"type": "pose_cnn", "input": dim, "epochs": 25, "width": 16}, seed=0)
    summary = cls.fit(tiny_poses)
    assert summary["loss"][-1] < 0.7 * summary["loss"][0]
    to_input = gt_pose3d if dim == "3d" else gt_pose2d
    preds = [cls.predict(to_input(s)).index for s in tiny_poses.test]
    acc = metrics.top1(preds, [s.action for s in tiny_poses.test])
    assert acc > 3.0 / len(tiny_poses.action_names), acc  # chance is 1 / n_classes
    with pytest.raises(InputError, match="trained on"):
        cls.predict((gt_pose2d if dim == "3d" else gt_pose3d)(tiny_poses.test[0]))


def test_flip_test_averages_the_mirrored_sequence(tiny_poses):
    cls = build("action", {"type": "pose_cnn", "input": "3d", "epochs": 2, "width": 8, "flip_test": False}, seed=0)
    cls.fit(tiny_poses)
    x, sc = cls.sequence(tiny_poses.test[0])
    plain, mirrored = cls.scores(x, sc), cls.scores(*cls.mirror(x, sc))
    assert not np.allclose(plain, mirrored)
    cls.cfg["flip_test"] = True
    assert np.allclose(cls.scores(x, sc), (plain + mirrored) / 2, atol=1e-6)
    xm, scm = cls.mirror(*cls.mirror(x, sc))
    assert np.array_equal(xm, x) and np.array_equal(scm, sc)  # mirroring twice is the identity


def test_inference_options_do_not_change_the_checkpoint_key():
    from pipelines.chain import Chain
    cfg = {"seed": 0, "data": {"dataset": "synthetic"},
           "stages": {"stage3_action": {"type": "pose_cnn", "input": "3d", "flip_test": True}}}
    a = Chain(cfg, "cpu").checkpoint_key("stage3_action")
    cfg["stages"]["stage3_action"]["flip_test"] = False
    assert Chain(cfg, "cpu").checkpoint_key("stage3_action") == a
    cfg["stages"]["stage3_action"]["lr"] = 1e-4
    assert Chain(cfg, "cpu").checkpoint_key("stage3_action") != a


@pytest.mark.parametrize("dim", ["2d", "3d"])
def test_roll_and_stretch_augmentation(tiny_poses, dim):
    """aug_roll_deg turns the pose about the camera axis through the mean root (distances kept, the root's mean
    kept); aug_stretch changes the proportions."""
    off = {"aug_flip": False, "aug_drop_rate": 0.0, "aug_rotate_deg": 0.0, "input": dim}
    roll = build("action", {"type": "pose_cnn", **off, "aug_roll_deg": 30.0})
    roll.cfg["input"] = dim
    x, sc = roll.sequence(tiny_poses.train[0])
    xr, _ = roll.augment(x, sc, np.random.default_rng(1))
    d = np.linalg.norm(x[:, :, None] - x[:, None], axis=-1)
    assert np.allclose(np.linalg.norm(xr[:, :, None] - xr[:, None], axis=-1), d, atol=1e-3 * d.max())
    assert np.allclose(xr[:, 0].mean(0), x[:, 0].mean(0), atol=1e-3 * d.max()) and not np.allclose(xr, x)
    if dim == "3d":
        assert np.allclose(xr[..., 2], x[..., 2])  # about the camera axis
    stretch = build("action", {"type": "pose_cnn", **off, "aug_stretch": 0.3})
    xs, _ = stretch.augment(x, sc, np.random.default_rng(1))
    assert not np.allclose(np.linalg.norm(xs[:, :, None] - xs[:, None], axis=-1), d, atol=1e-2 * d.max())


def test_mixup_training_beats_chance(tiny_poses):
    cls = build("action", {"type": "pose_cnn", "input": "2d", "epochs": 25, "width": 16, "mixup": 0.4}, seed=0)
    summary = cls.fit(tiny_poses)
    assert summary["loss"][-1] < 0.8 * summary["loss"][0]
    preds = [cls.predict(gt_pose2d(s)).index for s in tiny_poses.test]
    assert metrics.top1(preds, [s.action for s in tiny_poses.test]) > 3.0 / len(tiny_poses.action_names)
