"""VideoPose3D's prepared datasets: ``data_3d_<name>.npz`` (3D mocap) and ``data_2d_<name>_<detector>.npz``.

Pavllo, Feichtenhofer, Grangier and Auli, "3D human pose estimation in video with temporal convolutions and
semi-supervised training", CVPR 2019 (github.com/facebookresearch/VideoPose3D); the files are the ones its
``DATASETS.md`` has users prepare in ``data/`` (``prepare_data_h36m.py``, ``prepare_data_humaneva.py``,
``prepare_data_2d_*.py``) or download (the CPN / Detectron detections). The format, as those scripts write it
(``np.savez_compressed`` with Python dicts, so each key is a pickled 0-d object array that
``np.load(path, allow_pickle=True)[key].item()`` returns):

* ``data_3d_<name>.npz``: ``positions_3d`` = ``{subject: {action: (T, J, 3) float32}}``, world coordinates in
  metres (VideoPose3D divides the millimetres of the datasets by 1000). Human3.6M (``data_3d_h36m.npz``):
  subjects ``'S1'`` ... ``'S11'``, J = 32, the full H36M mocap skeleton, in H36M's world frame (z up).
  VideoPose3D's ``Human36mDataset`` drops 15 static joints and keeps 17, :data:`H36M32_KEPT` (0, 1, 2, 3, 6, 7,
  8, 12, 13, 14, 15, 17, 18, 19, 25, 26, 27), which are the ``h36m17`` joints in order. HumanEva-I
  (``data_3d_humaneva15.npz``): subjects ``'Train/S1'`` ... ``'Validate/S3'``, actions ``'Walking 1 chunk0'``
  ..., J = 15 in the ``humaneva15`` order of :mod:`common.skeleton` (its ``head`` is the top of the head).
* ``data_2d_<name>_<detector>.npz``: ``positions_2d`` = ``{subject: {action: [(T, J, 2) pixels, one per
  camera]}}`` (a camera without detections is ``None`` in a few files) and ``metadata`` = ``{'layout_name':
  'h36m' | 'coco' | 'mpii' | 'humaneva15', 'num_joints': J, 'keypoints_symmetry': [left indices, right
  indices]}`` (VideoPose3D's ``data_utils.py``). The ground-truth files (``..._gt.npz``) and the Stacked
  Hourglass ones lack ``layout_name``: the layout then follows from ``num_joints`` and the symmetry lists.

Reading gives ``h36m17`` everywhere: 32 joints -> the 17 kept ones; 17 -> as is; 15 -> ``to_h36m17(...,
'humaneva15')``; in 2D ``coco`` -> ``coco17``, ``mpii`` -> ``mpii16``, ``humaneva15`` through the same rules.

Up axis (3D): H36M's world is z up and 32-joint files are left as they are. For other files (17 or 15 joints)
the up direction is read from the data: the mean over every frame of the file of head top minus mid-ankles;
its largest component names the axis and its sign the direction, and the whole file is turned by the PROPER
rotation (determinant +1: a quarter or half turn about x or y, so every value is copied exactly, possibly
negated) that takes that direction onto +z. A mirror is never used, so the person's left stays on the left.
Already z-up data is untouched. Files in millimetres (median head-to-ankles length over 10) are refused.

``np.load(..., allow_pickle=True)`` runs code from the file: read only files you trust. Files that are not
zip archives are refused before anything is unpickled.
"""
from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Tuple

import numpy as np

from .errors import InputError
from .io import atomic_path
from .rig import up_rotation
from .skeleton import H36M17, get_layout, to_h36m17

#: indices of the 32-joint Human3.6M skeleton that VideoPose3D keeps, in ``h36m17`` order
H36M32_KEPT = (0, 1, 2, 3, 6, 7, 8, 12, 13, 14, 15, 17, 18, 19, 25, 26, 27)
#: VideoPose3D ``layout_name`` -> layout of :mod:`common.skeleton`
LAYOUT_NAMES = {"h36m": "h36m17", "coco": "coco17", "mpii": "mpii16", "humaneva15": "humaneva15"}
_MM_LIMIT = 10.0  # a head-to-ankles length above this many "metres" means the file is in millimetres

Positions3D = Dict[str, Dict[str, np.ndarray]]
Positions2D = Dict[str, Dict[str, List[Optional[np.ndarray]]]]


