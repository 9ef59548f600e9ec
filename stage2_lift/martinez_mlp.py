"""``martinez_mlp``: the single-frame 2D -> 3D MLP of Martinez et al., "A simple yet effective baseline for 3d
human pose estimation" (ICCV 2017), Fig. 2: a linear layer to ``width``, then ``blocks`` residual blocks of two
(Linear, BatchNorm, ReLU, Dropout) layers with an identity connection, then a linear layer to the 3D joints.

Paper size: width 1024, 2 blocks, dropout 0.5, 200 epochs; the default here is smaller so it trains in
seconds on a CPU (``--set stages.stage2_lift.width=1024`` scales it up).
"""
from __future__ import annotations

from torch import nn

from common.registry import register

from .lifting import LIFTER_DEFAULTS, SingleFrameLifter


class ResidualBlock(nn.Module):
    def __init__(self, width: int, dropout: float):
        super().__init__()
        self.body = nn.Sequential(
            nn.Linear(width, width), nn.BatchNorm1d(width), nn.ReLU(inplace=True), nn.Dropout(dropout),
            nn.Linear(width, width), nn.BatchNorm1d(width), nn.ReLU(inplace=True), nn.Dropout(dropout))

    def forward(self, x):
        return x + self.body(x)


class MartinezMLP(nn.Module):
    def __init__(self, in_dim: int, out_dim: int, width: int = 1024, blocks: int = 2, dropout: float = 0.5):
        super().__init__()
        self.inp = nn.Sequential(nn.Linear(in_dim, width), nn.BatchNorm1d(width), nn.ReLU(inplace=True),
                                 nn.Dropout(dropout))
        self.blocks = nn.Sequential(*[ResidualBlock(width, dropout) for _ in range(blocks)])
        self.out = nn.Linear(width, out_dim)

    def forward(self, x):
        return self.out(self.blocks(self.inp(x)))


@register("lifter", "martinez_mlp")
class MartinezLifter(SingleFrameLifter):
    defaults = {**LIFTER_DEFAULTS, "width": 512, "blocks": 2, "dropout": 0.25}

    def build_model(self, in_dim: int, out_dim: int) -> nn.Module:
        c = self.cfg
        return MartinezMLP(in_dim, out_dim, c["width"], c["blocks"], c["dropout"])
