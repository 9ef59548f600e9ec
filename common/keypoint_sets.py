"""The layout of a COCO-format file, from the key-point names of its ``categories[].keypoints``.

COCO-format annotation files of other datasets keep COCO's json structure and name their own key-points:
PoseTrack18 ``head_bottom``/``head_top``, CrowdPose ``head``/``neck``, AI Challenger 14 joints in its own order.
:func:`layout_from_keypoint_names` matches a file's list against every layout of :mod:`common.skeleton` (``coco17``,
``posetrack18``, ``crowdpose14``, ``aic14``, ``mpii16``, ``halpe26``, ``halpe136``, ``coco_wholebody133``, ... ),
name by name and in order, after :func:`normalise_name` (``left_shoulder`` -> ``l_shoulder``, ``face-0`` ->
``face_0``) and the dataset spellings of :data:`FILE_ALIASES`.

Halpe full-body (``halpe136``): its 26 body names are spelt as in Halpe-26 files (``head``, ``neck``, ``hip``,
``left_big_toe``, ...); its 110 face and hand names are matched when spelt as mmpose's Halpe dataset info and
COCO-WholeBody spell them (``face-0`` .. ``face-67``, ``left_hand_root``, ``left_thumb1`` .. ``right_pinky_finger4``).
The spelling of those 110 in the Halpe release's own json was not available here, so a list of 136 names whose first
26 are Halpe-26's, in order, and whose other 110 are all names no known set uses (another dataset's own spelling of
the face and hand points) is also read as ``halpe136``: the body is checked, the face and hands are taken in
AlphaPose's ``halpe_136`` order (26-93 face, 94-114 left hand, 115-135 right hand). A list that uses known face or
hand names in another order is still an error.
"""
from __future__ import annotations

from typing import Dict, List, Sequence

from .errors import InputError
from .skeleton import HALPE26, HALPE136, LAYOUTS, Layout

#: per layout, a file's (normalised) name -> the layout's joint, where the dataset names a joint otherwise
FILE_ALIASES: Dict[str, Dict[str, str]] = {
    "crowdpose14": {"head": "head_top", "top_head": "head_top"},  # CrowdPose's json, mmpose's dataset info
    "halpe26": {"head": "head_top", "hip": "mid_hip"},
    "halpe136": {"head": "head_top", "hip": "mid_hip"},
}


def normalise_name(name: str) -> str:
    """A file's key-point name as the layouts spell it: lower case, ``-``/space -> ``_``, ``left_``/``right_`` ->
    ``l_``/``r_`` (the person's sides, as in the files)."""
    n = "_".join(str(name).strip().lower().replace("-", " ").split())
    for long, short in (("left_", "l_"), ("right_", "r_")):
        if n.startswith(long):
            return short + n[len(long):]
    return n


def _as_layout_names(layout: Layout, names: Sequence[str]) -> List[str]:
    aliases = FILE_ALIASES.get(layout.name, {})
    return [aliases.get(n, n) for n in names]


def _halpe136_by_body(normed: Sequence[str], known: set) -> bool:
    """A Halpe full-body list whose face and hand points carry names of its own: 136 names, the first 26 Halpe-26's
    in order (after the aliases), none of the other 110 a name any known set uses."""
    body, rest = list(normed[:HALPE26.n_joints]), normed[HALPE26.n_joints:]
    return (len(normed) == HALPE136.n_joints and _as_layout_names(HALPE26, body) == list(HALPE26.names)
            and not set(rest) & known)


def known_sets() -> str:
    """The known key-point sets, one phrase: ``coco17 (17), posetrack18 (17), ...``."""
    return ", ".join(f"{L.name} ({L.n_joints})" for L in LAYOUTS.values())


def layout_from_keypoint_names(names: Sequence[str], where: str = "keypoint names") -> Layout:
    """The layout whose joints are exactly ``names`` (a COCO ``categories[].keypoints`` list), in that order.

    Raises a one-line :class:`InputError` starting with ``where``: names no layout has (listed, with the known
    sets), or known names in a set or order no layout has (with the closest layout's order).
    """
    if isinstance(names, (str, bytes)) or not isinstance(names, (list, tuple)) or not names:
        raise InputError(f"{where}: expected a non-empty list of key-point names, got {names!r:.60}")
    if not all(isinstance(n, str) for n in names):
        raise InputError(f"{where}: expected key-point names (strings), got {list(names)!r:.80}")
    normed = [normalise_name(n) for n in names]
    for L in LAYOUTS.values():
        if len(normed) == L.n_joints and _as_layout_names(L, normed) == list(L.names):
            return L
    known = set()
    for L in LAYOUTS.values():
        known |= set(L.names) | set(FILE_ALIASES.get(L.name, {}))
    if _halpe136_by_body(normed, known):
        return HALPE136
    rest = normed[HALPE26.n_joints:]
    if len(normed) == HALPE136.n_joints and not set(rest) & known:
        raise InputError(f"{where}: 136 key-point names, as Halpe full-body (halpe136) has, but the first 26 are not "
                         f"Halpe-26's in its order; expected (left_/right_ written l_/r_, head as head_top, hip as "
                         f"mid_hip) {list(HALPE26.names)}, got {list(names[:HALPE26.n_joints])}")
    unknown = [orig for orig, n in zip(names, normed) if n not in known]
    if unknown:
        raise InputError(f"{where}: unknown keypoint names {unknown[:8]}{' ...' if len(unknown) > 8 else ''} (not "
                         f"in any known set of COCO keypoint names: {known_sets()})")
    same_set = [L for L in LAYOUTS.values() if sorted(_as_layout_names(L, normed)) == sorted(L.names)]
    if same_set:
        raise InputError(f"{where}: the key-points of {' / '.join(L.name for L in same_set)} in another order; "
                         f"expected (left_/right_ written l_/r_) "
                         + " or ".join(f"{L.name} {list(L.names)}" for L in same_set))
    raise InputError(f"{where}: {len(names)} key-point names that match no known set exactly (each set's names, in "
                     f"its order, are needed): known sets {known_sets()}")
