"""Small helpers every trained part shares: seeding, device choice, a minibatch epoch loop with a progress bar,
and a hook through which a caller (a hyper-parameter sweep, say) watches every epoch's validation value."""
from __future__ import annotations

import contextlib
import contextvars
import random
import time
from typing import Any, Callable, Dict, Iterator, List, Optional

import numpy as np
import torch

from .progress import progress_bar
from .resume import Snapshots


def seed_everything(seed: int) -> torch.Generator:
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    return torch.Generator().manual_seed(seed)


def resolve_device(device: str) -> str:
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cuda" and not torch.cuda.is_available():
        from .errors import InputError
        raise InputError("device: cuda requested but no CUDA device is available")
    return device


#: the active per-epoch reporter (see ``epoch_reporter``); None: nobody is watching
_EPOCH_REPORTER: contextvars.ContextVar[Optional[Callable[[int, float], None]]] = \
    contextvars.ContextVar("epoch_reporter", default=None)


@contextlib.contextmanager
def epoch_reporter(fn: Callable[[int, float], None]) -> Iterator[Callable[[int, float], None]]:
    """While active, ``train_epochs`` calls ``fn(epoch_index, val_value)`` after each epoch's validation (only
    when it is given a ``validate``; the value is "higher is better", as ``validate`` returns it).

    Reporters stack: the innermost one is called, and leaving the block restores the previous one. Whatever
    ``fn`` raises (``optuna.TrialPruned``, say) propagates out of the training.
    """
    token = _EPOCH_REPORTER.set(fn)
    try:
        yield fn
    finally:
        _EPOCH_REPORTER.reset(token)


def train_epochs(step: Callable[[int], float], n_batches: int, epochs: int, desc: str,
                 validate: Optional[Callable[[], float]] = None,
                 on_epoch_end: Optional[Callable[[int], None]] = None,
                 state: Optional[Dict[str, Any]] = None) -> Dict[str, List[float]]:
    """Run ``epochs`` x ``n_batches`` calls of ``step(batch_index) -> loss``; returns per-epoch loss and val.

    ``validate()`` (higher is better) runs after each epoch; the progress bar shows both. The active
    ``epoch_reporter`` (if any) is then called with the epoch's index and validation value. ``state`` names the
    objects the epochs change (network, optimiser, scheduler, generators, dicts of loop state): inside
    ``common.resume.resuming`` they are saved after every epoch and restored when the training starts again.
    """
    snaps = Snapshots(state or {}, epochs)
    first, saved = snaps.start()
    hist: Dict[str, List[float]] = {"loss": [], "val": [], "epoch_seconds": [], **saved}
    reporter = _EPOCH_REPORTER.get()
    with progress_bar(range(first, epochs), desc=desc, unit="epoch") as bar:
        for ep in bar:
            t0 = time.perf_counter()
            losses = [step(b) for b in range(n_batches)]
            hist["loss"].append(float(np.mean(losses)))
            if validate is not None:
                hist["val"].append(float(validate()))
            if on_epoch_end is not None:
                on_epoch_end(ep)
            hist["epoch_seconds"].append(time.perf_counter() - t0)
            snaps.save(ep, hist)
            bar.set_postfix(loss=f"{hist['loss'][-1]:.4f}",
                            **({"val": f"{hist['val'][-1]:.3f}"} if hist["val"] else {}))
            if reporter is not None and validate is not None:
                reporter(ep, hist["val"][-1])
    hist["train_seconds"] = float(sum(hist.pop("epoch_seconds")))
    return hist
