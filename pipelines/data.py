"""The ``data:`` section: which dataset a pipeline trains and evaluates on, its defaults and its builder."""
from __future__ import annotations

from typing import Callable, Dict, Tuple

from common.dataset import Dataset
from common.errors import InputError

#: data keys that name what to evaluate, never what to train on (left out of the training-data cache keys)
EVAL_DATA_KEYS = ("test_dir", "motion_dir", "bvh_dir", "npz_2d", "coco_json", "mpii_json", "image_dir")


def _no_eval_keys(cfg: dict, dataset: str, allowed=()) -> dict:
    """``cfg`` without the evaluation keys; a one-line error for one this dataset does not use."""
    for k in EVAL_DATA_KEYS:
        if cfg.get(k) is not None and k not in allowed:
            raise InputError(f"data.{k}: not used by data.dataset={dataset}")
    return {k: v for k, v in cfg.items() if k not in EVAL_DATA_KEYS}


def _synthetic() -> Tuple[dict, Callable[[dict], Dataset]]:
    from common.synth.world import SYNTH_DEFAULTS, build_synthetic
    return SYNTH_DEFAULTS, lambda cfg: build_synthetic(_no_eval_keys(cfg, "synthetic"))


MOCAP = "../shared/data/mocap"
#: ``data.dataset: mocap`` (lifting): what trains the lifter, and the evaluation views
MOCAP_DEFAULTS = {
    "synthetic": True,                 # synthetic-world poses in training (Tang et al.'s "Unity" data)
    "synthetic_cfg": {"render": False, "subjects": {"train": 24, "val": 4, "test": 4},
                      "per_class": {"train": 48, "val": 6, "test": 6}},  # completed from SYNTH_DEFAULTS below
    "real_mocap": True,                # real mocap of mocap_dirs in training
    # every shared real source: any folder of any motion format (common.motion)
    "mocap_dirs": [f"{MOCAP}/{s}" for s in ("bandai", "bandai2", "cmu", "cmu_iclone", "deepmimic", "pymo", "hdm05")],
    "mocap_fps": 10.0,                 # training frames per second taken from the mocap (consecutive are alike)
    "mocap_clip_seconds": 30.0,        # a longer clip is subsampled to this many seconds: no take dominates
    "train_cameras": ["S1", "S5", "S6", "S7", "S8"],  # H36M subjects whose cameras film the training mocap
}


def _mocap() -> Tuple[dict, Callable[[dict], Dataset]]:
    """Synthetic-world pairs plus real mocap for training; the test split is ``data.motion_dir`` (a folder or a
    list of folders; its older name ``data.bvh_dir``) seen by the 8 evaluation cameras (``common.mocap``), or the
    synthetic test split when no folder is given."""
    from common.mocap import EVAL_SUBJECTS, h36m_cameras, mocap_samples
    from common.motion import motion_files
    from common.paths import repo_path
    from common.synth.world import SYNTH_DEFAULTS, build_synthetic

    defaults = {**MOCAP_DEFAULTS, "synthetic_cfg": {**SYNTH_DEFAULTS, **MOCAP_DEFAULTS["synthetic_cfg"]}}

    def build(cfg: dict) -> Dataset:
        motion_dir, bvh_dir = cfg.get("motion_dir"), cfg.get("bvh_dir")
        if motion_dir and bvh_dir and motion_dir != bvh_dir:
            raise InputError("data.motion_dir and data.bvh_dir (its older name) name different folders; give one")
        motion_dir = motion_dir or bvh_dir
        cfg = _no_eval_keys(cfg, "mocap", allowed=("motion_dir", "bvh_dir"))
        if not cfg["synthetic"] and not (cfg["real_mocap"] and cfg["mocap_dirs"]):
            raise InputError("data: no training data (synthetic: false and no real_mocap/mocap_dirs)")
        # the evaluation folder is read first: a bad file stops the run before any training
        folders = motion_dir if isinstance(motion_dir, list) else [motion_dir] if motion_dir else []
        test = mocap_samples([f for d in folders for f in motion_files(repo_path(d))], h36m_cameras(EVAL_SUBJECTS)) \
            if folders else None
        synth = build_synthetic(cfg["synthetic_cfg"])
        train = list(synth.train) if cfg["synthetic"] else []
        if cfg["real_mocap"]:
            cams = h36m_cameras(cfg["train_cameras"])
            for d in cfg["mocap_dirs"]:
                train += mocap_samples(motion_files(repo_path(d)), cams, cfg["mocap_fps"],
                                       max_seconds=cfg["mocap_clip_seconds"])
        return Dataset("mocap", synth.action_names, train, synth.val, synth.test if test is None else test)

    return defaults, build


