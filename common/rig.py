"""Any humanoid rig to ``h36m17`` by its joint names: the hand-off every motion-capture reader ends in.

A reader (BVH, ASF/AMC, DeepMimic, ...) turns a file into a :class:`RigMotion`: the rig's joint names and
parents and the global joint positions per frame in world metres, z up (the world of ``common/camera.py``:
floor at z = 0, a proper rotation of the file's axes, never a mirror), plus the top of the head when the rig
has it. :func:`rig_to_h36m17` then finds each Human3.6M joint by name.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from .errors import InputError
from .skeleton import H36M17


@dataclass(frozen=True)
class RigMotion:
    """A rig's motion: ``names`` (J,), ``parents`` (J,) (-1 for the root; every parent before its children),
    ``joints`` (T, J, 3) world metres z up, ``fps``, ``head_top`` (T, 3) world metres or None (then derived
    from the head joint), ``path`` (for messages)."""

    path: str
    names: Tuple[str, ...]
    parents: Tuple[int, ...]
    joints: np.ndarray
    fps: float
    head_top: Optional[np.ndarray] = None


#: rotations taking the detected up direction (axis, sign) onto +z; each has determinant +1
_UP_ROTATIONS = {
    (2, 1): np.eye(3),
    (2, -1): np.diag([1.0, -1.0, -1.0]),
    (1, 1): np.array([[1.0, 0, 0], [0, 0, -1], [0, 1, 0]]),
    (1, -1): np.array([[1.0, 0, 0], [0, 0, 1], [0, -1, 0]]),
    (0, 1): np.array([[0.0, 0, -1], [0, 1, 0], [1, 0, 0]]),
    (0, -1): np.array([[0.0, 0, 1], [0, 1, 0], [-1, 0, 0]]),
}


def up_rotation(up) -> np.ndarray:
    """The proper rotation (3, 3) that takes the dominant axis of the vector ``up``, with its sign, onto +z
    (the identity for a zero vector)."""
    up = np.asarray(up, dtype=np.float64)
    if not np.any(up):
        return np.eye(3)
    axis = int(np.argmax(np.abs(up)))
    return _UP_ROTATIONS[(axis, 1 if up[axis] >= 0 else -1)].copy()


# ------------------------------------------------------------------------------------------------ joint names
#: words that carry no anatomy: exporters' prefixes (``CC_Base_``, ``Bip01``, ``Character1_``, ``DEF-``, ...)
NOISE_WORDS = frozenset({"cc", "base", "bip", "bip01", "bip001", "character", "def", "org", "mch", "jnt", "bn",
                         "b", "skel", "sk", "mixamorig", "armature", "rig", "bone"})
#: side words; a single letter counts only as a separate word (``L_Arm``, ``arm.L``, ``LHipJoint``)
SIDE_WORDS = {"l": "l", "left": "l", "r": "r", "right": "r"}
#: Acclaim ASF bone names glue the side letter to the bone (``lfemur``, ``rhumerus``): these bones take it
ASF_SIDED = ("femur", "tibia", "foot", "toes", "humerus", "radius", "wrist", "hand", "fingers", "thumb", "clavicle",
             "hipjoint")
#: h36m17 limb joint -> the rig joint's anatomical words, most specific first: the first that a rig has wins.
#: The order settles the rigs' clashes: Mixamo's ``LeftShoulder`` is the clavicle and ``LeftArm`` the upper arm,
#: CMU's ``LeftShoulder`` is the upper arm (its clavicle is ``LeftCollar``); ``LeftLeg`` is Mixamo's shin.
LIMB_SYNONYMS: Dict[str, Tuple[str, ...]] = {
    "hip": ("upleg", "upperleg", "thigh", "femur", "hip"),
    "knee": ("knee", "calf", "shin", "lowerleg", "tibia", "leg"),
    "ankle": ("ankle", "foot"),
    "shoulder": ("upperarm", "uparm", "uarm", "arm", "humerus", "shoulder"),
    "elbow": ("elbow", "forearm", "lowerarm", "farm", "radius"),
    "wrist": ("wrist", "hand"),
}
HEAD_WORDS = ("head",)
NECK_WORDS = ("neck", "upperneck", "lowerneck")
HEAD_TOP_WORDS = ("headtop", "headtopend", "headend", "headsite", "headnub", "top")
#: thorax-to-head-top distance of Human3.6M (0.12 + 0.115 m): a rig without a head top gets one this far above
#: its thorax along the head's axis
THORAX_TO_HEAD_TOP = 0.245


def name_words(name: str) -> Tuple[Optional[str], str]:
    """``(side or None, anatomical words glued)`` of a rig joint name.

    The namespace (``mixamorig:``) and any path (``|``) go; the rest splits at ``_ - . :`` spaces, lower-to-upper
    case changes and digits; digits and :data:`NOISE_WORDS` drop; a side word (:data:`SIDE_WORDS`) anywhere
    gives the side. ``LeftUpLeg`` -> ``("l", "upleg")``, ``CC_Base_R_Forearm`` -> ``("r", "forearm")``,
    ``thigh_l`` -> ``("l", "thigh")``, ``DEF-upper_arm.L`` -> ``("l", "upperarm")``, ``lfemur`` -> ``("l",
    "femur")``, ``LHipJoint`` -> ``("l", "hipjoint")``, ``Spine1`` -> ``(None, "spine")``.
    """
    base = name.split("|")[-1].split(":")[-1]
    words = [w.lower() for w in re.findall(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+", base)]  # words of CamelCase
    if len(words) > 1 and re.fullmatch(r"[LR][A-Z]", base[:2]) and words[0] in ("lu", "lf", "ru", "rf"):
        words = [words[0][0], words[0][1]] + words[1:]  # OptiTrack: LUArm, RFArm
    side, kept = None, []
    for w in words:
        if w.isdigit() or w in NOISE_WORDS:
            continue
        if w in SIDE_WORDS and side is None:
            side = SIDE_WORDS[w]
            continue
        kept.append(w)
    glued = "".join(kept)
    if side is None:  # a side glued to the rest: ``LEFTUPLEG``, ``lfemur``
        for word, s in (("left", "l"), ("right", "r")):
            if glued.startswith(word) and len(glued) > len(word):
                return s, glued[len(word):]
        if len(glued) > 1 and glued[0] in "lr" and glued[1:] in ASF_SIDED:
            side, glued = glued[0], glued[1:]
    return side, glued


def _depths(parents: Sequence[int]) -> List[int]:
    depth: List[int] = []
    for p in parents:
        depth.append(0 if p < 0 else depth[p] + 1)
    return depth


def _is_ancestor(parents: Sequence[int], a: int, b: int) -> bool:
    while b >= 0:
        b = parents[b]
        if b == a:
            return True
    return False


def place_joints(names: Sequence[str], parents: Sequence[int], what: str = "skeleton") -> Dict[str, int]:
    """The rig joint of each h36m17 limb joint (``l_hip`` ... ``r_wrist``) and of the head (``head``), by name.

    For each side and limb joint the first of its :data:`LIMB_SYNONYMS` that the rig has wins; of several joints
    with those words (a rig's twist or helper copies) the one nearest the root. ``head`` is the joint named
    head, else the highest neck joint. Each limb must hang below the previous one (knee below hip, ...).
    Raises a one-line :class:`InputError` naming every joint it could not place and what it looked for.
    """
    words = [name_words(n) for n in names]
    depth = _depths(parents)

    def find(side, synonyms):
        for syn in synonyms:
            hits = [j for j, w in enumerate(words) if w == (side, syn)]
            if hits:
                return min(hits, key=lambda j: depth[j])
        return None

    placed: Dict[str, Optional[int]] = {}
    for side in "lr":
        for part, synonyms in LIMB_SYNONYMS.items():
            placed[f"{side}_{part}"] = find(side, synonyms)
    heads = find(None, HEAD_WORDS)
    if heads is None:
        necks = [j for j, w in enumerate(words) if w[0] is None and w[1] in NECK_WORDS]
        heads = max(necks, key=lambda j: depth[j]) if necks else None
    placed["head"] = heads
    missing = [k for k, v in placed.items() if v is None]
    if missing:
        parts = {}
        for k in missing:
            parts.setdefault(k if k == "head" else k[2:], []).append({"l": "left", "r": "right"}.get(k[0], ""))
        looked = "; ".join(f"{p} ({'/'.join(LIMB_SYNONYMS.get(p, HEAD_WORDS + NECK_WORDS[:1]))})"
                           + (f" on the {' and '.join(s)}" if p != "head" else "") for p, s in parts.items())
        raise InputError(f"{what}: cannot place h36m17 joint(s) {', '.join(missing)}: no joint named like {looked} "
                         f"among the {len(names)} joints {', '.join(names[:8])}{', ...' if len(names) > 8 else ''}")
    out: Dict[str, int] = {k: int(v) for k, v in placed.items() if v is not None}
    for side in "lr":
        for chain in (("hip", "knee", "ankle"), ("shoulder", "elbow", "wrist")):
            for a, b in zip(chain, chain[1:]):
                ja, jb = out[f"{side}_{a}"], out[f"{side}_{b}"]
                if not _is_ancestor(parents, ja, jb):
                    raise InputError(f"{what}: {names[jb]} (taken as {side}_{b}) does not hang below {names[ja]} "
                                     f"(taken as {side}_{a})")
    return out


def leg_length(names: Sequence[str], parents: Sequence[int], offsets: np.ndarray,
               placed: Optional[Dict[str, int]] = None) -> float:
    """Mean over the two legs of thigh + shin bone lengths (hip to ankle along the rig), in the offsets' unit."""
    j = placed or place_joints(names, parents)
    offsets = np.asarray(offsets, dtype=np.float64)

    def along(a, b):  # the rig's path from joint a down to joint b
        n, length = b, 0.0
        while n != a:
            length += float(np.linalg.norm(offsets[n]))
            n = parents[n]
        return length

    return float(np.mean([along(j[f"{s}_hip"], j[f"{s}_ankle"]) for s in "lr"]))


#: metres per unit of the units motion files use; :func:`infer_unit` picks one by the skeleton's size
UNITS = {"m": 1.0, "cm": 0.01, "mm": 0.001, "inch": 0.0254, "foot": 0.3048, "cmu": 0.0254 / 0.45}
#: hip-to-ankle length of an adult (Human3.6M subjects: 0.80-0.92 m)
ADULT_LEG = 0.85


def infer_unit(names: Sequence[str], parents: Sequence[int], offsets: np.ndarray,
               placed: Optional[Dict[str, int]] = None) -> Tuple[str, float]:
    """``(unit name, metres per unit)`` of :data:`UNITS` that makes the legs nearest :data:`ADULT_LEG` (in ratio);
    neighbouring units differ by 2.2x or more, so a leg of 0.6-1.2 m picks the right one."""
    leg = leg_length(names, parents, offsets, placed)
    if not leg > 0:
        raise InputError("skeleton: the legs have zero length")
    name = min(UNITS, key=lambda u: abs(np.log(leg * UNITS[u] / ADULT_LEG)))
    return name, UNITS[name]


def _closest_on_polyline(points: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Per frame, the point of the polyline ``points`` (T, K, 3) nearest to ``target`` (T, 3)."""
    if points.shape[1] == 1:
        return points[:, 0].copy()
    a, b = points[:, :-1], points[:, 1:]
    ab = b - a
    t = np.einsum("tkd,tkd->tk", target[:, None] - a, ab) / np.maximum(np.einsum("tkd,tkd->tk", ab, ab), 1e-12)
    proj = a + np.clip(t, 0, 1)[..., None] * ab
    best = np.linalg.norm(proj - target[:, None], axis=-1).argmin(1)
    return proj[np.arange(len(proj)), best]


def rig_to_h36m17(motion: RigMotion) -> np.ndarray:
    """``h36m17`` joints (T, 17, 3) of any humanoid rig, by joint names (:func:`place_joints`).

    Limbs are the rig's joints. The rest is built so that every rig gives the same anatomy:
    pelvis = mid-hips (on Human3.6M exactly so); thorax = the point of the rig's spine (the chain from the root
    to the head joint) nearest to mid-shoulders, i.e. the base of the neck at shoulder level whatever joints the
    spine has; spine = mid(pelvis, thorax); head (top) = ``motion.head_top``, else
    :data:`THORAX_TO_HEAD_TOP` above the thorax along the thorax -> head-joint line; neck (joint 9, nose level)
    = mid(head joint, head top).
    """
    names, parents = motion.names, list(motion.parents)
    X = np.asarray(motion.joints, dtype=np.float64)
    if X.ndim != 3 or X.shape[1:] != (len(names), 3) or len(X) == 0:
        raise InputError(f"{motion.path}: expected joints of shape (T>0, {len(names)}, 3), got {X.shape}")
    if not np.isfinite(X).all():
        raise InputError(f"{motion.path}: non-finite joint positions")
    j = place_joints(names, parents, motion.path)
    out = np.zeros((len(X), H36M17.n_joints, 3))
    for side in "lr":
        for part in LIMB_SYNONYMS:
            out[:, H36M17[f"{side}_{part}"]] = X[:, j[f"{side}_{part}"]]
    pelvis = 0.5 * (X[:, j["l_hip"]] + X[:, j["r_hip"]])
    chain = [j["head"]]
    while parents[chain[-1]] >= 0:
        chain.append(parents[chain[-1]])
    mid_shoulders = 0.5 * (X[:, j["l_shoulder"]] + X[:, j["r_shoulder"]])
    thorax = _closest_on_polyline(X[:, chain[::-1]], mid_shoulders)
    head = X[:, j["head"]]
    top = motion.head_top
    if top is None:
        up = head - thorax
        length = np.linalg.norm(up, axis=-1, keepdims=True)
        up = np.where(length > 1e-6, up / np.maximum(length, 1e-9), np.array([0.0, 0.0, 1.0]))
        top = thorax + THORAX_TO_HEAD_TOP * up
        top = np.where(length > THORAX_TO_HEAD_TOP - 0.1, head + 0.1 * up, top)
    top = np.asarray(top, dtype=np.float64)
    if top.shape != (len(X), 3) or not np.isfinite(top).all():
        raise InputError(f"{motion.path}: head top must be finite, of shape ({len(X)}, 3); got {top.shape}")
    out[:, H36M17["pelvis"]] = pelvis
    out[:, H36M17["thorax"]] = thorax
    out[:, H36M17["spine"]] = 0.5 * (pelvis + thorax)
    out[:, H36M17["head"]] = top
    out[:, H36M17["neck"]] = 0.5 * (head + top)
    return out
