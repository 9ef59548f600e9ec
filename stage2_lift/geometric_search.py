"""Geometric search: refine coarse root-relative 3D poses so that they agree with the 2D input and with a
consistent, left/right symmetric skeleton (part 3 of Tang et al.'s "3D Label Generator"; the paper gives only the
idea, the objective and the search below are ours).

Unknowns, per pose: the camera-frame joints ``X_j`` (3J values), i.e. the root-relative pose ``Y_j = X_j - X_root``
plus the root position ``T = X_root`` (its image position and depth; with the bone lengths, the depth sets the
pose's scale against the projection). Objective, a sum of squared residuals ``E = ||r||^2``::

    E(X) =   sum_j  c_j ||pi_K(X_j) - u_j||^2 / sigma_2d^2                              (reprojection)
           + sum_b  (l_b - lbar_b)^2 / sigma_bone^2                                       (bone-length prior)
           + sum_(b,b') (l_b - l_b')^2 / sigma_sym^2                                      (left/right symmetry)
           + sum_(j != root) ||(X_j - X_root) - Yhat_j||^2 / sigma_3d^2                  (stay near the network)

    l_b = ||X_c(b) - X_p(b)||,   pi_K(X) = (fx X_x / X_z + cx, fy X_y / X_z + cy)

with ``u_j`` the input 2D in pixels, ``c_j`` its confidence (1 when not given; 0 removes a joint from the
reprojection term), ``K`` the pose's pinhole intrinsics (lens distortion ignored), ``b = (p(b), c(b))`` the bones
(parent, child) of the layout, ``lbar`` the prior bone lengths (the caller's choice; see
:func:`sequence_bone_prior` and ``stereo_lifter``), ``(b, b')`` the pairs of mirrored bones (derived from the
layout's left/right joint names, no hard-coded indices) and ``Yhat`` the network's coarse root-relative pose.

Search: Levenberg-Marquardt, batched over all poses (pure torch, no Python loop over poses).

* Start: ``Y = Yhat`` and ``T`` from :func:`fit_translation` (linear least squares placing the coarse pose on the
  2D rays: ``fx (Y_x + T_x) - (u - cx)(Y_z + T_z) = 0`` and the same in y, weighted by ``c_j``).
* Each of ``iters`` steps (default 6) solves the damped Gauss-Newton system
  ``(J^T J + mu diag(J^T J)) d = -J^T r`` (``J`` the Jacobian of the residuals, ``mu`` per pose) matrix-free with
  ``cg_iters`` (default 8) preconditioned conjugate-gradient iterations. ``J^T J v`` is built from analytic
  per-term Jacobians (per joint 2x3 projection derivatives, unit bone vectors, fixed bone/anchor incidence
  matrices). Preconditioner: the exact 3x3 diagonal blocks of ``J^T J`` per joint (inverted in closed form) plus a
  coarse-space correction for the common translation of all joints (only the reprojection rows constrain it,
  so block-Jacobi alone converges slowly along it).
* The step is accepted per pose when ``E`` decreases and all joints stay in front of the camera
  (``Z >= 0.05 m``); then ``mu /= 3``, else the pose is kept and ``mu *= 4``.

Six steps of eight CG iterations end within about 0.1 mm of the converged optimum on the tests. The output is the
refined root-relative pose ``Y``.

Scales (defaults): ``sigma_2d`` = 0.004 x the image width in pixels (4 px at 1000 px, about 2 cm at 5 m with
H36M's focal length), ``sigma_bone`` 2 cm, ``sigma_sym`` 1 cm, ``sigma_3d`` 5 cm: across the viewing rays the
reprojection dominates, along them the depth is held by the bone lengths, the symmetry and the coarse pose.
"""
from __future__ import annotations

from typing import List, Optional, Tuple, Union

import torch

from common.skeleton import Layout, get_layout

MIN_DEPTH = 0.05
DEFAULT_FOCAL_PER_WIDTH = 1.15  # Human3.6M: f ~ 1145 px for 1000 px wide images


