"""Pose and action metrics on numpy arrays.

Poses are ``(..., J, D)`` arrays (any leading batch/time dimensions, ``J`` joints, ``D`` = 2 or 3 coordinates).
Errors are returned in the unit of the input (metres for the project's 3D hand-offs; multiply by 1000 for the
``*_mm`` report keys); accuracies are fractions in [0, 1]. Optional ``mask`` arguments are per-joint weights of
shape ``(..., J)`` (boolean or 0/1) that select which joints enter the mean; an empty mask gives ``nan``.
"""
from __future__ import annotations

import numpy as np

from .errors import InputError
from .skeleton import Layout, get_layout

__all__ = ["mpjpe", "p_mpjpe", "n_mpjpe", "velocity_error", "pck", "torso_size", "pckh", "pck3d", "top1",
           "confusion", "procrustes_align"]


# ---------------------------------------------------------------- checks and helpers
def _pair(pred, gt, min_ndim: int = 2):
    pred = np.asarray(pred, dtype=np.float64)
    gt = np.asarray(gt, dtype=np.float64)
    if pred.shape != gt.shape:
        raise InputError(f"pred: expected the shape of gt {gt.shape}, got {pred.shape}")
    if pred.ndim < min_ndim or pred.shape[-1] not in (2, 3):
        raise InputError(f"pred: expected shape (..., J, 2 or 3) with at least {min_ndim} dimensions, "
                         f"got {pred.shape}")
    return pred, gt


def _weights(mask, shape, name: str = "mask"):
    """Per-joint weights broadcast to ``shape`` (the joint-error shape ``(..., J)``); ``None`` = all ones."""
    if mask is None:
        return np.ones(shape)
    m = np.asarray(mask, dtype=np.float64)
    try:
        return np.broadcast_to(m, shape)
    except ValueError:
        raise InputError(f"{name}: expected a shape broadcastable to {shape} (..., J), got {m.shape}") from None


def _mean(values, weights) -> float:
    total = weights.sum()
    return float((values * weights).sum() / total) if total > 0 else float("nan")


def _root_align(x, root):
    return x if root is None else x - x[..., root:root + 1, :]


# ---------------------------------------------------------------- 3D pose errors
def mpjpe(pred, gt, root: int | None = 0, mask=None) -> float:
    """Mean per-joint position error, Human3.6M protocol #1.

    Both poses are translated so that joint ``root`` (the pelvis in ``h36m17``) is at the origin, then the
    Euclidean distance is averaged over joints and poses. ``root=None`` skips the alignment.
    """
    pred, gt = _pair(pred, gt)
    err = np.linalg.norm(_root_align(pred, root) - _root_align(gt, root), axis=-1)
    return _mean(err, _weights(mask, err.shape))


def procrustes_align(pred, gt, mask=None) -> np.ndarray:
    """Align every pose of ``pred`` to ``gt`` with a similarity transform (scale, rotation, translation).

    Least-squares solution of Umeyama (1991) per pose via the SVD of the cross-covariance, with the determinant
    sign fixed so that the rotation is proper (no reflection). ``mask`` (..., J) weights the joints in the fit.
    Returns the aligned copy of ``pred``.
    """
    pred, gt = _pair(pred, gt)
    w = _weights(mask, pred.shape[:-1])[..., None]                     # (..., J, 1)
    wsum = np.maximum(w.sum(axis=-2, keepdims=True), 1e-12)
    mu_x, mu_y = (w * pred).sum(-2, keepdims=True) / wsum, (w * gt).sum(-2, keepdims=True) / wsum
    x, y = pred - mu_x, gt - mu_y
    cov = np.swapaxes(w * y, -1, -2) @ x / wsum                        # (..., D, D), target x source
    u, s, vt = np.linalg.svd(cov)
    d = np.ones_like(s)
    d[..., -1] = np.sign(np.linalg.det(u) * np.linalg.det(vt))        # -1 would be a reflection: flip last axis
    d[d == 0] = 1.0
    rot = u @ (d[..., :, None] * vt)                                   # (..., D, D), y ~ s R x
    var_x = ((w * x ** 2).sum(axis=(-2, -1)) / wsum[..., 0, 0])
    scale = (s * d).sum(-1) / np.maximum(var_x, 1e-12)
    return scale[..., None, None] * x @ np.swapaxes(rot, -1, -2) + mu_y


def p_mpjpe(pred, gt, mask=None) -> float:
    """Procrustes-aligned MPJPE, Human3.6M protocol #2.

    Each predicted pose is first aligned to its ground truth by the optimal scale, rotation (reflection excluded)
    and translation (:func:`procrustes_align`), then MPJPE is taken without further root alignment.
    """
    aligned = procrustes_align(pred, gt, mask)
    err = np.linalg.norm(aligned - np.asarray(gt, dtype=np.float64), axis=-1)
    return _mean(err, _weights(mask, err.shape))


def n_mpjpe(pred, gt, root: int = 0, mask=None) -> float:
    """Scale-normalised MPJPE (Rhodin et al., CVPR 2018), as in VideoPose3D.

    After root alignment, each predicted pose is multiplied by the least-squares scale
    ``s = <pred, gt> / <pred, pred>`` (over the pose's joints), then MPJPE is taken.
    """
    pred, gt = _pair(pred, gt)
    pred, gt = _root_align(pred, root), _root_align(gt, root)
    w = _weights(mask, pred.shape[:-1])
    num = (w * (pred * gt).sum(-1)).sum(-1)
    den = np.maximum((w * (pred * pred).sum(-1)).sum(-1), 1e-12)
    err = np.linalg.norm((num / den)[..., None, None] * pred - gt, axis=-1)
    return _mean(err, w)


