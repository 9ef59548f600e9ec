"""BVH motion capture: reader, forward kinematics, and any humanoid skeleton to ``h36m17``.

BVH (Biovision hierarchy): a ``HIERARCHY`` of ``ROOT``/``JOINT`` blocks, each with an ``OFFSET`` from its parent
and ``CHANNELS`` (any subset and order of ``X/Y/Zposition`` and ``X/Y/Zrotation``), ``End Site`` leaves with an
offset only; then ``MOTION``: ``Frames: T``, ``Frame Time: dt`` and one line of channel values per frame, in
hierarchy order. A joint's local transform is its translation -- the offset, with any position channel
replacing the matching offset component -- followed by the rotation ``R = R_a(c1) R_b(c2) R_c(c3)`` in the
order the rotation channels are listed (degrees). Files are y-up.

World frame of this toolkit (as the Human3.6M world of ``common/camera.py``): metres, z up, floor at z = 0;
``(x, y, z)_world = (-x, z, y)_bvh * unit``, a proper rotation (no mirroring), which maps a BVH rest pose
facing +z with its left along +x to x = the person's right, y = forward.

Known formats, detected from the joint names, each with a fixed unit (never rescaled per clip):

* ``bandai22`` -- Bandai Namco Research Motion Dataset-1: centimetres (``unit`` 0.01). Every joint has 6
  channels (ZXY rotation); the position channels of the non-root joints repeat their offsets, the ``Hips``
  ones carry the motion and ``joint_Root`` stays at the origin. The ``Head`` joint is the BASE of the head
  (6.5 cm above the neck joint) and its end site has a zero offset, so the head top is put
  ``BANDAI_HEAD_TOP`` = 0.18 m from the head joint along the head's own bone axis (the direction of the head's
  offset, turned by the head's rotation). 0.18 m makes the neck-joint-to-head-top distance 0.245 m, the
  Human3.6M thorax-to-head distance (0.12 + 0.115 m), and puts the head top ~1.55 m above the floor.
* ``cmu31`` -- CMU mocap, cgspeed BVH conversion (root 6 channels, others 3: ZYX for the legs and spine, ZXY
  for the arms). Lengths are the CMU ASF units: ``:units length 0.45`` means 1 unit = 1/0.45 inch, so
  ``unit`` = 0.0254 / 0.45 = 0.056444 m (mocap.cs.cmu.edu FAQ). The head top is the end site of ``Head``.
  With this unit subject 131's legs are 0.80 m (hip centre to ankle), plausible for ~1.65 m, but the head top
  is only ~1.45 m above the floor: ``lowerneck`` has a zero offset, so the ASF thorax segment (~0.11 m) is
  missing from the conversion's spine.

:func:`load_bvh_h36m17` takes those two and ANY other humanoid rig (Mixamo, CMU conversions with Mixamo-style
names, Reallusion ``CC_Base_``, game rigs, ...) to ``h36m17`` the same way: the joints placed by their names
and the unit, for a rig not known, inferred from the legs' length (:mod:`common.rig`); the known formats keep
their fixed units and head tops. A rig whose joints cannot be placed gets a one-line error naming them.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional, Tuple

import numpy as np

from .errors import InputError
from .rig import HEAD_TOP_WORDS, RigMotion, infer_unit, name_words, place_joints, rig_to_h36m17, up_rotation
from .skeleton import BANDAI22, CMU31, Layout

#: y-up BVH axes to the z-up world: (x, y, z) -> (-x, z, y)
BVH_TO_WORLD = np.array([[-1.0, 0, 0], [0, 0, 1.0], [0, 1.0, 0]])
BANDAI_HEAD_TOP = 0.18  # metres from the Bandai head joint (head base) to the top of the head
CMU_UNIT = 0.0254 / 0.45  # metres per CMU ASF length unit


@dataclass(frozen=True)
class BvhFormat:
    layout: Layout
    file_names: Tuple[str, ...]  # BVH joint names, in layout order
    unit: float  # metres per file unit


BVH_FORMATS: Dict[str, BvhFormat] = {
    "bandai22": BvhFormat(BANDAI22, (
        "joint_Root", "Hips", "Spine", "Chest", "Neck", "Head", "Shoulder_L", "UpperArm_L", "LowerArm_L", "Hand_L",
        "Shoulder_R", "UpperArm_R", "LowerArm_R", "Hand_R", "UpperLeg_L", "LowerLeg_L", "Foot_L", "Toes_L",
        "UpperLeg_R", "LowerLeg_R", "Foot_R", "Toes_R"), 0.01),
    "cmu31": BvhFormat(CMU31, (
        "Hips", "LHipJoint", "LeftHip", "LeftKnee", "LeftAnkle", "LeftToe", "RHipJoint", "RightHip", "RightKnee",
        "RightAnkle", "RightToe", "lowerback", "Chest", "Chest2", "lowerneck", "Neck", "Head", "LeftCollar",
        "LeftShoulder", "LeftElbow", "LeftWrist", "lhand", "LFingers", "LThumb", "RightCollar", "RightShoulder",
        "RightElbow", "RightWrist", "rhand", "RFingers", "RThumb"), CMU_UNIT),
}


@dataclass(frozen=True)
class Bvh:
    """A parsed BVH file. Joints in file (depth-first) order, so every parent precedes its children.

    names (J,), parents (J,) int (-1 root), offsets (J, 3) file units, channels: per joint a tuple like
    ``("Xposition", ..., "Zrotation")``, end_sites: list of (parent joint index, offset (3,)), motion (T, C)
    with C the total channel count, frame_time seconds.
    """

    path: str
    names: Tuple[str, ...]
    parents: np.ndarray
    offsets: np.ndarray
    channels: Tuple[Tuple[str, ...], ...]
    end_sites: Tuple[Tuple[int, np.ndarray], ...]
    motion: np.ndarray
    frame_time: float

    @property
    def fps(self) -> float:
        return 1.0 / self.frame_time

    @property
    def n_frames(self) -> int:
        return self.motion.shape[0]


_CHANNELS = {f"{a}{k}" for a in "XYZ" for k in ("position", "rotation")}


def read_bvh(path) -> Bvh:
    """Parse a BVH file; raise :class:`InputError` naming the file and what is wrong."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: BVH file not found")
    try:
        tokens = path.read_text(errors="replace").split()
    except OSError as e:
        raise InputError(f"{path}: cannot read BVH file ({e})") from None
    pos = 0

    def take(expect: Optional[str] = None) -> str:
        nonlocal pos
        if pos >= len(tokens):
            raise InputError(f"{path}: BVH ended early" + (f", expected {expect!r}" if expect else ""))
        tok = tokens[pos]
        pos += 1
        if expect is not None and tok != expect:
            raise InputError(f"{path}: BVH expected {expect!r}, found {tok!r} (token {pos})")
        return tok

    def number(what: str) -> float:
        tok = take()
        try:
            return float(tok)
        except ValueError:
            raise InputError(f"{path}: BVH {what}: expected a number, found {tok!r}") from None

    names: List[str] = []
    parents: List[int] = []
    offsets: List[List[float]] = []
    channels: List[Tuple[str, ...]] = []
    end_sites: List[Tuple[int, np.ndarray]] = []

    take("HIERARCHY")
    stack: List[int] = []  # open joint indices; -2 marks an open End Site
    kind = take("ROOT")
    while True:
        if kind in ("ROOT", "JOINT"):
            name = take()
            parent = stack[-1] if stack else -1
            if kind == "ROOT" and stack or kind == "JOINT" and not stack:
                raise InputError(f"{path}: BVH {kind} {name!r} in the wrong place")
            take("{")
            take("OFFSET")
            off = [number(f"OFFSET of {name}") for _ in range(3)]
            take("CHANNELS")
            n = int(number(f"CHANNELS count of {name}"))
            ch = tuple(take() for _ in range(n))
            bad = [c for c in ch if c not in _CHANNELS]
            if bad:
                raise InputError(f"{path}: BVH joint {name!r}: unknown channel {bad[0]!r}")
            names.append(name), parents.append(parent), offsets.append(off), channels.append(ch)
            stack.append(len(names) - 1)
        elif kind == "End":
            take("Site"), take("{"), take("OFFSET")
            if not stack or stack[-1] < 0:
                raise InputError(f"{path}: BVH End Site outside a joint")
            end_sites.append((stack[-1], np.array([number("End Site OFFSET") for _ in range(3)])))
            take("}")
        elif kind == "}":
            if not stack:
                raise InputError(f"{path}: BVH has an unmatched '}}'")
            stack.pop()
        else:
            raise InputError(f"{path}: BVH hierarchy: unexpected {kind!r}")
        if not stack:
            break
        kind = take()

    take("MOTION")
    take("Frames:")
    n_frames = int(number("Frames"))
    take("Frame"), take("Time:")
    frame_time = number("Frame Time")
    n_ch = sum(len(c) for c in channels)
    values = tokens[pos:]
    if n_frames < 1 or frame_time <= 0 or len(values) < n_frames * n_ch:
        raise InputError(f"{path}: BVH MOTION: expected {n_frames} frames x {n_ch} channels with a positive "
                         f"frame time, found {len(values)} values and frame time {frame_time}")
    try:
        motion = np.array(values[: n_frames * n_ch], dtype=np.float64).reshape(n_frames, n_ch)
    except ValueError:
        raise InputError(f"{path}: BVH MOTION: non-numeric channel values") from None
    if not np.isfinite(motion).all():
        raise InputError(f"{path}: BVH MOTION: non-finite channel values")
    return Bvh(str(path), tuple(names), np.array(parents), np.array(offsets, dtype=np.float64), tuple(channels),
               tuple(end_sites), motion, float(frame_time))