def default_intrinsics(width: float, height: float) -> torch.Tensor:
    """(fx, fy, cx, cy) for an unknown camera: focal length 1.15 x the image width, principal point at the
    image centre (Human3.6M-like)."""
    f = DEFAULT_FOCAL_PER_WIDTH * float(width)
    return torch.tensor([f, f, float(width) / 2, float(height) / 2], dtype=torch.float64)


def _layout(layout: Union[str, Layout]) -> Layout:
    return get_layout(layout) if isinstance(layout, str) else layout


def mirrored_bone_pairs(layout: Union[str, Layout]) -> List[Tuple[int, int]]:
    """Index pairs ``(b, b')`` into ``layout.edges`` of bones that mirror each other (left/right)."""
    L = _layout(layout)
    perm = L.flip_permutation
    edges = L.edges
    where = {e: i for i, e in enumerate(edges)}
    pairs = []
    for i, (p, c) in enumerate(edges):
        k = where.get((int(perm[p]), int(perm[c])))
        if k is not None and i < k:
            pairs.append((i, k))
    return pairs


def bone_lengths(X: torch.Tensor, layout: Union[str, Layout]) -> torch.Tensor:
    """Lengths (..., B) of the bones ``layout.edges`` of poses (..., J, 3)."""
    e = torch.as_tensor(_layout(layout).edges)
    return (X[..., e[:, 1], :] - X[..., e[:, 0], :]).norm(dim=-1)


def symmetrize_bones(lengths: torch.Tensor, layout: Union[str, Layout]) -> torch.Tensor:
    """Bone lengths (..., B) with each mirrored pair replaced by its mean."""
    out = lengths.clone()
    for a, b in mirrored_bone_pairs(layout):
        m = (lengths[..., a] + lengths[..., b]) / 2
        out[..., a] = m
        out[..., b] = m
    return out


def sequence_bone_prior(coarse: torch.Tensor, layout: Union[str, Layout]) -> torch.Tensor:
    """The prior of one person's sequence (T, J, 3) -> (B,): per bone, the median over frames of the coarse
    pose's bone length, then averaged over each left/right pair. One person has fixed bone lengths, so the
    median over the sequence removes the per-frame scatter of the network without needing its training data."""
    return symmetrize_bones(bone_lengths(coarse, layout).median(dim=0).values, layout)


def scaled_bone_prior(coarse: torch.Tensor, mean_lengths: torch.Tensor, layout: Union[str, Layout]) -> torch.Tensor:
    """The prior of one person's sequence (T, J, 3) -> (B,) from reference bone lengths ``mean_lengths`` (B,)
    (e.g. the training set's mean): left/right averaged, scaled by the median over frames of the ratio of the
    coarse pose's total bone length to the reference total. Keeps the reference proportions, takes only the
    overall size from the network, so it works for single frames too."""
    mean = symmetrize_bones(torch.as_tensor(mean_lengths, dtype=coarse.dtype), layout)
    return mean * (bone_lengths(coarse, layout).sum(-1) / mean.sum()).median()


def _project(X: torch.Tensor, K: torch.Tensor) -> torch.Tensor:
    z = X[..., 2].clamp(min=1e-6)
    return torch.stack([K[:, None, 0] * X[..., 0] / z + K[:, None, 2],
                        K[:, None, 1] * X[..., 1] / z + K[:, None, 3]], dim=-1)


