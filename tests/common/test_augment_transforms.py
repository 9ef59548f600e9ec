"""The shared view and detector transforms of common/augment.py on numpy arrays and torch tensors, against values
built by hand."""
import math

import numpy as np
import pytest
import torch

from common.augment import (
    Compose,
    Draw,
    DropToRoot,
    Noise,
    RandomMirror,
    RandomTurn,
    mirror,
    roll_stretch,
    turn_vertical,
)
from common.noise import detector_noise
from common.skeleton import H36M17, Layout

#: a toy layout: the pelvis, its left and its right hip (left and right exchanged by the mirror)
TOY = Layout("toy", ("pelvis", "l_hip", "r_hip"), (-1, 0, 0))
POSE = np.array([[[1.0, 2.0, 3.0], [2.0, 2.0, 3.0], [0.0, 5.0, 4.0]]], np.float32)   # (1, 3, 3)


def test_quarter_turn_about_the_vertical_axis_through_the_origin():
    """+90 degrees about y takes (x, y, z) - o to (z, y, -x) - o, in both backends."""
    origin = POSE[:, :1]
    want = np.array([[[1.0, 2.0, 3.0], [1.0, 2.0, 2.0], [2.0, 5.0, 4.0]]], np.float32)
    np.testing.assert_allclose(turn_vertical(POSE, math.pi / 2, origin), want, atol=1e-6)
    t = torch.from_numpy(POSE)
    np.testing.assert_allclose(turn_vertical(t, torch.tensor([math.pi / 2]), t[:, :1]).numpy(), want, atol=1e-6)
    # about the coordinate origin: (1, 2, 3) -> (3, 2, -1)
    np.testing.assert_allclose(turn_vertical(POSE[:, :1], math.pi / 2), [[[3.0, 2.0, -1.0]]], atol=1e-6)


def test_torch_turns_each_pose_by_its_own_angle():
    j3 = torch.from_numpy(np.repeat(POSE, 2, 0))
    out = turn_vertical(j3, torch.tensor([0.0, math.pi]), j3[:, :1])
    assert torch.equal(out[0], j3[0])
    d = j3[1] - j3[1, :1]
    assert torch.allclose(out[1] - out[1, :1], d * torch.tensor([-1.0, 1.0, -1.0]), atol=1e-6)


@pytest.mark.parametrize("dim", [2, 3])
def test_roll_stretch_by_hand(dim):
    """A roll of 90 degrees about the camera axis takes (x, y) to (-y, x) after the stretch of each axis."""
    x = POSE[..., :dim]
    o = x[:, :1]
    f = np.array([2.0, 3.0, 1.0][:dim], np.float32)
    d = (x - o) * f
    want = np.concatenate([-d[..., 1:2], d[..., :1], d[..., 2:]], -1) + o
    np.testing.assert_allclose(roll_stretch(x, math.pi / 2, f, o), want, atol=1e-5)
    t = torch.from_numpy(x)
    np.testing.assert_allclose(roll_stretch(t, math.pi / 2, torch.from_numpy(f), t[:, :1]).numpy(), want, atol=1e-5)


def test_mirror_of_a_toy_layout():
    scores = np.array([[1.0, 0.5, 0.25]], np.float32)
    xm, sm = mirror(POSE, TOY, scores)
    np.testing.assert_array_equal(xm, [[[-1.0, 2.0, 3.0], [0.0, 5.0, 4.0], [-2.0, 2.0, 3.0]]])
    np.testing.assert_array_equal(sm, [[1.0, 0.25, 0.5]])
    assert xm.dtype == np.float32
    xt, st = mirror(torch.from_numpy(POSE), TOY, torch.from_numpy(scores))
    np.testing.assert_array_equal(xt.numpy(), xm)
    np.testing.assert_array_equal(st.numpy(), sm)
    # only exchanged: for coordinates an image flip has mirrored already
    np.testing.assert_array_equal(mirror(POSE, TOY, negate=False)[0], POSE[:, [0, 2, 1]])


def test_mirror_of_h36m17_exchanges_named_joints_and_is_an_involution():
    x = np.random.default_rng(0).normal(size=(4, 17, 2)).astype(np.float32)
    xm, _ = mirror(x, H36M17)
    for a, b in (("l_wrist", "r_wrist"), ("l_knee", "r_knee"), ("spine", "spine")):
        np.testing.assert_array_equal(xm[:, H36M17[a]], x[:, H36M17[b]] * [-1, 1])
    np.testing.assert_array_equal(mirror(xm, H36M17)[0], x)


def test_random_mirror_per_pose_or_all_at_once():
    """p = 1 mirrors every pose, p = 0 none; per pose, the draw decides each pose (torch and numpy)."""
    x = np.repeat(POSE, 2, 0)
    for gen in (np.random.default_rng(0), torch.Generator().manual_seed(0)):
        arr = x if isinstance(gen, np.random.Generator) else torch.from_numpy(x)
        out, _ = RandomMirror(TOY, p=1.0, per=1)(arr, None, Draw(gen))
        np.testing.assert_array_equal(np.asarray(out), mirror(x, TOY)[0])
        out, _ = RandomMirror(TOY, p=0.0)(arr, None, Draw(gen))
        np.testing.assert_array_equal(np.asarray(out), x)
    f = torch.rand(64, generator=torch.Generator().manual_seed(1)) < 0.5
    poses = torch.from_numpy(np.repeat(POSE, 64, 0))
    out, _ = RandomMirror(TOY, per=1)(poses, None, Draw(torch.Generator().manual_seed(1)))
    assert 0 < f.sum() < 64
    assert torch.equal(out[f], mirror(poses, TOY)[0][f]) and torch.equal(out[~f], poses[~f])


