"""The score-level ensemble: weights chosen on validation, 2D members beside 3D ones, bad options refused."""
import numpy as np
import pytest

import stage3_action  # noqa: F401
from common.errors import InputError
from common.registry import build
from pipelines.chain import gt_pose2d, gt_pose3d
from stage3_action.ensemble import choose_weights, simplex_grid

MEMBER = {"type": "pose_cnn", "epochs": 3, "width": 8}


def test_simplex_grid():
    g = simplex_grid(3, 0.1)
    assert g.shape == (66, 3) and np.allclose(g.sum(1), 1) and (g >= 0).all()
    assert len({tuple(r) for r in np.round(g, 6)}) == 66
    assert simplex_grid(1, 0.5).tolist() == [[1.0]]


def test_weights_follow_the_member_that_knows():
    """Member 0 is right on every clip, member 1 is confidently wrong: validation gives member 0 all the weight;
    with both half right (on different clips), both get weight."""
    y = np.array([0, 1, 2, 0, 1, 2])
    good = np.eye(3)[y] * 0.8 + 0.2 / 3
    bad = np.eye(3)[(y + 1) % 3] * 0.9 + 0.1 / 3
    assert choose_weights(np.stack([good, bad]), y, 0.1).tolist() == [1.0, 0.0]
    assert choose_weights(np.stack([bad, good]), y, 0.1, "top1").tolist() == [0.0, 1.0]
    half_a = np.where(np.arange(6)[:, None] < 3, good, bad)
    half_b = np.where(np.arange(6)[:, None] < 3, bad, good)
    w = choose_weights(np.stack([half_a, half_b]), y, 0.1)
    assert 0 < w[0] < 1 and abs(w[0] - 0.5) < 0.11


def test_stream_ensemble_trains_and_fuses(tiny_poses):
    cls = build("action", {"type": "ensemble", "input": "3d", "shared": MEMBER, "members": {
        "joints": {}, "bones": {"encoder_options": {"streams": ["bones"]}},
        "motion": {"encoder_options": {"streams": ["motion"]}}}}, seed=0)
    summary = cls.fit(tiny_poses)
    assert set(summary["weights"]) == {"joints", "bones", "motion"}
    assert abs(sum(summary["weights"].values()) - 1) < 1e-9
    assert set(summary["val_top1_members"]) == {"joints", "bones", "motion"}
    s = tiny_poses.test[0]
    r = cls.predict(gt_pose3d(s))
    assert r.scores.shape == (len(tiny_poses.action_names),) and abs(r.scores.sum() - 1) < 1e-5
    # the fused probability is the weighted sum of the members'
    members = [m.predict(gt_pose3d(s)).scores for m in cls.members.values()]
    assert np.allclose(r.scores, np.einsum("m,mc->c", cls.weights, members), atol=1e-6)
    # the weights are an inference option: chosen on the kept validation probabilities at load time
    again_val = build("action", {"type": "ensemble", "input": "3d", "shared": MEMBER, "weights": "val", "members": {
        "joints": {}, "bones": {"encoder_options": {"streams": ["bones"]}},
        "motion": {"encoder_options": {"streams": ["motion"]}}}}, seed=0)
    again_val.load_state(cls.state())
    assert np.allclose(again_val.weights, choose_weights(cls.val_probs, cls.val_labels, 0.1))
    assert cls.val_probs.shape == (3, len(tiny_poses.val), len(tiny_poses.action_names))
    # a checkpoint restores the same answer
    again = build("action", {"type": "ensemble", "input": "3d", "shared": MEMBER, "members": {
        "joints": {}, "bones": {"encoder_options": {"streams": ["bones"]}},
        "motion": {"encoder_options": {"streams": ["motion"]}}}}, seed=0)
    again.load_state(cls.state())
    assert np.allclose(again.predict(gt_pose3d(s)).scores, r.scores)


def test_2d_and_3d_members(tiny_poses):
    cls = build("action", {"type": "ensemble", "input": "3d", "shared": MEMBER, "weights": "equal",
                           "members": {"pose2d": {"input": "2d"}, "pose3d": {}}}, seed=0)
    assert cls.needs_pose2d
    cls.fit(tiny_poses)
    s = tiny_poses.test[0]
    r = cls.predict(gt_pose3d(s), pose2d=gt_pose2d(s))
    m2, m3 = cls.members["pose2d"], cls.members["pose3d"]
    assert np.allclose(r.scores, (m2.predict(gt_pose2d(s)).scores + m3.predict(gt_pose3d(s)).scores) / 2, atol=1e-6)
    with pytest.raises(InputError, match="pose2d"):
        cls.predict(gt_pose3d(s))
    # the report's figure: what the member reading the hand-off sees
    assert np.array_equal(cls.encoded_clip(gt_pose3d(s)), m3.encoded_clip(gt_pose3d(s)))
    assert np.array_equal(cls.encoded_clip(gt_pose2d(s)), m2.encoded_clip(gt_pose2d(s)))


@pytest.mark.parametrize("cfg,match", [
    ({}, "members"), ({"members": {"a": {}}}, "type"), ({"members": {"a": {"type": "ensemble"}}}, "type"),
    ({"members": {"a": MEMBER}, "weights": [1, 2]}, "weights"),
    ({"members": {"a": MEMBER}, "weight_step": 0.3}, "divide"),
    ({"members": {"a": MEMBER}, "criterion": "auc"}, "criterion"), ({"members": {"a": MEMBER}, "epochs": 3}, "unknown"),
    ({"members": {"a": {**MEMBER, "aug_sped": 1}}}, "unknown"),
    ({"members": {str(i): MEMBER for i in range(7)}, "weights": "val"}, "at most 6")])
def test_bad_options(cfg, match):
    with pytest.raises(InputError, match=match):
        build("action", {"type": "ensemble", **cfg})


def test_a_3d_member_needs_a_3d_ensemble():
    with pytest.raises(InputError, match="3D member"):
        build("action", {"type": "ensemble", "input": "2d", "members": {"a": {**MEMBER, "input": "3d"}}})


def test_pipeline_passes_the_lifters_2d(tiny_poses):
    """Through the chain: a 3D ensemble with a 2D member after a lifter is fed both hand-offs."""
    from pipelines.chain import Chain

    cfg = {"seed": 0, "data": {"dataset": "synthetic"}, "stages": {
        "stage2_lift": {"type": "martinez_mlp"},
        "stage3_action": {"type": "ensemble", "input": "3d", "members": {"a": {**MEMBER, "input": "2d"}, "b": MEMBER}}}}
    chain = Chain(cfg, "cpu")
    assert chain.parts["stage3_action"].needs_pose2d
    seen = {}
    chain.parts["stage2_lift"].predict = lambda p2, sample=None: gt_pose3d(sample)
    chain.parts["stage3_action"].predict = lambda seq, sample=None, pose2d=None: seen.update(seq=seq, pose2d=pose2d)
    s = tiny_poses.test[0]
    chain.run(None, s.fps, sample=s)
    assert seen["seq"].joints.shape[-1] == 3 and np.allclose(seen["pose2d"].keypoints[0], s.joints2d)
