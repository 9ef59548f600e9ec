"""The ENAS search loop, independent of images and data: alternate training the shared weights of a child
network on sampled arcs with training the controller by REINFORCE, then derive one arc.

After Pham, Guan, Zoph, Le, Dean, "Efficient Neural Architecture Search via Parameter Sharing" (ICML 2018),
sections 2.2 (alternating training: shared weights with SGD on one sampled arc per minibatch; controller with
REINFORCE, a moving-average baseline, reward = accuracy on a validation minibatch) and 2.2's "deriving
architectures". Settings from the released code (github.com/melodyguan/enas, ``cifar10_*_search.sh``):

* shared weights: SGD with Nesterov momentum 0.9, weight decay (L2) 1e-4 (micro search script; macro uses
  2.5e-4), cosine learning rate 0.05 -> 0.0005. The scripts use warm restarts (SGDR, T0 = 10, Tmul = 2);
  here the default is ONE cosine cycle over the whole search (short searches would otherwise stop mid-cycle);
  set ``lr_T0``/``lr_Tmul`` for SGDR. The rate changes once per epoch. Gradient-norm clipping at 5 is requested
  by the scripts but ineffective in the released code; here it is applied.
* controller: Adam (beta1 = 0, eps = 1e-3, no decay), lr 3.5e-3 (micro) / 1e-3 (macro); per epoch
  ``ctrl_steps`` updates of ``ctrl_samples`` arcs each, gradients averaged (30 x 10 micro, 50 x 20 macro);
  reward R = accuracy of the arc on ONE random validation minibatch (net in eval mode) + 1e-4 x entropy;
  baseline b <- b - (1 - 0.99)(b - R), updated before the arc's loss ``-log_prob x (R - b)`` (+ skip_weight x
  skip_penalty, macro). Difference: the baseline starts at the first reward instead of 0, which avoids a long
  biased warm-up in short searches.
* derivation (not in the released loop, see the fact sheet D.13): ``n_derive`` sampled arcs plus the greedy
  (argmax) arc are each scored on the WHOLE validation split with the shared weights; the best is returned
  (ties go to the earlier candidate, the greedy arc first).
"""
from __future__ import annotations

import json
import math
import time
from typing import Any, Callable, Dict, Iterable, List, Optional, Tuple

import torch
import torch.nn.functional as F
from matplotlib.figure import Figure
from torch import nn

from common.distributed import shard, sync_replicas
from common.errors import InputError
from common.plots import _save
from common.progress import progress_bar
from common.resume import Snapshots
from common.training import seed_everything

from .enas_controller import Controller

#: search settings; ``None`` = the per-space value of :data:`SPACE_DEFAULTS`
ENAS_DEFAULTS: Dict[str, Any] = {
    "lr": 0.05, "lr_min": 0.0005, "lr_T0": None, "lr_Tmul": 2, "momentum": 0.9, "weight_decay": 1e-4,
    "grad_clip": 5.0, "ctrl_lr": None, "ctrl_steps": None, "ctrl_samples": None, "entropy_weight": 1e-4,
    "baseline_decay": 0.99, "n_derive": 20,
}
#: the released search scripts' controller settings
SPACE_DEFAULTS = {"micro": {"ctrl_lr": 3.5e-3, "ctrl_steps": 30, "ctrl_samples": 10},
                  "macro": {"ctrl_lr": 1e-3, "ctrl_steps": 50, "ctrl_samples": 20}}
Batch = Tuple[torch.Tensor, torch.Tensor]


def resolve_cfg(cfg: Optional[Dict[str, Any]], space: str) -> Dict[str, Any]:
    """``ENAS_DEFAULTS`` updated with ``cfg``; unknown keys or non-positive counts raise :class:`InputError`."""
    cfg = dict(cfg or {})
    unknown = sorted(set(cfg) - set(ENAS_DEFAULTS))
    if unknown:
        raise InputError(f"enas cfg: unknown key(s) {', '.join(unknown)}; known: {', '.join(ENAS_DEFAULTS)}")
    out = {**ENAS_DEFAULTS, **{k: v for k, v in cfg.items() if v is not None}}
    for k, v in SPACE_DEFAULTS[space].items():
        out[k] = v if out[k] is None else out[k]
    for k in ("ctrl_steps", "ctrl_samples", "n_derive"):
        if not isinstance(out[k], int) or out[k] < (0 if k == "n_derive" else 1):
            raise InputError(f"enas cfg: {k} must be a positive int, got {out[k]!r}")
    return out


def cosine_lr(epoch: int, epochs: int, lr: float, lr_min: float, T0: Optional[int] = None, Tmul: int = 2) -> float:
    """Cosine learning rate of ``epoch`` (0-based): one cycle over ``epochs``, or SGDR cycles T0, T0 Tmul, ..."""
    t, period = epoch, max(epochs, 1)
    if T0:
        period = T0
        while t >= period:
            t, period = t - period, period * Tmul
    return lr_min + 0.5 * (lr - lr_min) * (1.0 + math.cos(math.pi * t / period))


