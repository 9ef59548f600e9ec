"""Skeleton layouts, each declared once: joint names and parents; edges and left/right flip pairs derived.

``h36m17`` is the canonical layout between stages. Left/right pairs are derived from joint names: a name
starting with ``l_``/``left_``/``L`` ... and its mirrored twin.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, List, Tuple

import numpy as np

from .errors import InputError


def _mirror(name: str):
    for a, b in (("l_", "r_"), ("left_", "right_"), ("Left", "Right")):
        if name.startswith(a):
            return b + name[len(a):]
        if name.startswith(b):
            return a + name[len(b):]
    for a, b in (("_l", "_r"), ("_left", "_right"), ("Left", "Right")):
        if name.endswith(a):
            return name[: -len(a)] + b
        if name.endswith(b):
            return name[: -len(b)] + a
    return None


@dataclass(frozen=True)
class Layout:
    """A skeleton layout: ``names[i]`` is joint ``i``; ``parents[i]`` its parent index (-1 for the root)."""

    name: str
    names: Tuple[str, ...]
    parents: Tuple[int, ...]
    index: Dict[str, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        if len(self.names) != len(self.parents):
            raise ValueError(f"layout {self.name}: {len(self.names)} names but {len(self.parents)} parents")
        if len(set(self.names)) != len(self.names):
            raise ValueError(f"layout {self.name}: duplicate joint names")
        object.__setattr__(self, "index", {n: i for i, n in enumerate(self.names)})

    @property
    def n_joints(self) -> int:
        return len(self.names)

    @property
    def edges(self) -> List[Tuple[int, int]]:
        """(parent, child) pairs, one per non-root joint."""
        return [(p, c) for c, p in enumerate(self.parents) if p >= 0]

    @property
    def flip_pairs(self) -> List[Tuple[int, int]]:
        """(left, right) index pairs found by mirroring joint names."""
        pairs = []
        for i, n in enumerate(self.names):
            m = _mirror(n)
            if m is not None and m in self.index and i < self.index[m]:
                pairs.append((i, self.index[m]))
        return pairs

    @property
    def flip_permutation(self) -> np.ndarray:
        """Index array that swaps left and right joints (apply after negating x)."""
        perm = np.arange(self.n_joints)
        for a, b in self.flip_pairs:
            perm[a], perm[b] = b, a
        return perm

    def __getitem__(self, joint: str) -> int:
        return self.index[joint]


H36M17 = Layout(
    "h36m17",
    ("pelvis", "r_hip", "r_knee", "r_ankle", "l_hip", "l_knee", "l_ankle", "spine", "thorax", "neck",
     "head", "l_shoulder", "l_elbow", "l_wrist", "r_shoulder", "r_elbow", "r_wrist"),
    (-1, 0, 1, 2, 0, 4, 5, 0, 7, 8, 9, 8, 11, 12, 8, 14, 15),
)
"""Human3.6M 17 joints in the usual order; ``neck`` is the nose/neck-base joint of H36M (index 9), ``head``
the top of the head (index 10)."""

LAYOUTS: Dict[str, Layout] = {L.name: L for L in (H36M17,)}


def get_layout(name: str) -> Layout:
    try:
        return LAYOUTS[name]
    except KeyError:
        raise InputError(f"unknown skeleton layout {name!r}; known: {', '.join(sorted(LAYOUTS))}") from None
