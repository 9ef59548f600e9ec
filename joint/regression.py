"""Differentiable pose regression from maps (Luvizon et al. 2021, section 3.2).

- ``spatial_softmax`` (Phi of eq. 6): each joint's logits normalised over the map, a probability map h;
- ``soft_argmax`` (eq. 8): the expected column and row of h, divided by the map's width and height. Eq. 8
  writes c / W_h for c = 0 .. W_h; we take cell centres, ``(c + 0.5) / W_h``, so that x = 0 and x = 1 are the
  crop's left and right edges at every resolution and the targets (pixel centre + 0.5) / crop size agree
  exactly (the authors' code uses c / (W_h - 1), JOINT_MODEL_NOTES.md section 3.5, which shifts coarse maps);
- ``depth_pool`` (eq. 9): z = sum over the map of h x d, the depth map d = sigmoid(W_d * Z) pooled by h;
- ``confidence`` (section 3.2.3): each probability map's maximum.
"""
from __future__ import annotations

import torch


def spatial_softmax(logits: torch.Tensor) -> torch.Tensor:
    """(N, J, H, W) -> probability maps summing to 1 over H x W."""
    n, j, h, w = logits.shape
    return torch.softmax(logits.reshape(n, j, h * w), dim=-1).reshape(n, j, h, w)


def soft_argmax(h: torch.Tensor) -> torch.Tensor:
    """(N, J, H, W) probability maps -> (N, J, 2) expected (x, y) in [0, 1] of the crop (eq. 8)."""
    _, _, H, W = h.shape
    xs = (torch.arange(W, device=h.device, dtype=h.dtype) + 0.5) / W
    ys = (torch.arange(H, device=h.device, dtype=h.dtype) + 0.5) / H
    return torch.stack([(h.sum(2) * xs).sum(-1), (h.sum(3) * ys).sum(-1)], dim=-1)


def depth_pool(h: torch.Tensor, d: torch.Tensor) -> torch.Tensor:
    """Eq. 9: (N, J, H, W) probability and depth maps -> (N, J) depth in [0, 1]."""
    return (h * d).flatten(2).sum(-1)


def confidence(h: torch.Tensor) -> torch.Tensor:
    """Section 3.2.3: (N, J, H, W) -> (N, J), the maximum of each probability map."""
    return h.flatten(2).amax(-1)


def regress(h_logits: torch.Tensor, d_logits: torch.Tensor):
    """Maps -> (probability maps h, depth maps d, pose (N, J, 4) = x, y, z, confidence)."""
    h = spatial_softmax(h_logits)
    d = torch.sigmoid(d_logits)
    pose = torch.cat([soft_argmax(h), depth_pool(h, d)[..., None], confidence(h)[..., None]], dim=-1)
    return h, d, pose
