"""Geometric augmentation of 3D skeletons shared by the stages (numpy arrays or torch tensors alike)."""
from __future__ import annotations

import numpy as np


def scale_bones(j3, layout, factors):
    """Each bone of (N, J, 3) poses (joint j to its parent) stretched by ``factors[:, j]``, the two bones of a
    left/right pair by the same factor (that of the one with the lower index), children carried along; the root stays put. Teaches a
    model skeletons whose proportions (and joint conventions: hip width, neck, head top) differ from its
    training people's, as those of different mocap sources and different persons do. Works on numpy arrays
    and torch tensors (``factors`` of the same kind, (N, J))."""
    perm = np.asarray(layout.flip_permutation)
    f = factors[:, np.minimum(np.arange(len(perm)), perm)]
    out = j3.clone() if hasattr(j3, "clone") else np.array(j3, copy=True)
    for j in layout.topo_order[1:]:
        parent = layout.parents[j]
        out[:, j] = out[:, parent] + f[:, j, None] * (j3[:, j] - j3[:, parent])
    return out