#: ``data.dataset: h36m_npz`` (lifting): Human3.6M prepared by VideoPose3D, the standard protocol
H36M_NPZ_DEFAULTS = {
    "npz_3d": None,                                  # data_3d_h36m.npz (required); evaluation key data.npz_2d:
                                                     # data_2d_h36m_<detector>.npz, a detector's 2D for the test
    "train_subjects": ["S1", "S5", "S6", "S7", "S8"],
    "test_subjects": ["S9", "S11"],
    "train_fps": 10.0,                               # training frames per second taken from the 50 fps data
}


def _h36m_npz() -> Tuple[dict, Callable[[dict], Dataset]]:
    """``data_3d_h36m.npz`` (``common.mocap.h36m_npz_samples``): train subjects at ``train_fps``, test subjects at
    every frame, each seen by its own 4 real cameras; ``npz_2d`` replaces the test 2D by a detector's."""
    from common.mocap import h36m_npz_samples
    from common.paths import repo_path

    def build(cfg: dict) -> Dataset:
        npz_2d = repo_path(cfg["npz_2d"]) if cfg.get("npz_2d") else None
        cfg = _no_eval_keys(cfg, "h36m_npz", allowed=("npz_2d",))
        if not cfg["npz_3d"]:
            raise InputError("data.npz_3d: give VideoPose3D's data_3d_h36m.npz (data.dataset=h36m_npz)")
        both = sorted(set(cfg["train_subjects"]) & set(cfg["test_subjects"]))
        if both:
            raise InputError(f"data: subject(s) {', '.join(both)} both in train_subjects and test_subjects")
        npz_3d = repo_path(cfg["npz_3d"])
        test = h36m_npz_samples(npz_3d, cfg["test_subjects"], npz_2d)
        train = h36m_npz_samples(npz_3d, cfg["train_subjects"], target_fps=cfg["train_fps"])
        return Dataset("h36m_npz", [], train, [], test)

    return H36M_NPZ_DEFAULTS, build


#: ``data.dataset: penn_action``: the shared official train split, carved; ``data.test_dir`` is the test split
PENN_DEFAULTS = {
    "train_dir": "../shared/data/penn_action/train",
    "val_fraction": 0.1,       # per class: model selection (best epoch, ENAS reward, sweeps)
    "holdout_fraction": 0.2,   # per class: the test split when no data.test_dir is given
    "split_seed": 0,
    # Penn Action marks occluded joints (visibility 0) but still annotates where they are: as scores they
    # made the pose image weight those positions out, which cost about 2 points of holdout top-1
    "visibility_scores": False,
}


