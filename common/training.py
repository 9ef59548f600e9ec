"""Small helpers every trained part shares: seeding, device choice, a minibatch epoch loop with a progress bar."""
from __future__ import annotations

import random
import time
from typing import Callable, Dict, List, Optional

import numpy as np
import torch
from tqdm import tqdm


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


def train_epochs(step: Callable[[int], float], n_batches: int, epochs: int, desc: str,
                 validate: Optional[Callable[[], float]] = None,
                 on_epoch_end: Optional[Callable[[int], None]] = None) -> Dict[str, List[float]]:
    """Run ``epochs`` x ``n_batches`` calls of ``step(batch_index) -> loss``; returns per-epoch loss and val.

    ``validate()`` (higher is better) runs after each epoch; the progress bar shows both.
    """
    hist: Dict[str, List[float]] = {"loss": [], "val": []}
    t0 = time.perf_counter()
    bar = tqdm(range(epochs), desc=desc, unit="epoch", leave=False, dynamic_ncols=True)
    for ep in bar:
        losses = [step(b) for b in range(n_batches)]
        hist["loss"].append(float(np.mean(losses)))
        if validate is not None:
            hist["val"].append(float(validate()))
        if on_epoch_end is not None:
            on_epoch_end(ep)
        bar.set_postfix(loss=f"{hist['loss'][-1]:.4f}", **({"val": f"{hist['val'][-1]:.3f}"} if hist["val"] else {}))
    hist["train_seconds"] = time.perf_counter() - t0
    return hist
