"""Geometric augmentation of 3D skeletons shared by the stages, PoseAug-style (Gong et al., "PoseAug: A
Differentiable Pose Augmentation Framework for 3D Human Pose Estimation", CVPR 2021, section 3: bone lengths,
body proportions, and the camera's placement and lens), drawn at random instead of learned: :func:`scale_bones`
with per-bone (:func:`scale_bones`) or per-part (:func:`part_factors`) factors, :func:`tilt_about_root`
(elevation), :func:`move_along_ray` (distance); a lifter scales its intrinsics for the focal length.

The view and detector transforms the lifters and classifiers share work on numpy arrays and on torch tensors
alike: :func:`turn_vertical`, :func:`roll_stretch`, :func:`mirror`, and the random steps :class:`RandomTurn`,
:class:`RandomRollStretch`, :class:`RandomMirror`, :class:`Noise` and :class:`DropToRoot`, chained by
:class:`Compose`. A step maps ``(x, scores, draw) -> (x, scores)``, ``scores`` (..., J) or None, and takes its
random numbers from :class:`Draw`, a numpy ``Generator`` or a torch ``Generator`` behind one interface."""
from __future__ import annotations

import math

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


class Draw:
    """Random draws of a given shape (None: one scalar) from a numpy ``Generator`` or a torch ``Generator``;
    float draws are float32 arrays or tensors (numpy scalars stay Python floats)."""

    def __init__(self, gen):
        self.gen, self.numpy = gen, isinstance(gen, np.random.Generator)

    def _torch_rand(self, shape):
        import torch
        return torch.rand(() if shape is None else shape, generator=self.gen)

    def normal(self, sigma: float, shape):
        """N(0, ``sigma``) draws."""
        if self.numpy:
            return self.gen.normal(0.0, sigma, shape).astype(np.float32)
        import torch
        return torch.randn(shape, generator=self.gen) * sigma

    def uniform(self, lo: float, hi: float, shape=None):
        """Uniform draws in [``lo``, ``hi``)."""
        if self.numpy:
            u = self.gen.uniform(lo, hi, shape)
            return u if shape is None else u.astype(np.float32)
        return lo + (hi - lo) * self._torch_rand(shape)

    def angle(self, max_deg: float, shape=None):
        """Angles uniform in +-``max_deg`` degrees, in radians (numpy: one angle, drawn in degrees)."""
        if self.numpy:
            return math.radians(self.gen.uniform(-1, 1, shape) * max_deg)
        return self.uniform(-1, 1, shape) * math.radians(max_deg)

    def bernoulli(self, p: float, shape=None):
        """Booleans, True with probability ``p``."""
        return (self.gen.random(shape) if self.numpy else self._torch_rand(shape)) < p


def _is_numpy(x) -> bool:
    return isinstance(x, np.ndarray)


def _where(cond, a, b):
    """``a`` (an array or a scalar) where ``cond`` (over the leading axes of ``b``), else ``b``."""
    cond = cond.reshape(tuple(cond.shape) + (1,) * (b.ndim - cond.ndim))
    if _is_numpy(b):
        return np.where(cond, a, b).astype(b.dtype, copy=False)
    import torch
    return torch.where(cond, a, b)


def turn_vertical(x, angle, origin=None):
    """Poses (..., J, 3) turned by ``angle`` radians about the vertical (y) axis through ``origin`` (broadcast to
    ``x``; None: the coordinate origin): a camera moved around the person. Numpy: one angle, a float32 matrix
    product; torch: angles over the leading axes of ``x`` (e.g. (N,) for (N, J, 3)), written out per axis."""
    d = x if origin is None else x - origin
    if _is_numpy(x):
        c, s = math.cos(angle), math.sin(angle)
        d = d @ np.array([[c, 0, s], [0, 1, 0], [-s, 0, c]], np.float32).T
    else:
        import torch
        a = torch.as_tensor(angle, dtype=x.dtype)
        a = a.reshape(tuple(a.shape) + (1,) * (d.ndim - 1 - a.ndim))
        c, s = torch.cos(a), torch.sin(a)
        d = torch.stack([c * d[..., 0] + s * d[..., 2], d[..., 1], -s * d[..., 0] + c * d[..., 2]], dim=-1)
    return d if origin is None else origin + d


