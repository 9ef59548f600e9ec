"""Shared fixtures: tiny synthetic worlds, generated once per test session into a temporary cache."""
import pytest

TINY_POSES = {"seed": 0, "frames": 24, "render": False,
              "subjects": {"train": 4, "val": 2, "test": 2}, "per_class": {"train": 6, "val": 2, "test": 2}}


@pytest.fixture(scope="session")
def tiny_poses(tmp_path_factory):
    """Poses only (no frames): enough to train a lifter or a classifier for a few seconds."""
    from common.synth.world import build_synthetic
    return build_synthetic(TINY_POSES, cache_dir=tmp_path_factory.mktemp("synth_poses"), progress=False)