def _penn_action() -> Tuple[dict, Callable[[dict], Dataset]]:
    """Penn Action poses (``common.penn_action``): train / val / holdout carved from ``train_dir``; the test
    split is every ``.mat`` file under ``data.test_dir``, or the holdout part."""
    from common.paths import repo_path
    from common.penn_action import PENN_ACTIONS, carve, penn_samples

    def build(cfg: dict) -> Dataset:
        test_dir = cfg.get("test_dir")
        cfg = _no_eval_keys(cfg, "penn_action", allowed=("test_dir",))
        vis = cfg["visibility_scores"]
        train, val, holdout = carve(penn_samples(repo_path(cfg["train_dir"]), visibility_scores=vis),
                                    (cfg["val_fraction"], cfg["holdout_fraction"]), cfg["split_seed"])
        test = penn_samples(repo_path(test_dir), visibility_scores=vis) if test_dir else holdout
        return Dataset("penn_action", list(PENN_ACTIONS), train, val, test)

    return PENN_DEFAULTS, build


#: ``data.dataset: ntu``: NTU RGB+D skeletons, cross-subject split of ``skeleton_dir``
NTU_DEFAULTS = {"skeleton_dir": "../shared/data/ntu", "label_map_file": "../shared/data/ntu/label_map_ntu60.txt"}


def _ntu() -> Tuple[dict, Callable[[dict], Dataset]]:
    """NTU RGB+D ``.skeleton`` files (``common.ntu``): the cross-subject training performers of
    ``skeleton_dir`` train, the others test; ``data.test_dir`` replaces the test split (every file in it)."""
    from common.ntu import CS_TRAIN_PERFORMERS, ntu_samples, read_label_map
    from common.paths import repo_path

    def build(cfg: dict) -> Dataset:
        test_dir = cfg.get("test_dir")
        cfg = _no_eval_keys(cfg, "ntu", allowed=("test_dir",))
        names = read_label_map(repo_path(cfg["label_map_file"]))
        samples = ntu_samples(repo_path(cfg["skeleton_dir"]), len(names))
        train = [s for s in samples if s.subject in CS_TRAIN_PERFORMERS]
        test = ntu_samples(repo_path(test_dir), len(names)) if test_dir else \
            [s for s in samples if s.subject not in CS_TRAIN_PERFORMERS]
        if not train or not test:
            raise InputError(f"data.skeleton_dir={cfg['skeleton_dir']}: {len(train)} training and {len(test)} test "
                             "sequences (cross-subject split); give data.test_dir for a folder to evaluate")
        return Dataset("ntu", names, train, [], test)

    return NTU_DEFAULTS, build


#: ``data.dataset: utd_mhad``: UTD-MHAD Kinect skeletons, cross-subject (``common.utd_mhad``)
UTD_DEFAULTS = {
    "train_dir": "../shared/data/utd_mhad",
    "train_subjects": [1, 3, 5, 7],   # the standard cross-subject training half
    "val_trials": [4],                # trials of the training subjects kept for model selection
    "holdout_subjects": [],           # training subjects left out of training and used as the test split
    "exclude_classes": [],            # class names never trained on (open-set calibration: they stay in test)
}


def _utd_mhad() -> Tuple[dict, Callable[[dict], Dataset]]:
    """UTD-MHAD skeletons (``common.utd_mhad``): ``train_subjects`` of ``train_dir`` train, their
    ``val_trials`` validate; the test split is every file under ``data.test_dir`` of a subject not trained on,
    else the ``holdout_subjects``, else the other subjects of ``train_dir`` (the standard protocol on a full
    copy)."""
    from common.paths import repo_path
    from common.utd_mhad import UTD_ACTIONS, trial_of, utd_samples

    def build(cfg: dict) -> Dataset:
        test_dir = cfg.get("test_dir")
        cfg = _no_eval_keys(cfg, "utd_mhad", allowed=("test_dir",))
        train_subjects = set(cfg["train_subjects"]) - set(cfg["holdout_subjects"])
        samples = utd_samples(repo_path(cfg["train_dir"]))
        unknown = sorted(set(cfg["exclude_classes"]) - set(UTD_ACTIONS))
        if unknown:
            raise InputError(f"data.exclude_classes: unknown class(es) {', '.join(unknown)}; known: "
                             f"{', '.join(UTD_ACTIONS)}")
        excluded = {UTD_ACTIONS.index(c) for c in cfg["exclude_classes"]}
        samples_known = [s for s in samples if s.subject in train_subjects and s.action not in excluded]
        train = [s for s in samples_known if trial_of(s) not in cfg["val_trials"]]
        val = [s for s in samples_known if trial_of(s) in cfg["val_trials"]]
        if test_dir:  # a subject trained on is never tested on (a full copy of the dataset may be given)
            test = [s for s in utd_samples(repo_path(test_dir)) if s.subject not in train_subjects]
        elif cfg["holdout_subjects"]:
            test = [s for s in samples if s.subject in cfg["holdout_subjects"]]
        else:
            test = [s for s in samples if s.subject not in cfg["train_subjects"]]
        if not train:
            raise InputError(f"data: no UTD-MHAD training sequences of subjects {sorted(train_subjects)} in "
                             f"{cfg['train_dir']}")
        if test_dir and not test:
            raise InputError(f"data.test_dir={test_dir}: only subjects trained on ({sorted(train_subjects)})")
        return Dataset("utd_mhad", list(UTD_ACTIONS), train, val, test)

    return UTD_DEFAULTS, build


