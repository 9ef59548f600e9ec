"""Training that survives being killed: a snapshot of a training loop's state after every epoch, written
atomically, and restored when the same training starts again (``docs/interfaces.md``, "Resume").

A caller that can be resumed (the chain, for each part it trains) opens :func:`resuming` on a folder of its own;
inside it, every training loop (``common.training.train_epochs``, the detector's and the joint mode's loops)
takes a :class:`Snapshots` of the objects its epochs change: networks, optimisers, schedulers, random generators,
and plain dicts of loop state (the best epoch so far, say). Loops are numbered in the order they start (a stereo
lifter trains two, an ensemble one per member), so a restarted fit skips the loops that had finished, restoring
their end state, and continues the one that was cut at its last finished epoch. The global random states (torch,
numpy, ``random``) are saved with each snapshot, so a resumed run draws what the uninterrupted one would have
drawn and ends with the same weights. Outside :func:`resuming`, nothing is saved.
"""
from __future__ import annotations

import contextlib
import contextvars
import copy
import random
import shutil
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Tuple

import numpy as np
import torch

from .distributed import barrier, world
from .io import atomic_path
from .logs import get_logger

#: the active resume folder and the number of training loops started in it so far
_ACTIVE: contextvars.ContextVar[Optional[dict]] = contextvars.ContextVar("resume", default=None)


@contextlib.contextmanager
def resuming(folder, keep: bool = False) -> Iterator[Path]:
    """Training loops inside save their epochs to ``folder`` and resume from it; on success the folder is
    removed (unless ``keep``), on an exception it stays for the next start."""
    folder = Path(folder)
    token = _ACTIVE.set({"folder": folder, "loops": 0})
    try:
        yield folder
    finally:
        _ACTIVE.reset(token)
    if not keep:
        barrier()  # under torchrun every process has written its last snapshot before the folder goes
        shutil.rmtree(folder, ignore_errors=True)


def _get(obj) -> Any:
    if isinstance(obj, torch.Generator):
        return obj.get_state()
    if isinstance(obj, np.random.Generator):
        return copy.deepcopy(obj.bit_generator.state)
    if hasattr(obj, "state_dict"):  # modules, optimisers, schedulers
        return copy.deepcopy(obj.state_dict())
    if isinstance(obj, dict):
        return copy.deepcopy(obj)
    raise TypeError(f"cannot snapshot a {type(obj).__name__}")


def _set(obj, value) -> None:
    if isinstance(obj, torch.Generator):
        obj.set_state(value)
    elif isinstance(obj, np.random.Generator):
        obj.bit_generator.state = value
    elif hasattr(obj, "load_state_dict"):
        obj.load_state_dict(value)
    else:
        obj.clear()
        obj.update(value)


def _global_rng() -> dict:
    out = {"torch": torch.get_rng_state(), "numpy": np.random.get_state(), "random": random.getstate()}
    if torch.cuda.is_available():
        out["cuda"] = torch.cuda.get_rng_state_all()
    return out


def _set_global_rng(s: dict) -> None:
    torch.set_rng_state(s["torch"])
    np.random.set_state(s["numpy"])
    random.setstate(s["random"])
    if "cuda" in s and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(s["cuda"])


class Snapshots:
    """The per-epoch snapshots of one training loop of ``epochs`` epochs (or steps) over ``objects`` (name ->
    object); a no-op outside :func:`resuming`. ``start()`` restores the last snapshot and returns (first epoch
    to run, the history so far); ``save(epoch, history)`` writes the state after ``epoch``."""

    def __init__(self, objects: Dict[str, Any], epochs: int):
        # the same object twice (one optimiser for two roles, say) is saved once
        self.objects = {k: v for i, (k, v) in enumerate(objects.items())
                        if all(v is not w for w in list(objects.values())[:i])}
        self.epochs = int(epochs)
        active = _ACTIVE.get()
        self.path: Optional[Path] = None
        if active is not None:  # one file per process of a distributed training
            rank, size = world()
            self.path = active["folder"] / f"loop{active['loops']}{f'.rank{rank}' if size > 1 else ''}.pt"
            active["loops"] += 1

    def start(self) -> Tuple[int, Dict[str, List[float]]]:
        if self.path is None or not self.path.is_file():
            return 0, {}
        snap = torch.load(self.path, map_location="cpu", weights_only=False)
        if snap["epochs"] != self.epochs or set(snap["objects"]) != set(self.objects):
            return 0, {}  # another training wrote it: start afresh
        for name, obj in self.objects.items():
            _set(obj, snap["objects"][name])
        _set_global_rng(snap["rng"])
        get_logger("resume").info(f"{self.path.parent.name}/{self.path.name}: epochs 1-{snap['epoch'] + 1} of "
                                  f"{self.epochs} restored, continuing at epoch {snap['epoch'] + 2}")
        return snap["epoch"] + 1, snap["history"]

    def save(self, epoch: int, history: Dict[str, List[float]]) -> None:
        if self.path is None:
            return
        snap = {"epoch": epoch, "epochs": self.epochs, "history": copy.deepcopy(history),
                "objects": {k: _get(v) for k, v in self.objects.items()}, "rng": _global_rng()}
        with atomic_path(self.path) as tmp:
            torch.save(snap, tmp)
