"""The ``data:`` section: which dataset a pipeline trains and evaluates on, its defaults and its builder."""
from __future__ import annotations

from typing import Callable, Dict, Tuple

from common.dataset import Dataset
from common.errors import InputError

from .config import EVAL_DATA_KEYS


def _no_eval_keys(cfg: dict, dataset: str, allowed=()) -> dict:
    """``cfg`` without the evaluation keys; a one-line error for one this dataset does not use."""
    for k in EVAL_DATA_KEYS:
        if cfg.get(k) is not None and k not in allowed:
            raise InputError(f"data.{k}: not used by data.dataset={dataset}")
    return {k: v for k, v in cfg.items() if k not in EVAL_DATA_KEYS}


def _synthetic() -> Tuple[dict, Callable[[dict], Dataset]]:
    from common.synth.world import SYNTH_DEFAULTS, build_synthetic
    return SYNTH_DEFAULTS, lambda cfg: build_synthetic(_no_eval_keys(cfg, "synthetic"))


#: ``data.dataset: mocap`` (lifting): what trains the lifter, and the evaluation views
MOCAP_DEFAULTS = {
    "synthetic": True,                 # synthetic-world poses in training (seed 000's "Unity" data)
    "synthetic_cfg": {"render": False, "subjects": {"train": 24, "val": 4, "test": 4},
                      "per_class": {"train": 48, "val": 6, "test": 6}},  # completed from SYNTH_DEFAULTS below
    "real_mocap": True,                # real mocap of mocap_dirs in training
    "mocap_dirs": ["../shared/data/mocap/bandai", "../shared/data/mocap/cmu"],
    "mocap_fps": 10.0,                 # training frames per second taken from the mocap (consecutive are alike)
    "train_cameras": ["S1", "S5", "S6", "S7", "S8"],  # H36M subjects whose cameras film the training mocap
}


def _mocap() -> Tuple[dict, Callable[[dict], Dataset]]:
    """Synthetic-world pairs plus real mocap for training; the test split is ``data.bvh_dir`` seen by the 8
    evaluation cameras (``common.mocap``), or the synthetic test split when no folder is given."""
    from common.mocap import EVAL_SUBJECTS, bvh_files, h36m_cameras, mocap_samples
    from common.paths import repo_path
    from common.synth.world import SYNTH_DEFAULTS, build_synthetic

    defaults = {**MOCAP_DEFAULTS, "synthetic_cfg": {**SYNTH_DEFAULTS, **MOCAP_DEFAULTS["synthetic_cfg"]}}

    def build(cfg: dict) -> Dataset:
        bvh_dir = cfg.get("bvh_dir")
        cfg = _no_eval_keys(cfg, "mocap", allowed=("bvh_dir",))
        if not cfg["synthetic"] and not (cfg["real_mocap"] and cfg["mocap_dirs"]):
            raise InputError("data: no training data (synthetic: false and no real_mocap/mocap_dirs)")
        synth = build_synthetic(cfg["synthetic_cfg"])
        train = list(synth.train) if cfg["synthetic"] else []
        if cfg["real_mocap"]:
            cams = h36m_cameras(cfg["train_cameras"])
            for d in cfg["mocap_dirs"]:
                files = bvh_files(repo_path(d))
                train += mocap_samples(files, cams, cfg["mocap_fps"])
        test = synth.test
        if bvh_dir:
            test = mocap_samples(bvh_files(repo_path(bvh_dir)), h36m_cameras(EVAL_SUBJECTS))
        return Dataset("mocap", synth.action_names, train, synth.val, test)

    return defaults, build


#: dataset name -> () -> (defaults, builder); later issues add real datasets here
DATASETS: Dict[str, Callable[[], Tuple[dict, Callable[[dict], Dataset]]]] = {"synthetic": _synthetic, "mocap": _mocap}


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
    """The dataset of a resolved data section; evaluation keys (``data.bvh_dir``, ...) reach the builder,
    which may use them only for the test split."""
    cfg = dict(data_cfg)
    _, builder = _entry(cfg.pop("dataset"))
    return builder(cfg)
