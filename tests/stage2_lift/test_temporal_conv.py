import dataclasses

import numpy as np
import pytest
import torch

from common.errors import InputError
from common.handoff import Pose2DSeq
from common.registry import build
from pipelines.chain import gt_pose2d

import stage2_lift  # noqa: F401
from lifter_checks import (check_checkpoint_round_trip, check_converges_and_beats_mean_pose, check_flip_symmetric,
                           check_rejects_wrong_layout)
from stage2_lift.temporal_conv import TemporalConvNet, receptive_field

SMALL = {"type": "temporal_conv", "channels": 64, "filter_widths": [3, 3], "epochs": 10, "batch_size": 64}
QUICK = {"type": "temporal_conv", "channels": 32, "filter_widths": [3, 3], "epochs": 1, "batch_size": 256}


def _slice(p2: Pose2DSeq, kp: np.ndarray) -> Pose2DSeq:
    return Pose2DSeq(kp, np.ones(kp.shape[:3], np.float32), p2.image_size, p2.fps, p2.layout)


@pytest.fixture(scope="module")
def trained(tiny_poses):
    lifter = build("lifter", SMALL, seed=0)
    summary = lifter.fit(tiny_poses)
    return lifter, summary


@pytest.fixture(scope="module")
def causal(tiny_poses):
    lifter = build("lifter", {**QUICK, "causal": True}, seed=0)
    lifter.fit(tiny_poses)
    return lifter


@pytest.fixture(scope="module")
def directed(tiny_poses):
    lifter = build("lifter", {**QUICK, "action_directed": True}, seed=0)
    summary = lifter.fit(tiny_poses)
    return lifter, summary


def test_training_converges_and_beats_the_mean_pose(trained, tiny_poses):
    check_converges_and_beats_mean_pose(*trained, tiny_poses)


def test_receptive_field():
    assert receptive_field([3, 3]) == 9
    assert receptive_field([3, 3, 3]) == 27
    assert receptive_field([3, 3, 3, 3, 3]) == 243
    assert receptive_field([5, 3, 1]) == 15
    for fw, causal in (([3, 3], False), ([5, 3], True), ([3, 3, 3], False)):
        net = TemporalConvNet(34, 48, fw, channels=16, causal=causal).eval()
        R = receptive_field(fw)
        assert net.receptive_field == R
        assert net(torch.zeros(2, R, 34)).shape == (2, 1, 48)
        assert net(torch.zeros(2, R + 6, 34)).shape == (2, 7, 48)
        with pytest.raises(ValueError):
            net(torch.zeros(2, R - 1, 34))
    assert build("lifter", {"type": "temporal_conv"}).receptive_field == 27
    with pytest.raises(InputError, match="odd"):
        build("lifter", {"type": "temporal_conv", "filter_widths": [3, 2]})


@pytest.mark.parametrize("T", [1, 4, 9, 24, 50])
def test_output_length_equals_input_length(trained, tiny_poses, T):
    lifter, _ = trained
    s = tiny_poses.test[0]
    kp = gt_pose2d(s).keypoints
    kp = np.concatenate([kp, kp[:, ::-1], kp], axis=1)[:, :T]          # up to 72 frames
    two = np.concatenate([kp, kp[:, ::-1]], axis=0)                     # two persons
    out = lifter.predict(_slice(gt_pose2d(s), two), s)
    assert out.joints.shape == (2, T, 17, 3)
    assert np.all(np.isfinite(out.joints))
    for p in range(2):  # persons lifted independently
        alone = lifter.predict(_slice(gt_pose2d(s), np.ascontiguousarray(two[p:p + 1])), s).joints[0]
        assert np.allclose(out.joints[p], alone, atol=1e-5)


def test_causal_output_ignores_the_future(causal, trained, tiny_poses):
    s = tiny_poses.test[1]
    p2 = gt_pose2d(s)
    t = 10
    changed = p2.keypoints.copy()
    changed[:, t + 1:] += np.random.default_rng(0).normal(0, 40, changed[:, t + 1:].shape).astype(np.float32)
    a = causal.predict(p2, s).joints
    b = causal.predict(_slice(p2, changed), s).joints
    assert np.abs(a[:, :t + 1] - b[:, :t + 1]).max() < 1e-6
    assert np.abs(a[:, t + 1:] - b[:, t + 1:]).max() > 1e-3
    # the centred model looks (R - 1) / 2 = 4 frames ahead
    lifter, _ = trained
    a = lifter.predict(p2, s).joints
    b = lifter.predict(_slice(p2, changed), s).joints
    assert np.abs(a[:, :t - 3] - b[:, :t - 3]).max() < 1e-6
    assert np.abs(a[:, t] - b[:, t]).max() > 1e-3


def test_action_directed_trains_one_expert_per_action(directed, tiny_poses):
    lifter, summary = directed
    actions = sorted({s.action for s in tiny_poses.train})
    assert sorted(lifter.experts) == actions and lifter.model is None
    assert summary["n_experts"] == len(actions)
    n_all = sum(s.n_frames for s in tiny_poses.train)
    assert summary["steps_per_model"] == max(1, n_all // QUICK["batch_size"]) * QUICK["epochs"]
    for a in actions:  # each expert sees only its action's frames, as many steps as the all-actions model
        e = summary["experts"][tiny_poses.action_names[a]]
        assert e["n_train_poses"] == sum(s.n_frames for s in tiny_poses.train if s.action == a)
        assert e["unit_epochs"] == pytest.approx(QUICK["epochs"] * n_all / e["n_train_poses"])


def test_action_directed_picks_the_expert_of_the_sample(directed, tiny_poses):
    lifter, _ = directed
    s = tiny_poses.test[0]
    p2 = gt_pose2d(s)
    other = next(a for a in lifter.experts if a != s.action)
    own = lifter.predict(p2, s).joints
    assert lifter.model_for(s) is lifter.experts[s.action]
    swapped = lifter.predict(p2, dataclasses.replace(s, action=other)).joints
    assert np.abs(own - swapped).max() > 1e-4
    with pytest.raises(InputError, match="action_directed=false"):
        lifter.predict(p2)
    with pytest.raises(InputError, match="no expert"):
        lifter.predict(p2, dataclasses.replace(s, action=99))


def test_action_directed_checkpoint_round_trip(directed, tiny_poses, tmp_path):
    lifter, _ = directed
    torch.save(lifter.state(), tmp_path / "ck.pt")
    other = build("lifter", {**QUICK, "action_directed": True}, seed=1)
    other.load_state(torch.load(tmp_path / "ck.pt", weights_only=False))
    assert sorted(other.experts) == sorted(lifter.experts)
    for s in tiny_poses.test[:3]:
        assert np.allclose(lifter.predict(gt_pose2d(s), s).joints, other.predict(gt_pose2d(s), s).joints, atol=1e-6)
    with pytest.raises(InputError, match="action_directed"):
        build("lifter", QUICK).load_state(lifter.state())


def test_checkpoint_round_trip(trained, tiny_poses, tmp_path):
    check_checkpoint_round_trip(trained[0], SMALL, tiny_poses.test[0], tmp_path)


def test_flip_test_is_mirror_symmetric(trained, tiny_poses):
    check_flip_symmetric(trained[0], tiny_poses.test[0])


def test_wrong_layout_is_rejected(trained):
    check_rejects_wrong_layout(trained[0])
