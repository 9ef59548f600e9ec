"""Building blocks of the ENAS child networks (:mod:`nas_micro`, :mod:`nas_macro`), after Pham et al.,
"Efficient Neural Architecture Search via Parameter Sharing" (ICML 2018), sections 2.3 and 2.4.

Every block keeps (or exactly halves, rounding up) the spatial size of ANY input, square or not, odd or even:
stride-1 ops pad ``k // 2`` (odd ``k``), stride-2 ops pad so that an ``H x W`` input gives
``ceil(H / 2) x ceil(W / 2)``. Pose images are (time x joints), e.g. 32 x 17, then 16 x 9, 8 x 5, 4 x 3 after the
reductions, so nothing here may assume a square or even size.

Op factories: :func:`micro_op` (names of ``nas_space.MICRO_OPS``) and :func:`macro_op` (``nas_space.MACRO_OPS``).
"""
from __future__ import annotations

import copy

import torch
from torch import nn
from torch.nn import functional as F

from common.errors import InputError

from .nas_space import arc_size, validate_arc


def half(n: int) -> int:
    """Size of a dimension of ``n`` pixels after any stride-2 block here: ``ceil(n / 2)``."""
    return (n + 1) // 2


class ReLUConvBN(nn.Sequential):
    """ReLU, ``k x k`` conv (no bias, size-keeping padding, optional stride 2), BatchNorm."""

    def __init__(self, cin: int, cout: int, k: int = 1, stride: int = 1):
        super().__init__(nn.ReLU(inplace=False), nn.Conv2d(cin, cout, k, stride, k // 2, bias=False),
                         nn.BatchNorm2d(cout))


class ConvBNReLU(nn.Sequential):
    """``k x k`` conv (no bias, size-keeping padding), BatchNorm, ReLU (the macro ops' order)."""

    def __init__(self, cin: int, cout: int, k: int = 1):
        super().__init__(nn.Conv2d(cin, cout, k, 1, k // 2, bias=False), nn.BatchNorm2d(cout), nn.ReLU())


class SepConv(nn.Sequential):
    """Depthwise-separable conv: depthwise ``k x k`` (optional stride 2) then pointwise 1x1, BatchNorm;
    ``relu_first`` puts a ReLU in front (micro order), otherwise a ReLU follows (macro order)."""

    def __init__(self, cin: int, cout: int, k: int, stride: int = 1, relu_first: bool = True):
        layers = [nn.Conv2d(cin, cin, k, stride, k // 2, groups=cin, bias=False),
                  nn.Conv2d(cin, cout, 1, bias=False), nn.BatchNorm2d(cout)]
        super().__init__(*([nn.ReLU()] + layers if relu_first else layers + [nn.ReLU()]))


class SepConvTwice(nn.Sequential):
    """The micro separable op: ReLU-sepconv-BN applied twice (ENAS code), the first one carrying the stride."""

    def __init__(self, c: int, k: int, stride: int = 1):
        super().__init__(SepConv(c, c, k, stride), SepConv(c, c, k, 1))


class Pool(nn.Module):
    """3x3 average or max pooling, padding 1 (padding excluded from averages), stride 1 or 2."""

    def __init__(self, kind: str, stride: int = 1):
        super().__init__()
        if kind == "avg":
            self.pool = nn.AvgPool2d(3, stride, 1, count_include_pad=False)
        elif kind == "max":
            self.pool = nn.MaxPool2d(3, stride, 1)
        else:
            raise InputError(f"unknown pooling {kind!r}; expected avg or max")

    def forward(self, x):
        return self.pool(x)


class FactorizedReduce(nn.Module):
    """Halve H and W without losing every other pixel: two 1x1 stride-2 convs, the second one on the input
    shifted by one pixel (padded with zeros at the bottom/right so both paths give ``ceil(H/2) x ceil(W/2)``
    also for odd sizes), concatenated on channels (``cout // 2`` and the rest), BatchNorm. No ReLU in front:
    callers add one where the input is pre-activation."""

    def __init__(self, cin: int, cout: int):
        super().__init__()
        self.path1 = nn.Conv2d(cin, cout // 2, 1, 2, bias=False)
        self.path2 = nn.Conv2d(cin, cout - cout // 2, 1, 2, bias=False)
        self.bn = nn.BatchNorm2d(cout)

    def forward(self, x):
        shifted = F.pad(x, (0, 1, 0, 1))[:, :, 1:, 1:]
        return self.bn(torch.cat([self.path1(x), self.path2(shifted)], dim=1))


def calibrate(cin: int, cout: int, reduce: bool = False) -> nn.Module:
    """Bring a cell input to ``cout`` channels (and half its size when ``reduce``): ReLU + factorized
    reduction, else ReLU-1x1 conv-BN when the channels differ, else identity (ENAS ``_maybe_calibrate_size``)."""
    if reduce:
        return nn.Sequential(nn.ReLU(), FactorizedReduce(cin, cout))
    if cin != cout:
        return ReLUConvBN(cin, cout, 1)
    return nn.Identity()


def micro_op(name: str, c: int, stride: int = 1) -> nn.Module:
    """A micro-cell op of ``nas_space.MICRO_OPS`` on ``c`` channels; ``stride`` 2 halves the size (identity
    then becomes a factorized reduction)."""
    if name in ("sep_conv_3x3", "sep_conv_5x5"):
        return SepConvTwice(c, int(name[-1]), stride)
    if name in ("avg_pool_3x3", "max_pool_3x3"):
        return Pool(name[:3], stride)
    if name == "identity":
        return nn.Identity() if stride == 1 else FactorizedReduce(c, c)
    raise InputError(f"unknown micro op {name!r}")


def macro_op(name: str, c: int) -> nn.Module:
    """A macro-layer op of ``nas_space.MACRO_OPS`` on ``c`` channels (ENAS section 2.3): 1x1 conv-BN-ReLU
    then ``k x k`` conv-BN-ReLU, ``k x k`` separable conv-BN-ReLU, or 3x3 stride-1 pooling."""
    head = ConvBNReLU(c, c, 1)
    if name in ("conv_3x3", "conv_5x5"):
        return nn.Sequential(head, ConvBNReLU(c, c, int(name[-1])))
    if name in ("sep_conv_3x3", "sep_conv_5x5"):
        return nn.Sequential(head, SepConv(c, c, int(name[-1]), relu_first=False))
    if name in ("avg_pool_3x3", "max_pool_3x3"):
        return nn.Sequential(head, Pool(name[:3], 1))
    raise InputError(f"unknown macro op {name!r}")


def init_weights(module: nn.Module) -> None:
    """He-normal convolutions (as ENAS), unit/zero BatchNorm, default linear layers."""
    for m in module.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)


class Head(nn.Module):
    """ReLU, average pooling to a ``grid`` of cells, dropout, linear. ``grid = (1, 1)`` is ENAS's global average
    pool; a larger grid keeps where in the image a feature was (in a pose image the columns are joints, so
    position is identity, not a nuisance) at the cost of a ``grid``-times larger linear layer."""

    def __init__(self, c: int, n_classes: int, dropout: float, grid=(1, 1)):
        super().__init__()
        grid = tuple(int(g) for g in grid)
        if len(grid) != 2 or min(grid) < 1:
            raise InputError(f"head grid: expected two positive ints, got {grid!r}")
        self.body = nn.Sequential(nn.ReLU(), nn.AdaptiveAvgPool2d(grid), nn.Flatten(), nn.Dropout(dropout),
                                  nn.Linear(c * grid[0] * grid[1], n_classes))

    def forward(self, x):
        return self.body(x)


class ChildNet(nn.Module):
    """What the networks of both spaces share: SEARCH mode (built with ``arc=None``; each ``forward`` names the
    arc to run on the shared weights) or FIXED mode (built for one arc). Subclasses set ``space``, ``arc`` and
    ``size`` (nodes per cell for micro, layers for macro)."""

    space = ""

    def __init__(self, in_ch: int, filters: int, size: int, arc, **counts: int):
        """Checks the sizes (``filters``, ``size`` and the subclass's ``counts``) and the arc, keeps a copy of the
        arc (None = search mode) and builds the stem (3x3 conv-BN to ``filters`` channels) both spaces share."""
        super().__init__()
        counts = {"filters": filters, **counts}
        if min(counts.values()) < 1:
            raise InputError(f"{type(self).__name__}: {', '.join(counts)} must be >= 1, got "
                             f"{', '.join(str(v) for v in counts.values())}")
        self.size = size
        if arc is not None:
            self.check_arc(arc)
        self.arc = copy.deepcopy(arc)
        self.stem = nn.Sequential(nn.Conv2d(in_ch, filters, 3, 1, 1, bias=False), nn.BatchNorm2d(filters))

    @property
    def searching(self) -> bool:
        return self.arc is None

    def check_arc(self, arc) -> None:
        validate_arc(self.space, arc)
        if arc_size(self.space, arc) != self.size:
            raise InputError(f"{type(self).__name__}: arc of size {arc_size(self.space, arc)}, the network {self.size}")

    def forward_arc(self, arc):
        """The arc a ``forward`` call runs (checked)."""
        name = type(self).__name__
        if self.searching:
            if arc is None:
                raise InputError(f"{name} in search mode: forward(x, arc) needs an arc")
            self.check_arc(arc)
            return arc
        if arc is not None and arc != self.arc:
            raise InputError(f"{name} in fixed mode: forward got an arc different from the built one")
        return self.arc