def test_dropping_everything_sends_each_joint_to_the_root_with_score_zero():
    kps = np.random.default_rng(0).uniform(0, 100, (2, 5, 17, 2)).astype(np.float32)
    scores = np.full((2, 5, 17), 0.9, np.float32)
    for gen in (np.random.default_rng(1), torch.Generator().manual_seed(1)):
        k, s = (kps, scores) if isinstance(gen, np.random.Generator) else map(torch.from_numpy, (kps, scores))
        out, sc = DropToRoot(1.0)(k, s, Draw(gen))
        np.testing.assert_array_equal(np.asarray(out), np.broadcast_to(kps[..., :1, :], kps.shape))
        np.testing.assert_array_equal(np.asarray(sc)[..., 1:], 0.0)
        np.testing.assert_array_equal(np.asarray(sc)[..., 0], 0.9)
    out, sc = detector_noise(kps, scores, 0.0, 1.0, np.random.default_rng(0), root=3)
    np.testing.assert_array_equal(out, np.broadcast_to(kps[..., 3:4, :], kps.shape))
    assert (sc[..., 3] == np.float32(0.9)).all() and sc.sum() == pytest.approx(0.9 * 10)


def test_zero_noise_and_zero_drop_are_the_identity_and_draw_nothing():
    kps = np.random.default_rng(0).uniform(0, 100, (3, 17, 2)).astype(np.float32)
    rng = np.random.default_rng(2)
    out, sc = detector_noise(kps, np.ones((3, 17)), 0.0, 0.0, rng)
    np.testing.assert_array_equal(out, kps)
    assert out is not kps and sc.dtype == np.float32
    assert rng.random() == np.random.default_rng(2).random()  # the generator is untouched
    g = torch.Generator().manual_seed(2)
    t = torch.from_numpy(kps)
    out, sc = detector_noise(t, None, 0.0, 0.0, g)
    assert torch.equal(out, t) and sc is None
    assert torch.equal(torch.rand(3, generator=g), torch.rand(3, generator=torch.Generator().manual_seed(2)))


def test_noise_draws_in_each_backends_own_way():
    """numpy: N(0, s) drawn in float64, cast to float32; torch: standard normal float32 times s."""
    x = np.zeros((4, 17, 2), np.float32)
    out, _ = Noise(3.0)(x, None, Draw(np.random.default_rng(5)))
    np.testing.assert_array_equal(out, np.random.default_rng(5).normal(0.0, 3.0, x.shape).astype(np.float32))
    out, _ = Noise(3.0)(torch.from_numpy(x), None, Draw(torch.Generator().manual_seed(5)))
    assert torch.equal(out, torch.randn(x.shape, generator=torch.Generator().manual_seed(5)) * 3.0)


def test_numpy_and_torch_agree_on_explicit_parameters():
    x = np.random.default_rng(3).normal(size=(1, 17, 3)).astype(np.float32)
    t = torch.from_numpy(x)
    np.testing.assert_allclose(turn_vertical(x, 0.7, x[:, :1]), turn_vertical(t, torch.tensor([0.7]), t[:, :1]).numpy(),
                               atol=1e-6)
    f = np.array([1.1, 0.9, 1.0], np.float32)
    np.testing.assert_allclose(roll_stretch(x, -0.3, f, x[:, :1]),
                               roll_stretch(t, -0.3, torch.from_numpy(f), t[:, :1]).numpy(), atol=1e-6)
    np.testing.assert_array_equal(mirror(x, H36M17)[0], mirror(t, H36M17)[0].numpy())


def test_compose_applies_its_steps_in_order_and_skips_none():
    def add(v):
        return lambda x, s, draw: (x + v, s)

    def double(x, s, draw):
        return 2 * x, s

    x = np.ones(3, np.float32)
    np.testing.assert_array_equal(Compose(add(1), None, double)(x, None, None)[0], 4.0)
    np.testing.assert_array_equal(Compose(double, add(1))(x, None, None)[0], 3.0)
    # a random turn then a mirror draws the angle first, then the mirror's coin
    j3 = torch.from_numpy(np.repeat(POSE, 3, 0))
    g = torch.Generator().manual_seed(4)
    out, _ = Compose(RandomTurn(180.0, origin=lambda p: p[:, :1], per=1), RandomMirror(TOY, per=1))(j3, None, Draw(g))
    g = torch.Generator().manual_seed(4)
    a = (-1 + 2 * torch.rand(3, generator=g)) * math.radians(180.0)
    f = torch.rand(3, generator=g) < 0.5
    turned = turn_vertical(j3, a, j3[:, :1])
    assert torch.equal(out, torch.where(f[:, None, None], mirror(turned, TOY)[0], turned))
