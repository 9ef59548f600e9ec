"""The multi-task network of Luvizon et al. 2021: pose regression (eqs. 6-9), blocks, wiring, cuts, decoupled poses."""
import pytest
import torch

from joint import JOINT_DEFAULTS, build_network
from joint.losses import action_loss, elastic_net, pose_loss
from joint.network import MultitaskNet
from joint.regression import confidence, depth_pool, regress, soft_argmax, spatial_softmax
from joint.stems import STEMS

SMALL = dict(width=0.25, features=16, growth=8, pyramids=2, levels=3, n_pose_features=16, n_app_features=16)


def _delta(h, w, r, c):
    m = torch.zeros(1, 1, h, w)
    m[0, 0, r, c] = 1.0
    return m


def test_soft_argmax_cell_centres_and_uniform():
    xy = soft_argmax(_delta(4, 8, 1, 6))[0, 0]
    assert torch.allclose(xy, torch.tensor([6.5 / 8, 1.5 / 4]))
    assert torch.allclose(soft_argmax(torch.full((1, 1, 5, 5), 1 / 25))[0, 0], torch.tensor([0.5, 0.5]))


def test_spatial_softmax_depth_pool_confidence():
    logits = torch.randn(2, 3, 6, 7)
    h = spatial_softmax(logits)
    assert torch.allclose(h.flatten(2).sum(-1), torch.ones(2, 3))
    d = torch.full_like(h, 0.3)
    assert torch.allclose(depth_pool(h, d), torch.full((2, 3), 0.3))
    assert confidence(_delta(4, 4, 2, 2)).item() == 1.0
    assert confidence(torch.full((1, 1, 4, 4), 1 / 16)).item() == pytest.approx(1 / 16)
    # a sharp peak: soft-argmax lands on it, depth is read there (eq. 9)
    peak = torch.full((1, 1, 8, 8), -30.0)
    peak[0, 0, 3, 5] = 30.0
    dmap = torch.zeros(1, 1, 8, 8)
    dmap[0, 0, 3, 5] = 10.0
    _, _, pose = regress(peak, dmap)
    assert torch.allclose(pose[0, 0], torch.tensor([5.5 / 8, 3.5 / 8, torch.sigmoid(torch.tensor(10.0)), 1.0]),
                          atol=1e-4)


@pytest.mark.parametrize("stem", sorted(STEMS))
def test_entry_flows_reduce_by_8(stem):
    net = MultitaskNet(17, 5, entry_flow=stem, **SMALL).eval()
    with torch.no_grad():
        f = net.stem(torch.zeros(2, 3, 64, 64))
    assert f.shape == (2, 16, 8, 8)


def test_blocks_outputs_and_cut():
    torch.manual_seed(0)
    net = MultitaskNet(17, 5, **SMALL, action_pyramids=[2]).eval()
    assert net.blocks == [(1, 1, "down"), (1, 2, "down"), (2, 1, "up"), (2, 0, "up")]
    x = torch.randn(2 * 4, 3, 64, 64)
    with torch.no_grad():
        out = net(x, clip_len=4)
        cut = net(x, clip_len=4, upto=2)
        pose_only = net(x)
    assert len(out["poses"]) == 4 and all(p.shape == (8, 17, 4) for p in out["poses"])
    assert [a is None for a in out["actions"]] == [True, True, False, False]
    assert out["actions"][-1].shape == (2, 5)
    assert len(cut["poses"]) == 3 and torch.allclose(cut["poses"][2], out["poses"][2])
    assert torch.allclose(cut["actions"][2], out["actions"][2])
    assert all(a is None for a in pose_only["actions"]) and torch.allclose(pose_only["poses"][-1], out["poses"][-1])
    p = out["poses"][-1]
    assert float(p[..., :3].min()) >= 0 and float(p[..., :3].max()) <= 1
    with pytest.raises(ValueError, match="upto"):
        net(x, upto=4)


