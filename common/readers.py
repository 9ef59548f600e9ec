"""Readers for the annotated datasets, returning plain numpy arrays and dicts (pixels, metres; shapes below).

Each raises :class:`InputError` naming the file and the field for a missing or corrupt file. Layout names
(``common.skeleton``) say what the joint axes mean.

* Penn Action ``.mat`` (Zhang et al., ICCV 2013)              -> :func:`read_penn_mat`       (``penn13``)
* NTU RGB+D ``.skeleton`` (Shahroudy et al., CVPR 2016)        -> :func:`read_ntu_skeleton`   (``ntu25``)
* UTD-MHAD ``*_skeleton.mat`` (Chen et al., ICIP 2015)        -> :func:`read_utd_skeleton`   (``utd20``)
* Human3.6M ``.npz`` / ``.npy`` / COCO-style ``.json`` (mmpose test files)
  -> :func:`read_h36m_npz`, :func:`read_h36m_detections`, :func:`read_h36m_coco_json`        (``h36m17``)
* COCO keypoints ``.json`` (also COCO-WholeBody's body part)   -> :func:`read_coco_keypoints` (``coco17``)
  and COCO-format files of other key-point sets (PoseTrack18, CrowdPose, AI Challenger, MPII, Halpe, ...): the
  layout their ``categories[].keypoints`` name (:mod:`common.keypoint_sets`)
* MPII ``.json`` (the mmpose list of {image, joints, ...})     -> :func:`read_mpii_json`      (``mpii16``)

Imported 2D key-points (detector output, not ground truth), for the ``precomputed`` stage-1 detector:

* COCO keypoint *result* ``.json`` (a list of detections)      -> :func:`read_coco_results`   (``coco17`` or a
  given layout)
* OpenPose ``--write_json`` folder (BODY_25 or COCO-18)        -> :func:`read_openpose_folder` (``coco17``)
"""
from __future__ import annotations

import json
import re
import zipfile
from pathlib import Path
from typing import Any, Dict, List, Tuple

import numpy as np

from .errors import InputError
from .keypoint_sets import layout_from_keypoint_names
from .skeleton import COCO17, Layout, get_layout


def _existing(path, what: str) -> Path:
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: {what} file not found")
    return path


def _array(value, path, field: str, shape, dtype=np.float64) -> np.ndarray:
    """``value`` as an array of ``shape`` (None = any size on that axis), else InputError naming the field."""
    try:
        a = np.asarray(value, dtype=dtype)
    except (TypeError, ValueError):
        raise InputError(f"{path}: field {field!r}: expected numbers of shape {shape}") from None
    if a.ndim != len(shape) or any(s is not None and s != n for s, n in zip(shape, a.shape)):
        raise InputError(f"{path}: field {field!r}: expected shape {shape}, got {a.shape}")
    return a


def _get(d: Dict[str, Any], key: str, path, where: str = ""):
    if not isinstance(d, dict) or key not in d:
        raise InputError(f"{path}: missing field {where}{key!r}")
    return d[key]


def _load_json(path, what: str):
    path = _existing(path, what)
    try:
        with open(path, "rb") as f:
            return path, json.load(f)
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise InputError(f"{path}: not a valid {what} JSON file ({e})") from None