# ------------------------------------------------------------------------------------------------ reading
def _read_keys(path, keys) -> Tuple[Path, List[str], Dict[str, Any]]:
    """The archive's key names and the unpickled values of those of ``keys`` it has."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: no such file (expected a VideoPose3D .npz)")
    if not zipfile.is_zipfile(path):
        raise InputError(f"{path}: not an .npz archive (VideoPose3D's files are np.savez_compressed zips)")
    try:
        with np.load(path, allow_pickle=True) as z:
            files = list(z.files)
            values = {k: z[k] for k in keys if k in files}
    except Exception as e:  # corrupt members: zlib, pickle, zip and header errors alike
        raise InputError(f"{path}: unreadable .npz ({type(e).__name__}: {e})") from None
    for k, v in values.items():
        values[k] = v.item() if isinstance(v, np.ndarray) and v.dtype == object and v.shape == () else v
    return path, files, values


def _nested(path: Path, key: str, obj) -> Dict[str, dict]:
    if not isinstance(obj, dict) or not all(isinstance(v, dict) for v in obj.values()):
        what = type(obj).__name__ if not isinstance(obj, dict) else "a dict with non-dict values"
        raise InputError(f"{path}: '{key}' is {what}; expected a dict {{subject: {{action: array}}}}")
    if not any(obj.values()):
        raise InputError(f"{path}: '{key}' is empty (no subject with any action)")
    return obj


def _array(path: Path, field: str, value, dims: Tuple[int, ...]) -> np.ndarray:
    """``value`` as a float64 (T, J, D) array, D in ``dims``, T > 0, all finite."""
    try:
        a = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise InputError(f"{path}: {field} is not a numeric array ({type(value).__name__})") from None
    if a.ndim != 3 or a.shape[-1] not in dims:
        raise InputError(f"{path}: {field} has shape {a.shape}; expected (frames, joints, "
                         f"{' or '.join(map(str, dims))})")
    if a.shape[0] == 0 or a.shape[1] == 0:
        raise InputError(f"{path}: {field} is empty (shape {a.shape})")
    if not np.isfinite(a).all():
        raise InputError(f"{path}: {field} has NaN or infinite values")
    return a


def load_positions_3d(path) -> Positions3D:
    """``{subject: {action: (T, 17, 3) float64}}``: a ``data_3d_<name>.npz`` as ``h36m17`` world metres, z up.

    32 joints (Human3.6M) -> the 17 VideoPose3D keeps; 17 -> as is; 15 -> from ``humaneva15``. Files of 17 or
    15 joints are turned so that their up direction is +z (module docstring). Errors name the file and field.
    """
    path, files, vals = _read_keys(path, ["positions_3d"])
    if "positions_3d" not in vals:
        hint = " (it holds 2D key-points: use load_positions_2d)" if "positions_2d" in files else ""
        raise InputError(f"{path}: no 'positions_3d' key (keys: {', '.join(files) or 'none'}); expected "
                         f"VideoPose3D's data_3d_<name>.npz{hint}")
    raw = _nested(path, "positions_3d", vals["positions_3d"])
    n_joints = None
    out: Positions3D = {}
    for subject, actions in raw.items():
        out[str(subject)] = {}
        for action, value in actions.items():
            field = f"positions_3d[{subject!r}][{action!r}]"
            a = _array(path, field, value, (3,))
            if a.shape[1] not in (32, 17, 15):
                raise InputError(f"{path}: {field} has {a.shape[1]} joints; expected 32 (Human3.6M), "
                                 f"17 (h36m17) or 15 (humaneva15)")
            if n_joints is not None and a.shape[1] != n_joints:
                raise InputError(f"{path}: {field} has {a.shape[1]} joints, other actions {n_joints}")
            n_joints = a.shape[1]
            if n_joints == 32:
                a = a[:, H36M32_KEPT]
            elif n_joints == 15:
                a = to_h36m17(a, "humaneva15")[0]
            out[str(subject)][str(action)] = a
    seqs = [a for acts in out.values() for a in acts.values()]
    up = np.concatenate([a[:, H36M17["head"]] - 0.5 * (a[:, H36M17["l_ankle"]] + a[:, H36M17["r_ankle"]])
                         for a in seqs])
    height = float(np.median(np.linalg.norm(up, axis=-1)))
    if height > _MM_LIMIT:
        raise InputError(f"{path}: median head-to-ankles length {height:.1f}; expected metres (VideoPose3D "
                         f"stores millimetres / 1000)")
    if n_joints != 32:
        rot = up_rotation(up.mean(axis=0))
        if not np.array_equal(rot, np.eye(3)):
            out = {s: {a: v @ rot.T for a, v in acts.items()} for s, acts in out.items()}
    return out


def _symmetry(layout: str) -> List[List[int]]:
    """VideoPose3D's ``keypoints_symmetry`` of a layout: [left joint indices, right joint indices]."""
    L = get_layout(layout)
    return [sorted(i for i, n in enumerate(L.names) if n.startswith("l_")),
            sorted(i for i, n in enumerate(L.names) if n.startswith("r_"))]


