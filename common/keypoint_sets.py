"""The layout of a COCO-format file, from the key-point names of its ``categories[].keypoints``.

COCO-format annotation files of other datasets keep COCO's json structure and name their own key-points:
PoseTrack18 ``head_bottom``/``head_top``, CrowdPose ``head``/``neck``, AI Challenger 14 joints in its own order.
:func:`layout_from_keypoint_names` matches a file's list against every layout of :mod:`common.skeleton` (``coco17``,
``posetrack18``, ``crowdpose14``, ``aic14``, ``mpii16``, ``halpe26``, ``coco_wholebody133``, ... ), name by name
and in order, after :func:`normalise_name` (``left_shoulder`` -> ``l_shoulder``, ``face-0`` -> ``face_0``) and the
dataset spellings of :data:`FILE_ALIASES`.
"""
from __future__ import annotations

from typing import Dict, List, Sequence

from .errors import InputError
from .skeleton import LAYOUTS, Layout

#: per layout, a file's (normalised) name -> the layout's joint, where the dataset names a joint otherwise
FILE_ALIASES: Dict[str, Dict[str, str]] = {
    "crowdpose14": {"head": "head_top", "top_head": "head_top"},  # CrowdPose's json, mmpose's dataset info
    "halpe26": {"head": "head_top", "hip": "mid_hip"},
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
