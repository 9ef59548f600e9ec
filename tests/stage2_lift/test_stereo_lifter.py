import numpy as np
import pytest
import torch

import stage2_lift  # noqa: F401
from common import metrics
from common.errors import InputError
from common.registry import build
from pipelines.chain import gt_pose2d
from stage2_lift.lifting import collect_pairs, normalize, project

SMALL = {"type": "stereo_lifter", "width": 128, "epochs": 10, "synth_epochs": 10, "batch_size": 128}


def _synth_state(lifter):
    return {k: v.detach().clone() for k, v in lifter.model.synth.state_dict().items()}


@pytest.fixture(scope="module")
def trained(tiny_poses):
    """A small stereo lifter, with the synthesis subnetwork's state captured at the start of each phase."""
    lifter = build("lifter", SMALL, seed=0)
    snapshots = []
    train_phase = lifter.train_phase

    def spy(params, epochs, desc, loss_fn=None):
        snapshots.append(_synth_state(lifter))
        return train_phase(params, epochs, desc, loss_fn)

    lifter.train_phase = spy
    summary = lifter.fit(tiny_poses)
    del lifter.train_phase
    snapshots.append(_synth_state(lifter))
    return lifter, summary, snapshots


def _test_arrays(samples):
    pairs = collect_pairs(samples)
    return (torch.as_tensor(pairs["j3"]), torch.as_tensor(pairs["K"]), torch.as_tensor(pairs["size"]))


def _eval(lifter, samples, **kw):
    pred, coarse = [], []
    for s in samples:
        pred.append(lifter.predict(gt_pose2d(s), s, **kw).joints[0])
        coarse.append(lifter.last_coarse.joints[0])
    gt = np.concatenate([s.joints3d - s.joints3d[:, :1] for s in samples])
    return np.concatenate(pred), np.concatenate(coarse), gt


def test_right_view_target_is_the_stereo_camera(trained, tiny_poses):
    lifter, _, _ = trained
    s = tiny_poses.test[0]
    b = lifter.cfg["baseline_m"]
    j3 = torch.as_tensor(s.joints3d, dtype=torch.float32)
    K = torch.tensor([[s.camera.fx, s.camera.fy, s.camera.cx, s.camera.cy]] * len(j3), dtype=torch.float32)
    size = torch.tensor([s.image_size] * len(j3), dtype=torch.float32)
    got = lifter.right_view({"j3": j3, "K": K, "size": size}).numpy()
    right = s.camera.stereo_right(b)
    uv = right.project(right.world_to_camera(s.camera.camera_to_world(s.joints3d)), distort=False)
    expected = right.normalize_screen(uv)
    assert np.abs(got - expected).max() < 1e-4


def test_summary_has_both_phases(trained):
    _, summary, _ = trained
    assert len(summary["loss"]) == SMALL["epochs"] and len(summary["synth_loss"]) == SMALL["synth_epochs"]
    assert summary["synth_loss"][-1] < 0.7 * summary["synth_loss"][0]
    assert summary["loss"][-1] < 0.6 * summary["loss"][0]
    assert summary["train_seconds"] > 0 and len(summary["synth_val_px"]) == SMALL["synth_epochs"]


def test_view_synthesis_beats_copying_the_left_view(trained, tiny_poses):
    lifter, _, _ = trained
    j3, K, size = _test_arrays(tiny_poses.test)
    synth_px = lifter.synth_error_px(j3, K, size)
    left = normalize(project(j3, K), size)
    right = lifter.right_view({"j3": j3, "K": K, "size": size})
    copy_px = float(((left - right).norm(dim=-1) * size[:, None, 0] / 2).mean())
    assert synth_px < 0.4 * copy_px, (synth_px, copy_px)


def test_synthesis_is_frozen_during_reconstruction(trained):
    lifter, _, (before_phase1, before_phase2, after) = trained
    assert any(not torch.equal(before_phase1[k], before_phase2[k]) for k in before_phase1)  # phase 1 trained it
    for k in before_phase2:                                   # weights and batch-norm statistics untouched
        assert torch.equal(before_phase2[k], after[k]), k
    assert not any(p.requires_grad for p in lifter.model.synth.parameters())
    lifter.model.train()
    assert not lifter.model.synth.training and lifter.model.recon.training
    lifter.model.eval()


def test_beats_the_mean_pose_and_search_refines(trained, tiny_poses):
    lifter, _, _ = trained
    pred, coarse, gt = _eval(lifter, tiny_poses.test)
    mean_pose = np.concatenate([s.joints3d - s.joints3d[:, :1] for s in tiny_poses.train]).mean(0)
    baseline = metrics.mpjpe(np.broadcast_to(mean_pose, gt.shape), gt)
    err_coarse, err = metrics.mpjpe(coarse, gt), metrics.mpjpe(pred, gt)
    assert err_coarse < 0.75 * baseline, (err_coarse, baseline)
    assert err < err_coarse, (err, err_coarse)          # the geometric search helps on exact 2D
    assert np.allclose(pred[:, 0], 0) and np.allclose(coarse[:, 0], 0)


def test_search_switch(trained, tiny_poses):
    lifter, _, _ = trained
    s = tiny_poses.test[1]
    p2 = gt_pose2d(s)
    with_gs = lifter.predict(p2, s).joints
    coarse = lifter.last_coarse.joints
    without = lifter.predict(p2, s, search=False).joints
    assert np.array_equal(without, coarse)
    assert np.linalg.norm(with_gs - without, axis=-1).mean() > 1e-3
    off = build("lifter", {**SMALL, "geometric_search": False}, seed=0)
    off.load_state(lifter.state())
    assert np.allclose(off.predict(p2, s).joints, without, atol=1e-6)
    assert np.allclose(off.predict(p2, s, search=True).joints, with_gs, atol=1e-5)
    no_camera = lifter.predict(p2).joints                   # default intrinsics from the image size
    assert np.isfinite(no_camera).all() and np.allclose(no_camera[..., 0, :], 0)


def test_checkpoint_round_trip(trained, tiny_poses, tmp_path):
    lifter, _, _ = trained
    torch.save(lifter.state(), tmp_path / "ck.pt")
    other = build("lifter", SMALL, seed=1)
    other.load_state(torch.load(tmp_path / "ck.pt", weights_only=False))
    s = tiny_poses.test[0]
    p2 = gt_pose2d(s)
    assert np.allclose(lifter.predict(p2, s).joints, other.predict(p2, s).joints, atol=1e-5)
    assert np.allclose(lifter.last_coarse.joints, other.last_coarse.joints, atol=1e-6)
    assert not any(p.requires_grad for p in other.model.synth.parameters())


def test_bad_options_are_rejected():
    with pytest.raises(InputError, match="search_bone_prior"):
        build("lifter", {**SMALL, "search_bone_prior": "median"})
    with pytest.raises(InputError, match="baseline_m"):
        build("lifter", {**SMALL, "baseline_m": 0})
