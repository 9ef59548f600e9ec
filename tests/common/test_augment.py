"""scale_bones on numpy arrays (the classifiers) gives what it gives on torch tensors (the lifters)."""
import numpy as np
import torch

from common.augment import scale_bones
from common.registry import build
from common.skeleton import H36M17

import stage3_action  # noqa: F401


def test_numpy_and_torch_agree():
    rng = np.random.default_rng(0)
    j3 = rng.normal(size=(6, 17, 3)).astype(np.float32)
    f = np.exp(rng.normal(0, 0.2, (6, 17))).astype(np.float32)
    out = scale_bones(j3, H36M17, f)
    assert isinstance(out, np.ndarray)
    np.testing.assert_allclose(out, scale_bones(torch.from_numpy(j3), H36M17, torch.from_numpy(f)).numpy(), atol=1e-6)
    np.testing.assert_array_equal(j3[:, 0], out[:, 0])


def test_classifier_bone_augmentation_is_one_person_per_sequence():
    cls = build("action", {"type": "pose_cnn", "input": "3d", "aug_bone_scale": 0.3, "aug_rotate_deg": 0.0,
                           "aug_flip": False, "aug_drop_rate": 0.0}, seed=0)
    rng = np.random.default_rng(1)
    x = rng.normal(size=(8, 17, 3)).astype(np.float32)
    x -= x[:, :1]
    y, _ = cls.augment(x, np.ones((8, 17), np.float32), rng)
    ratio = np.linalg.norm(y[:, 1:] - y[:, [p for p in H36M17.parents[1:]]], axis=-1) / \
        np.linalg.norm(x[:, 1:] - x[:, [p for p in H36M17.parents[1:]]], axis=-1)
    assert np.ptp(ratio, axis=0).max() < 1e-4  # the same factor in every frame
    assert np.ptp(ratio[0]) > 0.05  # bones stretched differently
