import pytest
from lifter_checks import (
    check_checkpoint_round_trip,
    check_converges_and_beats_mean_pose,
    check_flip_symmetric,
    check_rejects_wrong_layout,
)

import stage2_lift  # noqa: F401
from common.registry import build

SMALL = {"type": "martinez_mlp", "width": 128, "epochs": 12, "batch_size": 128}


@pytest.fixture(scope="module")
def trained(tiny_poses):
    lifter = build("lifter", SMALL, seed=0)
    summary = lifter.fit(tiny_poses)
    return lifter, summary


def test_training_converges_and_beats_the_mean_pose(trained, tiny_poses):
    check_converges_and_beats_mean_pose(*trained, tiny_poses)


def test_flip_test_is_mirror_symmetric(trained, tiny_poses):
    check_flip_symmetric(trained[0], tiny_poses.test[0])


def test_checkpoint_round_trip(trained, tiny_poses, tmp_path):
    check_checkpoint_round_trip(trained[0], SMALL, tiny_poses.test[0], tmp_path)


def test_wrong_layout_is_rejected(trained):
    check_rejects_wrong_layout(trained[0])