# ------------------------------------------------------------------------------------------------ Penn Action
def read_penn_mat(path) -> Dict[str, Any]:
    """One Penn Action sequence (``labels/NNNN.mat``).

    Returns ``action`` (str, e.g. ``"baseball_swing"``), ``pose`` (str view: front/back/left/right),
    ``x``, ``y`` (T, 13) pixels, ``keypoints`` (T, 13, 2) pixels in the ``penn13`` order (the file's columns,
    person's right first -- see ``common.skeleton.PENN13``), ``visibility`` (T, 13) uint8 0/1, ``bbox`` (T, 4)
    ``x1, y1, x2, y2`` pixels, ``nframes`` T, ``dimensions`` (H, W, T) and ``train`` (bool, from 1 / -1).
    A few files hold one box fewer than frames (e.g. 1865.mat: 72 for 73); the last box is repeated.
    """
    from scipy.io import loadmat  # scipy is slow to import; only Penn needs it

    path = _existing(path, "Penn Action .mat")
    try:
        m = loadmat(str(path))
    except Exception as e:  # scipy raises ValueError, MatReadError, TypeError, ... for corrupt files
        raise InputError(f"{path}: not a readable MATLAB .mat file ({type(e).__name__}: {e})") from None
    x = _array(_get(m, "x", path), path, "x", (None, 13))
    T = x.shape[0]
    y = _array(_get(m, "y", path), path, "y", (T, 13))
    vis = _array(_get(m, "visibility", path), path, "visibility", (T, 13), np.uint8)
    bbox = _array(_get(m, "bbox", path), path, "bbox", (None, 4))
    if not 1 <= bbox.shape[0] <= T or bbox.shape[0] < T - 1:
        raise InputError(f"{path}: field 'bbox': expected {T} (or {T - 1}) rows, got {bbox.shape[0]}")
    bbox = np.concatenate([bbox, np.repeat(bbox[-1:], T - bbox.shape[0], axis=0)])
    nframes = int(_array(_get(m, "nframes", path), path, "nframes", (1, 1)).ravel()[0])
    if nframes != T:
        raise InputError(f"{path}: field 'nframes' = {nframes} but 'x' has {T} rows")
    dims = _array(_get(m, "dimensions", path), path, "dimensions", (1, 3)).astype(int).ravel()
    action = np.asarray(_get(m, "action", path)).ravel()
    pose = np.asarray(m.get("pose", [""])).ravel()
    train = int(_array(_get(m, "train", path), path, "train", (1, 1)).ravel()[0])
    if action.size != 1 or train not in (1, -1):
        raise InputError(f"{path}: fields 'action'/'train': expected one action name and train = 1 or -1")
    return {"action": str(action[0]), "pose": str(pose[0]) if pose.size else "", "x": x, "y": y,
            "keypoints": np.stack([x, y], axis=-1), "visibility": vis, "bbox": bbox, "nframes": nframes,
            "dimensions": tuple(int(d) for d in dims), "train": train == 1}


# ------------------------------------------------------------------------------------------------ UTD-MHAD
def read_utd_skeleton(path) -> np.ndarray:
    """One UTD-MHAD skeleton sequence: the file's ``d_skel`` (20 joints, 3, T frames) as (T, 20, 3) Kinect
    camera-space metres in the ``utd20`` order. A file without ``d_skel``, of another shape, with no frames or
    with non-finite values is a one-line :class:`InputError`."""
    from scipy.io import loadmat

    path = _existing(path, "UTD-MHAD skeleton .mat")
    try:
        m = loadmat(str(path))
    except Exception as e:  # scipy raises ValueError, MatReadError, TypeError, ... for corrupt files
        raise InputError(f"{path}: not a readable MATLAB .mat file ({type(e).__name__}: {e})") from None
    d = _array(_get(m, "d_skel", path), path, "d_skel", (20, 3, None))
    if d.shape[2] == 0:
        raise InputError(f"{path}: field 'd_skel' holds no frames")
    if not np.all(np.isfinite(d)):
        raise InputError(f"{path}: field 'd_skel' contains NaN or infinite values ({int((~np.isfinite(d)).sum())} "
                         "entries)")
    return np.ascontiguousarray(d.transpose(2, 0, 1))


