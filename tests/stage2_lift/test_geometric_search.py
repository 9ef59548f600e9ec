import numpy as np
import pytest
import torch

from common.skeleton import get_layout
from stage2_lift.geometric_search import (
    bone_lengths,
    default_intrinsics,
    fit_translation,
    geometric_search,
    mirrored_bone_pairs,
    reprojection_error,
    scaled_bone_prior,
    sequence_bone_prior,
)
from stage2_lift.lifting import project

LAYOUT = get_layout("h36m17")


@pytest.fixture(scope="module")
def poses(tiny_poses):
    """Exact test poses: root-relative 3D (N, J, 3), exact pinhole 2D (N, J, 2), intrinsics (N, 4)."""
    samples = tiny_poses.test[:6]
    j3 = torch.tensor(np.concatenate([s.joints3d for s in samples]), dtype=torch.float32)
    K = torch.tensor(np.concatenate([np.tile([s.camera.fx, s.camera.fy, s.camera.cx, s.camera.cy], (s.n_frames, 1))
                                     for s in samples]), dtype=torch.float32)
    return j3 - j3[:, :1], project(j3, K), K


def _lr_gap(Y):
    bl = bone_lengths(Y, LAYOUT)
    return torch.stack([(bl[:, a] - bl[:, b]).abs() for a, b in mirrored_bone_pairs(LAYOUT)], 1).mean()


def _perturbed(Y, sigma=0.03, seed=0):
    g = torch.Generator().manual_seed(seed)
    noisy = Y + torch.randn(Y.shape, generator=g) * sigma
    return noisy - noisy[:, :1]


def test_mirrored_bones_come_from_the_layout():
    pairs = mirrored_bone_pairs(LAYOUT)
    assert len(pairs) == 6  # hip, knee, ankle, shoulder, elbow, wrist
    edges = LAYOUT.edges
    for a, b in pairs:
        na, nb = LAYOUT.names[edges[a][1]], LAYOUT.names[edges[b][1]]
        assert {na[:2], nb[:2]} == {"l_", "r_"} and na[2:] == nb[2:]


def test_search_repairs_a_perturbed_pose(poses):
    Y, uv, K = poses
    noisy = _perturbed(Y)
    prior = sequence_bone_prior(Y, LAYOUT)
    out, T = geometric_search(noisy, uv, K, LAYOUT, prior, return_translation=True)
    assert out.shape == Y.shape and out.dtype == Y.dtype
    assert torch.allclose(out[:, 0], torch.zeros(3))                      # root-relative
    err_before = (noisy - Y).norm(dim=-1).mean()
    err_after = (out - Y).norm(dim=-1).mean()
    assert err_after < 0.6 * err_before, (err_before, err_after)
    T0 = fit_translation(noisy, uv, K)
    rep_before = reprojection_error(noisy, T0, uv, K).mean()
    rep_after = reprojection_error(out, T, uv, K).mean()
    assert rep_after < 0.25 * rep_before, (rep_before, rep_after)
    assert _lr_gap(out) < 0.3 * _lr_gap(noisy)
    bone_err = (bone_lengths(out, LAYOUT) - prior).abs().mean()
    assert bone_err < 0.5 * (bone_lengths(noisy, LAYOUT) - prior).abs().mean()


def test_exact_consistent_pose_is_left_nearly_unchanged(poses):
    Y, uv, K = poses
    out = geometric_search(Y, uv, K, LAYOUT, bone_lengths(Y, LAYOUT))
    assert (out - Y).norm(dim=-1).max() < 1e-3  # < 1 mm


def test_poses_are_solved_independently(poses):
    Y, uv, K = poses
    noisy = _perturbed(Y, seed=1)
    prior = sequence_bone_prior(Y, LAYOUT)
    batch = geometric_search(noisy, uv, K, LAYOUT, prior)
    one = geometric_search(noisy[5:6], uv[5:6], K[5:6], LAYOUT, prior)
    assert torch.allclose(batch[5:6], one, atol=1e-4)


def test_a_joint_with_zero_score_ignores_its_2d(poses):
    Y, uv, K = poses
    noisy = _perturbed(Y, seed=2)
    prior = sequence_bone_prior(Y, LAYOUT)
    scores = torch.ones(uv.shape[:2])
    bad_uv = uv.clone()
    wrist = LAYOUT["l_wrist"]
    bad_uv[:, wrist] += 80.0
    scores[:, wrist] = 0.0
    out = geometric_search(noisy, bad_uv, K, LAYOUT, prior, scores)
    assert (out - Y).norm(dim=-1).mean() < 0.6 * (noisy - Y).norm(dim=-1).mean()
    unweighted = geometric_search(noisy, bad_uv, K, LAYOUT, prior)
    assert (out[:, wrist] - Y[:, wrist]).norm(dim=-1).mean() < (unweighted[:, wrist] - Y[:, wrist]).norm(dim=-1).mean()


def test_priors_and_defaults(poses):
    Y, _, _ = poses
    lengths = bone_lengths(Y, LAYOUT)
    # reference lengths of another size: the scaled prior keeps their proportions and takes the pose's size
    prior = scaled_bone_prior(1.1 * Y[:24], 0.8 * lengths[:24].mean(0), LAYOUT)
    assert torch.allclose(prior, 1.1 * lengths[:24].mean(0), rtol=1e-4)
    seq = sequence_bone_prior(Y[:24], LAYOUT)
    for a, b in mirrored_bone_pairs(LAYOUT):
        assert seq[a] == seq[b]
    K = default_intrinsics(1000, 1002)
    assert torch.allclose(K, torch.tensor([1150.0, 1150.0, 500.0, 501.0], dtype=K.dtype))


def test_float64_and_empty_input(poses):
    Y, uv, K = poses
    out = geometric_search(_perturbed(Y)[:8].double(), uv[:8].double(), K[:8].double(), "h36m17",
                           sequence_bone_prior(Y, LAYOUT))
    assert out.dtype == torch.float64 and torch.isfinite(out).all()
    empty = geometric_search(torch.zeros(0, 17, 3), torch.zeros(0, 17, 2), K[0], LAYOUT, torch.ones(16))
    assert empty.shape == (0, 17, 3)