def metadata_2d(layout_name: str) -> Dict[str, Any]:
    """VideoPose3D's ``metadata`` for a ``layout_name`` ('h36m', 'coco', 'mpii', 'humaneva15')."""
    if layout_name not in LAYOUT_NAMES:
        raise InputError(f"unknown VideoPose3D layout {layout_name!r}; known: {', '.join(LAYOUT_NAMES)}")
    ours = LAYOUT_NAMES[layout_name]
    return {"layout_name": layout_name, "num_joints": get_layout(ours).n_joints,
            "keypoints_symmetry": _symmetry(ours)}


def _resolve_layout(path: Path, meta: Mapping, n_joints: int) -> str:
    """The VideoPose3D layout name of a 2D file, from ``layout_name`` or from the joint count and symmetry."""
    sym = meta.get("keypoints_symmetry")
    try:
        sym = None if sym is None else [sorted(int(i) for i in side) for side in sym]
    except (TypeError, ValueError):
        raise InputError(f"{path}: metadata keypoints_symmetry is not [left indices, right indices]") from None
    name = meta.get("layout_name")
    if name is None:
        fits = [k for k, v in LAYOUT_NAMES.items() if get_layout(v).n_joints == n_joints
                and (sym is None or sym == _symmetry(v))]
        if sym is None and n_joints == 17:
            fits = ["h36m"]  # VideoPose3D's ground-truth 2D files: 17 joints, no layout_name, h36m order
        if len(fits) != 1:
            raise InputError(f"{path}: metadata has no layout_name and {n_joints} joints with symmetry {sym} "
                             f"match no single layout of {', '.join(LAYOUT_NAMES)}")
        return fits[0]
    if name not in LAYOUT_NAMES:
        raise InputError(f"{path}: metadata layout_name {name!r} is not supported; known: "
                         f"{', '.join(LAYOUT_NAMES)}")
    if get_layout(LAYOUT_NAMES[name]).n_joints != n_joints:
        raise InputError(f"{path}: layout {name!r} has {get_layout(LAYOUT_NAMES[name]).n_joints} joints, "
                         f"the arrays {n_joints}")
    if sym is not None and sym != _symmetry(LAYOUT_NAMES[name]):
        raise InputError(f"{path}: metadata keypoints_symmetry {sym} does not match layout {name!r} "
                         f"({_symmetry(LAYOUT_NAMES[name])})")
    return name


def load_positions_2d(path) -> Tuple[Positions2D, Dict[str, Any]]:
    """``({subject: {action: [(T, 17, D) per camera]}}, metadata)`` from a ``data_2d_<name>_<det>.npz``.

    Pixels in ``h36m17`` order (``coco``, ``mpii`` and ``humaneva15`` converted by :func:`to_h36m17`). D = 2,
    or 3 where the file stores a score channel (x, y, score): the score is carried through the conversion. A
    camera the file holds as ``None`` stays ``None``. ``metadata`` is the file's own (it describes the file's
    layout), with ``layout_name`` filled in where the file leaves it out.
    """
    path, files, vals = _read_keys(path, ["positions_2d", "metadata"])
    if "positions_2d" not in vals:
        hint = " (it holds 3D positions: use load_positions_3d)" if "positions_3d" in files else ""
        raise InputError(f"{path}: no 'positions_2d' key (keys: {', '.join(files) or 'none'}); expected "
                         f"VideoPose3D's data_2d_<name>_<detector>.npz{hint}")
    meta = vals.get("metadata", {})
    if not isinstance(meta, dict):
        raise InputError(f"{path}: 'metadata' is {type(meta).__name__}; expected a dict")
    raw = _nested(path, "positions_2d", vals["positions_2d"])
    arrays: Dict[str, Dict[str, List[Optional[np.ndarray]]]] = {}
    n_joints = meta.get("num_joints")
    for subject, actions in raw.items():
        arrays[str(subject)] = {}
        for action, cams in actions.items():
            field = f"positions_2d[{subject!r}][{action!r}]"
            if not isinstance(cams, (list, tuple)) or not cams:
                raise InputError(f"{path}: {field} is {type(cams).__name__}; expected a list of camera arrays")
            views = []
            for c, v in enumerate(cams):
                a = None if v is None else _array(path, f"{field}[{c}]", v, (2, 3))
                if a is not None and n_joints is not None and a.shape[1] != n_joints:
                    raise InputError(f"{path}: {field}[{c}] has {a.shape[1]} joints; metadata num_joints is "
                                     f"{n_joints}")
                if a is not None:
                    n_joints = a.shape[1]
                views.append(a)
            arrays[str(subject)][str(action)] = views
    if not any(a is not None for acts in arrays.values() for views in acts.values() for a in views):
        raise InputError(f"{path}: positions_2d has no camera with key-points (every camera is None)")
    name = _resolve_layout(path, meta, int(n_joints))
    layout = LAYOUT_NAMES[name]
    out: Positions2D = {}
    for subject, actions in arrays.items():
        out[subject] = {}
        for action, views in actions.items():
            out[subject][action] = [None if a is None else _to_h36m(a, layout) for a in views]
    meta = dict(meta)
    meta.setdefault("layout_name", name)
    return out, meta