def fit_translation(Y: torch.Tensor, uv: torch.Tensor, K: torch.Tensor, w: Optional[torch.Tensor] = None,
                    root: int = 0, min_depth: float = 1.0) -> torch.Tensor:
    """Root position T (N, 3) that puts root-relative joints Y (N, J, 3) closest to their 2D rays.

    Linear least squares on ``fx (Y_x + T_x) - (u - cx)(Y_z + T_z) = 0`` and the same in y, weighted by ``w``
    (N, J). Where that is undetermined (no weight) or puts joints closer than ``min_depth``, T falls back to the
    ray of joint ``root`` at depth ``max(T_z, min_depth + max_j(-Y_z))``.
    """
    N, J, _ = Y.shape
    w = torch.ones(N, J, dtype=Y.dtype) if w is None else w.to(Y.dtype)
    du = uv[..., 0] - K[:, None, 2]
    dv = uv[..., 1] - K[:, None, 3]
    fx, fy = K[:, None, 0].expand(N, J), K[:, None, 1].expand(N, J)
    zero = torch.zeros_like(du)
    A = torch.cat([torch.stack([fx, zero, -du], -1), torch.stack([zero, fy, -dv], -1)], 1)   # (N, 2J, 3)
    rhs = torch.cat([du * Y[..., 2] - fx * Y[..., 0], dv * Y[..., 2] - fy * Y[..., 1]], 1)  # (N, 2J)
    Aw = A * torch.cat([w, w], 1)[..., None]
    AtA = Aw.transpose(1, 2) @ A
    Atb = (Aw * rhs[..., None]).sum(1)
    ridge = 1e-9 * AtA.diagonal(dim1=1, dim2=2).sum(-1).clamp(min=1.0)
    AtA = AtA + ridge[:, None, None] * torch.eye(3, dtype=Y.dtype)
    T = (_inv3(AtA.permute(1, 2, 0)) * Atb.T[None]).sum(1).T
    zmin = min_depth + (-Y[..., 2]).amax(1)
    bad = ~torch.isfinite(T).all(1) | (T[:, 2] < zmin) | (w.sum(1) <= 0)
    if bad.any():
        z = torch.maximum(torch.nan_to_num(T[:, 2], nan=0.0), zmin)
        ru = torch.nan_to_num((uv[:, root, 0] - K[:, 2]) / K[:, 0])
        rv = torch.nan_to_num((uv[:, root, 1] - K[:, 3]) / K[:, 1])
        T = torch.where(bad[:, None], torch.stack([ru * z, rv * z, z], -1), T)
    return T


def _inv3(M: torch.Tensor) -> torch.Tensor:
    """Closed-form inverse (adjugate / determinant) of positive definite 3x3 matrices stored component-major,
    (3, 3, ...)."""
    a, b, c = M[0, 0], M[0, 1], M[0, 2]
    d, e, f = M[1, 0], M[1, 1], M[1, 2]
    g, h, i = M[2, 0], M[2, 1], M[2, 2]
    A, B, C = e * i - f * h, f * g - d * i, d * h - e * g
    det = (a * A + b * B + c * C).clamp(min=1e-30)
    return torch.stack([torch.stack([A, c * h - b * i, b * f - c * e]),
                        torch.stack([B, a * i - c * g, c * d - a * f]),
                        torch.stack([C, b * g - a * h, a * e - b * d])]) / det