# ------------------------------------------------------------------------------------------------ NTU RGB+D
def read_ntu_skeleton(path) -> Dict[str, Any]:
    """An NTU RGB+D ``.skeleton`` file (Kinect v2, 25 joints, ``ntu25``).

    Text format: frame count; per frame a body count, then per body an info line (bodyID, clippedEdges, hand
    confidences and states, isRestricted, leanX, leanY, trackingState), a joint count (25) and one line per
    joint: ``x y z`` (camera space, metres: x to the SENSOR's left, y up, z forward -- right-handed),
    ``depthX depthY`` (512x424 depth-image pixels), ``colorX colorY`` (1920x1080 colour-image pixels),
    orientation ``qw qx qy qz`` and trackingState (0 not tracked, 1 inferred, 2 tracked). As x grows to the
    sensor's left and colorX grows with x, the colour video is a mirror image: a person facing the camera has
    their left joints on the image's left.

    Returns ``body_ids`` (B,) int (bodies in order of first appearance), ``joints`` (B, T, 25, 3) metres,
    ``color`` (B, T, 25, 2), ``depth`` (B, T, 25, 2), ``orientation`` (B, T, 25, 4), ``tracking`` (B, T, 25)
    int8, ``present`` (B, T) bool (absent bodies are zeros), ``n_frames`` T.
    """
    path = _existing(path, "NTU .skeleton")
    try:
        lines = [ln.split() for ln in path.read_text().splitlines() if ln.strip()]
    except (OSError, UnicodeDecodeError) as e:
        raise InputError(f"{path}: cannot read NTU .skeleton text ({e})") from None
    pos = 0

    def ints(n: int, what: str) -> List[int]:
        nonlocal pos
        if pos >= len(lines) or len(lines[pos]) < n:
            raise InputError(f"{path}: NTU .skeleton line {pos + 1}: expected {what}")
        try:
            vals = [int(v) for v in lines[pos][:n]]
        except ValueError:
            raise InputError(f"{path}: NTU .skeleton line {pos + 1}: expected {what}, got {lines[pos][:n]}") from None
        pos += 1
        return vals

    n_frames = ints(1, "the frame count")[0]
    frames: List[Dict[int, np.ndarray]] = []
    order: List[int] = []
    for t in range(n_frames):
        bodies = {}
        for _ in range(ints(1, f"the body count of frame {t}")[0]):
            body_id = ints(1, f"a body info line in frame {t}")[0]
            n_joints = ints(1, f"the joint count in frame {t}")[0]
            if n_joints != 25 or pos + 25 > len(lines):
                raise InputError(f"{path}: NTU .skeleton frame {t}: expected 25 joint lines, got {n_joints}")
            try:
                bodies[body_id] = np.array([lines[pos + i][:12] for i in range(25)], dtype=np.float64)
            except ValueError:
                raise InputError(f"{path}: NTU .skeleton frame {t}: expected 25 lines of 12 numbers") from None
            pos += 25
            if body_id not in order:
                order.append(body_id)
        frames.append(bodies)
    B = len(order)
    data = np.zeros((B, n_frames, 25, 12))
    present = np.zeros((B, n_frames), dtype=bool)
    for t, bodies in enumerate(frames):
        for bid, arr in bodies.items():
            data[order.index(bid), t] = arr
            present[order.index(bid), t] = True
    return {"body_ids": np.array(order, dtype=np.int64), "joints": data[..., 0:3], "depth": data[..., 3:5],
            "color": data[..., 5:7], "orientation": data[..., 7:11], "tracking": data[..., 11].astype(np.int8),
            "present": present, "n_frames": n_frames}


