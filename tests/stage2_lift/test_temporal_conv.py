import dataclasses

import numpy as np
import pytest
import torch
from lifter_checks import (
    check_checkpoint_round_trip,
    check_converges_and_beats_mean_pose,
    check_flip_symmetric,
    check_rejects_wrong_layout,
)

import stage2_lift  # noqa: F401
from common.errors import InputError
from common.handoff import Pose2DSeq
from common.registry import build
from common.resample import n_resampled, resample_time
from pipelines.chain import gt_pose2d
from stage2_lift.temporal_conv_net import TemporalConvNet, receptive_field

SMALL = {"type": "temporal_conv", "channels": 64, "filter_widths": [3, 3], "epochs": 10, "batch_size": 64}
QUICK = {"type": "temporal_conv", "channels": 32, "filter_widths": [3, 3], "epochs": 1, "batch_size": 256}


def _slice(p2: Pose2DSeq, kp: np.ndarray, fps=None) -> Pose2DSeq:
    return Pose2DSeq(kp, np.ones(kp.shape[:3], np.float32), p2.image_size, p2.fps if fps is None else fps, p2.layout)


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
def native(tiny_poses):
    """A lifter that uses every sequence at its own rate (fps null, the behaviour before the option)."""
    lifter = build("lifter", {**QUICK, "fps": None}, seed=0)
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


# ---------------------------------------------------------------------- frame rate (option fps)
def test_training_resamples_each_sample_to_the_network_rate(tiny_poses):
    samples = [dataclasses.replace(s, fps=f) for s, f in zip(tiny_poses.train[:3], (10.0, 25.0, 120.0))]
    lifter = build("lifter", QUICK)                                           # fps 25 by default
    w = lifter._windows(samples)
    n = [n_resampled(s.n_frames, s.fps, 25.0) for s in samples]
    assert n[0] > samples[0].n_frames > n[2]
    assert len(w["start"]) == sum(n) and len(w["K"]) == sum(n) and len(w["action"]) == sum(n)
    pl, pr = lifter.pad_left_right
    first = w["j3"][pl:pl + n[0]].numpy()                                     # the 10 fps sample, at 25 fps
    assert np.allclose(first, resample_time(samples[0].joints3d, 10.0, 25.0), atol=1e-6)
    second = w["j3"][n[0] + pl + pr + pl:][:n[1]].numpy()                     # the 25 fps one, as it was
    assert np.allclose(second, samples[1].joints3d, atol=1e-6)
    c = samples[0].camera
    assert np.allclose(w["K"][0].numpy(), [c.fx, c.fy, c.cx, c.cy])
    native = build("lifter", {**QUICK, "fps": None})._windows(samples)       # each at its own rate
    assert len(native["start"]) == sum(s.n_frames for s in samples)


def test_invalid_fps_is_rejected():
    for bad in (0, -25, "fast", float("nan"), True):
        with pytest.raises(InputError, match="fps"):
            build("lifter", {**QUICK, "fps": bad})
    assert build("lifter", {**QUICK, "fps": 30}).cfg["fps"] == 30.0
    assert build("lifter", {**QUICK, "fps": None}).cfg["fps"] is None


@pytest.mark.parametrize("fps", [10.0, 120.0])
@pytest.mark.parametrize("T", [1, 2, 5, 24, 50])
def test_output_length_equals_input_length_at_other_frame_rates(trained, causal, tiny_poses, fps, T):
    s = tiny_poses.test[0]
    kp = gt_pose2d(s).keypoints
    kp = np.concatenate([kp, kp[:, ::-1], kp], axis=1)[:, :T]
    two = np.concatenate([kp, kp[:, ::-1]], axis=0)
    for lifter in (trained[0], causal):
        out = lifter.predict(_slice(gt_pose2d(s), two, fps), s)
        assert out.joints.shape == (2, T, 17, 3) and out.fps == fps
        assert np.all(np.isfinite(out.joints))
        for p in range(2):
            alone = lifter.predict(_slice(gt_pose2d(s), np.ascontiguousarray(two[p:p + 1]), fps), s).joints[0]
            assert np.allclose(out.joints[p], alone, atol=1e-5)


