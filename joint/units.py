"""Elementary units of the multi-task network (Luvizon et al. 2021, "Multi-task Deep Learning for Real-Time 3D
Human Pose Estimation and Action Recognition", Luvizon, Picard and Tabia, section 3.1 and Fig. 3).

- residual unit (RU, Fig. 3a): pre-activated (BN, ReLU, convolution) with an identity skip, or a 1x1
  projection skip where the number of features changes; the convolution is depthwise separable k x k for
  single-frame layers (5 x 5 in the paper, section 4.2.2) or a standard 1x1 -> k x k bottleneck for video-clip
  (action) layers (3 x 3);
- downscaling unit (DU, Fig. 3b): 2 x 2 max-pooling, then an RU that adds ``growth`` features;
- upscaling unit (UU, Fig. 3c): nearest-neighbour 2x up-sampling, then an RU that removes them;
- max+min pooling of the action prediction blocks.

Built from mmcv's ``ConvModule`` / ``DepthwiseSeparableConvModule`` with the pre-activation order
(norm, act, conv); no convolution has a bias, as in the authors' code (JOINT_MODEL_NOTES.md section 2).
"""
from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmcv.cnn import ConvModule, DepthwiseSeparableConvModule

_PRE = ("norm", "act", "conv")
_BN = {"type": "BN"}


def pre_conv(cin: int, cout: int, k: int, depthwise: bool = False, norm: bool = True) -> nn.Module:
    """BN -> ReLU -> convolution (k x k, 'same' padding, no bias); depthwise separable when asked."""
    if depthwise:
        return DepthwiseSeparableConvModule(cin, cout, k, padding=k // 2, bias=False, norm_cfg=_BN if norm else None,
                                            dw_norm_cfg=_BN if norm else None, pw_norm_cfg=None, dw_act_cfg=None,
                                            pw_act_cfg=None, order=_PRE)
    return ConvModule(cin, cout, k, padding=k // 2, bias=False, norm_cfg=_BN if norm else None, order=_PRE)


class ResidualUnit(nn.Module):
    """RU (Fig. 3a): ``out = main(x) + skip(x)``; ``kind='depthwise'``: one pre-activated separable k x k
    convolution; ``kind='normal'``: pre-activated 1x1 to ``cout // bottleneck`` then k x k to ``cout``. The skip
    is the identity, or BN-ReLU-1x1 where ``cin != cout``."""

    def __init__(self, cin: int, cout: int, k: int = 5, kind: str = "depthwise", bottleneck: int = 2):
        super().__init__()
        if kind == "depthwise":
            self.main = pre_conv(cin, cout, k, depthwise=True)
        elif kind == "normal":
            mid = max(cout // bottleneck, 1)
            self.main = nn.Sequential(pre_conv(cin, mid, 1), pre_conv(mid, cout, k))
        else:
            raise ValueError(f"ResidualUnit: unknown kind {kind!r}")
        self.skip = nn.Identity() if cin == cout else pre_conv(cin, cout, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.main(x) + self.skip(x)


class DownscalingUnit(nn.Module):
    """DU (Fig. 3b): max-pooling 2 x 2 then a depthwise RU ``cin -> cout``."""

    def __init__(self, cin: int, cout: int, k: int = 5):
        super().__init__()
        self.ru = ResidualUnit(cin, cout, k)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.ru(F.max_pool2d(x, 2, 2, ceil_mode=True))


class UpscalingUnit(nn.Module):
    """UU (Fig. 3c): nearest-neighbour up-sampling to ``size`` (2x) then a depthwise RU ``cin -> cout``."""

    def __init__(self, cin: int, cout: int, k: int = 5):
        super().__init__()
        self.ru = ResidualUnit(cin, cout, k)

    def forward(self, x: torch.Tensor, size) -> torch.Tensor:
        return self.ru(F.interpolate(x, size=tuple(size), mode="nearest"))


def max_min_pool(x: torch.Tensor, k: int = 2) -> torch.Tensor:
    """``maxpool(x) - maxpool(-x)`` (k x k, stride k, the last row / column kept when odd): the pooling of the
    action prediction blocks, which keeps both the strongest and the weakest response."""
    return F.max_pool2d(x, k, k, ceil_mode=True) - F.max_pool2d(-x, k, k, ceil_mode=True)


def global_max_min(x: torch.Tensor) -> torch.Tensor:
    """(B, A, H, W) action heat maps -> (B, A) class scores: spatial maximum plus spatial minimum."""
    flat = x.flatten(2)
    return flat.amax(-1) + flat.amin(-1)