def _axis_rotation(axis: str, deg: np.ndarray) -> np.ndarray:
    """Rotation matrices (T, 3, 3) about the x, y or z axis by ``deg`` degrees (right-handed)."""
    a = np.radians(deg)
    c, s = np.cos(a), np.sin(a)
    R = np.zeros(a.shape + (3, 3))
    i, j = {"X": (1, 2), "Y": (2, 0), "Z": (0, 1)}[axis]
    k = 3 - i - j
    R[..., k, k] = 1
    R[..., i, i], R[..., i, j], R[..., j, i], R[..., j, j] = c, -s, s, c
    return R


def forward_kinematics(bvh: Bvh, extra_sites: Optional[Dict[int, np.ndarray]] = None):
    """Global positions in file units and file axes.

    Returns ``(joints (T, J, 3), end_sites (T, E, 3), extra (T, K, 3))``, ``extra`` for the points given as
    ``{joint index: offset (3,) in that joint's frame}``.
    """
    T, J = bvh.n_frames, len(bvh.names)
    glob_R = np.zeros((T, J, 3, 3))
    glob_p = np.zeros((T, J, 3))
    col = 0
    for j in range(J):
        t = np.broadcast_to(bvh.offsets[j], (T, 3)).copy()
        R = np.broadcast_to(np.eye(3), (T, 3, 3))
        for ch in bvh.channels[j]:
            axis, kind = ch[0], ch[1:]
            if kind == "position":
                t[:, "XYZ".index(axis)] = bvh.motion[:, col]
            else:
                R = R @ _axis_rotation(axis, bvh.motion[:, col])
            col += 1
        p = bvh.parents[j]
        if p < 0:
            glob_R[:, j], glob_p[:, j] = R, t
        else:
            glob_R[:, j] = glob_R[:, p] @ R
            glob_p[:, j] = glob_p[:, p] + np.einsum("tab,tb->ta", glob_R[:, p], t)

    def sites(items):
        if not items:
            return np.zeros((T, 0, 3))
        return np.stack([glob_p[:, j] + glob_R[:, j] @ np.asarray(off, dtype=np.float64) for j, off in items], 1)

    return glob_p, sites(bvh.end_sites), sites(list((extra_sites or {}).items()))


