"""The ENAS micro (cell) child network for encoded pose images: shared-weight search mode and fixed mode.

After Pham, Guan, Zoph, Le, Dean, "Efficient Neural Architecture Search via Parameter Sharing" (ICML 2018),
section 2.4 and its released code, in the layout of Pham et al. 2020 (Pham et al., "A Unified Deep Framework for
Joint 3D Pose Estimation and Action Recognition from a Single RGB Camera", Fig. 5): 3 blocks of N searched
normal cells with a reduction cell between blocks. The arc format is :mod:`stage3_action.nas_space`'s.
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional

import torch
from torch import nn
from torch.nn import functional as F

from common.errors import InputError

from .nas_ops import ChildNet, Head, ReLUConvBN, calibrate, init_weights, micro_op
from .nas_space import MICRO_OPS


def loose_ends(cell_arc) -> List[int]:
    """Indices ``i`` (0-based among the cell's new nodes) of the nodes no other node reads: the cell output.
    Never empty (the last node is never read). The cell inputs 0 and 1 are not counted."""
    used = {inp for node in cell_arc for inp in (node[0], node[2])}
    return [i for i in range(len(cell_arc)) if i + 2 not in used]


class Cell(nn.Module):
    """One ENAS micro cell (Pham et al. 2018, section 2.4) on ``c`` channels; inputs are the two previous
    cells' outputs (``c0``/``c1`` channels at ``lvl0``/``lvl1`` reductions from the stem).

    Search mode (``cell_arc=None``): each node has, for its x and for its y input, one instance of every op
    of ``MICRO_OPS`` (stride 1), shared whichever earlier input the arc picks; the output is ReLU, then a 1x1
    conv whose weight rows for the ``n_nodes`` possible loose ends are stored once and sliced by the arc,
    then BN. In a reduction cell BOTH inputs are first factorized-reduced (ReLU + ``FactorizedReduce``) to
    ``c`` channels at half size and the cell runs like a normal one (ENAS search code).

    Fixed mode: only the arc's ops exist; the inputs are calibrated to ``c`` channels at the resolution of
    the nearer input, and in a reduction cell the ops reading inputs 0/1 have stride 2 (identity -> a
    factorized reduction), ops reading earlier nodes stride 1 (ENAS fixed code). Output: concatenated loose
    ends, ReLU-1x1 conv-BN back to ``c``.
    """

    def __init__(self, c0: int, lvl0: int, c1: int, lvl1: int, c: int, n_nodes: int, reduction: bool,
                 cell_arc: Optional[list] = None):
        super().__init__()
        self.c, self.n_nodes, self.cell_arc = c, n_nodes, cell_arc
        target = lvl1 + (reduction and cell_arc is None)
        if target - lvl0 not in (0, 1) or target - lvl1 not in (0, 1):
            raise InputError(f"cell inputs at reduction levels {lvl0}, {lvl1} cannot reach level {target}")
        self.pre0 = calibrate(c0, c, reduce=target - lvl0 == 1)
        self.pre1 = calibrate(c1, c, reduce=target - lvl1 == 1)
        if cell_arc is None:
            self.ops = nn.ModuleList(
                nn.ModuleDict({side: nn.ModuleDict({name: micro_op(name, c) for name in MICRO_OPS})
                               for side in ("x", "y")}) for _ in range(n_nodes))
            self.out_w = nn.Parameter(torch.empty(c, n_nodes * c, 1, 1))
            nn.init.kaiming_normal_(self.out_w, mode="fan_out", nonlinearity="relu")
            self.out_bn = nn.BatchNorm2d(c)
        else:
            def op(inp, name):
                return micro_op(name, c, 2 if reduction and inp < 2 else 1)
            self.ops = nn.ModuleList(nn.ModuleList([op(x, xo), op(y, yo)]) for x, xo, y, yo in cell_arc)
            self.out = ReLUConvBN(len(loose_ends(cell_arc)) * c, c, 1)

    def forward(self, s0, s1, cell_arc=None):
        states = [self.pre0(s0), self.pre1(s1)]
        if self.cell_arc is None:
            for ops, (x, xo, y, yo) in zip(self.ops, cell_arc):
                states.append(ops["x"][xo](states[x]) + ops["y"][yo](states[y]))
            loose = loose_ends(cell_arc)
            h = F.relu(torch.cat([states[2 + i] for i in loose], dim=1))
            w = self.out_w.view(self.c, self.n_nodes, self.c, 1, 1)[:, loose].reshape(self.c, -1, 1, 1)
            return self.out_bn(F.conv2d(h, w))
        for (op_x, op_y), (x, _, y, _) in zip(self.ops, self.cell_arc):
            states.append(op_x(states[x]) + op_y(states[y]))
        return self.out(torch.cat([states[2 + i] for i in loose_ends(self.cell_arc)], dim=1))


class MicroNet(ChildNet):
    """ENAS micro-space network (Pham et al., "Efficient Neural Architecture Search via Parameter Sharing",
    ICML 2018, section 2.4; network layout of Pham et al. 2020, "A Unified Deep Framework for Joint 3D Pose
    Estimation and Action Recognition from a Single RGB Camera", Fig. 5).

    Stem 3x3 conv-BN to ``filters`` channels (ENAS uses 3x; the cells calibrate either way), then
    3 blocks of ``n_cells`` normal cells with a reduction cell between blocks (channels doubled at each
    reduction: ``filters``, 2x, 4x), ReLU, global average pool, dropout, linear. Each cell reads the two
    previous cells' outputs (at the start both are the stem output); see :class:`Cell` for how the search and
    fixed modes handle reduction.

    ``arc=None``: SEARCH mode, one set of shared weights for the whole space; ``forward(x, arc)`` runs only
    the ops the arc picks. ``arc=<micro arc>``: FIXED mode, only those ops exist (retraining from scratch);
    ``forward(x)`` (an ``arc`` argument must be None or equal to the built one).
    Any input size works (e.g. 32 x 17 time x joints): reductions give ``ceil(H/2) x ceil(W/2)``.
    """

    space = "micro"

    def __init__(self, in_ch: int, n_classes: int, filters: int = 20, n_cells: int = 2, n_nodes: int = 5,
                 arc: Optional[Dict[str, Any]] = None, dropout: float = 0.1, head_grid=(1, 1)):
        super().__init__(in_ch, filters, n_nodes, arc, n_cells=n_cells, n_nodes=n_nodes)
        self.n_nodes = n_nodes
        kinds = ["normal"] * n_cells + (["reduce"] + ["normal"] * n_cells) * 2
        self.kinds = kinds
        cells = []
        c = filters
        (c_pp, l_pp), (c_p, l_p) = (filters, 0), (filters, 0)  # (channels, reductions) of the 2 previous outputs
        for kind in kinds:
            red = kind == "reduce"
            c = 2 * c if red else c
            cells.append(Cell(c_pp, l_pp, c_p, l_p, c, n_nodes, red, None if arc is None else arc[kind]))
            (c_pp, l_pp), (c_p, l_p) = (c_p, l_p), (c, l_p + red)
        self.cells = nn.ModuleList(cells)
        self.head = Head(c, n_classes, dropout, head_grid)
        init_weights(self)

    def forward(self, x, arc: Optional[Dict[str, Any]] = None):
        arc = self.forward_arc(arc)
        s0 = s1 = self.stem(x)
        for kind, cell in zip(self.kinds, self.cells):
            s0, s1 = s1, cell(s0, s1, arc[kind] if self.searching else None)
        return self.head(s1)
