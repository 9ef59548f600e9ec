"""Crops, targets and augmentation of the joint mode on rendered synthetic sequences."""
import numpy as np
import pytest

from common import crop as C
from common import metrics
from common.synth.world import build_synthetic
from joint.data import (
    AUGMENT_DEFAULTS,
    STORE_MARGIN,
    TrainStore,
    clip_frames,
    depth_targets,
    eval_crops,
    targets_in_crop,
    to_camera,
)
from joint.evaluate import clip_starts

TINY = {"frames": 12, "image_size": 128, "subjects": {"train": 1, "val": 1, "test": 1},
        "per_class": {"train": 1, "val": 1, "test": 1}}


@pytest.fixture(scope="module")
def synth(tmp_path_factory):
    return build_synthetic(TINY, cache_dir=tmp_path_factory.mktemp("cache"), progress=False)


def test_targets_back_to_camera_metres(synth):
    """Ground-truth targets (crop x, y; z from the root) go back to the labelled 3D pose through the inverse
    crop, the root depth and the camera (what evaluation does with predictions)."""
    for s in synth.test[:4]:
        crops, M = eval_crops(s, 64, 1.25)
        assert crops.shape == (s.n_frames, 64, 64, 3) and crops.dtype == np.uint8
        uv = C.apply_affine(s.joints2d, M)
        t = targets_in_crop(uv, depth_targets(s.joints3d, 2.0), True, 64)
        assert t["visible"].all()            # the sequence box holds every joint
        gt = np.asarray(s.joints3d)
        _, X = to_camera(t["target"], M, 64, s.camera, gt[:, 0, 2], 2.0)
        err = 1000 * metrics.mpjpe(X - X[:, :1], gt - gt[:, :1])
        assert err < 15.0, err               # lens distortion of the H36M-like cameras is ignored


def test_targets_masks():
    uv = np.array([[[10.0, 10.0], [-3.0, 5.0], [30.0, 30.0]]])
    z = np.array([[0.5, 0.5, 1.4]])
    t = targets_in_crop(uv, z, True, 32)
    assert t["visible"].tolist() == [[1, 0, 1]]
    assert t["mask"][0].tolist() == [[1, 1, 1], [0, 0, 0], [1, 1, 0]]
    assert targets_in_crop(uv, z, False, 32)["mask"][0, :, 2].tolist() == [0, 0, 0]   # 2D-only sample
    assert np.allclose(t["target"][0, 0, :2], 10.5 / 32)


def test_flip_exchanges_left_and_right(synth):
    store = TrainStore(synth.train[:2], 64, 1.25, 2.0, 0.0, AUGMENT_DEFAULTS, seed=0, progress=False)
    c, side = (store.store - 1) / 2, store.store / STORE_MARGIN
    views = {}
    for flip in (False, True):
        store._matrix = lambda rng, f=flip: (C.crop_matrix((c, c), (side, side), (64, 64), 0.0, f), f)
        views[flip] = store._views(np.random.default_rng(0), 0, np.array([3]))
    plain, mirrored, perm = views[False], views[True], store.layout.flip_permutation
    assert np.abs(mirrored["crops"].astype(int) - plain["crops"][:, :, ::-1].astype(int)).max() <= 1
    assert np.allclose(mirrored["target"][0, :, 0], 1 - plain["target"][0, perm, 0], atol=1e-5)
    assert np.allclose(mirrored["target"][0, :, 1:], plain["target"][0, perm, 1:], atol=1e-5)


def test_batches_and_2d_only_share(synth):
    store = TrainStore(synth.train, 64, 1.25, 2.0, 0.5, AUGMENT_DEFAULTS, seed=0, progress=False)
    assert store.has_z.sum() == len(store) - round(0.5 * len(store))
    rng = np.random.default_rng(0)
    b = store.pose_batch(rng, 5, "cpu")
    assert b.frames.shape == (5, 3, 64, 64) and b.target.shape == (5, 17, 3)
    assert float(b.frames.min()) >= -1 and float(b.frames.max()) <= 1
    a = store.action_batch(rng, 3, 4, "cpu")
    assert a.frames.shape == (12, 3, 64, 64) and a.actions.shape == (3,) and a.clip_len == 4
    assert all(0 <= int(y) < 12 for y in a.actions)


def test_clip_sampling():
    assert clip_frames(32, 8, 3).tolist() == [5, 8, 11, 14, 17, 20, 23, 26]          # centred
    assert clip_frames(32, 8, 9).tolist() == list(range(1, 32, 4))                  # stride capped at n // T
    assert clip_frames(5, 8, 2).tolist() == [0, 1, 2, 3, 4, 4, 4, 4]                # short: frames repeat
    assert clip_starts(32, 8, 3) == [0, 10]
    assert clip_starts(8, 8, 3) == [0]