def velocity_error(pred, gt, mask=None) -> float:
    """Mean per-joint velocity error (MPJVE, VideoPose3D): the mean norm of the difference of the first temporal
    derivatives (frame-to-frame differences) of ``pred`` and ``gt``, shaped ``(..., T, J, D)`` with ``T >= 2``.

    Units are per frame. ``mask`` (..., T, J) keeps a velocity only where both of its frames are selected.
    """
    pred, gt = _pair(pred, gt, min_ndim=3)
    if pred.shape[-3] < 2:
        raise InputError(f"pred: expected at least 2 frames on axis -3 of (..., T, J, D), got shape {pred.shape}")
    err = np.linalg.norm(np.diff(pred, axis=-3) - np.diff(gt, axis=-3), axis=-1)
    w = _weights(mask, pred.shape[:-1])
    return _mean(err, w[..., 1:, :] * w[..., :-1, :])


# ---------------------------------------------------------------- PCK family
def pck(pred, gt, visible=None, ref_size=None, thr: float = 0.2) -> float:
    """Percentage of correct keypoints: the fraction of visible joints whose distance to the ground truth is
    below ``thr * ref_size`` (``ref_size`` per pose, shape ``(...)``, or a scalar).

    The project's 2D PCK uses ``thr=0.2`` of the ground-truth torso size (:func:`torso_size`). Poses with a
    reference size <= 0 are left out, like mmpose does.
    """
    pred, gt = _pair(pred, gt)
    if ref_size is None:
        raise InputError("ref_size: expected one reference length per pose, got None")
    ref = np.asarray(ref_size, dtype=np.float64)
    try:
        ref = np.broadcast_to(ref, pred.shape[:-2])
    except ValueError:
        raise InputError(f"ref_size: expected shape {pred.shape[:-2]} (one per pose), got {ref.shape}") from None
    dist = np.linalg.norm(pred - gt, axis=-1)
    w = _weights(visible, dist.shape, "visible") * (ref > 0)[..., None]
    return _mean(dist < thr * ref[..., None], w)


def torso_size(kps, layout: Layout | str = "h36m17") -> np.ndarray:
    """Torso size per pose: the distance from the left shoulder to the right hip (docs/interfaces.md), shape
    ``(...)``."""
    L = get_layout(layout) if isinstance(layout, str) else layout
    kps = np.asarray(kps, dtype=np.float64)
    if kps.ndim < 2 or kps.shape[-2] != L.n_joints:
        raise InputError(f"kps: expected shape (..., {L.n_joints}, D) for layout {L.name}, got {kps.shape}")
    return np.linalg.norm(kps[..., L["l_shoulder"], :] - kps[..., L["r_hip"], :], axis=-1)


def pckh(pred, gt, visible=None, head_size=None, thr: float = 0.5) -> float:
    """PCKh (MPII, Andriluka et al. 2014): PCK with the head segment as reference, PCKh@0.5 by default.

    ``head_size`` per pose is the MPII head segment length, conventionally 0.6 x the diagonal of the head box.
    """
    return pck(pred, gt, visible, head_size, thr)


def pck3d(pred, gt, thr: float = 0.150, root: int | None = 0, mask=None) -> float:
    """3D PCK (MPI-INF-3DHP, Mehta et al. 2017): fraction of joints within ``thr`` (150 mm, in metres) of the
    ground truth after root alignment."""
    pred, gt = _pair(pred, gt)
    err = np.linalg.norm(_root_align(pred, root) - _root_align(gt, root), axis=-1)
    return _mean(err < thr, _weights(mask, err.shape))


# ---------------------------------------------------------------- classification
def top1(scores_or_pred, labels) -> float:
    """Top-1 accuracy. ``scores_or_pred`` is either class scores ``(N, C)`` (arg-max taken) or predicted class
    indices ``(N,)``; ``labels`` the true indices ``(N,)``."""
    s = np.asarray(scores_or_pred)
    y = np.asarray(labels).reshape(-1)
    pred = s.argmax(-1) if s.ndim == 2 else s.reshape(-1)
    if s.ndim > 2 or pred.shape != y.shape:
        raise InputError(f"scores_or_pred: expected (N, C) scores or (N,) predictions with N = {y.size} labels, "
                         f"got shape {s.shape}")
    if y.size == 0:
        raise InputError("labels: expected at least one sample, got none")
    return float(np.mean(pred == y))


def confusion(y_true, y_pred, n_classes: int) -> np.ndarray:
    """Confusion matrix ``(n_classes, n_classes)`` of counts; rows are the true classes, columns the predicted
    ones (``sklearn.metrics.confusion_matrix`` with the labels fixed to ``0..n_classes-1``)."""
    from sklearn.metrics import confusion_matrix

    t = np.asarray(y_true).reshape(-1)
    p = np.asarray(y_pred).reshape(-1)
    if t.shape != p.shape:
        raise InputError(f"y_pred: expected {t.size} predictions like y_true, got {p.size}")
    for name, v in (("y_true", t), ("y_pred", p)):
        if v.size and (v.min() < 0 or v.max() >= n_classes):
            raise InputError(f"{name}: expected class indices in [0, {n_classes}), got range [{v.min()}, {v.max()}]")
    return confusion_matrix(t, p, labels=np.arange(n_classes))
