"""The modular chain: build each stage's registered part, train it or load it from the cache, run it.

A part's checkpoint key hashes the stage name, its resolved options, the training data config and the seed
(``INTERFACES.md``); a run trains only what has no checkpoint yet and says so.
"""
from __future__ import annotations

import time
from typing import Dict, Optional

import numpy as np

from common import cache
from common.dataset import Dataset, Sample
from common.handoff import ActionResult, Pose2DSeq, Pose3DSeq
from common.registry import build

from .config import STAGE_KINDS
from .data import training_data_cfg

import stage1_2d  # noqa: F401  (fill the registries)
import stage2_lift  # noqa: F401
import stage3_action  # noqa: F401


def resolve_auto(cfg: dict) -> dict:
    """Settle options whose value depends on the chain: ``stage3_action.input: auto`` -> 3d after a lifter,
    else 2d."""
    stages = cfg["stages"]
    s3 = stages.get("stage3_action")
    if s3 is not None and s3.get("input") == "auto":
        s3["input"] = "3d" if "stage2_lift" in stages else "2d"
    return cfg


class Chain:
    def __init__(self, cfg: dict, device: str, log=print):
        self.cfg = cfg
        self.log = log
        self.parts = {name: build(STAGE_KINDS[name], scfg, device=device, seed=cfg["seed"])
                      for name, scfg in cfg["stages"].items()}
        self.train_info: Dict[str, dict] = {}

    def checkpoint_key(self, name: str) -> str:
        return cache.config_hash({"stage": name, "cfg": self.cfg["stages"][name],
                                  "data": training_data_cfg(self.cfg["data"]), "seed": self.cfg["seed"]})

    def prepare(self, data_fn) -> None:
        """Load each trainable part from the cache, or train it on ``data_fn()`` (built lazily) and cache it."""
        data: Optional[Dataset] = None
        for name, part in self.parts.items():
            if not part.trainable:
                self.train_info[name] = {"trained": False}
                continue
            scfg = self.cfg["stages"][name]
            path = cache.checkpoint_path(name, scfg["type"], self.checkpoint_key(name))
            if path.is_file():
                state = cache.load_checkpoint(path)
                part.load_state(state["state"])
                self.train_info[name] = {"cached": True, "checkpoint": str(path), **state.get("summary", {})}
                self.log(f"{name}: {scfg['type']} loaded from {path}")
                continue
            if data is None:
                data = data_fn()
            self.log(f"{name}: no checkpoint for {scfg['type']} (key {path.stem.split('-')[-1]}): training")
            t0 = time.perf_counter()
            summary = part.fit(data)
            summary = {"train_seconds": time.perf_counter() - t0, **summary}
            cache.save_checkpoint(path, {"state": part.state(), "summary": summary, "cfg": scfg})
            self.train_info[name] = {"cached": False, "checkpoint": str(path), **summary}
            self.log(f"{name}: trained in {summary['train_seconds']:.0f} s, saved {path}")

    # ------------------------------------------------------------------ running
    def run(self, frames: Optional[np.ndarray], fps: float, sample: Optional[Sample] = None,
            pose2d: Optional[Pose2DSeq] = None) -> Dict[str, object]:
        """Run every stage in order; each is fed by the one before. Without stage 1, ``pose2d`` (or the
        sample's ground truth) is the input. Returns the outputs and per-stage seconds."""
        out: Dict[str, object] = {}
        seconds: Dict[str, float] = {}
        x = pose2d
        for name, part in self.parts.items():
            t0 = time.perf_counter()
            if name == "stage1_2d":
                x = part.predict(frames, fps, sample)
            elif name == "stage2_lift":
                x = part.predict(x if x is not None else gt_pose2d(sample), sample)
            else:
                x = part.predict(x if x is not None else gt_input_for(part, sample), sample)
            seconds[name] = time.perf_counter() - t0
            out[name] = x
        out["seconds"] = seconds
        return out


def gt_pose2d(sample: Sample) -> Pose2DSeq:
    kp = np.asarray(sample.joints2d, np.float32)[None]
    return Pose2DSeq(kp, np.ones(kp.shape[:3], np.float32), sample.image_size, sample.fps, sample.layout)


def gt_pose3d(sample: Sample) -> Pose3DSeq:
    j = np.asarray(sample.joints3d, np.float32)
    j = (j - j[:, :1])[None]
    return Pose3DSeq(j, np.ones(j.shape[:3], np.float32), sample.fps, sample.layout)


def gt_input_for(part, sample: Sample):
    """Ground-truth input for an action classifier: 3D when it was trained on 3D, else 2D."""
    return gt_pose3d(sample) if part.cfg.get("input") == "3d" else gt_pose2d(sample)


__all__ = ["Chain", "resolve_auto", "gt_pose2d", "gt_pose3d", "gt_input_for", "ActionResult"]
