"""The action half of a multi-task prediction block (Luvizon et al. 2021, section 3.3 and Figs. 4-5).

For a clip of T frames, each with its probability maps h (J maps), pose p (J x 3) and confidences c:

- **pose features** (section 3.3.1, Fig. 5a): ``p x c`` as a T x J image with one channel per coordinate,
  three parallel convolutions (3 x 1, 3 x 3, 3 x 5; the authors' code, JOINT_MODEL_NOTES.md section 4) and a
  residual unit to ``n_pose`` features;
- **appearance features** (section 3.3.2, Fig. 5b): the outer product of the block's multi-task features Z
  (C channels) and h, summed over space: a T x J x C tensor, projected to ``n_app`` features by a 1 x 1
  convolution (the paper's Z of the current block; the authors' code takes the first pyramid's features);
- both are padded to J a multiple of 4 and T even, then max-pooled 2 x 2 with strides (1, 2);
- **aggregation** (section 3.3.3): [pose features, appearance features, the previous blocks' action features
  Y] concatenated and fused by a residual unit; ``features`` = ``pose`` / ``appearance`` / ``combined``
  (Table 5) keeps one or both;
- **prediction**: BN-ReLU-3 x 3 convolution, max+min pooling, BN-ReLU-3 x 3 convolution to one action heat map
  per class, class scores = spatial max + min; **re-injection**: the heat maps up-sampled, ReLU, 3 x 3
  convolution back to the features, added to the block's action features (the new Y).

Action layers use standard 3 x 3 convolutions (section 4.2.2).
"""
from __future__ import annotations

from typing import Optional, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F

from .units import ResidualUnit, global_max_min, max_min_pool, pre_conv

FEATURES = ("pose", "appearance", "combined")


def pad_pool(x: torch.Tensor) -> torch.Tensor:
    """(B, C, T, J) -> J zero-padded to a multiple of 4 (one more on the right), T to even; then max-pooling
    2 x 2 with strides (1, 2): (B, C, T, J_pad / 2)."""
    t, j = x.shape[-2:]
    pj = (-j) % 4
    x = F.pad(x, (pj // 2, pj - pj // 2, 0, 1 + t % 2))
    return F.max_pool2d(x, (2, 2), (1, 2))[..., : t + t % 2, :]


class ActionPrediction(nn.Module):
    def __init__(self, z_channels: int, n_actions: int, n_pose: int, n_app: int, features: str = "combined",
                 with_previous: bool = False, dim: int = 3):
        super().__init__()
        if features not in FEATURES:
            raise ValueError(f"action features: expected one of {FEATURES}, got {features!r}")
        self.features = features
        n = max(n_pose if features != "appearance" else 0, n_app if features != "pose" else 0)
        self.channels = n
        cin = 0
        if features in ("pose", "combined"):
            a, b, c = max(n_pose // 16, 1), max(n_pose // 8, 1), max(n_pose // 4, 1)
            self.pose_convs = nn.ModuleList([nn.Conv2d(dim, a, (3, 1), padding=(1, 0), bias=False),
                                             nn.Conv2d(dim, b, (3, 3), padding=(1, 1), bias=False),
                                             nn.Conv2d(dim, c, (3, 5), padding=(1, 2), bias=False)])
            self.pose_ru = ResidualUnit(a + b + c, n_pose, 3, kind="normal")
            cin += n_pose
        if features in ("appearance", "combined"):
            self.app_proj = nn.Conv2d(z_channels, n_app, 1, bias=False)
            cin += n_app
        if with_previous:
            cin += n
        self.fuse = ResidualUnit(cin, n, 3, kind="normal", bottleneck=4)
        self.conv1 = pre_conv(n, n, 3)
        self.to_maps = pre_conv(n, n_actions, 3)
        self.reinject = nn.Conv2d(n_actions, n, 3, padding=1, bias=False)

    def forward(self, z: torch.Tensor, h: torch.Tensor, pose: torch.Tensor, clip_len: int,
                previous: Optional[torch.Tensor] = None) -> Tuple[torch.Tensor, torch.Tensor]:
        """``z`` (B*T, C, H, W), ``h`` (B*T, J, H, W), ``pose`` (B*T, J, 4) -> (action logits (B, A), new Y)."""
        bt, j = h.shape[:2]
        b = bt // clip_len
        parts = []
        if self.features in ("pose", "combined"):
            pc = (pose[..., :3] * pose[..., 3:]).reshape(b, clip_len, j, 3).permute(0, 3, 1, 2)  # (B, 3, T, J)
            parts.append(pad_pool(self.pose_ru(torch.cat([c(pc) for c in self.pose_convs], 1))))
        if self.features in ("appearance", "combined"):
            app = torch.einsum("nchw,njhw->ncj", z, h)                                           # (B*T, C, J)
            app = app.reshape(b, clip_len, z.shape[1], j).permute(0, 2, 1, 3)                    # (B, C, T, J)
            parts.append(pad_pool(self.app_proj(app)))
        if previous is not None:
            parts.append(previous)
        y = self.fuse(torch.cat(parts, 1))
        x1 = self.conv1(y)
        maps = self.to_maps(max_min_pool(x1))
        up = F.interpolate(maps, scale_factor=2, mode="nearest")[..., : y.shape[-2], : y.shape[-1]]
        return global_max_min(maps), y + x1 + self.reinject(F.relu(up))
