"""The network of ``temporal_conv`` (:mod:`stage2_lift.temporal_conv`), after Pavllo et al., "3D human pose
estimation in video with temporal convolutions and semi-supervised training" (CVPR 2019, VideoPose3D).

Model (:class:`TemporalConvNet`, VideoPose3D Fig. 2): the 2D key-points of ``T_in`` frames ``(N, T_in, J*2)``
go through a ``Conv1d`` of width ``filter_widths[0]`` expanding to ``channels`` (BatchNorm, ReLU, Dropout),
then one block per further width ``k_i``: a ``Conv1d`` of width ``k_i`` and dilation
``k_0 * ... * k_{i-1}``, then a 1x1 ``Conv1d``, each with BatchNorm, ReLU and Dropout, plus a residual
connection that slices the centre of the block's input (its end when ``causal``); a final 1x1 ``Conv1d``
gives ``(N, T_in - R + 1, (J-1)*3)``. All convolutions are "valid", so one output needs ``R`` input frames,
the receptive field ``R = prod(filter_widths)`` (27 for the default ``[3, 3, 3]``, 243 for the paper's
``[3, 3, 3, 3, 3]``). The output is the lifter base's z-scored, root-relative 3D pose without the root
(:class:`~stage2_lift.lifting.SingleFrameLifter`: same input and target normalisation).
"""
from __future__ import annotations

from typing import List

import numpy as np
import torch
from torch import nn

from common.errors import InputError


def receptive_field(filter_widths) -> int:
    """Frames one output sees: the product of the filter widths."""
    return int(np.prod([int(w) for w in filter_widths]))


def check_filter_widths(filter_widths, where: str = "temporal_conv.filter_widths") -> List[int]:
    try:
        fw = [int(w) for w in filter_widths]
    except (TypeError, ValueError):
        raise InputError(f"{where}: expected a list of odd integers such as [3, 3, 3], got {filter_widths!r}") from None
    if not fw or any(w < 1 or w % 2 == 0 for w in fw) or any(float(w) != float(v) for w, v in zip(fw, filter_widths)):
        raise InputError(f"{where}: expected a non-empty list of odd integers >= 1 such as [3, 3, 3], "
                         f"got {filter_widths!r}")
    return fw


class TemporalConvNet(nn.Module):
    """VideoPose3D's temporal model: ``(N, T_in, in_dim)`` -> ``(N, T_in - R + 1, out_dim)``, valid convolutions."""

    def __init__(self, in_dim: int, out_dim: int, filter_widths=(3, 3, 3), channels: int = 1024,
                 dropout: float = 0.25, causal: bool = False):
        super().__init__()
        self.filter_widths = check_filter_widths(filter_widths)
        self.causal = bool(causal)
        self.receptive_field = receptive_field(self.filter_widths)
        fw = self.filter_widths
        self.drop = nn.Dropout(dropout)
        self.relu = nn.ReLU(inplace=True)
        self.expand_conv = nn.Conv1d(in_dim, channels, fw[0], bias=False)
        self.expand_bn = nn.BatchNorm1d(channels, momentum=0.1)
        layers_conv, layers_bn, self.pad = [], [], []
        dilation = fw[0]
        for w in fw[1:]:
            self.pad.append((w - 1) * dilation)          # frames a block removes
            layers_conv += [nn.Conv1d(channels, channels, w, dilation=dilation, bias=False),
                            nn.Conv1d(channels, channels, 1, bias=False)]
            layers_bn += [nn.BatchNorm1d(channels, momentum=0.1), nn.BatchNorm1d(channels, momentum=0.1)]
            dilation *= w
        self.layers_conv = nn.ModuleList(layers_conv)
        self.layers_bn = nn.ModuleList(layers_bn)
        self.shrink = nn.Conv1d(channels, out_dim, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() != 3 or x.shape[1] < self.receptive_field:
            raise ValueError(f"TemporalConvNet: expected (N, T >= {self.receptive_field}, C), got {tuple(x.shape)}")
        x = x.permute(0, 2, 1)
        x = self.drop(self.relu(self.expand_bn(self.expand_conv(x))))
        for i, removed in enumerate(self.pad):
            # residual: the input frames aligned with the outputs (centre, or the end when causal)
            start = removed if self.causal else removed // 2
            res = x[:, :, start:start + x.shape[2] - removed]
            x = self.drop(self.relu(self.layers_bn[2 * i](self.layers_conv[2 * i](x))))
            x = res + self.drop(self.relu(self.layers_bn[2 * i + 1](self.layers_conv[2 * i + 1](x))))
        return self.shrink(x).permute(0, 2, 1)
