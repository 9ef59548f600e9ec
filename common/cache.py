"""The git-ignored cache of trained checkpoints, keyed by a hash of what determines the training.

A checkpoint's key hashes its stage config, its training data config and the seed - never evaluation-only
keys, the work dir or ``--input`` (``docs/interfaces.md``, "Caching and training on demand").
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, Optional

import torch

from .errors import InputError
from .io import atomic_path
from .paths import CACHE_DIR


def config_hash(obj: Any, n: int = 12) -> str:
    """A short stable hash of a JSON-serialisable object (dict keys sorted)."""
    text = json.dumps(obj, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:n]


def checkpoint_path(stage: str, type_name: str, key: str, root: Optional[Path] = None) -> Path:
    return Path(root or CACHE_DIR) / "checkpoints" / stage / f"{type_name}-{key}.pt"


def save_checkpoint(path, state: dict) -> Path:
    with atomic_path(path) as tmp:
        torch.save(state, tmp)
    return Path(path)


def load_checkpoint(path) -> dict:
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: checkpoint not found")
    try:
        return torch.load(path, map_location="cpu", weights_only=False)
    except Exception as e:  # torch raises many types for a corrupt file
        raise InputError(f"{path}: corrupt checkpoint ({type(e).__name__}: {str(e).splitlines()[0][:120]})") from None
