"""Training of the multi-task network as in Luvizon et al. 2021, section 4.2.3.

Three phases: (1) pose estimation only; (2) the action part only, every pose layer fixed (its batch-norm
statistics too); (3) both, alternating one batch of single frames for pose and one batch of clips for action,
each followed by its own optimiser step (the paper: "alternating one batch containing pose estimation samples
only and another batch containing action samples only"). The learning rate is divided by 10 at the fractions
``lr_drops`` of phase 3. The paper uses RMSprop at 1e-3 (``optimizer: rmsprop``, ``lr: 1e-3``); the small CPU
default is Adam at 3e-3, which after 300 pose steps (default augmentation, single runs) reached PCK 0.71 where
RMSprop at 1e-3 reached 0.57 and Adam at 1e-3 0.52. With ``separate_optimizers`` the pose and the action batches
keep their own optimiser state, as the authors' code does by compiling a pose model and an action model
(JOINT_MODEL_NOTES.md section 6): RMSprop (or Adam) then scales each task's steps by that task's own gradient
magnitude, whatever the loss weights; with one shared state, the pose gradients enter the scale of the action
steps on the shared layers and the other way round. With ``decoupled_poses`` the replica projections are
copied from W_h / W_d at ``decouple_at`` of phase 3 (section 3.3.4), after which the action loss flows through
the replicas only.

Distributed: under ``torchrun`` (``WORLD_SIZE`` > 1) every phase wraps the network in
``DistributedDataParallel`` (gloo on CPU, NCCL on CUDA); each rank draws its own batches (seeded by seed and
rank) and gradients are averaged, so the global batch is ``world_size`` times the per-process batch.
"""
from __future__ import annotations

import time
from typing import Callable, Dict, Iterator, List

import numpy as np
import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel

from common.distributed import world
from common.progress import progress_bar
from common.resume import Snapshots

from .data import TrainStore
from .losses import action_loss, pose_loss
from .network import MultitaskNet

TRAIN_DEFAULTS = {
    "pose_steps": 400,          # phase 1 optimiser steps (the paper: ~32k iterations of 32 images)
    "action_steps": 400,        # phase 2 (cheap: the pose layers are frozen)
    "joint_steps": 400,         # phase 3: each step = one pose batch + one action batch
    "pose_batch": 32,           # single frames per pose batch, per process (4 x 8 in the paper)
    "clips_per_batch": 4,       # clips per action batch, per process
    "clip_len": 8,              # T
    "optimizer": "adam",        # adam | rmsprop (the paper, lr 1e-3; Keras' rho 0.9, epsilon 1e-7 as the authors' code)
    "separate_optimizers": True,  # pose and action batches with their own optimiser state (the authors' code)
    "lr": 3e-3,                 # (the paper: 1e-3 with RMSprop)
    "lr_drops": [0.7, 0.9],     # fractions of phase 3 after which lr x 0.1 (the paper: epochs 15 and 25 of ~30)
    "decouple_at": 0.5,         # fraction of phase 3 at which the action poses are decoupled
    "action_weight": 0.01,
    "confidence_weight": 0.01,
}


#: the training summary keeps each loss averaged over this many steps (the curves of train_joint.png)
CURVE_EVERY = 10


# ------------------------------------------------------------------------------------------ distributed
def _wrap(net: MultitaskNet, device: str):
    if not dist.is_initialized():
        return net
    ids = [torch.cuda.current_device()] if device == "cuda" else None
    return DistributedDataParallel(net, device_ids=ids, find_unused_parameters=True)


OPTIMIZERS = ("rmsprop", "adam")


def make_optimizer(net: MultitaskNet, name: str, lr: float) -> torch.optim.Optimizer:
    """RMSprop as Keras 2.1 defines it (the authors' framework: rho 0.9, epsilon 1e-7), or Adam."""
    if name == "rmsprop":
        return torch.optim.RMSprop(net.parameters(), lr=lr, alpha=0.9, eps=1e-7)
    if name == "adam":
        return torch.optim.Adam(net.parameters(), lr=lr)
    raise ValueError(f"joint.train.optimizer: expected one of {', '.join(OPTIMIZERS)}, got {name!r}")


def _action_params(net: MultitaskNet) -> Iterator[torch.nn.Parameter]:
    yield from net.actions.parameters()
    yield from net.transitions.parameters()


