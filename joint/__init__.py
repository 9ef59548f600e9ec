"""The joint mode: the single multi-task network of Luvizon, Picard and Tabia (Luvizon et al. 2021, "Multi-task Deep
Learning for Real-Time 3D Human Pose Estimation and Action Recognition"), with the VGG-16 entry flow of seed
003, trained end to end on frames for 2D/3D pose and action, and cut at any prediction block for speed.

``JOINT_DEFAULTS`` is the ``joint:`` section of a pipeline file (``pipelines/joint_multitask.yaml``).
"""
from __future__ import annotations

import copy

from .data import AUGMENT_DEFAULTS
from .network import ARCH_DEFAULTS, MultitaskNet
from .trainer import TRAIN_DEFAULTS

JOINT_DEFAULTS = {
    **copy.deepcopy(ARCH_DEFAULTS),
    "supervise": "all",          # all | last: loss on every prediction block or on the last only (Table 4)
    "box_padding": 1.25,         # person box = joints' extent over the sequence x this
    "depth_range_m": 2.0,        # z target: root at 0.5, this many metres = 1 (section 4.2.1)
    "share_2d_only": 0.25,       # training sequences whose 3D is hidden from the loss (2D-annotated images)
    "test_stride": 3,            # frames between a test clip's frames
    "flip_test": True,           # evaluation also on the mirrored frames and clips (the authors' multi-clip test)
    "train": copy.deepcopy(TRAIN_DEFAULTS),
    "augment": copy.deepcopy(AUGMENT_DEFAULTS),
    "speed_repeats": 3,          # timings per cut (median) for per_block fps
}
#: options that change only the evaluation, never the trained weights (not in the checkpoint key); ``backend``
#: and ``export_dir`` (pipelines/config.py) run an exported cut of the network instead
EVAL_ONLY = ("test_stride", "flip_test", "speed_repeats", "backend", "export_dir")
SUPERVISE = ("all", "last")


def build_network(cfg: dict, n_joints: int, n_actions: int) -> MultitaskNet:
    """The network of a resolved ``joint`` section."""
    if cfg["supervise"] not in SUPERVISE:
        raise ValueError(f"joint.supervise: expected all or last, got {cfg['supervise']!r}")
    return MultitaskNet(n_joints, n_actions, **{k: cfg[k] for k in ARCH_DEFAULTS if k != "input_size"})


__all__ = ["JOINT_DEFAULTS", "EVAL_ONLY", "build_network", "MultitaskNet"]
