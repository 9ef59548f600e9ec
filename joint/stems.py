"""Entry flows of the multi-task network: RGB crops (N, 3, H, W) -> level-0 features (N, C0, H/8, W/8).

- ``inception``: the stem of Luvizon et al. 2021 (section 4.2.2, "reduced to a feature map of size 32 x 32 x 288" from
  256 x 256), laid out as the authors' code does it (JOINT_MODEL_NOTES.md section 1): 7 x 7 convolution,
  stride 2; a residual unit; 3 x 3 max-pooling, stride 2; two residual units; 2 x 2 max-pooling; two more.
- ``vgg16``: the VGG-16 variant of Ammar Khodja 2024 ("2D/3D Pose Estimation and Action Recognition using Multitask Deep
  Learning" with a VGG-16 backbone): VGG-16's first three convolution blocks (2 x 64, 2 x 128, 3 x 256 3 x 3
  convolutions with ReLU, max-pooling after each), then a 1 x 1 projection to C0.
- ``resnet``: a ResNet entry (He et al. 2016): 7 x 7 convolution stride 2, 3 x 3 max-pooling, two stages of two
  basic blocks (the second with stride 2), then a 1 x 1 projection to C0.

``width`` scales every stem's channels (1.0 = the published widths), so the same code builds the small CPU
default and the paper-size network.
"""
from __future__ import annotations

from typing import Callable, Dict

import torch.nn as nn
from mmcv.cnn import ConvModule

from .units import ResidualUnit, pre_conv

_BN = {"type": "BN"}


def _c(n: float, width: float) -> int:
    return max(8, int(round(n * width)))


def inception_stem(c0: int, width: float) -> nn.Module:
    """Seed 001's entry flow; ``c0`` = 288 and ``width`` = 1 in the paper (growth 96: 96 -> 192 -> 288)."""
    g = c0 / 3.0
    a, b = _c(64, width), int(round(g))
    return nn.Sequential(
        nn.Conv2d(3, a, 7, stride=2, padding=3, bias=False),          # pre-activated units follow
        ResidualUnit(a, b, 3, kind="normal"),
        nn.MaxPool2d(3, 2, padding=1),
        ResidualUnit(b, 2 * b, 3, kind="normal"), ResidualUnit(2 * b, 2 * b, 3, kind="normal"),
        nn.MaxPool2d(2, 2),
        ResidualUnit(2 * b, c0, 3, kind="normal"), ResidualUnit(c0, c0, 3, kind="normal"))


def vgg16_stem(c0: int, width: float) -> nn.Module:
    """VGG-16's conv1_1 .. conv3_3 (Ammar Khodja 2024), each 3 x 3 conv + BN + ReLU, then 1 x 1 to ``c0``."""
    layers, cin = [], 3
    for n, ch in ((2, 64), (2, 128), (3, 256)):
        for _ in range(n):
            layers.append(ConvModule(cin, _c(ch, width), 3, padding=1, bias=False, norm_cfg=_BN))
            cin = _c(ch, width)
        layers.append(nn.MaxPool2d(2, 2))
    layers.append(nn.Conv2d(cin, c0, 1, bias=False))
    return nn.Sequential(*layers)


class _Basic(nn.Module):
    """ResNet basic block (post-activation, as in He et al.)."""

    def __init__(self, cin: int, cout: int, stride: int):
        super().__init__()
        self.c1 = ConvModule(cin, cout, 3, stride=stride, padding=1, bias=False, norm_cfg=_BN)
        self.c2 = ConvModule(cout, cout, 3, padding=1, bias=False, norm_cfg=_BN, act_cfg=None)
        self.skip = nn.Identity() if (cin, stride) == (cout, 1) else \
            ConvModule(cin, cout, 1, stride=stride, bias=False, norm_cfg=_BN, act_cfg=None)

    def forward(self, x):
        return (self.c2(self.c1(x)) + self.skip(x)).relu()


def resnet_stem(c0: int, width: float) -> nn.Module:
    """ResNet-18/34 style conv1 + layer1 + layer2 (1/8 resolution), then 1 x 1 to ``c0``."""
    a, b = _c(64, width), _c(128, width)
    return nn.Sequential(ConvModule(3, a, 7, stride=2, padding=3, bias=False, norm_cfg=_BN), nn.MaxPool2d(3, 2, 1),
                         _Basic(a, a, 1), _Basic(a, a, 1), _Basic(a, b, 2), _Basic(b, b, 1),
                         pre_conv(b, c0, 1))


#: ``joint.entry_flow`` -> builder(c0, width)
STEMS: Dict[str, Callable[[int, float], nn.Module]] = {
    "inception": inception_stem, "vgg16": vgg16_stem, "resnet": resnet_stem}