def _to_h36m(a: np.ndarray, layout: str) -> np.ndarray:
    scores = a[..., 2] if a.shape[-1] == 3 else None
    kps, s = to_h36m17(a[..., :2], layout, scores)
    return kps if scores is None else np.concatenate([kps, s[..., None]], axis=-1)


def is_positions_2d_file(path) -> bool:
    """True for an ``.npz`` with ``positions_2d`` and no ``positions_3d`` (reads the key names only)."""
    try:
        if not zipfile.is_zipfile(path):
            return False
        with np.load(path, allow_pickle=False) as z:
            names = set(z.files)
    except Exception:
        return False
    return "positions_2d" in names and "positions_3d" not in names


# ------------------------------------------------------------------------------------------------ writing
def _npz_path(path) -> Path:
    path = Path(path)
    return path if path.suffix == ".npz" else path.with_name(path.name + ".npz")


def _check_nested(positions, what: str, cameras: bool) -> None:
    if not isinstance(positions, Mapping) or not all(isinstance(v, Mapping) for v in positions.values()):
        raise InputError(f"{what}: expected a dict {{subject: {{action: ...}}}}, got {type(positions).__name__}")
    for s, acts in positions.items():
        for a, v in acts.items():
            items = v if cameras else [v]
            if cameras and not isinstance(v, (list, tuple)):
                raise InputError(f"{what}[{s!r}][{a!r}]: expected a list of camera arrays")
            for x in items:
                if x is not None and np.ndim(x) != 3:
                    raise InputError(f"{what}[{s!r}][{a!r}]: expected (frames, joints, dims) arrays, "
                                     f"got {np.shape(x)}")


def write_positions_3d(path, positions: Mapping[str, Mapping[str, np.ndarray]]) -> Path:
    """Write ``{subject: {action: (T, J, 3)}}`` as VideoPose3D's ``data_3d_<name>.npz`` (key ``positions_3d``).

    Arrays are stored as given (VideoPose3D's own files hold float32); ``.npz`` is appended to a path without
    it, as numpy does. Returns the path written.
    """
    _check_nested(positions, "positions_3d", cameras=False)
    data = {str(s): {str(a): np.asarray(v) for a, v in acts.items()} for s, acts in positions.items()}
    path = _npz_path(path)
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as f:
            np.savez_compressed(f, positions_3d=data)
    return path


def write_positions_2d(path, positions: Mapping[str, Mapping[str, List[Optional[np.ndarray]]]],
                       metadata: Mapping[str, Any]) -> Path:
    """Write ``{subject: {action: [(T, J, 2) per camera]}}`` and ``metadata`` (see :func:`metadata_2d`) as
    VideoPose3D's ``data_2d_<name>_<detector>.npz`` (keys ``positions_2d``, ``metadata``)."""
    _check_nested(positions, "positions_2d", cameras=True)
    data = {str(s): {str(a): [None if c is None else np.asarray(c) for c in cams] for a, cams in acts.items()}
            for s, acts in positions.items()}
    path = _npz_path(path)
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as f:
            np.savez_compressed(f, positions_2d=data, metadata=dict(metadata))
    return path
