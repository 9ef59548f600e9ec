"""``mmpose_simplebaseline3d``: mmpose's own SimpleBaseline3D lifter, trained by this project's shared loop.

What is mmpose's: the network. mmpose 1.x ships Martinez et al.'s single-frame lifter ("A simple yet effective
baseline for 3d human pose estimation", ICCV 2017) as a ``PoseLifter`` with a ``TCN`` backbone whose kernels are
all 1 (a 1x1 convolution over one frame is a linear layer: expand conv 34 -> ``width`` with BatchNorm and ReLU,
then ``num_blocks`` residual blocks of two conv-BN-ReLU layers with dropout) and a ``TemporalRegressionHead``
(a 1x1 convolution to 16 x 3 coordinates), config
``body_3d_keypoint/image_pose_lift/h36m/image-pose-lift_tcn_8xb64-200e_h36m.py`` (about 4.3 M parameters at the
shipped width 1024). :meth:`MMPoseLifter.build_model` loads that config with ``mmengine.Config.fromfile`` and
builds its ``model`` dict with mmpose's ``MODELS`` registry, unchanged except for the sizes below, and calls the
``init_weights`` mmpose's runner would call.

What is ours: everything around the network (:mod:`stage2_lift.lifting`): the 2D normalisation (screen
coordinates, z-scored with training statistics; mmpose's ``ImagePoseLifting`` codec z-scores pixel coordinates
with Human3.6M statistics instead), the root-relative z-scored target without the root (the same as the codec's
``remove_root=True`` with ``target_mean``/``target_std``, but with statistics of our training poses), the MSE
loss, Adam with exponential decay, rotation/flip/noise/drop augmentation, validation and flip-averaged inference.
So the comparison with ``martinez_mlp`` isolates the network: same data, augmentation and budget.

:class:`PoseLifterNet` adapts the ``PoseLifter`` to the ``(N, in_dim) -> (N, out_dim)`` tensor function our
loop expects: it views the input as one frame ``(N, in_dim, 1)`` (channels = the 17 x 2 coordinates, time = 1),
runs ``backbone`` (and ``neck`` if the config has one) and ``head.forward`` (``(N, num_joints, 3)``) and
flattens. The config's ``in_channels`` and ``num_joints`` are set from our dimensions (34 and 16 for h36m17 with
the root omitted, as in mmpose's h36m setting); ``width`` sets the TCN's ``stem_channels`` and the head's
``in_channels``, ``dropout`` the TCN's dropout (``null`` keeps the config's value for either). The state dict
keys are ``lifter.backbone.*`` / ``lifter.head.*``: a checkpoint trained by mmpose matches after prefixing its
keys with ``lifter.`` (its 2D/3D normalisation would still differ from ours).

Options: ``config`` (an mmpose-style config holding ``model = dict(type='PoseLifter', ...)``; a path relative
to the repository root, absolute, or ``mmpose::<path under mmpose's configs>`` for a config shipped with the
installed mmpose, the default), ``width`` (1024 as shipped), ``dropout`` (0.5 as shipped), plus the shared
lifter options. mmpose is imported lazily (it takes several seconds) when the model is built.
"""
from __future__ import annotations

import importlib.util
from pathlib import Path

from torch import nn

from common.errors import InputError
from common.paths import REPO_ROOT
from common.registry import register

from .lifting import LIFTER_DEFAULTS, SingleFrameLifter

SHIPPED_CONFIG = "mmpose::body_3d_keypoint/image_pose_lift/h36m/image-pose-lift_tcn_8xb64-200e_h36m.py"


def config_path(path: str) -> Path:
    """The file a ``config`` option names: ``mmpose::<rel>`` under the installed mmpose's shipped configs
    (``mmpose/.mim/configs``), otherwise a path (relative ones from the repository root)."""
    path = str(path)
    if path.startswith("mmpose::"):
        spec = importlib.util.find_spec("mmpose")
        if spec is None or not spec.origin:
            raise InputError(f"config: {path} names a config shipped with mmpose, but mmpose is not installed")
        p = Path(spec.origin).parent / ".mim" / "configs" / path[len("mmpose::"):]
    else:
        p = Path(path).expanduser()
        p = p if p.is_absolute() else REPO_ROOT / p
    if not p.is_file():
        raise InputError(f"config: file {p} not found (expected an mmpose-style python config with "
                         "model = dict(type='PoseLifter', ...))")
    return p


def load_model_cfg(path: str, in_dim: int, out_dim: int, width=None, dropout=None) -> dict:
    """The config's ``model`` dict with its input/output sizes set to ours and ``width``/``dropout`` applied."""
    from mmengine.config import Config

    p = config_path(path)
    cfg = Config.fromfile(str(p))
    model = cfg.get("model")
    if model is None or model.get("type") != "PoseLifter":
        raise InputError(f"{p}: expected model = dict(type='PoseLifter', ...), got "
                         f"{None if model is None else model.get('type')!r}")
    if model.get("traj_head") is not None or model.get("semi_loss") is not None:
        raise InputError(f"{p}: trajectory heads and semi-supervised losses are not supported (single-frame "
                         "root-relative lifting only)")
    if out_dim % 3:
        raise InputError(f"mmpose lifter: output size {out_dim} is not a multiple of 3")
    model = model.to_dict()
    bb, head = model["backbone"], model["head"]
    bb["in_channels"] = in_dim
    head["num_joints"] = out_dim // 3
    if width is not None:
        bb["stem_channels"] = int(width)
        head["in_channels"] = int(width)
    if dropout is not None:
        bb["dropout"] = float(dropout)
    return model


class PoseLifterNet(nn.Module):
    """An mmpose ``PoseLifter`` as a single-frame tensor function ``(N, in_dim) -> (N, out_dim)``."""

    def __init__(self, lifter: nn.Module, in_dim: int, out_dim: int):
        super().__init__()
        self.lifter = lifter
        self.in_dim, self.out_dim = in_dim, out_dim

    def forward(self, x):
        n = x.shape[0]
        feats = self.lifter.backbone(x.reshape(n, self.in_dim, 1))        # TCN: (N, C, T) with T = 1
        if self.lifter.with_neck:
            feats = self.lifter.neck(feats)
        return self.lifter.head.forward(feats).reshape(n, self.out_dim)  # head: (N, num_joints, 3)


def build_pose_lifter(path: str, in_dim: int, out_dim: int, width=None, dropout=None) -> PoseLifterNet:
    """Build the config's ``PoseLifter`` with mmpose's registry (weights initialised as mmpose's runner does)."""
    from common.mmpose_glue import mmpose_registries, quiet_mmengine

    model_cfg = load_model_cfg(path, in_dim, out_dim, width, dropout)
    MODELS, _ = mmpose_registries()
    with quiet_mmengine():
        lifter = MODELS.build(model_cfg)
        lifter.init_weights()
    return PoseLifterNet(lifter, in_dim, out_dim)


@register("lifter", "mmpose_simplebaseline3d")
class MMPoseLifter(SingleFrameLifter):
    defaults = {**LIFTER_DEFAULTS, "config": SHIPPED_CONFIG, "width": 1024, "dropout": 0.5}

    def build_model(self, in_dim: int, out_dim: int) -> nn.Module:
        c = self.cfg
        return build_pose_lifter(c["config"], in_dim, out_dim, c["width"], c["dropout"])