def roll_stretch(x, angle: float, stretch, origin):
    """Points (..., D), D = 2 or 3, stretched per axis by ``stretch`` (D,) and turned by ``angle`` radians about
    the camera axis (z), both about ``origin``: another camera's roll and pixel aspect."""
    c, s = math.cos(angle), math.sin(angle)
    m = np.array([[c, -s, 0], [s, c, 0], [0, 0, 1]], np.float32)[:x.shape[-1], :x.shape[-1]]
    if not _is_numpy(x):
        import torch
        m = torch.as_tensor(m)
    m = m * stretch
    return (x - origin) @ m.T + origin


def mirror(x, layout, scores=None, negate: bool = True):
    """The left/right mirror image ``(x, scores)`` of poses (..., J, D) and their per-joint ``scores`` (..., J) or
    None: the ``layout``'s left and right joints exchanged and x negated (``negate=False``: only exchanged, for
    coordinates an image flip has mirrored already). The lifters' and classifiers' flip augmentation and flip
    test (Pavllo et al., "3D human pose estimation in video with temporal convolutions and semi-supervised
    training", CVPR 2019: horizontal flips at training and test time)."""
    perm = layout.flip_permutation
    out = x[..., perm, :]
    if negate:
        sign = [-1.0] + [1.0] * (x.shape[-1] - 1)
        if _is_numpy(x):
            out = out * np.array(sign, x.dtype)
        else:
            import torch
            out = out * torch.tensor(sign, dtype=x.dtype)
    return out, None if scores is None else scores[..., perm]


def _batch(x, per: int):
    return tuple(x.shape[:per]) or None


class RandomTurn:
    """:func:`turn_vertical` by an angle uniform in +-``max_deg`` about ``origin(x)`` (None: the coordinate
    origin); one angle per item of the first ``per`` axes (0: one for all)."""

    def __init__(self, max_deg: float, origin=None, per: int = 0):
        self.max_deg, self.origin, self.per = max_deg, origin, per

    def __call__(self, x, scores, draw: Draw):
        a = draw.angle(self.max_deg, _batch(x, self.per))
        return turn_vertical(x, a, None if self.origin is None else self.origin(x)), scores


class RandomRollStretch:
    """:func:`roll_stretch` by a roll uniform in +-``max_deg`` and per-axis factors uniform in 1 +- ``stretch``
    about ``origin(x)``; one draw for the whole of ``x``."""

    def __init__(self, max_deg: float, stretch: float, origin):
        self.max_deg, self.stretch, self.origin = max_deg, stretch, origin

    def __call__(self, x, scores, draw: Draw):
        a = draw.angle(self.max_deg)
        f = draw.uniform(1 - self.stretch, 1 + self.stretch, (x.shape[-1],))
        return roll_stretch(x, a, f, self.origin(x)), scores


class RandomMirror:
    """:func:`mirror` with probability ``p``, decided per item of the first ``per`` axes (0: for all at once)."""

    def __init__(self, layout, p: float = 0.5, per: int = 0):
        self.layout, self.p, self.per = layout, p, per

    def __call__(self, x, scores, draw: Draw):
        f = draw.bernoulli(self.p, _batch(x, self.per))
        if self.per == 0:
            return mirror(x, self.layout, scores) if f else (x, scores)
        xm, sm = mirror(x, self.layout, scores)
        return _where(f, xm, x), None if scores is None else _where(f, sm, scores)


class Noise:
    """Gaussian noise of std ``sigma`` on every coordinate (a detector's pixel error); none drawn at 0."""

    def __init__(self, sigma: float):
        self.sigma = sigma

    def __call__(self, x, scores, draw: Draw):
        return (x + draw.normal(self.sigma, x.shape) if self.sigma > 0 else x), scores


class DropToRoot:
    """A ``rate`` share of the joints other than ``root`` of points (..., J, D) moved to the root, their scores
    set to 0 (a detector's misses); none drawn at rate 0."""

    def __init__(self, rate: float, root: int = 0):
        self.rate, self.root = rate, root

    def __call__(self, x, scores, draw: Draw):
        if self.rate <= 0:
            return x, scores
        drop = draw.bernoulli(self.rate, tuple(x.shape[:-1]))
        drop[..., self.root] = False
        x = _where(drop[..., None], x[..., self.root:self.root + 1, :], x)
        return x, None if scores is None else _where(drop, 0.0, scores)


class Compose:
    """Steps ``(x, scores, draw) -> (x, scores)`` applied in order; None steps (switched off) are skipped."""

    def __init__(self, *steps):
        self.steps = [t for t in steps if t is not None]

    def __call__(self, x, scores, draw: Draw):
        for t in self.steps:
            x, scores = t(x, scores, draw)
        return x, scores
