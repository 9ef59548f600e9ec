"""scale_bones on numpy arrays (the classifiers) gives what it gives on torch tensors (the lifters)."""
import numpy as np
import torch

import stage3_action  # noqa: F401
from common.augment import scale_bones
from common.registry import build
from common.skeleton import H36M17


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


def test_poseaug_style_camera_and_proportion_changes():
    """Tilt and distance keep bone lengths and the root's image position; part factors stretch a part alike."""
    import torch

    from common.augment import move_along_ray, part_factors, tilt_about_root
    from common.skeleton import H36M17
    g = torch.Generator().manual_seed(0)
    j3 = torch.randn(6, 17, 3, generator=g) * 0.3 + torch.tensor([0.4, -0.2, 5.0])
    bones = lambda x: torch.stack([(x[:, c] - x[:, p]).norm(dim=-1) for p, c in H36M17.edges], 1)  # noqa: E731
    image = lambda x: x[..., :2] / x[..., 2:]  # noqa: E731
    for moved in (tilt_about_root(j3, torch.full((6,), 0.3)), move_along_ray(j3, torch.full((6,), 1.4))):
        assert torch.allclose(image(moved[:, 0]), image(j3[:, 0]), atol=1e-5)
    tilted = tilt_about_root(j3, torch.full((6,), 0.3))
    assert torch.allclose(bones(tilted), bones(j3), atol=1e-5) and not torch.allclose(tilted, j3)
    # a tilt turns about the horizontal axis across the view: the vertical angle of the torso changes by it
    up = lambda x: x[:, H36M17["thorax"]] - x[:, 0]  # noqa: E731
    cos = (up(tilted) * up(j3)).sum(-1) / (up(tilted).norm(dim=-1) * up(j3).norm(dim=-1))
    assert (cos < 1 - 1e-4).all()
    assert torch.allclose(move_along_ray(j3, torch.ones(6)), j3)
    f = part_factors(H36M17, torch.tensor([[0.5, 0.0, -0.5]]), 1.0)[0]
    legs = [H36M17[n] for n in ("r_hip", "r_knee", "l_ankle")]
    arms = [H36M17[n] for n in ("l_shoulder", "r_wrist")]
    assert torch.allclose(f[legs], torch.exp(torch.tensor(0.5)))
    assert torch.allclose(f[arms], torch.exp(torch.tensor(-0.5)))
    assert f[0] == 1 and f[H36M17["thorax"]] == 1
