"""The ``data:`` section: which dataset a pipeline trains and evaluates on, its defaults and its builder."""
from __future__ import annotations

from typing import Callable, Dict, Tuple

from common.dataset import Dataset
from common.errors import InputError

from .config import EVAL_DATA_KEYS


def _synthetic() -> Tuple[dict, Callable[[dict], Dataset]]:
    from common.synth.world import SYNTH_DEFAULTS, build_synthetic
    return SYNTH_DEFAULTS, lambda cfg: build_synthetic(cfg)


#: dataset name -> () -> (defaults, builder); later issues add real datasets here
DATASETS: Dict[str, Callable[[], Tuple[dict, Callable[[dict], Dataset]]]] = {"synthetic": _synthetic}


def _entry(name):
    if name not in DATASETS:
        raise InputError(f"data.dataset: unknown dataset {name!r}; known: {', '.join(sorted(DATASETS))}")
    return DATASETS[name]()


def data_defaults(raw: dict) -> dict:
    name = (raw or {}).get("dataset", "synthetic")
    defaults, _ = _entry(name)
    return {"dataset": name, **defaults}


def training_data_cfg(data_cfg: dict) -> dict:
    """The part of the data section that determines training (what a checkpoint's cache key hashes)."""
    return {k: v for k, v in data_cfg.items() if k not in EVAL_DATA_KEYS}


def build_dataset(data_cfg: dict) -> Dataset:
    cfg = training_data_cfg(data_cfg)
    _, builder = _entry(cfg.pop("dataset"))
    return builder(cfg)
