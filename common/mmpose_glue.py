"""mmpose 1.x without ``mmpose.apis`` (which needs torchvision, not installable here: ``docs/stage1.md``): its
model and codec registries, mmpose-style python configs, quiet weight initialisation, and configs stripped of
their ``Pretrained`` URLs. Used by the ``mmpose_topdown`` detector and the ``mmpose_simplebaseline3d`` lifter."""
from __future__ import annotations

import contextlib
import logging
from pathlib import Path

from common.errors import InputError
from common.paths import REPO_ROOT


def mmpose_registries():
    """mmpose's MODELS and KEYPOINT_CODECS registries, filled by the imports that work without torchvision,
    with 'mmpose' as mmengine's default scope (what ``mmpose.utils.register_all_modules`` would do)."""
    import mmpose.codecs
    import mmpose.models  # noqa: F401  (registers backbones, heads, losses, estimators)
    from mmengine.registry import init_default_scope
    from mmpose.registry import KEYPOINT_CODECS, MODELS

    init_default_scope("mmpose")
    return MODELS, KEYPOINT_CODECS


@contextlib.contextmanager
def quiet_mmengine():
    """Hold back mmengine's INFO messages (``init_weights`` logs one per parameter)."""
    from mmengine.logging import MMLogger

    logger = MMLogger.get_current_instance()
    level = logger.level
    logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        logger.setLevel(level)


def resolve_path(path) -> Path:
    """A path from the options: absolute as given, otherwise relative to the repository root."""
    p = Path(path).expanduser()
    return p if p.is_absolute() else REPO_ROOT / p


def load_config(path):
    """The mmengine ``Config`` of an mmpose-style python config file holding at least ``model`` and ``codec``."""
    from mmengine.config import Config

    p = resolve_path(path)
    if not p.is_file():
        raise InputError(f"config: file {p} not found (expected an mmpose-style python config)")
    cfg = Config.fromfile(str(p))
    for key in ("model", "codec"):
        if key not in cfg:
            raise InputError(f"{p}: no '{key}' entry (expected model = dict(type='TopdownPoseEstimator', ...) "
                             "and codec = dict(...))")
    return cfg


def strip_pretrained(node) -> None:
    """Remove every ``init_cfg`` of type ``Pretrained`` from a model config in place (mmpose's shipped configs
    initialise backbones from URLs; offline, a model without a checkpoint starts from its own init)."""
    if isinstance(node, dict):
        init = node.get("init_cfg")
        if isinstance(init, dict) and init.get("type") == "Pretrained":
            del node["init_cfg"]
        elif isinstance(init, list):
            node["init_cfg"] = [c for c in init if not (isinstance(c, dict) and c.get("type") == "Pretrained")]
        for v in list(node.values()):
            strip_pretrained(v)
    elif isinstance(node, (list, tuple)):
        for v in node:
            strip_pretrained(v)
