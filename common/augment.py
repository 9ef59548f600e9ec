"""Geometric augmentation of 3D skeletons shared by the stages, PoseAug-style (Gong et al., "PoseAug: A
Differentiable Pose Augmentation Framework for 3D Human Pose Estimation", CVPR 2021, section 3: bone lengths,
body proportions, and the camera's placement and lens), drawn at random instead of learned: :func:`scale_bones`
with per-bone (:func:`scale_bones`) or per-part (:func:`part_factors`) factors, :func:`tilt_about_root`
(elevation), :func:`move_along_ray` (distance); a lifter scales its intrinsics for the focal length."""
from __future__ import annotations

import numpy as np


def scale_bones(j3, layout, factors):
    """Each bone of (N, J, 3) poses (joint j to its parent) stretched by ``factors[:, j]``, the two bones of a
    left/right pair by the same factor (that of the one with the lower index), children carried along; the root
    stays put. Teaches a model skeletons whose proportions (and joint conventions: hip width, neck, head top)
    differ from its training people's, as those of different mocap sources and different persons do. Works on
    numpy arrays and torch tensors (``factors`` of the same kind, (N, J))."""
    perm = np.asarray(layout.flip_permutation)
    f = factors[:, np.minimum(np.arange(len(perm)), perm)]
    out = j3.clone() if hasattr(j3, "clone") else np.array(j3, copy=True)
    for j in layout.topo_order[1:]:
        parent = layout.parents[j]
        out[:, j] = out[:, parent] + f[:, j, None] * (j3[:, j] - j3[:, parent])
    return out


#: h36m17 bones grouped by body part for :func:`part_factors` (the bone of joint j is j -> its parent)
BODY_PARTS = {"legs": ("r_hip", "r_knee", "r_ankle", "l_hip", "l_knee", "l_ankle"),
              "torso": ("spine", "thorax", "neck", "head"),
              "arms": ("l_shoulder", "l_elbow", "l_wrist", "r_shoulder", "r_elbow", "r_wrist")}


def part_factors(layout, randn, sigma: float):
    """Per-pose bone factors (N, J) that stretch all bones of one body part alike (:data:`BODY_PARTS`: legs, torso
    and head, arms; log-normal with std ``sigma`` each): people differ in proportions (long legs, short arms), not
    only in single bones, and so do the skeleton conventions of mocap rigs. ``randn``: (N, 3) torch normal draws."""
    import torch
    parts = list(BODY_PARTS.values())
    index = torch.tensor([next((k for k, part in enumerate(parts) if n in part), len(parts)) for n in layout.names])
    return torch.cat([(randn * sigma).exp(), torch.ones(len(randn), 1)], 1)[:, index]


def tilt_about_root(j3, angle):
    """Camera elevation changed by ``angle`` (N,) radians: camera-frame poses (N, J, 3) turned about the horizontal
    axis through the root (joint 0) that is perpendicular to the ray to the root; the root stays where it is in
    the image. Torch tensors."""
    import torch
    root = j3[:, :1]
    axis = torch.cross(torch.tensor([0.0, 1.0, 0.0]).expand_as(root[:, 0]), root[:, 0], dim=-1)
    axis = axis / axis.norm(dim=-1, keepdim=True).clamp(min=1e-9)
    d = j3 - root
    c, s = torch.cos(angle)[:, None, None], torch.sin(angle)[:, None, None]
    k = axis[:, None].expand_as(d)
    # Rodrigues: d cos + (k x d) sin + k (k . d)(1 - cos)
    return root + d * c + torch.cross(k, d, dim=-1) * s + k * (k * d).sum(-1, keepdim=True) * (1 - c)


def move_along_ray(j3, scale):
    """Camera distance times ``scale`` (N,): camera-frame poses (N, J, 3) moved along the ray to their root, which
    keeps its image position while the body grows or shrinks in the image."""
    return j3 + (scale[:, None, None] - 1) * j3[:, :1]
