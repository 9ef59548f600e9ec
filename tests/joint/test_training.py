"""Training and test-time options of the joint mode: per-task optimiser states and the flip test."""
import copy

import numpy as np
import pytest
import torch

from common.skeleton import get_layout
from common.synth.world import build_synthetic
from joint import JOINT_DEFAULTS, build_network
from joint.data import TrainStore
from joint.evaluate import run_sequence
from joint.trainer import train

SMALL = dict(width=0.25, features=16, growth=8, pyramids=2, levels=3, n_pose_features=16, n_app_features=16,
             input_size=64)
TINY = {"frames": 12, "image_size": 128, "subjects": {"train": 1, "val": 1, "test": 1},
        "per_class": {"train": 1, "val": 1, "test": 1}}


def _net(seed: int = 0):
    torch.manual_seed(seed)
    return build_network({**copy.deepcopy(JOINT_DEFAULTS), **SMALL}, 17, 12)


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    ds = build_synthetic(TINY, cache_dir=tmp_path_factory.mktemp("cache"), progress=False)
    return TrainStore(ds.train, 64, 1.25, 2.0, 0.25, JOINT_DEFAULTS["augment"], 0, progress=False)


def _stem(net) -> torch.Tensor:
    return torch.cat([p.detach().flatten().clone() for p in net.stem.parameters()])


def _pose_and_action_moves(store, monkeypatch, separate: bool, action_weight: float):
    """How far one joint-phase step moves the entry flow: (pose batch, action batch)."""
    net = _net()
    snaps = [_stem(net)]
    sample = TrainStore.action_batch
    monkeypatch.setattr(store, "action_batch", lambda *a, **k: (snaps.append(_stem(net)), sample(store, *a, **k))[1])
    cfg = {**copy.deepcopy(JOINT_DEFAULTS["train"]), "pose_steps": 0, "action_steps": 0, "joint_steps": 1,
           "pose_batch": 4, "clips_per_batch": 2, "clip_len": 4, "optimizer": "rmsprop", "lr": 1e-3,
           "separate_optimizers": separate, "action_weight": action_weight, "decoupled_poses": False}
    train(net, store, cfg, "cpu", seed=0, log=lambda _: None)
    snaps.append(_stem(net))
    return float((snaps[1] - snaps[0]).norm()), float((snaps[2] - snaps[1]).norm())


def test_separate_optimiser_states_make_action_steps_independent_of_pose_steps(store, monkeypatch):
    """With their own RMSprop state (the authors' two compiled models) an action batch moves the shared layers by
    a step set by its own gradients alone, the same for a loss weight of 0.01 or 1; sharing the state with the
    pose batches, the pose gradients enter the scale and the weight changes the step."""
    sep = [_pose_and_action_moves(store, monkeypatch, True, w) for w in (0.01, 1.0)]
    shared = [_pose_and_action_moves(store, monkeypatch, False, w) for w in (0.01, 1.0)]
    assert sep[0][0] > 0 and sep[1][0] == pytest.approx(sep[0][0], rel=1e-4) == shared[0][0]  # the pose batch first
    assert abs(sep[0][1] - sep[1][1]) < 0.01 * sep[0][1]
    assert abs(shared[0][1] - shared[1][1]) > 0.05 * shared[1][1]


def test_flip_test_is_mirror_symmetric():
    """Evaluated with the flip test, a mirrored sequence gives the mirrored poses (x -> 1 - x, left and right
    exchanged) and the same action scores; without it, the direct run alone."""
    net = _net().eval()
    perm = get_layout("h36m17").flip_permutation
    frames = torch.randn(10, 3, 64, 64, generator=torch.Generator().manual_seed(1))
    poses, logp = run_sequence(net, frames, 4, 2, flip_perm=perm)
    poses_m, logp_m = run_sequence(net, frames.flip(-1), 4, 2, flip_perm=perm)
    for p, q in zip(poses, poses_m):
        mirrored = np.concatenate([1.0 - q[:, perm, :1], q[:, perm, 1:]], -1)
        np.testing.assert_allclose(p, mirrored, atol=1e-5)
    for a, b in zip(logp, logp_m):
        np.testing.assert_allclose(a, b, atol=1e-4)
    direct, logp1 = run_sequence(net, frames, 4, 2)
    with torch.no_grad():
        ref = net(frames)["poses"]
    np.testing.assert_allclose(direct[-1], ref[-1].numpy(), atol=1e-5)
    assert logp1[-1].shape == logp[-1].shape and not np.allclose(direct[-1], poses[-1])
    np.testing.assert_allclose(np.exp(logp1[-1]).sum(-1), 1.0, atol=1e-5)


def test_a_crashed_training_resumes_from_its_snapshot_and_ends_with_the_same_weights(store, monkeypatch, tmp_path):
    """Inside ``common.resume.resuming`` the joint trainer saves its state every SNAPSHOT_EVERY steps; a run cut by
    an error in its joint phase, started again, restores the finished phases and the cut one's last snapshot and
    ends with the weights of a run that was never cut."""
    import joint.trainer as trainer
    from common.resume import resuming

    monkeypatch.setattr(trainer, "SNAPSHOT_EVERY", 2)
    cfg = {**copy.deepcopy(JOINT_DEFAULTS["train"]), "pose_steps": 3, "action_steps": 2, "joint_steps": 6,
           "pose_batch": 4, "clips_per_batch": 2, "clip_len": 4, "decoupled_poses": False}

    def run(crash_at=None):
        net, calls = _net(), {"n": 0}
        sample = TrainStore.action_batch

        def action_batch(*a, **k):
            calls["n"] += 1
            if calls["n"] == crash_at:
                raise KeyboardInterrupt
            return sample(store, *a, **k)

        monkeypatch.setattr(store, "action_batch", action_batch)
        torch.manual_seed(0)
        with resuming(tmp_path / "snap", keep=True):
            train(net, store, cfg, "cpu", seed=0, log=lambda _: None)
        return net, calls["n"]

    straight, n_straight = run()
    assert n_straight == 2 + 6
    (tmp_path / "snap").rename(tmp_path / "snap_straight")
    with pytest.raises(KeyboardInterrupt):
        run(crash_at=2 + 5)  # the 5th joint step: steps 1-4 are in the snapshot
    assert sorted(p.name for p in (tmp_path / "snap").iterdir()) == ["loop0.pt", "loop1.pt", "loop2.pt"]
    resumed, n_resumed = run()
    assert n_resumed == 2  # only joint steps 5 and 6 ran again
    for a, b in zip(straight.state_dict().values(), resumed.state_dict().values()):
        assert torch.equal(a, b)