# ------------------------------------------------------------------------------------------------ Human3.6M
def read_h36m_npz(path) -> Dict[str, np.ndarray]:
    """A Human3.6M annotation ``.npz`` as prepared for mmpose/SPIN (e.g. ``test_h36m_body3d.npz``).

    Returns every array of the file plus, where present: ``imgname`` (N,) str, ``center`` (N, 2) px,
    ``scale`` (N,) (bbox size / 200 px), ``kps2d`` (N, J, 2) px and ``vis2d`` (N, J) from ``part``,
    ``kps3d`` (N, J, 3) camera-frame metres (x right, y down, z forward) and ``vis3d`` (N, J) from ``S``.
    J = 17 is ``h36m17``; ``test_h36m.npz`` holds J = 24 (the SPIN joint set: LSP 14, then pelvis, thorax,
    spine, jaw, head, nose, eyes, ears; here only the joints H36M has are non-zero) and SMPL ``pose`` (N, 72)
    and ``shape`` (N, 10).
    """
    path = _existing(path, "Human3.6M .npz")
    try:
        with np.load(path, allow_pickle=False) as z:
            out = {k: z[k] for k in z.files}
    except (ValueError, OSError, zipfile.BadZipFile, EOFError) as e:
        raise InputError(f"{path}: not a readable .npz file ({type(e).__name__}: {e})") from None
    if "part" not in out and "S" not in out:
        raise InputError(f"{path}: missing field 'part' (N, J, 3) or 'S' (N, J, 4)")
    if "part" in out:
        part = _array(out["part"], path, "part", (None, None, 3))
        out["kps2d"], out["vis2d"] = part[..., :2], part[..., 2]
    if "S" in out:
        S = _array(out["S"], path, "S", (None, None, 4))
        out["kps3d"], out["vis3d"] = S[..., :3], S[..., 3]
    return out


def read_h36m_detections(path) -> Dict[str, np.ndarray]:
    """2D detections ``.npy`` (N, 17, 3) in ``h36m17`` order: ``kps2d`` (N, 17, 2) px, ``scores`` (N, 17)."""
    path = _existing(path, "Human3.6M detections .npy")
    try:
        a = np.load(path, allow_pickle=False)
    except (ValueError, OSError, EOFError) as e:
        raise InputError(f"{path}: not a readable .npy file ({type(e).__name__}: {e})") from None
    a = _array(a, path, "detections", (None, 17, 3))
    return {"kps2d": a[..., :2], "scores": a[..., 2]}


def read_h36m_coco_json(path) -> Dict[str, Any]:
    """Human3.6M frames in a COCO-style json (mmpose ``h36m_coco.json``): 17 keypoints in ``h36m17`` order.

    The category's keypoint names call index 1-3 ``left_hip/knee/foot`` and 11-13 ``left_shoulder/...``, but
    the coordinates are the usual h36m17 ones (index 1 is on the same side as index 14, the right shoulder; the
    2D values equal ``part`` of ``test_h36m_body3d.npz``), so the names are not used.

    Returns per annotation (N in file order): ``file_name`` (list of N str), ``image_id`` (N,), ``width``,
    ``height`` (N,) px, ``kps2d`` (N, 17, 2) px, ``vis2d`` (N, 17), ``kps3d`` (N, 17, 3) WORLD metres (z up;
    NaN where the file has none), ``vis3d`` (N, 17), ``bbox`` (N, 4) ``x, y, w, h`` px.
    """
    path, d = _load_json(path, "Human3.6M COCO-style")
    images = {im["id"]: im for im in _get(d, "images", path)}
    anns = _get(d, "annotations", path)
    out: Dict[str, Any] = {"file_name": [], "image_id": [], "width": [], "height": [], "kps2d": [], "vis2d": [],
                           "kps3d": [], "vis3d": [], "bbox": []}
    for i, a in enumerate(anns):
        where = f"annotations[{i}]."
        kp = _array(_get(a, "keypoints", path, where), path, where + "keypoints", (51,)).reshape(17, 3)
        k3 = a.get("keypoints_3d")
        k3 = np.full((17, 4), np.nan) if k3 is None else _array(k3, path, where + "keypoints_3d", (68,)).reshape(17, 4)
        im = images.get(_get(a, "image_id", path, where))
        if im is None:
            raise InputError(f"{path}: {where}image_id {a['image_id']} is not in 'images'")
        out["file_name"].append(str(_get(im, "file_name", path, "images[].")))
        out["image_id"].append(a["image_id"])
        out["width"].append(im.get("width", 0)), out["height"].append(im.get("height", 0))
        out["kps2d"].append(kp[:, :2]), out["vis2d"].append(kp[:, 2])
        out["kps3d"].append(k3[:, :3]), out["vis3d"].append(k3[:, 3])
        out["bbox"].append(_array(a.get("bbox", [0, 0, 0, 0]), path, where + "bbox", (4,)))
    for k in out:
        if k != "file_name":
            out[k] = np.asarray(out[k]).reshape((len(anns),) + np.shape(out[k])[1:])
    return out


