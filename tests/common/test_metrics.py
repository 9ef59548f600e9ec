"""Metrics on hand-computed cases."""
import numpy as np
import pytest

from common.errors import InputError
from common.metrics import (
    confusion,
    mpjpe,
    n_mpjpe,
    p_mpjpe,
    pck,
    pck3d,
    pckh,
    procrustes_align,
    top1,
    torso_size,
    velocity_error,
)
from common.skeleton import H36M17


def rot(axis, deg):
    c, s = np.cos(np.radians(deg)), np.sin(np.radians(deg))
    i, j = [(1, 2), (0, 2), (0, 1)][axis]
    r = np.eye(3)
    r[i, i] = r[j, j] = c
    r[i, j], r[j, i] = -s, s
    return r


@pytest.fixture
def poses():
    rng = np.random.default_rng(0)
    return rng.normal(0, 0.3, (5, 17, 3))        # 5 poses in metres


def test_mpjpe_root_alignment_and_known_offset(poses):
    assert mpjpe(poses + np.array([1.0, -2.0, 3.0]), poses) == pytest.approx(0, abs=1e-12)
    moved = poses.copy()
    moved[:, 3] += [0.03, 0.04, 0.0]              # one joint of 17 off by 5 cm (not the root)
    assert mpjpe(moved, poses) == pytest.approx(0.05 / 17)
    assert mpjpe(moved, poses, mask=np.arange(17) == 3) == pytest.approx(0.05)
    # without root alignment a global shift counts in full
    assert mpjpe(poses + [0, 0, 0.1], poses, root=None) == pytest.approx(0.1)


def test_p_mpjpe_removes_similarity_but_not_reflection(poses):
    sim = 1.7 * poses @ (rot(0, 30) @ rot(2, -50)).T + [0.5, 0.2, 4.0]
    assert p_mpjpe(sim, poses) == pytest.approx(0, abs=1e-9)
    assert mpjpe(sim, poses) > 0.1
    np.testing.assert_allclose(procrustes_align(sim, poses), poses, atol=1e-9)
    mirrored = poses * [-1, 1, 1]                 # a reflection is not a rotation
    assert p_mpjpe(mirrored, poses) > 0.05
    # P-MPJPE never exceeds MPJPE (the identity is one of the candidate transforms)
    noisy = poses + np.random.default_rng(1).normal(0, 0.02, poses.shape)
    assert p_mpjpe(noisy, poses) <= mpjpe(noisy, poses) + 1e-12


def test_p_mpjpe_mask_ignores_broken_joints(poses):
    sim = 0.8 * poses @ rot(1, 70).T
    sim[:, 5] += 10.0                             # garbage on joint 5
    mask = np.arange(17) != 5
    assert p_mpjpe(sim, poses, mask=mask) == pytest.approx(0, abs=1e-9)
    assert p_mpjpe(sim, poses) > 0.1


def test_n_mpjpe_scale_only(poses):
    rel = poses - poses[:, :1]
    assert n_mpjpe(0.6 * rel + [1, 2, 3], rel) == pytest.approx(0, abs=1e-12)
    assert n_mpjpe(rel @ rot(2, 40).T, rel) > 0.01   # a rotation is not undone
    # least-squares scale: pred = gt + d with d orthogonal to gt gives s = |gt|^2/(|gt|^2+|d|^2)
    gt = np.zeros((2, 3))
    gt[1] = [1.0, 0, 0]
    pred = np.array([[0, 0, 0], [1.0, 1.0, 0]])
    s = 0.5
    assert n_mpjpe(pred, gt) == pytest.approx(np.linalg.norm(s * pred[1] - gt[1]) / 2)


def test_velocity_error():
    rng = np.random.default_rng(2)
    gt = rng.normal(size=(10, 17, 3))
    assert velocity_error(gt + [0.1, 0.2, 0.3], gt) == pytest.approx(0, abs=1e-12)   # constant offset
    t = np.arange(10)[:, None, None]
    drift = gt + t * np.array([0.03, 0.0, 0.04])                                      # constant-velocity offset
    assert velocity_error(drift, gt) == pytest.approx(0.05)
    with pytest.raises(InputError):
        velocity_error(gt[:1], gt[:1])


def test_pck_at_fractions_of_torso():
    gt = np.zeros((1, 17, 2))
    gt[0, H36M17["l_shoulder"]] = [0, 0]
    gt[0, H36M17["r_hip"]] = [30, 40]             # torso 50 px
    size = torso_size(gt, H36M17)
    assert size == pytest.approx([50.0])
    pred = gt.copy()
    pred[0, :8] += [0.1 * 50, 0]                  # 8 joints at 0.1 torso: correct
    pred[0, 8:12] += [0, 0.3 * 50]                # 4 joints at 0.3 torso: wrong
    visible = np.ones((1, 17), bool)
    assert pck(pred, gt, visible, size) == pytest.approx(13 / 17)
    visible[0, 12:] = False                       # only the 8 right and 4 wrong joints count
    assert pck(pred, gt, visible, size) == pytest.approx(8 / 12)
    assert pck(pred, gt, visible, size, thr=0.5) == 1.0
    assert pckh(pred, gt, visible, head_size=[12.0]) == pytest.approx(8 / 12)   # 5 px < 6 px < 15 px
    assert pckh(pred, gt, visible, head_size=[10.0]) == 0.0                   # strict: 5 px is not < 5 px
    assert torso_size(gt, "h36m17").shape == (1,)


def test_pck3d():
    gt = np.zeros((4, 17, 3))
    pred = gt.copy()
    pred[:, 1:9] += [0.1, 0, 0]
    pred[:, 9:] += [0, 0.2, 0]
    assert pck3d(pred, gt) == pytest.approx(9 / 17)
    assert pck3d(pred + 5.0, gt) == pytest.approx(9 / 17)   # root aligned


def test_classification():
    assert top1(np.array([[0.1, 0.9], [0.8, 0.2], [0.3, 0.7]]), [1, 0, 0]) == pytest.approx(2 / 3)
    assert top1([2, 1, 0, 2], [2, 1, 1, 0]) == 0.5
    cm = confusion([0, 0, 1, 2, 2, 2], [0, 1, 1, 2, 2, 0], 4)
    np.testing.assert_array_equal(cm, [[1, 1, 0, 0], [0, 1, 0, 0], [1, 0, 2, 0], [0, 0, 0, 0]])
    with pytest.raises(InputError):
        confusion([0, 1], [0], 2)
    with pytest.raises(InputError):
        confusion([0, 5], [0, 1], 2)
    with pytest.raises(InputError):
        top1(np.zeros((3, 2)), [0, 1])


@pytest.mark.parametrize("fn", [mpjpe, p_mpjpe, n_mpjpe, pck3d])
def test_shape_mismatch_raises(fn):
    with pytest.raises(InputError, match="pred"):
        fn(np.zeros((2, 17, 3)), np.zeros((2, 16, 3)))


def test_bad_mask_and_ref_size_raise(poses):
    with pytest.raises(InputError, match="mask"):
        mpjpe(poses, poses, mask=np.ones(16))
    with pytest.raises(InputError, match="ref_size"):
        pck(poses[..., :2], poses[..., :2], None, ref_size=np.ones(4))