#: ``data.dataset: annotated`` (2D detector evaluation): evaluated when none of coco_json / mpii_json /
#: test_dir is given; ``image_dir`` null = the images sit beside their json
ANNOTATED_DEFAULTS = {"default_sets": {"coco_json": "../shared/data/images/coco/test_coco.json",
                                       "mpii_json": "../shared/data/images/mpii/test_mpii.json",
                                       "test_dir": "../shared/data/ntu"}}


def _annotated() -> Tuple[dict, Callable[[dict], Dataset]]:
    """Real annotated people for stage 1 alone (``common.annotated``): COCO-format ``data.coco_json`` and/or
    MPII-format ``data.mpii_json`` with their images in ``data.image_dir`` (each person cropped by its box),
    and Kinect-annotated videos under ``data.test_dir`` (NTU ``.skeleton`` + ``_rgb.avi``). Nothing to train
    on: a trainable detector names its training data in its own ``train_data`` section."""
    from common.annotated import coco_people, kinect_clips, mpii_people
    from common.paths import repo_path

    def build(cfg: dict) -> Dataset:
        _no_eval_keys(cfg, "annotated", allowed=("coco_json", "mpii_json", "image_dir", "test_dir"))
        keys = ("coco_json", "mpii_json", "test_dir")
        sets = {k: cfg.get(k) for k in keys} if any(cfg.get(k) for k in keys) else dict(cfg["default_sets"] or {})
        image_dir = repo_path(cfg["image_dir"]) if cfg.get("image_dir") else None
        test = []
        if sets.get("coco_json"):
            test += coco_people(repo_path(sets["coco_json"]), image_dir)
        if sets.get("mpii_json"):
            test += mpii_people(repo_path(sets["mpii_json"]), image_dir)
        if sets.get("test_dir"):
            test += kinect_clips(repo_path(sets["test_dir"]))
        if not test:
            raise InputError("data: nothing to evaluate; give data.coco_json, data.mpii_json or data.test_dir")
        return Dataset("annotated", [], [], [], test)

    return ANNOTATED_DEFAULTS, build


#: dataset name -> () -> (defaults, builder)
DATASETS: Dict[str, Callable[[], Tuple[dict, Callable[[dict], Dataset]]]] = {
    "synthetic": _synthetic, "mocap": _mocap, "h36m_npz": _h36m_npz, "penn_action": _penn_action, "ntu": _ntu,
    "utd_mhad": _utd_mhad, "annotated": _annotated}


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
    """The dataset of a resolved data section; evaluation keys (``data.motion_dir``, ...) reach the builder,
    which may use them only for the test split."""
    cfg = dict(data_cfg)
    _, builder = _entry(cfg.pop("dataset"))
    return builder(cfg)