def detect_format(bvh: Bvh) -> Optional[str]:
    """The key of :data:`BVH_FORMATS` whose joint names and hierarchy match the file, or None (any other rig)."""
    for key, fmt in BVH_FORMATS.items():
        if bvh.names == fmt.file_names:
            if tuple(bvh.parents) != fmt.layout.parents:
                raise InputError(f"{bvh.path}: BVH joint names are those of {key} but the hierarchy differs")
            return key
    return None


def to_world(points: np.ndarray, unit: float) -> np.ndarray:
    """BVH file units and y-up axes to world metres, z up."""
    return points @ BVH_TO_WORLD.T * unit


def load_bvh(path) -> Tuple[np.ndarray, Layout, float]:
    """Joints of a known BVH format in world metres: ``(joints (T, J, 3), layout, fps)``."""
    bvh = read_bvh(path)
    key = detect_format(bvh)
    if key is None:
        raise InputError(f"{path}: not one of the known BVH skeletons {', '.join(BVH_FORMATS)}")
    fmt = BVH_FORMATS[key]
    joints, _, _ = forward_kinematics(bvh)
    return to_world(joints, fmt.unit), fmt.layout, bvh.fps


def standing_rotation(bvh: Bvh, placed: Dict[str, int], joints_world: np.ndarray) -> np.ndarray:
    """The proper rotation that stands up a rig written with another up axis than the BVH's y (a z-up export):
    the identity unless its rest pose (offsets alone) AND its motion (median over frames) both put the head above
    the ankles along the same other axis. Both must agree: a rig whose offsets live in rotated local frames has a
    meaningless rest pose, and a clip of someone lying or crawling has a meaningless median."""
    rest = np.zeros_like(bvh.offsets)
    for k, p in enumerate(bvh.parents):
        rest[k] = bvh.offsets[k] + (rest[p] if p >= 0 else 0)
    rest = to_world(rest, 1.0)
    h, la, ra = placed["head"], placed["l_ankle"], placed["r_ankle"]
    r_rest = up_rotation(rest[h] - 0.5 * (rest[la] + rest[ra]))
    r_motion = up_rotation(np.median(joints_world[:, h] - 0.5 * (joints_world[:, la] + joints_world[:, ra]), axis=0))
    return r_rest if np.array_equal(r_rest, r_motion) else np.eye(3)