class Reinforce:
    """REINFORCE for a :class:`Controller` with a moving-average baseline and Adam (beta1 0, eps 1e-3)."""

    def __init__(self, controller: Controller, lr: float, entropy_weight: float = 1e-4, baseline_decay: float = 0.99):
        self.controller, self.entropy_weight, self.decay = controller, entropy_weight, baseline_decay
        self.opt = torch.optim.Adam(controller.parameters(), lr=lr, betas=(0.0, 0.999), eps=1e-3)
        self.baseline: Optional[float] = None

    def state_dict(self) -> dict:
        return {"opt": self.opt.state_dict(), "baseline": self.baseline}

    def load_state_dict(self, state: dict) -> None:
        self.opt.load_state_dict(state["opt"])
        self.baseline = state["baseline"]

    def step(self, reward_fn: Callable[[Dict[str, Any]], float], n_samples: int,
             generator: Optional[torch.Generator] = None) -> Dict[str, float]:
        """One update from ``n_samples`` arcs, each rewarded by ``reward_fn(arc)`` (+ entropy bonus)."""
        c = self.controller
        c.train()
        self.opt.zero_grad(set_to_none=True)
        stats = {"reward": 0.0, "acc": 0.0, "entropy": 0.0, "loss": 0.0}
        for _ in range(n_samples):
            arc, log_prob, entropy, skip = c.sample(generator=generator)
            acc = float(reward_fn(arc))
            reward = acc + self.entropy_weight * float(entropy.detach())
            b = reward if self.baseline is None else self.baseline - (1.0 - self.decay) * (self.baseline - reward)
            self.baseline = b
            loss = -log_prob * (reward - b) + c.skip_weight * skip
            (loss / n_samples).backward()
            for k, v in (("reward", reward), ("acc", acc), ("entropy", float(entropy.detach())),
                         ("loss", float(loss.detach()))):
                stats[k] += v / n_samples
        self.opt.step()
        stats["baseline"] = self.baseline
        return stats


def _logits(out) -> torch.Tensor:
    return out[0] if isinstance(out, (tuple, list)) else out


@torch.no_grad()
def _correct(net: nn.Module, arc, batch: Batch, device) -> Tuple[int, int]:
    x, y = batch
    pred = _logits(net(x.to(device), arc)).argmax(-1)
    return int((pred == y.to(device)).sum()), int(y.numel())


def _split_acc(net: nn.Module, arc, batches: Iterable[Batch], device) -> float:
    right = total = 0
    for batch in batches:
        r, t = _correct(net, arc, batch, device)
        right, total = right + r, total + t
    if total == 0:
        raise InputError("enas: val_batches() yielded no samples")
    return right / total


def enas_search(net: nn.Module, controller: Controller, train_batches: Callable[[], Iterable[Batch]],
                val_batch: Callable[[], Batch], val_batches: Callable[[], Iterable[Batch]], epochs: int,
                cfg: Optional[Dict[str, Any]] = None, seed: int = 0, log: Callable[[str], Any] = print,
                device: str = "cpu", on_epoch: Optional[Callable[[int, Dict[str, float]], Any]] = None,
                state: Optional[Dict[str, Any]] = None) -> dict:
    """Search ``epochs`` epochs, then derive; see the module docstring. ``net(x, arc)`` returns logits (or a
    tuple whose first item is the logits). The controller stays on its own device (sampling is on the CPU).

    Returns ``{"arc", "val_acc_shared", "candidates": [(arc, acc), ...] best first, "history": [per-epoch
    dict], "seconds", "cfg"}``.
    """
    c = resolve_cfg(cfg, controller.space)
    if not isinstance(epochs, int) or epochs < 1:
        raise InputError(f"enas: epochs must be a positive int, got {epochs!r}")
    seed_everything(seed)
    gen = torch.Generator().manual_seed(seed)
    net.to(device)
    opt = torch.optim.SGD(net.parameters(), lr=c["lr"], momentum=c["momentum"], nesterov=True,
                          weight_decay=c["weight_decay"])
    rl = Reinforce(controller, c["ctrl_lr"], c["entropy_weight"], c["baseline_decay"])
    # after a kill, from the last finished epoch (common/resume.py); ``state``: the caller's generators of batches
    snaps = Snapshots({"net": net, "opt": opt, "controller": controller, "rl": rl, "gen": gen, **(state or {})},
                      epochs)
    first, saved = snaps.start()
    history, t0 = saved.get("epochs", []), time.perf_counter()
    for ep in range(first, epochs):
        te = time.perf_counter()
        lr = cosine_lr(ep, epochs, c["lr"], c["lr_min"], c["lr_T0"], c["lr_Tmul"])
        for g in opt.param_groups:
            g["lr"] = lr
        bar = progress_bar(desc=f"enas {ep + 1}/{epochs}", unit="step")
        train_loss = _train_shared(net, opt, controller, train_batches, c["grad_clip"], gen, device, bar)
        agg = _train_controller(rl, net, val_batch, c["ctrl_steps"], c["ctrl_samples"], gen, device, bar,
                                train_loss)
        bar.close()
        stats = {"epoch": ep + 1, "lr": lr, "train_loss": train_loss, "mean_reward": agg["reward"],
                 "mean_acc": agg["acc"], "baseline": rl.baseline, "entropy": agg["entropy"],
                 "controller_loss": agg["loss"], "seconds": time.perf_counter() - te}
        history.append(stats)
        log(f"enas epoch {ep + 1}/{epochs}: loss {train_loss:.4f}  reward {agg['reward']:.3f}  baseline "
            f"{rl.baseline:.3f}  entropy {agg['entropy']:.2f}  ({stats['seconds']:.1f}s)")
        snaps.save(ep, {"epochs": history})
        if on_epoch is not None:
            on_epoch(ep, stats)

    candidates = _derive(controller, net, val_batches, c["n_derive"], gen, device)
    best, acc = candidates[0]
    log(f"enas: derived the best of {len(candidates)} arcs, shared-weight val acc {acc:.4f}")
    return {"arc": best, "val_acc_shared": acc, "candidates": candidates, "history": history,
            "seconds": time.perf_counter() - t0, "cfg": c}