class _Problem:
    """Constant structure of the least-squares problem for one layout. The solver stores poses
    component-major, (3, J, N), so that per-joint 3x3 algebra is elementwise on contiguous (J, N) slices and every
    coupling between joints is a small dense matrix product."""

    def __init__(self, layout: Layout, sigma_bone: float, sigma_sym: float, sigma_3d: float, dtype):
        J = layout.n_joints
        self.J = J
        self.root = layout.parents.index(-1)
        e = torch.as_tensor(layout.edges)
        par, chi = e[:, 0], e[:, 1]
        B = len(e)
        self.B = B
        pairs = mirrored_bone_pairs(layout)
        S = torch.zeros(len(pairs), B, dtype=dtype)
        for q, (a, b) in enumerate(pairs):
            S[q, a], S[q, b] = 1.0, -1.0
        self.S, self.St = S, S.T.contiguous()
        # the bone rows and the symmetry rows both act on the bone lengths l: Gauss-Newton weight Wb on dl
        self.Wb = torch.eye(B, dtype=dtype) / sigma_bone ** 2 + S.T @ S / sigma_sym ** 2
        G = torch.zeros(B, J, dtype=dtype)                        # bone vectors X_c - X_p = G @ X
        G[torch.arange(B), chi] = 1.0
        G[torch.arange(B), par] = -1.0
        self.G, self.Gt = G, G.T.contiguous()
        self.nonroot = torch.tensor([j for j in range(J) if j != self.root])
        Ga = torch.zeros(J - 1, J, dtype=dtype)                   # anchor rows (X_j - X_root) / sigma_3d
        Ga[torch.arange(J - 1), self.nonroot] = 1.0
        Ga[:, self.root] = -1.0
        self.Ga, self.Gat = Ga / sigma_3d, (Ga / sigma_3d).T.contiguous()
        # diagonal 3x3 blocks of J^T J from the bone rows: sum_(b,c) G[b,j] G[c,j] Wb[b,c] e_b e_c^T
        C = G.T[:, :, None] * G.T[:, None, :] * self.Wb          # (J, B, B)
        jj, bb, cc = torch.nonzero(C, as_tuple=True)
        self.cj, self.cb, self.cc, self.cw = jj, bb, cc, C[jj, bb, cc][:, None]
        self.anc_diag = torch.diagonal(self.Gat @ self.Ga)[:, None]   # (J, 1) anchor rows' diagonal of J^T J


def geometric_search(coarse: torch.Tensor, uv: torch.Tensor, K: torch.Tensor, layout: Union[str, Layout],
                     bone_prior: torch.Tensor, scores: Optional[torch.Tensor] = None, *,
                     sigma_2d: Optional[Union[float, torch.Tensor]] = None, image_width: Optional[float] = None,
                     sigma_bone: float = 0.02, sigma_sym: float = 0.01, sigma_3d: float = 0.05,
                     iters: int = 6, cg_iters: int = 8, mu0: float = 1e-2, return_translation: bool = False):
    """Refine coarse root-relative poses; see the module docstring for the objective and the search.

    Args:
        coarse: (N, J, 3) root-relative camera-frame joints (metres), the network's estimate ``Yhat``.
        uv: (N, J, 2) input 2D in pixels.
        K: (N, 4) or (4,) intrinsics fx, fy, cx, cy in pixels.
        layout: the skeleton layout (name or :class:`Layout`): bones and mirrored pairs.
        bone_prior: (B,) or (N, B) prior bone lengths ``lbar`` in metres, ordered as ``layout.edges``.
        scores: optional (N, J) 2D confidences ``c_j`` (default 1).
        sigma_2d: reprojection scale in pixels (scalar or (N,)); default 0.004 x ``image_width`` (which defaults
            to 2 cx).
        iters: Levenberg-Marquardt iterations; ``cg_iters``: conjugate-gradient iterations per step.
    Returns:
        (N, J, 3) refined root-relative joints (the dtype of ``coarse``, computed in float64 for float64 input,
        else float32); with ``return_translation`` also the root position T (N, 3) in the camera frame.
    """
    L = _layout(layout)
    coarse = torch.as_tensor(coarse)
    out_dtype = coarse.dtype if coarse.is_floating_point() else torch.float32
    dt = torch.float64 if out_dtype == torch.float64 else torch.float32
    N, J, _ = coarse.shape
    pb = _Problem(L, sigma_bone, sigma_sym, sigma_3d, dt)
    root = pb.root
    Yh = coarse.to(dt)
    Yh = Yh - Yh[:, root:root + 1]
    if N == 0:
        return (Yh.to(out_dtype), Yh.new_zeros(0, 3).to(out_dtype)) if return_translation else Yh.to(out_dtype)
    uv = torch.as_tensor(uv).to(dt)
    K = torch.as_tensor(K).to(dt)
    K = K.expand(N, 4) if K.ndim == 1 else K
    c = torch.ones(N, J, dtype=dt) if scores is None else torch.as_tensor(scores).to(dt).clamp(min=0)
    lbar = torch.as_tensor(bone_prior).to(dt).expand(N, pb.B).T.contiguous()        # (B, N)
    if sigma_2d is None:
        width = torch.full((N,), float(image_width), dtype=dt) if image_width is not None else 2 * K[:, 2]
        sigma_2d = 0.004 * width
    s2d = torch.as_tensor(sigma_2d).to(dt).expand(N)
    X = (Yh + fit_translation(Yh, uv, K, c, root)[:, None]).permute(2, 1, 0).contiguous()  # (3, J, N)
    obj = _Objective(pb, Yh, uv, K, c, lbar, s2d, sigma_bone, sigma_sym, sigma_3d)
    mu = torch.full((N,), mu0, dtype=dt)
    parts = obj.residuals(X)
    E = obj.energy(parts)
    for _ in range(iters):
        g, hop, precond = obj.linearise(X, parts, mu)
        cand = X + _pcg(-g, hop, precond, cg_iters)
        parts_new = obj.residuals(cand)
        E_new = obj.energy(parts_new)
        accept = (E_new < E) & (cand[2] >= MIN_DEPTH).all(0) & torch.isfinite(E_new)
        X = torch.where(accept, cand, X)
        E = torch.where(accept, E_new, E)
        parts = tuple(torch.where(accept, a, b) for a, b in zip(parts_new, parts))
        mu = torch.where(accept, (mu / 3).clamp(min=1e-6), (mu * 4).clamp(max=1e6))
    X = X.permute(2, 1, 0)
    Y = (X - X[:, root:root + 1]).to(out_dtype)
    return (Y, X[:, root].to(out_dtype)) if return_translation else Y