def _set_phase(net: MultitaskNet, phase: str) -> None:
    """``pose``/``joint``: everything trainable; ``action``: only the action part (pose layers frozen, their
    batch-norm statistics kept)."""
    action = {id(p) for p in _action_params(net)}
    for p in net.parameters():
        p.requires_grad_(phase != "action" or id(p) in action)
    net.train()
    if phase == "action":
        for m in [net.stem, net.units, net.poses]:
            m.eval()


#: training steps between two snapshots of the joint mode's state (``common/resume.py``)
SNAPSHOT_EVERY = 50


def train(net: MultitaskNet, store: TrainStore, cfg: dict, device: str, seed: int,
          log: Callable[[str], None] = print) -> Dict[str, object]:
    """Run the three phases; returns a summary (per-phase seconds and losses)."""
    rank, size = world()
    rng = np.random.default_rng([seed, rank, 11])
    opt = make_optimizer(net, cfg["optimizer"], cfg["lr"])
    opt_action = make_optimizer(net, cfg["optimizer"], cfg["lr"]) if cfg.get("separate_optimizers") else opt
    sup = cfg.get("supervise", "all")
    T = int(cfg["clip_len"])
    decouple = bool(cfg.get("decoupled_poses")) and net.poses[0].replica is not None
    summary: Dict[str, object] = {"world_size": size, "phases": {}}

    def pose_step(model) -> float:
        b = store.pose_batch(rng, cfg["pose_batch"], device)
        loss = pose_loss(model(b.frames)["poses"], b.target, b.mask, b.visible, sup, cfg["confidence_weight"])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        return float(loss.detach())

    def action_step(model) -> float:
        b = store.action_batch(rng, cfg["clips_per_batch"], T, device)
        loss = action_loss(model(b.frames, clip_len=T)["actions"], b.actions, sup, cfg["action_weight"])
        opt_action.zero_grad(set_to_none=True)
        loss.backward()
        opt_action.step()
        return float(loss.detach()) / cfg["action_weight"]

    phases = [("pose", int(cfg["pose_steps"])), ("action", int(cfg["action_steps"])),
              ("joint", int(cfg["joint_steps"]))]
    for phase, steps in phases:
        if steps <= 0:
            continue
        _set_phase(net, phase)
        model = _wrap(net, device)
        drops = [int(f * steps) for f in cfg["lr_drops"]] if phase == "joint" else []
        groups = opt.param_groups + (opt_action.param_groups if opt_action is not opt else [])
        for g in groups:
            g["lr"] = cfg["lr"]
        # a snapshot every SNAPSHOT_EVERY steps (one file per process: each draws from its own generator)
        snaps = Snapshots({"net": net, "opt": opt, "opt_action": opt_action, "rng": rng}, steps)
        first, saved = snaps.start()
        groups = opt.param_groups + (opt_action.param_groups if opt_action is not opt else [])  # restored ones
        hist: Dict[str, List[float]] = {"pose": [], "action": [], **saved}
        t0 = time.perf_counter()
        bar = progress_bar(range(first, steps), desc=f"joint: {phase} phase", unit="step", leave=False,
                           disable=rank != 0, dynamic_ncols=True)
        for i in bar:
            if i in drops:
                for g in groups:
                    g["lr"] *= 0.1
            if phase == "joint" and decouple and i == int(cfg["decouple_at"] * steps):
                net.copy_replicas()
                log(f"joint: action poses decoupled at step {i} of the joint phase")
            if phase in ("pose", "joint"):
                hist["pose"].append(pose_step(model))
            if phase in ("action", "joint"):
                hist["action"].append(action_step(model))
            if i % 10 == 0 or i == steps - 1:
                bar.set_postfix({k: f"{np.mean(v[-20:]):.3f}" for k, v in hist.items() if v})
            if (i + 1) % SNAPSHOT_EVERY == 0 or i == steps - 1:
                snaps.save(i, hist)
        bar.close()
        info = {"steps": steps, "seconds": time.perf_counter() - t0}
        info.update({f"{k}_loss_last": float(np.mean(v[-max(1, steps // 10):])) for k, v in hist.items() if v})
        info.update({f"{k}_loss_curve": [float(np.mean(v[i:i + CURVE_EVERY])) for i in range(0, len(v), CURVE_EVERY)]
                     for k, v in hist.items() if v})
        summary["phases"][phase] = info
        log(f"joint: {phase} phase, {steps} steps in {info['seconds']:.0f} s  " +
            "  ".join(f"{k}={v:.4f}" for k, v in info.items() if k.endswith("_last")))
    net.eval()
    return summary


__all__ = ["TRAIN_DEFAULTS", "train"]