def bvh_rig(bvh: Bvh) -> RigMotion:
    """A BVH file as a :class:`~common.rig.RigMotion`, joints placed by name (:func:`common.rig.place_joints`).

    The unit: a known format's own (:data:`BVH_FORMATS`), else inferred from the legs' length
    (:func:`common.rig.infer_unit`). The head top: the CMU head End Site; ``BANDAI_HEAD_TOP`` along the Bandai
    head's own axis; on any other rig a child joint of the head named like ``HeadTop_End``, else the head's End
    Site when it is at least 5 cm long, else left to :func:`common.rig.rig_to_h36m17`. A rig of unknown format
    written with another up axis is stood up (:func:`standing_rotation`).
    """
    key = detect_format(bvh)
    j = place_joints(bvh.names, list(bvh.parents), bvh.path)
    h = j["head"]
    tops: List[int] = []
    site = None
    if key is not None:
        unit = BVH_FORMATS[key].unit
        if key == "cmu31":
            ends = [off for p, off in bvh.end_sites if p == h]
            if not ends:
                raise InputError(f"{bvh.path}: CMU BVH: the Head joint has no End Site")
            site = ends[0]
        else:
            site = bvh.offsets[h] / max(np.linalg.norm(bvh.offsets[h]), 1e-9) * BANDAI_HEAD_TOP / unit
    else:
        _, unit = infer_unit(bvh.names, list(bvh.parents), bvh.offsets, j)
        tops = [c for c, p in enumerate(bvh.parents) if p == h and name_words(bvh.names[c]) in
                [(None, w) for w in HEAD_TOP_WORDS]]
        ends = [off for p, off in bvh.end_sites if p == h and np.linalg.norm(off) * unit >= 0.05]
        site = ends[0] if ends and not tops else None
    joints, _, extra = forward_kinematics(bvh, None if site is None else {h: site})
    joints = to_world(joints, unit)
    head_top = joints[:, tops[0]] if tops else None if site is None else to_world(extra[:, 0], unit)
    if key is None:  # a file written z up (or x up) against the BVH convention is stood up
        R = standing_rotation(bvh, j, joints)
        joints = joints @ R.T
        head_top = None if head_top is None else head_top @ R.T
    return RigMotion(bvh.path, bvh.names, tuple(int(p) for p in bvh.parents), joints, bvh.fps, head_top)


def load_bvh_h36m17(path) -> Tuple[np.ndarray, float]:
    """``(joints (T, 17, 3) world metres z up, fps)`` from any humanoid BVH file: :func:`bvh_rig`, then
    :func:`common.rig.rig_to_h36m17` (the same joint definitions for every rig and format)."""
    bvh = read_bvh(path)
    return rig_to_h36m17(bvh_rig(bvh)), bvh.fps