class _Objective:
    """The energy ``E`` of one batch of poses (module docstring) in the solver's component-major storage: its
    residual blocks and, at a point, its Gauss-Newton linearisation."""

    def __init__(self, pb: _Problem, Yh, uv, K, c, lbar, s2d, sigma_bone: float, sigma_sym: float,
                 sigma_3d: float):
        self.pb, self.lbar = pb, lbar
        self.sigma_bone, self.sigma_sym = sigma_bone, sigma_sym
        self.anchor_target = Yh.permute(2, 1, 0)[:, pb.nonroot] / sigma_3d                # (3, J-1, N)
        self.sq = (c.sqrt() / s2d[:, None]).T.contiguous()                                # (J, N) reprojection weights
        self.u, self.v = uv[..., 0].T.contiguous(), uv[..., 1].T.contiguous()
        self.fx, self.fy, self.cx, self.cy = K.T.contiguous()
        self.eye3 = torch.eye(3, dtype=Yh.dtype)[:, :, None, None]

    def residuals(self, X):
        """Residual blocks (reprojection, bone, symmetry, anchor), each divided by its sigma; bone vectors and
        lengths."""
        pb, sq = self.pb, self.sq
        z = X[2].clamp(min=1e-6)
        r_rep = torch.stack([(self.fx * X[0] / z + self.cx - self.u) * sq,
                             (self.fy * X[1] / z + self.cy - self.v) * sq])
        vec = pb.G @ X
        lb = vec.pow(2).sum(0).sqrt()
        r_bone = (lb - self.lbar) / self.sigma_bone
        r_sym = pb.S @ lb / self.sigma_sym
        r_anc = pb.Ga @ X - self.anchor_target
        return r_rep, r_bone, r_sym, r_anc, vec, lb

    @staticmethod
    def energy(parts):
        r_rep, r_bone, r_sym, r_anc = parts[:4]
        return (r_rep.pow(2).sum((0, 1)) + r_bone.pow(2).sum(0) + r_sym.pow(2).sum(0)
                + r_anc.pow(2).sum((0, 1)))

    def linearise(self, X, parts, mu):
        """At ``X`` with residuals ``parts`` and damping ``mu``: the gradient ``g = J^T r``, the damped normal
        operator ``p -> (J^T J + mu diag(J^T J)) p`` and its preconditioner (exact 3x3 diagonal blocks per joint
        plus the coarse-space correction for the common translation)."""
        pb, sq, eye3 = self.pb, self.sq, self.eye3
        r_rep, r_bone, r_sym, r_anc, vec, lb = parts
        # reprojection Jacobian of joint j, times its row weight: d(u, v)/dX_j = [[a, 0, b], [0, c, d]]
        z = X[2].clamp(min=1e-6)
        ja, jc = self.fx / z * sq, self.fy / z * sq
        jb, jd = -ja * X[0] / z, -jc * X[1] / z
        e = vec / lb.clamp(min=1e-9)                                               # unit bone vectors (3, B, N)

        def jt(rep, dl_w, anc):
            """J^T of residual-shaped blocks; ``dl_w`` (B, N): the bone and symmetry rows folded onto dl."""
            g = torch.stack([ja * rep[0], jc * rep[1], jb * rep[0] + jd * rep[1]])
            return g + pb.Gt @ (e * dl_w) + pb.Gat @ anc

        g = jt(r_rep, r_bone / self.sigma_bone + pb.St @ r_sym / self.sigma_sym, r_anc)
        # 3x3 diagonal blocks of J^T J (block-Jacobi preconditioner), (3, 3, J, N)
        zero = torch.zeros_like(ja)
        rep_blocks = torch.stack([torch.stack([ja * ja, zero, ja * jb]), torch.stack([zero, jc * jc, jc * jd]),
                                  torch.stack([ja * jb, jc * jd, jb * jb + jd * jd])])
        outer = pb.cw * e[:, pb.cb][:, None] * e[:, pb.cc][None]
        blocks = rep_blocks.index_add(2, pb.cj, outer) + pb.anc_diag * eye3
        damp = mu * torch.stack([blocks[0, 0], blocks[1, 1], blocks[2, 2]]) + 1e-9     # Marquardt, (3, J, N)
        Minv = _inv3(blocks + damp * eye3)
        # coarse space: the common translation of all joints, which only the reprojection rows constrain
        Tinv = _inv3(rep_blocks.sum(2) + damp.sum(1) * eye3[..., 0])

        def precond(r):
            return (Minv * r).sum(1) + (Tinv * r.sum(1)[None]).sum(1)[:, None]

        def hop(p):
            """(J^T J + mu diag(J^T J)) p for a step p (3, J, N)."""
            rep = torch.stack([ja * p[0] + jb * p[2], jc * p[1] + jd * p[2]])
            dl = (e * (pb.G @ p)).sum(0)
            return jt(rep, pb.Wb @ dl, pb.Ga @ p) + damp * p

        return g, hop, precond