# ------------------------------------------------------------------------------------------------ COCO, MPII
def _coco_layout(d, path) -> Layout:
    """The layout of a COCO-format file: the one its categories' ``keypoints`` name (``coco17`` where none does)."""
    cats = _get(d, "categories", path)
    if not isinstance(cats, list):
        raise InputError(f"{path}: field 'categories': expected a list of categories, got {type(cats).__name__}")
    layouts = {layout_from_keypoint_names(c["keypoints"], f"{path}: categories[{i}].keypoints")
               for i, c in enumerate(cats) if isinstance(c, dict) and "keypoints" in c}
    if len(layouts) > 1:
        raise InputError(f"{path}: categories[].keypoints: several key-point sets "
                         f"({', '.join(sorted(L.name for L in layouts))}); expected one")
    return layouts.pop() if layouts else COCO17


def _keypoints(a, path, where: str, layout: Layout, hint: str = "") -> np.ndarray:
    """An entry's ``keypoints`` as (J, 3) ``x, y, v`` for ``layout``, else a one-line error naming the field, the
    layout and its key-point count (and the entry's, when it lists x, y, v triples), then ``hint``."""
    value = _get(a, "keypoints", path, where)
    try:
        kp = _array(value, path, where + "keypoints", (3 * layout.n_joints,))
    except InputError as e:
        n = len(value) if isinstance(value, list) else -1
        has = f"; the entry has {n // 3}" if n > 0 and n % 3 == 0 else ""
        raise InputError(f"{e} (x, y, v for each of the {layout.n_joints} key-points of {layout.name}{has})"
                         f"{hint}") from None
    return kp.reshape(layout.n_joints, 3)


def read_coco_keypoints(path) -> List[Dict[str, Any]]:
    """Person keypoints from a COCO-format json (``person_keypoints_*.json``, COCO-WholeBody's body part, or the
    files of PoseTrack18, CrowdPose, AI Challenger, ... in COCO format).

    The layout is the one ``categories[].keypoints`` name (:func:`common.keypoint_sets.layout_from_keypoint_names`;
    ``coco17`` where no category lists key-points). One dict per annotation, in file order: ``image`` (file name),
    ``image_id``, ``width``, ``height`` (image size, px), ``id``, ``keypoints`` (J, 2) px in the layout's order,
    ``visibility`` (J,) int (0 not labelled, 1 labelled but occluded, 2 visible), ``bbox`` (4,) ``x, y, w, h`` px,
    ``num_keypoints``, ``iscrowd``, ``layout`` (its name). Annotations without labelled keypoints are kept
    (``num_keypoints`` 0).
    """
    path, d = _load_json(path, "COCO keypoints")
    layout = _coco_layout(d, path)
    images = {im["id"]: im for im in _get(d, "images", path)}
    people = []
    for i, a in enumerate(_get(d, "annotations", path)):
        where = f"annotations[{i}]."
        kp = _keypoints(a, path, where, layout)
        im = images.get(_get(a, "image_id", path, where))
        if im is None:
            raise InputError(f"{path}: {where}image_id {a['image_id']} is not in 'images'")
        people.append({"image": str(_get(im, "file_name", path, "images[].")), "image_id": a["image_id"],
                       "width": int(im.get("width", 0)), "height": int(im.get("height", 0)), "id": a.get("id"),
                       "keypoints": kp[:, :2], "visibility": kp[:, 2].astype(np.int64),
                       "bbox": _array(_get(a, "bbox", path, where), path, where + "bbox", (4,)),
                       "num_keypoints": int(a.get("num_keypoints", int((kp[:, 2] > 0).sum()))),
                       "iscrowd": int(a.get("iscrowd", 0)), "layout": layout.name})
    return people


