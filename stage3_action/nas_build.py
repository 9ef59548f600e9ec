"""Build ENAS child networks (Pham et al., "Efficient Neural Architecture Search via Parameter Sharing",
ICML 2018, sections 2.3 / 2.4) from an architecture document (fixed, for retraining) or for a search
(shared weights). Documents are those of :mod:`stage3_action.nas_space`.
"""
from __future__ import annotations

from typing import Any, Dict, Optional

from torch import nn

from common.errors import InputError

from .nas_macro import MacroNet
from .nas_micro import MicroNet
from .nas_space import SPACES, validate_doc


def build_network(doc: Dict[str, Any], in_ch: int, n_classes: int, filters: Optional[int] = None,
                  n_cells: Optional[int] = None, dropout: float = 0.1, head_grid=(1, 1)) -> nn.Module:
    """The FIXED network of a (validated) architecture document; ``filters`` / ``n_cells`` override the
    document's when not None (``n_cells`` only means something for the micro space and is ignored for
    macro); ``head_grid`` is the pooling grid of the classifier head (``nas_ops.Head``)."""
    doc = validate_doc(doc)
    f = doc["filters"] if filters is None else filters
    if doc["space"] == "micro":
        n = doc["n_cells"] if n_cells is None else n_cells
        return MicroNet(in_ch, n_classes, f, n, doc["n_nodes"], arc=doc["arc"], dropout=dropout,
                        head_grid=head_grid)
    return MacroNet(in_ch, n_classes, f, doc["n_layers"], arc=doc["arc"], dropout=dropout, head_grid=head_grid)


def build_shared(space: str, in_ch: int, n_classes: int, filters: int, n: int, n_cells: int = 2,
                 dropout: float = 0.1, head_grid=(1, 1)) -> nn.Module:
    """The SEARCH-mode (shared-weight) network of ``space``: ``n`` = nodes per cell (micro) or layers
    (macro); ``n_cells`` = normal cells per block (micro only)."""
    if space == "micro":
        return MicroNet(in_ch, n_classes, filters, n_cells, n, arc=None, dropout=dropout, head_grid=head_grid)
    if space == "macro":
        return MacroNet(in_ch, n_classes, filters, n, arc=None, dropout=dropout, head_grid=head_grid)
    raise InputError(f"unknown search space {space!r}; known: {', '.join(SPACES)}")
