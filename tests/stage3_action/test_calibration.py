"""What makes a classifier's answer usable on real video: calibrated probabilities (temperature scaling), the
training frame rate matched at inference, the open-set threshold and the saved state that carries them."""
import numpy as np
import pytest
import torch
from torch import nn

import stage3_action  # noqa: F401
from common.handoff import Pose3DSeq
from common.registry import build
from pipelines.chain import gt_pose3d
from stage3_action.classifier import fit_temperature


class _Fixed(nn.Module):
    """Returns the i-th row of a fixed logit table for input i."""

    def __init__(self, logits):
        super().__init__()
        self.logits = logits

    def forward(self, x):
        return self.logits[x.long().view(-1)]


@pytest.mark.parametrize("k", [0.5, 3.0])
def test_temperature_recovers_the_scale_of_over_and_under_confident_logits(k):
    """Labels drawn from softmax(z); the model says k * z: the fitted temperature is k."""
    g = torch.Generator().manual_seed(0)
    z = 2 * torch.randn(4000, 5, generator=g)
    y = torch.multinomial(torch.softmax(z, -1), 1, generator=g).view(-1)
    t = fit_temperature(_Fixed(k * z), torch.arange(4000), y)
    assert t == pytest.approx(k, rel=0.1)


def _trained(tiny_poses, **opts):
    cls = build("action", {"type": "pose_cnn", "input": "3d", "epochs": 3, "width": 8, **opts}, seed=0)
    cls.fit(tiny_poses)
    return cls


def test_fit_records_rate_length_and_temperature_and_state_keeps_them(tiny_poses):
    cls = _trained(tiny_poses)
    assert cls.train_fps == pytest.approx(np.median([s.fps for s in tiny_poses.train]))
    assert cls.train_frames == pytest.approx(np.median([s.n_frames for s in tiny_poses.train]))
    assert cls.window_seconds() == pytest.approx(cls.train_frames / cls.train_fps)
    assert cls.temperature > 0 and cls.temperature != 1.0
    other = build("action", {"type": "pose_cnn", "input": "3d", "epochs": 3, "width": 8}, seed=0)
    other.load_state(cls.state())
    s = tiny_poses.test[0]
    assert other.temperature == cls.temperature and other.train_fps == cls.train_fps
    assert other.train_frames == cls.train_frames and other.window_seconds() == cls.window_seconds()
    a, b = other.predict(gt_pose3d(s)), cls.predict(gt_pose3d(s))
    np.testing.assert_allclose(a.scores, b.scores, atol=1e-6)
    assert a.distance == pytest.approx(b.distance, abs=1e-6) and np.isfinite(a.distance)


def test_input_at_another_frame_rate_is_resampled_to_the_training_rate(tiny_poses):
    cls = _trained(tiny_poses)
    seq = gt_pose3d(tiny_poses.test[0])
    x, sc = cls._coords(seq)
    assert len(x) == seq.n_frames  # same rate: untouched
    half = Pose3DSeq(seq.joints[:, ::2], seq.scores[:, ::2], seq.fps / 2, seq.layout)
    x2, sc2 = cls._coords(half)
    assert len(x2) == 2 * half.n_frames - 1 and sc2.shape == x2.shape[:2]
    np.testing.assert_allclose(x2[::2], half.joints[0], atol=1e-6)  # the original frames are kept
    np.testing.assert_allclose(x2[1], (half.joints[0, 0] + half.joints[0, 1]) / 2, atol=1e-6)


def test_unknown_threshold_changes_only_the_decision(tiny_poses):
    cls = _trained(tiny_poses)
    s = gt_pose3d(tiny_poses.test[0])
    r0 = cls.predict(s)
    cls.cfg["unknown_threshold"] = 1.01
    r1 = cls.predict(s)
    np.testing.assert_allclose(r1.scores, r0.scores)
    assert r1.decision == "unknown" and r0.decision == r0.label and r1.label == r0.label
    assert "unknown_threshold" in cls.inference_options  # switching it reuses the checkpoint


def test_open_set_distance_from_the_training_clips(tiny_poses):
    cls = _trained(tiny_poses)
    assert cls.bank is not None and cls.bank.dtype == np.float16 and len(cls.bank) == len(tiny_poses.train)
    np.testing.assert_allclose(np.linalg.norm(cls.bank.astype(np.float32), axis=1), 1, atol=1e-2)
    train_seq = gt_pose3d(tiny_poses.train[0])
    near = cls.predict(train_seq).distance
    rng = np.random.default_rng(0)
    noise = Pose3DSeq(rng.normal(0, 0.5, train_seq.joints.shape).astype(np.float32), train_seq.scores, train_seq.fps)
    far = cls.predict(noise).distance
    assert 0 <= near < far <= 2
    cls.cfg["unknown_distance"] = (near + far) / 2
    assert not cls.predict(train_seq).unknown and cls.predict(noise).unknown
    assert "unknown_distance" in cls.inference_options
    # a checkpoint without a bank (saved before the distance existed): NaN, never "unknown" by distance
    state = cls.state()
    state.pop("bank")
    cls.load_state(state)
    r = cls.predict(noise)
    assert np.isnan(r.distance) and not r.unknown and r.to_json()["distance"] is None
