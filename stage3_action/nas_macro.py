"""The ENAS macro (whole-network) child network for encoded pose images: shared-weight search mode and
fixed mode.

After Pham, Guan, Zoph, Le, Dean, "Efficient Neural Architecture Search via Parameter Sharing" (ICML 2018),
section 2.3 and its released code. The arc format is :mod:`stage3_action.nas_space`'s.
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional

import torch
from torch import nn

from .nas_ops import ChildNet, FactorizedReduce, Head, ReLUConvBN, init_weights, macro_op
from .nas_space import MACRO_OPS


def downsample_layers(n_layers: int) -> List[int]:
    """Layers after which the macro network halves H and W: ``L//3 - 1`` and ``2L//3 - 1`` (none if L < 3)."""
    return [n_layers // 3 - 1, 2 * n_layers // 3 - 1] if n_layers >= 3 else []


class MacroLayer(nn.Module):
    """One ENAS macro layer on ``c`` channels (Pham et al. 2018, section 2.3): an op of ``MACRO_OPS`` on the
    previous layer's output, combined with the earlier layers the arc's skip flags select.

    Search mode (``op=None``): all six ops exist with their own shared weights, the chosen one runs, the
    selected earlier outputs are ADDED to its output, then BN. Fixed mode: only the chosen op; its output and
    the selected earlier outputs are CONCATENATED, then ReLU-1x1 conv-BN back to ``c`` (also without skips).
    """

    def __init__(self, c: int, op: Optional[str] = None, skips: Optional[List[int]] = None):
        super().__init__()
        self.skips = None if op is None else list(skips)
        if op is None:
            self.ops = nn.ModuleDict({name: macro_op(name, c) for name in MACRO_OPS})
            self.bn = nn.BatchNorm2d(c)
        else:
            self.op = macro_op(op, c)
            self.out = ReLUConvBN((1 + sum(self.skips)) * c, c, 1)

    def forward(self, x, earlier: List[torch.Tensor], layer_arc: Optional[Dict[str, Any]] = None):
        if self.skips is None:
            out = self.ops[layer_arc["op"]](x)
            for h, s in zip(earlier, layer_arc["skips"]):
                if s:
                    out = out + h
            return self.bn(out)
        parts = [self.op(x)] + [h for h, s in zip(earlier, self.skips) if s]
        return self.out(torch.cat(parts, dim=1))


class MacroNet(ChildNet):
    """ENAS macro-space network (Pham et al., "Efficient Neural Architecture Search via Parameter Sharing",
    ICML 2018, section 2.3), used as an alternative to the micro space of Pham et al. 2020 ("A Unified Deep Framework
    for Joint 3D Pose Estimation and Action Recognition from a Single RGB Camera", Fig. 5).

    Stem 3x3 conv-BN to ``filters`` channels, ``n_layers`` :class:`MacroLayer` s (layer ``i`` reads layer
    ``i-1``, or the stem for ``i = 0``, and may skip-connect to layers ``0..i-1``), ReLU, global average pool,
    dropout, linear. After layers :func:`downsample_layers` every cached layer output is halved in size by
    its own :class:`FactorizedReduce` (ENAS applies it to all cached layers); in fixed mode the channels
    double there, in search mode they stay ``filters`` (as released).

    ``arc=None``: SEARCH mode, shared weights; ``forward(x, arc)`` runs only the arc's op per layer.
    ``arc=<macro arc>``: FIXED mode with all six ops implemented (the released ENAS fixed code lacks the
    pooling ones); ``forward(x)`` (an ``arc`` argument must be None or equal to the built one).
    Any input size works; each downsampling gives ``ceil(H/2) x ceil(W/2)``.
    """

    space = "macro"

    def __init__(self, in_ch: int, n_classes: int, filters: int = 24, n_layers: int = 6,
                 arc: Optional[Dict[str, Any]] = None, dropout: float = 0.1, head_grid=(1, 1)):
        super().__init__(in_ch, filters, n_layers, arc, n_layers=n_layers)
        self.n_layers = n_layers
        self.layers = nn.ModuleList()
        self.reduce = nn.ModuleDict()
        c = filters
        for i in range(n_layers):
            spec = {"op": None, "skips": None} if arc is None else arc["layers"][i]
            self.layers.append(MacroLayer(c, spec["op"], spec["skips"]))
            if i in downsample_layers(n_layers):
                cout = c if arc is None else 2 * c
                self.reduce[str(i)] = nn.ModuleList(FactorizedReduce(c, cout) for _ in range(i + 1))
                c = cout
        self.head = Head(c, n_classes, dropout, head_grid)
        init_weights(self)

    def forward(self, x, arc: Optional[Dict[str, Any]] = None):
        arc = self.forward_arc(arc)
        h = self.stem(x)
        cached: List[torch.Tensor] = []
        for i, layer in enumerate(self.layers):
            h = layer(h, cached, arc["layers"][i] if self.searching else None)
            cached.append(h)
            if str(i) in self.reduce:
                cached = [fr(t) for fr, t in zip(self.reduce[str(i)], cached)]
                h = cached[-1]
        return self.head(h)