def test_a_faster_copy_lifts_like_the_original(trained, tiny_poses):
    """A 50 fps copy of a 25 fps sequence (frames interpolated in between) gives the 25 fps result at the
    original frames; a 30 fps copy gives nearly the 25 fps result at its own frame times."""
    lifter, _ = trained
    err30, err_native = [], []
    for s in tiny_poses.test:
        p2 = gt_pose2d(s)
        a = lifter.predict(p2, s).joints
        kp50 = resample_time(p2.keypoints, 25, 50, axis=1)
        assert kp50.shape[1] == 2 * p2.n_frames - 1
        b = lifter.predict(_slice(p2, kp50, 50.0), s).joints
        assert b.shape[1] == kp50.shape[1]
        assert np.abs(b[:, ::2] - a).max() < 1e-3                               # within 1 mm at the 25 fps frames
        assert np.abs(b[:, 1::2] - (b[:, :-1:2] + b[:, 2::2]) / 2).max() < 1e-5  # linear in between
        kp30 = resample_time(p2.keypoints, 25, 30, axis=1)
        d = lifter.predict(_slice(p2, kp30, 30.0), s).joints
        err30.append(np.linalg.norm(d - resample_time(a, 25, 30, axis=1), axis=-1).mean())
        if len(err_native) < 4:  # without resampling the 50 fps copy is seen in slow motion: a different 3D
            lifter.cfg["fps"] = None
            try:
                c = lifter.predict(_slice(p2, kp50, 50.0), s).joints
            finally:
                lifter.cfg["fps"] = 25.0
            err_native.append(np.linalg.norm(c[:, ::2] - a, axis=-1).mean())
    assert np.mean(err30) < 0.003, np.mean(err30)                                # a few mm
    assert min(err_native) > 0.001, err_native


@pytest.mark.parametrize("fps", [10.0, 30.0, 120.0])
def test_causal_output_ignores_the_future_at_other_frame_rates(causal, trained, tiny_poses, fps):
    s = tiny_poses.test[1]
    p2 = _slice(gt_pose2d(s), gt_pose2d(s).keypoints, fps)                     # the same frames, another rate
    assert causal.resamples(p2.fps)
    a = causal.predict(p2, s).joints
    for t in (0, 3, 10, 17, 22):
        changed = p2.keypoints.copy()
        changed[:, t + 1:] += np.random.default_rng(t).normal(0, 40, changed[:, t + 1:].shape).astype(np.float32)
        b = causal.predict(_slice(p2, changed), s).joints
        assert np.abs(a[:, :t + 1] - b[:, :t + 1]).max() < 1e-6, t
        assert np.abs(a[:, t + 1:] - b[:, t + 1:]).max() > 1e-3, t
        only = p2.keypoints.copy()                                             # the output at t uses frame t
        only[:, t] += 40.0
        c = causal.predict(_slice(p2, only), s).joints
        assert np.abs(a[:, :t] - c[:, :t]).max(initial=0) < 1e-6 and np.abs(a[:, t] - c[:, t]).max() > 1e-3, t
    # the centred model does look ahead
    lifter, _ = trained
    changed = p2.keypoints.copy()
    changed[:, 11:] += 40.0
    ahead = lifter.predict(_slice(p2, changed), s).joints
    assert np.abs(lifter.predict(p2, s).joints[:, 10] - ahead[:, 10]).max() > 1e-3


def test_causal_lifts_a_50fps_copy_like_the_original(causal, tiny_poses):
    s = tiny_poses.test[3]
    p2 = gt_pose2d(s)
    kp50 = resample_time(p2.keypoints, 25, 50, axis=1)
    a = causal.predict(p2, s).joints
    b = causal.predict(_slice(p2, kp50, 50.0), s).joints
    assert b.shape[1] == kp50.shape[1] and np.abs(b[:, ::2] - a).max() < 1e-5


def test_native_rate_lifter_ignores_the_frame_rate(native, tiny_poses, tmp_path):
    s = tiny_poses.test[0]
    p2 = gt_pose2d(s)
    a = native.predict(p2, s).joints
    assert not native.resamples(120.0)
    assert np.array_equal(native.predict(_slice(p2, p2.keypoints, 120.0), s).joints, a)
    other = check_checkpoint_round_trip(native, {**QUICK, "fps": None}, s, tmp_path)
    assert other.cfg["fps"] is None


def test_checkpoint_keeps_the_frame_rate(trained, causal, native, tiny_poses, tmp_path):
    st = causal.state()
    assert st["fps"] == 25.0
    with pytest.raises(InputError, match="fps=25"):
        build("lifter", {**QUICK, "causal": True, "fps": 30.0}).load_state(st)
    with pytest.raises(InputError, match="fps=null"):
        build("lifter", {**QUICK, "causal": True}).load_state(native.state())
    # a checkpoint from before the option (no fps anywhere) was trained at the sequences' own rates
    old = {k: v for k, v in native.state().items() if k != "fps"}
    old["cfg"] = {k: v for k, v in old["cfg"].items() if k != "fps"}
    build("lifter", {**QUICK, "fps": None}).load_state(old)
    with pytest.raises(InputError, match="fps"):
        build("lifter", QUICK).load_state(old)
    # the copy lifts a sequence at another rate as the original does
    s = tiny_poses.test[2]
    p2 = _slice(gt_pose2d(s), gt_pose2d(s).keypoints, 120.0)
    torch.save(trained[0].state(), tmp_path / "ck.pt")
    copy = build("lifter", SMALL, seed=1)
    copy.load_state(torch.load(tmp_path / "ck.pt", weights_only=False))
    assert np.allclose(copy.predict(p2, s).joints, trained[0].predict(p2, s).joints, atol=1e-6)