def read_mpii_json(path) -> List[Dict[str, Any]]:
    """MPII Human Pose annotations in the mmpose json form: a list of ``{image, joints, joints_vis, center,
    scale}`` (``headbox`` optional).

    One dict per person: ``image`` (file name), ``joints`` (16, 2) px in ``mpii16`` order (unlabelled joints
    are -1, -1 with visibility 0), ``visibility`` (16,) int, ``center`` (2,) px, ``scale`` (person height /
    200 px), and ``head_box`` (4,) ``x1, y1, x2, y2`` px when the file gives one.
    """
    path, d = _load_json(path, "MPII")
    if not isinstance(d, list):
        raise InputError(f"{path}: expected a JSON list of MPII person annotations, got {type(d).__name__}")
    people = []
    for i, a in enumerate(d):
        where = f"[{i}]."
        p = {"image": str(_get(a, "image", path, where)),
             "joints": _array(_get(a, "joints", path, where), path, where + "joints", (16, 2)),
             "visibility": _array(_get(a, "joints_vis", path, where), path, where + "joints_vis", (16,)).astype(int),
             "center": _array(_get(a, "center", path, where), path, where + "center", (2,)),
             "scale": float(_array(_get(a, "scale", path, where), path, where + "scale", ()))}
        for key in ("headbox", "head_box"):
            if key in a:  # (4,) or ((x1, y1), (x2, y2))
                p["head_box"] = _array(np.ravel(a[key]), path, where + key, (4,))
        people.append(p)
    return people


# ------------------------------------------------------------------------------------ imported 2D key-points
def read_coco_results(path, layout="coco17", count_hint: str = "") -> Dict[int, List[Tuple[np.ndarray, np.ndarray]]]:
    """A COCO keypoint result file: a JSON list of ``{image_id, category_id, keypoints, score}`` detections.

    A result file names no key-points: ``layout`` (a name or :class:`~common.skeleton.Layout`; ``coco17`` by
    default) says which, e.g. the layout :func:`read_coco_keypoints` found in the matching annotation file. An
    entry with another number of key-points is a one-line :class:`InputError` naming the layout, its count and the
    entry's, followed by ``count_hint`` (where the layout came from, say).
    Returns image_id -> the people detected in that image, in file order, each ``(kps, scores)``: ``kps``
    (J, 2) px in the layout's order and ``scores`` (J,), the third keypoint value (a confidence in result
    files) clipped to [0, 1]. Entries whose ``category_id`` is not 1 (person) are skipped; a missing
    ``category_id`` counts as 1.
    """
    layout = layout if isinstance(layout, Layout) else get_layout(layout)
    path, d = _load_json(path, "COCO keypoint results")
    if isinstance(d, dict) and "annotations" in d:
        raise InputError(f"{path}: has 'annotations': that is a ground-truth annotation file, not a result file "
                         f"(a JSON list of {{image_id, category_id, keypoints, score}})")
    if not isinstance(d, list):
        raise InputError(f"{path}: expected a JSON list of COCO keypoint results, got {type(d).__name__}")
    out: Dict[int, List[Tuple[np.ndarray, np.ndarray]]] = {}
    for i, r in enumerate(d):
        where = f"[{i}]."
        if not isinstance(r, dict):
            raise InputError(f"{path}: entry [{i}]: expected an object, got {type(r).__name__}")
        if r.get("category_id", 1) != 1:
            continue
        image_id = _get(r, "image_id", path, where)
        if isinstance(image_id, bool) or not isinstance(image_id, (int, float)) or not float(image_id).is_integer():
            raise InputError(f"{path}: field {where + 'image_id'!r}: expected an integer, got {image_id!r}")
        kp = _keypoints(r, path, where, layout, count_hint)
        if not np.all(np.isfinite(kp)):
            raise InputError(f"{path}: field {where + 'keypoints'!r}: contains NaN or infinite values")
        out.setdefault(int(image_id), []).append((kp[:, :2].copy(), np.clip(kp[:, 2], 0.0, 1.0)))
    return out