def _pcg(rhs, hop, precond, iters: int):
    """``iters`` preconditioned conjugate-gradient iterations on ``hop(step) = rhs`` from ``step = 0``, every
    pose (last axis) its own system."""
    step = torch.zeros_like(rhs)
    res = rhs
    zc = precond(res)
    p = zc
    rz = (res * zc).sum((0, 1))
    for _ in range(iters):
        Ap = hop(p)
        pAp = (p * Ap).sum((0, 1))
        alpha = torch.where(pAp > 0, rz / pAp.clamp(min=1e-30), torch.zeros_like(rz))
        step = step + alpha * p
        res = res - alpha * Ap
        zc = precond(res)
        rz_new = (res * zc).sum((0, 1))
        beta = torch.where(rz > 0, rz_new / rz.clamp(min=1e-30), torch.zeros_like(rz))
        p = zc + beta * p
        rz = rz_new
    return step


def reprojection_error(Y: torch.Tensor, T: torch.Tensor, uv: torch.Tensor, K: torch.Tensor) -> torch.Tensor:
    """Per-joint pixel distance (N, J) between the projection of ``T + Y`` and ``uv``."""
    K = torch.as_tensor(K, dtype=Y.dtype)
    K = K.expand(len(Y), 4) if K.ndim == 1 else K
    return (_project(Y + T[:, None], K) - torch.as_tensor(uv, dtype=Y.dtype)).norm(dim=-1)
