"""The modular chain: build each stage's registered part, train it or load it from the cache, run it.

A part's checkpoint key hashes the stage name, its resolved options, the training data config and the seed
(``docs/interfaces.md``); a run trains only what has no checkpoint yet and says so.
"""
from __future__ import annotations

import dataclasses
import hashlib
import shutil
import time
import zlib
from typing import Dict, Optional

import numpy as np

import stage1_2d  # noqa: F401  (fill the registries)
import stage2_lift  # noqa: F401
import stage3_action  # noqa: F401
from common import cache
from common.dataset import Dataset, Sample
from common.distributed import barrier, is_main
from common.handoff import ActionResult, Pose2DSeq, gt_pose2d, gt_pose3d
from common.logs import get_logger
from common.noise import detector_noise
from common.paths import repo_path
from common.progress import progress_bar
from common.registry import build
from common.resume import resuming
from common.virtual_camera import virtual_views

from .config import STAGE_BACKEND, STAGE_KINDS, STAGE_TRAIN_DATA, is_path_key
from .data import build_dataset, training_data_cfg
from .exported import load_exported


class Chain:
    def __init__(self, cfg: dict, device: str, log=None):
        self.cfg, self.device = cfg, device
        self.log = log or get_logger("run").info
        self.parts = {name: build(STAGE_KINDS[name], part_options(scfg), device=device, seed=cfg["seed"])
                      for name, scfg in cfg["stages"].items()}
        self.train_info: Dict[str, dict] = {}

    def trains_on_chain(self, name: str) -> bool:
        """True when ``name`` learns from its upstream stages' predictions (``train_on: chain``)."""
        scfg = self.cfg["stages"][name]
        return (STAGE_TRAIN_DATA not in scfg and scfg.get("train_on") in ("chain", "both")
                and list(self.parts).index(name) > 0)

    def checkpoint_key(self, name: str) -> str:
        scfg = self.cfg["stages"][name]
        trained = {k: v for k, v in scfg.items()
                   if k not in self.parts[name].inference_options and k not in STAGE_BACKEND}
        key = {"stage": name, "cfg": trained, "seed": self.cfg["seed"],
               "data": training_data_cfg(scfg.get(STAGE_TRAIN_DATA) or self.cfg["data"])}
        # files an option names (a model config, say) count by their content, so editing one retrains
        files = {k: repo_path(v) for k, v in scfg.items() if is_path_key(k) and isinstance(v, str)}
        key["files"] = {k: hashlib.sha256(p.read_bytes()).hexdigest() for k, p in files.items() if p.is_file()}
        if self.trains_on_chain(name):  # its training data are the upstream parts' outputs
            key["upstream"] = [self.checkpoint_key(n) if self.parts[n].trainable else self.cfg["stages"][n]
                               for n in list(self.parts)[:list(self.parts).index(name)]]
        return cache.config_hash(key)

    def chain_dataset(self, data: Dataset, name: str) -> Dataset:
        """``data`` with the train and val samples' poses replaced by what the stages before ``name`` predict
        from them (frames, or ground truth where the chain starts later): the input that stage will see; with
        ``train_on: both`` the ground-truth training samples are kept too.

        A sample without frames goes to a frame-based detector as its simulated output: its 2D key-points plus
        detector-like noise (``chain_noise_px``, ``chain_drop_rate`` of stage ``name``). With ``chain_views``
        = N > 0 each training sample with 3D joints is first seen by N random virtual cameras
        (``common.virtual_camera``), so the stage learns from the chain's output for many viewpoints."""
        scfg = self.cfg["stages"][name]
        rng = np.random.default_rng([int(self.cfg["seed"]), 7])

        def convert(samples, split):
            out = []
            for s in progress_bar(samples, desc=f"{name}: chain on {split}", unit="clip"):
                n_views = int(scfg.get("chain_views", 0)) if split == "train" and s.joints3d is not None else 0
                for v in virtual_views(s, n_views, rng) if n_views else [s]:
                    res = self.run(v.frames() if v.load_frames is not None and "stage1_2d" in self.parts else None,
                                   v.fps, sample=v, pose2d=self.simulated_detection(v, scfg.get("chain_noise_px", 0.0),
                                                                   scfg.get("chain_drop_rate", 0.0)),
                                   until=name)
                    kw = {}
                    if "stage1_2d" in res:
                        kw.update(joints2d=res["stage1_2d"].keypoints[0], scores=res["stage1_2d"].scores[0])
                    if "stage2_lift" in res:
                        kw.update(joints3d=res["stage2_lift"].joints[0], scores=res["stage2_lift"].scores[0])
                    out.append(dataclasses.replace(v, **kw))
            return out

        train = convert(data.train, "train")
        if scfg.get("train_on") == "both":
            train += data.train
        return dataclasses.replace(data, train=train, val=convert(data.val, "val"), test=[])

    def simulated_detection(self, sample: Sample, sigma_px: float, drop_rate: float) -> Optional[Pose2DSeq]:
        """What a frame-based stage-1 detector is replaced by for a sample without frames: the sample's 2D plus
        detector-like noise (``common.noise``, seeded by the sample's name); None when stage 1 can run (the
        sample has frames, or stage 1 reads ground truth) or the chain has none."""
        det = self.parts.get("stage1_2d")
        if det is None or det.needs_ground_truth or sample.load_frames is not None:
            return None
        kp = np.asarray(sample.joints2d, np.float32)
        sc = np.ones(kp.shape[:2], np.float32)
        rng = np.random.default_rng([int(self.cfg["seed"]), zlib.crc32(sample.name.encode())])
        kp, sc = detector_noise(kp, sc, float(sigma_px), float(drop_rate), rng)
        return Pose2DSeq(kp[None], sc[None], sample.image_size, sample.fps, sample.layout)

    def prepare(self, data_fn) -> None:
        """Load each trainable part from the cache, or train it on ``data_fn()`` (built lazily) and cache it."""
        data: Optional[Dataset] = None
        for name, part in self.parts.items():
            if self.cfg["stages"][name].get("backend") == "onnx":
                self.train_info[name] = load_exported(name, part, self.cfg["stages"][name]["export_dir"])
                self.log(f"{name}: {self.cfg['stages'][name]['type']} runs the networks exported to "
                         f"{self.train_info[name]['export_dir']} (onnxruntime)")
                continue
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
            self.log(f"{name}: no checkpoint for {scfg['type']} (key {path.stem.split('-')[-1]}): training")
            t0 = time.perf_counter()
            snapshots = path.with_suffix(".resume")  # a killed training continues from its last epoch
            if snapshots.is_dir():
                self.log(f"{name}: resuming from the epochs saved in {snapshots}")
            with resuming(snapshots, keep=True):
                if scfg.get(STAGE_TRAIN_DATA):
                    self.log(f"{name}: trains on its own data section ({scfg[STAGE_TRAIN_DATA]['dataset']})")
                    summary = part.fit(build_dataset(scfg[STAGE_TRAIN_DATA]))
                else:
                    if data is None:
                        data = data_fn()
                    summary = part.fit(self.chain_dataset(data, name) if self.trains_on_chain(name) else data)
            summary = {"train_seconds": time.perf_counter() - t0, **summary}
            barrier()  # under torchrun every process has finished its last snapshot; rank 0 alone writes
            if is_main():
                cache.save_checkpoint(path, {"state": part.state(), "summary": summary, "cfg": scfg})
                shutil.rmtree(snapshots, ignore_errors=True)
            self.train_info[name] = {"cached": False, "checkpoint": str(path), **summary}
            self.log(f"{name}: trained in {summary['train_seconds']:.0f} s, saved {path}")

    # ------------------------------------------------------------------ running
    def run(self, frames: Optional[np.ndarray], fps: float, sample: Optional[Sample] = None,
            pose2d: Optional[Pose2DSeq] = None, until: Optional[str] = None) -> Dict[str, object]:
        """Run every stage in order; each is fed by the one before. ``pose2d`` (or, without stage 1, the
        sample's ground truth) is the 2D input; given, it stands for stage 1's output. Returns the outputs and
        per-stage seconds."""
        out: Dict[str, object] = {}
        seconds: Dict[str, float] = {}
        x = x2 = pose2d
        for name, part in self.parts.items():
            if name == until:
                break
            t0 = time.perf_counter()
            if name == "stage1_2d":
                x = pose2d if pose2d is not None else part.predict(frames, fps, sample)
            elif name == "stage2_lift":
                x2 = x if x is not None else gt_pose2d(sample)
                x = part.predict(x2, sample)
            elif part.needs_pose2d:  # a 3D classifier that also reads the 2D
                x = part.predict(x if x is not None else gt_input_for(part, sample), sample,
                                 pose2d=x2 if x2 is not None else gt_pose2d(sample))
            else:
                x = part.predict(x if x is not None else gt_input_for(part, sample), sample)
            seconds[name] = time.perf_counter() - t0
            out[name] = x
        out["seconds"] = seconds
        return out


def part_options(scfg: dict) -> dict:
    """A resolved stage's options as its part takes them: without the pipeline's own stage keys."""
    return {k: v for k, v in scfg.items() if k != STAGE_TRAIN_DATA and k not in STAGE_BACKEND}


def gt_input_for(part, sample: Sample):
    """Ground-truth input for an action classifier: 3D when it was trained on 3D, else 2D; None when the sample
    has no ground truth of that kind (2D-only datasets such as Penn Action)."""
    if part.cfg.get("input") == "3d":
        return None if sample.joints3d is None else gt_pose3d(sample)
    return gt_pose2d(sample)


__all__ = ["Chain", "gt_pose2d", "gt_pose3d", "gt_input_for", "ActionResult"]