#: OpenPose body models by key-point count: names in output order (``l_``/``r_`` as in ``common.skeleton``)
OPENPOSE_NAMES = {
    25: ("nose", "neck", "r_shoulder", "r_elbow", "r_wrist", "l_shoulder", "l_elbow", "l_wrist", "mid_hip",
         "r_hip", "r_knee", "r_ankle", "l_hip", "l_knee", "l_ankle", "r_eye", "l_eye", "r_ear", "l_ear",
         "l_big_toe", "l_small_toe", "l_heel", "r_big_toe", "r_small_toe", "r_heel"),  # BODY_25
    18: ("nose", "neck", "r_shoulder", "r_elbow", "r_wrist", "l_shoulder", "l_elbow", "l_wrist", "r_hip",
         "r_knee", "r_ankle", "l_hip", "l_knee", "l_ankle", "r_eye", "l_eye", "r_ear", "l_ear"),  # COCO-18
}
#: per key-point count, the OpenPose index of each ``coco17`` joint
OPENPOSE_TO_COCO17 = {k: np.array([names.index(n) for n in COCO17.names]) for k, names in OPENPOSE_NAMES.items()}


def _natural_key(name: str):
    return [int(s) if s.isdigit() else s for s in re.split(r"(\d+)", name)]


def read_openpose_folder(folder) -> List[List[np.ndarray]]:
    """OpenPose ``--write_json`` output: one ``*.json`` per frame (``{"people": [{"pose_keypoints_2d": [x, y,
    c] * K}, ...]}``), frames in natural file-name order.

    Returns per frame the list of people, each (17, 3) ``x, y, score`` in ``coco17`` order, converted from
    BODY_25 (K = 25) or COCO-18 (K = 18); scores are clipped to [0, 1], so undetected joints (written as 0, 0,
    0) score 0. People with an empty ``pose_keypoints_2d`` (body detection off) are left out.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(f"{folder}: OpenPose JSON folder not found")
    files = sorted((p for p in folder.iterdir() if p.suffix.lower() == ".json" and p.is_file()),
                   key=lambda p: _natural_key(p.name))
    if not files:
        raise InputError(f"{folder}: no .json files found (OpenPose --write_json output)")
    frames = []
    for f in files:
        f, d = _load_json(f, "OpenPose")
        people = _get(d, "people", f)
        if not isinstance(people, list):
            raise InputError(f"{f}: field 'people': expected a list, got {type(people).__name__}")
        frame = []
        for j, p in enumerate(people):
            field = f"people[{j}].pose_keypoints_2d"
            kp = _array(_get(p, "pose_keypoints_2d", f, f"people[{j}]."), f, field, (None,))
            if kp.size == 0:
                continue
            if kp.size % 3 or kp.size // 3 not in OPENPOSE_TO_COCO17:
                raise InputError(f"{f}: field {field!r}: {kp.size} values; expected 3 x 25 (BODY_25) or "
                                 f"3 x 18 (COCO-18)")
            if not np.all(np.isfinite(kp)):
                raise InputError(f"{f}: field {field!r}: contains NaN or infinite values")
            kp = kp.reshape(-1, 3)[OPENPOSE_TO_COCO17[kp.size // 3]]
            kp[:, 2] = np.clip(kp[:, 2], 0.0, 1.0)
            frame.append(kp)
        frames.append(frame)
    return frames