def _train_shared(net: nn.Module, opt, controller: Controller, train_batches: Callable[[], Iterable[Batch]],
                  grad_clip: float, gen: torch.Generator, device, bar) -> float:
    """Phase (a) of an epoch: one pass over the training batches, each through a fresh architecture sampled
    from the controller, training the shared weights. Returns the mean loss."""
    net.train()
    loss_sum, n_batches = torch.zeros((), device=device), 0
    for x, y in train_batches():
        with torch.no_grad():
            arc = controller.sample(generator=gen)[0]
        b = shard({"x": x, "y": y})  # the same batch on every process, each its own rows
        loss = F.cross_entropy(_logits(net(b["x"].to(device), arc)), b["y"].to(device))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        sync_replicas(net)
        if grad_clip:
            nn.utils.clip_grad_norm_(net.parameters(), grad_clip)
        opt.step()
        loss_sum, n_batches = loss_sum + loss.detach(), n_batches + 1
        bar.update()
        if n_batches % 10 == 1:
            bar.set_postfix(loss=f"{float(loss.detach()):.3f}")
    if n_batches == 0:
        bar.close()
        raise InputError("enas: train_batches() yielded no minibatches")
    return float(loss_sum) / n_batches


def _train_controller(rl: Reinforce, net: nn.Module, val_batch: Callable[[], Batch], steps: int, samples: int,
                      gen: torch.Generator, device, bar, train_loss: float) -> Dict[str, float]:
    """Phase (b) of an epoch: ``steps`` REINFORCE updates of the controller, the reward of a sampled
    architecture its shared-weight accuracy on one validation minibatch. Returns the mean statistics."""
    net.eval()

    def reward_fn(arc):
        right, total = _correct(net, arc, val_batch(), device)
        return right / max(total, 1)

    agg = {"reward": 0.0, "acc": 0.0, "entropy": 0.0, "loss": 0.0}
    for _ in range(steps):
        s = rl.step(reward_fn, samples, gen)
        for k in agg:
            agg[k] += s[k] / steps
        bar.update()
        bar.set_postfix(loss=f"{train_loss:.3f}", reward=f"{s['reward']:.3f}", base=f"{rl.baseline:.3f}")
    return agg


def _derive(controller: Controller, net: nn.Module, val_batches: Callable[[], Iterable[Batch]], n_derive: int,
            gen: torch.Generator, device) -> List[Tuple[Any, float]]:
    """The controller's greedy architecture and ``n_derive`` samples, each distinct one scored with the shared
    weights on the whole validation split, best first."""
    controller.eval()
    net.eval()
    with torch.no_grad():
        arcs = [controller.sample(greedy=True)[0]] + [controller.sample(generator=gen)[0]
                                                      for _ in range(n_derive)]
    seen, candidates = set(), []
    for arc in arcs:
        key = json.dumps(arc, sort_keys=True)
        if key not in seen:
            seen.add(key)
            candidates.append((arc, _split_acc(net, arc, val_batches(), device)))
    candidates.sort(key=lambda t: -t[1])
    return candidates


def reward_figure(history, path):
    """PNG of the search: mean reward and baseline per epoch (left), shared-weight training loss (right)."""
    if not history:
        raise InputError("reward_figure: empty history")
    ep = [h.get("epoch", i + 1) for i, h in enumerate(history)]
    fig = Figure(figsize=(10, 3.8))
    ax1, ax2 = fig.add_subplot(1, 2, 1), fig.add_subplot(1, 2, 2)
    ax1.plot(ep, [h["mean_reward"] for h in history], marker=".", label="mean reward")
    ax1.plot(ep, [h["baseline"] for h in history], marker=".", label="baseline")
    ax1.set_ylabel("reward (val minibatch accuracy)")
    ax2.plot(ep, [h["train_loss"] for h in history], marker=".", color="tab:red", label="train loss")
    ax2.set_ylabel("shared-weight train loss")
    for ax in (ax1, ax2):
        ax.set_xlabel("epoch")
        ax.grid(alpha=0.3)
        ax.legend()
    fig.suptitle("ENAS search")
    return _save(fig, path)