@pytest.mark.parametrize("features", ["pose", "appearance", "combined"])
def test_action_features_switch(features):
    net = MultitaskNet(17, 3, **SMALL, action_features=features)
    ab = net.actions["0"]
    assert hasattr(ab, "pose_convs") == (features != "appearance")
    assert hasattr(ab, "app_proj") == (features != "pose")
    out = net(torch.randn(4, 3, 64, 64), clip_len=2)
    assert out["actions"][-1].shape == (2, 3)


def test_decoupled_poses_route_action_gradients_through_the_replica():
    torch.manual_seed(0)
    net = MultitaskNet(17, 3, **SMALL, decoupled_poses=True)
    x, y = torch.randn(4, 3, 64, 64), torch.tensor([0, 2])
    pb = net.poses[-1]    # the last block: its W_h reaches the action loss only through its own action part
    action_loss(net(x, clip_len=2)["actions"], y).backward()
    assert pb.w_h.weight.grad is not None and pb.replica["w_h"].weight.grad is None   # coupled: through W_h
    net.zero_grad(set_to_none=True)
    net.copy_replicas()
    assert pb.decoupled and torch.equal(pb.replica["w_h"].weight, pb.w_h.weight)
    net.eval()
    with torch.no_grad():
        before = net(x, clip_len=2)
        pb.replica["w_h"].weight.add_(0.5)
        after = net(x, clip_len=2)
    assert torch.allclose(before["poses"][-1], after["poses"][-1])          # pose outputs keep W_h
    assert not torch.allclose(before["actions"][-1], after["actions"][-1])  # the action part reads W'_h
    net.train()
    action_loss(net(x, clip_len=2)["actions"], y).backward()
    assert pb.w_h.weight.grad is None and pb.replica["w_h"].weight.grad is not None
    assert bool(net.state_dict()["poses.3._decoupled"])


def test_elastic_net_counts_only_available_coordinates():
    pred = torch.zeros(1, 2, 3, requires_grad=True)
    target = torch.tensor([[[0.5, 0.5, 0.9], [0.2, 0.2, 0.2]]])
    mask = torch.tensor([[[1.0, 1.0, 0.0], [0.0, 0.0, 0.0]]])  # joint 0: 2D only; joint 1: outside the crop
    loss = elastic_net(pred, target, mask)
    assert loss.item() == pytest.approx(0.5 + 0.5 + 0.25 + 0.25)           # eq. 11 on (x, y) of one joint
    loss.backward()
    assert pred.grad[0, 0, 2] == 0 and torch.all(pred.grad[0, 1] == 0)


def test_supervise_last_ignores_earlier_blocks():
    target, mask, vis = torch.full((1, 1, 3), 0.5), torch.ones(1, 1, 3), torch.ones(1, 1)
    good = torch.tensor([[[0.5, 0.5, 0.5, 0.9]]])
    bad = torch.tensor([[[0.0, 0.0, 0.0, 0.9]]])
    assert pose_loss([bad, good], target, mask, vis, "last") < pose_loss([bad, good], target, mask, vis, "all")
    assert pose_loss([bad, good], target, mask, vis, "last") == pose_loss([good], target, mask, vis, "all")


@pytest.mark.parametrize("stem", ["inception", "vgg16"])
def test_paper_scale_builds_and_runs_a_forward_pass(stem):
    """256 x 256 input, P = 8, L = 4, 288 + 96 l features, actions on pyramids 5-8 (section 4.2.2)."""
    cfg = {**JOINT_DEFAULTS, "entry_flow": stem, "input_size": 256, "pyramids": 8, "levels": 4, "features": 288,
           "growth": 96, "width": 1.0, "action_pyramids": [5, 6, 7, 8], "n_pose_features": 160,
           "n_app_features": 160}
    net = build_network(cfg, 17, 15).eval()
    assert net.n_blocks == 24
    n_params = sum(p.numel() for p in net.parameters())
    assert 15e6 < n_params < 40e6, n_params                                 # Table 4: 26M for P = 8, L = 4
    with torch.no_grad():
        out = net(torch.randn(2, 3, 256, 256), clip_len=2)
    assert len(out["poses"]) == 24 and out["poses"][0].shape == (2, 17, 4)
    assert sum(a is not None for a in out["actions"]) == 12 and out["actions"][-1].shape == (1, 15)
