"""What every trained lifter must satisfy, shared by the per-lifter test files (each trains its own small model
in a module fixture and calls these)."""
import numpy as np
import pytest
import torch

from common import metrics
from common.errors import InputError
from common.handoff import Pose2DSeq
from common.registry import build
from pipelines.chain import gt_pose2d


def lift(lifter, samples):
    """(predicted, ground-truth) root-relative 3D of ``samples`` lifted from their exact 2D."""
    pred = np.concatenate([lifter.predict(gt_pose2d(s), s).joints[0] for s in samples])
    gt = np.concatenate([s.joints3d - s.joints3d[:, :1] for s in samples])
    return pred, gt


def check_converges_and_beats_mean_pose(lifter, summary, data, ratio: float = 0.75) -> float:
    """Training loss fell; test MPJPE below ``ratio`` x that of the training set's mean pose; root-relative."""
    assert summary["loss"][-1] < 0.6 * summary["loss"][0], summary["loss"]
    pred, gt = lift(lifter, data.test)
    err = metrics.mpjpe(pred, gt)
    mean_pose = np.concatenate([s.joints3d - s.joints3d[:, :1] for s in data.train]).mean(0)
    baseline = metrics.mpjpe(np.broadcast_to(mean_pose, gt.shape), gt)
    assert err < ratio * baseline, (err, baseline)
    assert np.allclose(pred[:, 0], 0)
    return err


def check_flip_symmetric(lifter, sample, atol: float = 1e-4) -> None:
    """With flip test, the mirrored input gives the mirrored output."""
    p2 = gt_pose2d(sample)
    w, _ = p2.image_size
    perm = lifter.layout.flip_permutation
    mirrored = p2.keypoints[:, :, perm].copy()
    mirrored[..., 0] = w - mirrored[..., 0]
    a = lifter.predict(p2).joints
    b = lifter.predict(Pose2DSeq(mirrored, p2.scores, p2.image_size, p2.fps)).joints
    assert np.abs(a - b[:, :, perm] * np.array([-1, 1, 1])).max() < atol


def check_checkpoint_round_trip(lifter, cfg: dict, sample, tmp_path):
    """``state()`` saved with torch and loaded into a fresh lifter predicts the same; returns the copy."""
    torch.save(lifter.state(), tmp_path / "ck.pt")
    other = build("lifter", cfg, seed=1)
    other.load_state(torch.load(tmp_path / "ck.pt", weights_only=False))
    p2 = gt_pose2d(sample)
    assert np.allclose(lifter.predict(p2, sample).joints, other.predict(p2, sample).joints, atol=1e-6)
    return other


def check_rejects_wrong_layout(lifter) -> None:
    with pytest.raises(InputError, match="h36m17 layout"):
        lifter.predict(Pose2DSeq(np.zeros((1, 2, 17, 2)), np.ones((1, 2, 17)), (64, 64), layout="coco17"))
