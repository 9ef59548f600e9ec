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
from common.registry import build
from stage2_lift.mmpose_lifter import SHIPPED_CONFIG, config_path

SMALL = {"type": "mmpose_simplebaseline3d", "width": 64, "dropout": 0.1, "lr": 3e-3, "epochs": 12, "batch_size": 128}


def n_params(m):
    return sum(p.numel() for p in m.parameters())


@pytest.fixture(scope="module")
def trained(tiny_poses):
    lifter = build("lifter", SMALL, seed=0)
    summary = lifter.fit(tiny_poses)
    return lifter, summary


def test_builds_mmposes_shipped_network_at_its_size():
    p = config_path(SHIPPED_CONFIG)
    assert p.is_file() and p.name == "image-pose-lift_tcn_8xb64-200e_h36m.py"
    lifter = build("lifter", {"type": "mmpose_simplebaseline3d"})
    assert lifter.cfg["width"] == 1024 and lifter.cfg["dropout"] == 0.5
    net = lifter.build_model(34, 48)
    # mmpose's own classes, built by its registry
    assert type(net.lifter).__name__ == "PoseLifter"
    assert type(net.lifter.backbone).__name__ == "TCN"
    assert type(net.lifter.head).__name__ == "TemporalRegressionHead"
    assert net.lifter.head.num_joints == 16
    assert 4.2e6 < n_params(net) < 4.4e6, n_params(net)   # mmpose's figure for SimpleBaseline3D: 4.3 M
    net.eval()
    with torch.no_grad():
        assert net(torch.randn(7, 34)).shape == (7, 48)
        assert net(torch.randn(1, 34)).shape == (1, 48)
    net.train()
    assert net(torch.randn(4, 34)).shape == (4, 48)


def test_width_and_dropout_options():
    net = build("lifter", {**SMALL, "width": 32, "dropout": 0.3}).build_model(34, 48)
    assert net.lifter.backbone.stem_channels == 32 and net.lifter.head.in_channels == 32
    assert net.lifter.backbone.dropout.p == 0.3
    assert n_params(net) < 10_000


def test_swapped_config(tmp_path):
    cfg = tmp_path / "one_block.py"
    cfg.write_text("model = dict(type='PoseLifter', backbone=dict(type='TCN', in_channels=34, stem_channels=64, "
                   "num_blocks=1, kernel_sizes=(1, 1), dropout=0.0), head=dict(type='TemporalRegressionHead', "
                   "in_channels=64, num_joints=16, loss=dict(type='MSELoss')))\n")
    lifter = build("lifter", {"type": "mmpose_simplebaseline3d", "config": str(cfg), "width": None,
                              "dropout": None})
    net = lifter.build_model(34, 48)
    assert len(net.lifter.backbone.tcn_blocks) == 1 and net.lifter.backbone.stem_channels == 64
    assert net.lifter.backbone.dropout is None
    assert net(torch.randn(3, 34)).shape == (3, 48)
    with pytest.raises(InputError, match="not found"):
        build("lifter", {"type": "mmpose_simplebaseline3d", "config": str(tmp_path / "nope.py")}).build_model(34, 48)
    bad = tmp_path / "bad.py"
    bad.write_text("model = dict(type='TopdownPoseEstimator')\n")
    with pytest.raises(InputError, match="PoseLifter"):
        build("lifter", {"type": "mmpose_simplebaseline3d", "config": str(bad)}).build_model(34, 48)


def test_training_converges_and_beats_the_mean_pose(trained, tiny_poses):
    check_converges_and_beats_mean_pose(*trained, tiny_poses)


def test_checkpoint_round_trip(trained, tiny_poses, tmp_path):
    check_checkpoint_round_trip(trained[0], SMALL, tiny_poses.test[0], tmp_path)


def test_flip_test_is_mirror_symmetric(trained, tiny_poses):
    check_flip_symmetric(trained[0], tiny_poses.test[0])


def test_wrong_layout_is_rejected(trained):
    check_rejects_wrong_layout(trained[0])
