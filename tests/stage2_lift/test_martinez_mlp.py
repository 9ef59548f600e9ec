import numpy as np
import pytest
import torch

from common import metrics
from common.errors import InputError
from common.handoff import Pose2DSeq
from common.registry import build
from pipelines.chain import gt_pose2d

import stage2_lift  # noqa: F401

SMALL = {"type": "martinez_mlp", "width": 128, "epochs": 12, "batch_size": 128}


def _eval(lifter, samples):
    pred = np.concatenate([lifter.predict(gt_pose2d(s)).joints[0] for s in samples])
    gt = np.concatenate([s.joints3d - s.joints3d[:, :1] for s in samples])
    return pred, gt


@pytest.fixture(scope="module")
def trained(tiny_poses):
    lifter = build("lifter", SMALL, seed=0)
    summary = lifter.fit(tiny_poses)
    return lifter, summary


def test_training_converges_and_beats_the_mean_pose(trained, tiny_poses):
    lifter, summary = trained
    assert summary["loss"][-1] < 0.6 * summary["loss"][0]
    pred, gt = _eval(lifter, tiny_poses.test)
    err = metrics.mpjpe(pred, gt)
    mean_pose = np.concatenate([s.joints3d - s.joints3d[:, :1] for s in tiny_poses.train]).mean(0)
    baseline = metrics.mpjpe(np.broadcast_to(mean_pose, gt.shape), gt)
    assert err < 0.75 * baseline, (err, baseline)
    assert np.allclose(pred[:, 0], 0)  # root-relative output


def test_flip_test_is_mirror_symmetric(trained, tiny_poses):
    lifter, _ = trained
    s = tiny_poses.test[0]
    p2 = gt_pose2d(s)
    w, h = p2.image_size
    perm = lifter.layout.flip_permutation
    mirrored = p2.keypoints[:, :, perm].copy()
    mirrored[..., 0] = w - mirrored[..., 0]
    a = lifter.predict(p2).joints
    b = lifter.predict(Pose2DSeq(mirrored, p2.scores, p2.image_size, p2.fps)).joints
    b = b[:, :, perm] * np.array([-1, 1, 1])
    assert np.abs(a - b).max() < 1e-4


def test_checkpoint_round_trip(trained, tiny_poses, tmp_path):
    lifter, _ = trained
    torch.save(lifter.state(), tmp_path / "ck.pt")
    other = build("lifter", SMALL, seed=1)
    other.load_state(torch.load(tmp_path / "ck.pt", weights_only=False))
    p2 = gt_pose2d(tiny_poses.test[0])
    assert np.allclose(lifter.predict(p2).joints, other.predict(p2).joints, atol=1e-6)


def test_wrong_layout_is_rejected(trained):
    lifter, _ = trained
    with pytest.raises(InputError, match="h36m17 layout"):
        lifter.predict(Pose2DSeq(np.zeros((1, 2, 17, 2)), np.ones((1, 2, 17)), (64, 64), layout="coco17"))
