"""Losses of the joint mode (Luvizon et al. 2021, section 4.2.1).

- pose: the elastic net of eq. 11, ``|p^ - p|_1 + |p^ - p|_2^2`` per joint, on the coordinates the sample has
  (``mask``: (x, y) of joints inside the crop; z only for 3D-labelled samples), averaged over the joints
  counted;
- confidence: binary cross-entropy between each joint's predicted confidence and its visibility flag (1 inside
  the crop), weighted ``confidence_weight`` (0.01);
- action: categorical cross-entropy, weighted ``action_weight`` (0.01).

``supervise: all`` sums the losses of every prediction block (Table 4, "Multi-PB"), ``last`` only the last
block's.
"""
from __future__ import annotations

from typing import List, Optional

import torch
import torch.nn.functional as F


def elastic_net(pred: torch.Tensor, target: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Eq. 11 on the masked coordinates: (N, J, 3) each -> the mean over joints with any coordinate counted."""
    e = (pred - target) * mask
    per_joint = e.abs().sum(-1) + (e * e).sum(-1)
    counted = (mask.sum(-1) > 0).float()
    return (per_joint * counted).sum() / counted.sum().clamp_min(1.0)


def pose_loss(poses: List[torch.Tensor], target: torch.Tensor, mask: torch.Tensor, visible: torch.Tensor,
              supervise: str = "all", confidence_weight: float = 0.01) -> torch.Tensor:
    """Sum over the supervised blocks of eq. 11 plus the weighted confidence cross-entropy."""
    chosen = poses if supervise == "all" else poses[-1:]
    total = 0.0
    for p in chosen:
        conf = p[..., 3].clamp(1e-6, 1 - 1e-6)
        total = total + elastic_net(p[..., :3], target, mask) + \
            confidence_weight * F.binary_cross_entropy(conf, visible)
    return total


def action_loss(actions: List[Optional[torch.Tensor]], labels: torch.Tensor, supervise: str = "all",
                weight: float = 0.01) -> torch.Tensor:
    """Weighted cross-entropy summed over the supervised action outputs."""
    outs = [a for a in actions if a is not None]
    chosen = outs if supervise == "all" else outs[-1:]
    return weight * sum(F.cross_entropy(a, labels) for a in chosen)
