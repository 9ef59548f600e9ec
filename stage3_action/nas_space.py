"""The two ENAS search spaces as data: what an architecture ("arc") is, how to draw one at random, and the
architecture document (JSON) that a search writes and ``searched_cnn`` reads.

After Pham, Guan, Zoph, Le, Dean, "Efficient Neural Architecture Search via Parameter Sharing" (ICML 2018),
sections 2.3 (whole-network, "macro") and 2.4 (cell, "micro"), as used for recognition in Pham et al.,
"A Unified Deep Framework for Joint 3D Pose Estimation and Action Recognition from a Single RGB Camera"
(Pham et al. 2020, Fig. 5: 3 blocks of N searched cells with reduction cells between).

Micro arc: ``{"normal": cell, "reduce": cell}``; a cell is a list of ``n_nodes`` nodes ``[x, x_op, y, y_op]``:
node ``i`` sums ``x_op(input x)`` and ``y_op(input y)`` where ``x, y`` index the cell's inputs 0 and 1 (the
outputs of the two previous cells) or earlier nodes (``2 + i'`` for node ``i' < i``); ops are names from
:data:`MICRO_OPS`. The cell's output concatenates the nodes that no other node reads.

Macro arc: ``{"layers": [{"op": name, "skips": [s_0, ..., s_{i-1}]}, ...]}``: layer ``i`` applies an op of
:data:`MACRO_OPS` to the previous layer's output and adds the earlier layers ``j`` with ``s_j = 1``.

Architecture document: ``{"space": "micro"|"macro", "arc": {...}, "filters": F, "n_cells": N, "n_nodes": B}``
(micro) or ``{"space": "macro", "arc": {...}, "filters": F, "n_layers": L}``, plus a free-form ``"meta"``
(how it was found). ``filters`` and ``n_cells`` are the retraining sizes and may be overridden by the
classifier's options; the arc is what the search found.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Dict

import numpy as np

from common.errors import InputError
from common.io import write_json

MICRO_OPS = ("sep_conv_3x3", "sep_conv_5x5", "avg_pool_3x3", "max_pool_3x3", "identity")
MACRO_OPS = ("conv_3x3", "conv_5x5", "sep_conv_3x3", "sep_conv_5x5", "avg_pool_3x3", "max_pool_3x3")
SPACES = ("micro", "macro")


def random_arc(space: str, rng: np.random.Generator, n: int) -> Dict[str, Any]:
    """An arc drawn uniformly from ``space`` (``n`` = nodes per cell for micro, layers for macro): the random
    baseline. Each macro skip connection is present with probability 1/2."""
    if space == "micro":
        def cell():
            return [[int(rng.integers(i + 2)), MICRO_OPS[rng.integers(len(MICRO_OPS))],
                     int(rng.integers(i + 2)), MICRO_OPS[rng.integers(len(MICRO_OPS))]] for i in range(n)]
        return {"normal": cell(), "reduce": cell()}
    if space == "macro":
        return {"layers": [{"op": MACRO_OPS[rng.integers(len(MACRO_OPS))],
                            "skips": [int(b) for b in rng.integers(0, 2, size=i)]} for i in range(n)]}
    raise InputError(f"unknown search space {space!r}; known: {', '.join(SPACES)}")


def arc_size(space: str, arc: Dict[str, Any]) -> int:
    """Nodes per cell (micro) or layers (macro) of a valid arc."""
    return len(arc["normal"]) if space == "micro" else len(arc["layers"])


def validate_arc(space: str, arc: Any, where: str = "arc") -> Dict[str, Any]:
    """``arc`` if it is a valid arc of ``space``, else an :class:`InputError` naming the bad field."""
    if space not in SPACES:
        raise InputError(f"{where}: unknown search space {space!r}; known: {', '.join(SPACES)}")
    if not isinstance(arc, dict):
        raise InputError(f"{where}: expected a mapping, got {type(arc).__name__}")
    if space == "micro":
        for cell in ("normal", "reduce"):
            nodes = arc.get(cell)
            if not isinstance(nodes, list) or not nodes:
                raise InputError(f"{where}.{cell}: expected a non-empty list of [x, x_op, y, y_op] nodes")
            if len(nodes) != len(arc.get("normal") or []):
                raise InputError(f"{where}: normal and reduce cells must have the same number of nodes")
            for i, node in enumerate(nodes):
                w = f"{where}.{cell}[{i}]"
                if not (isinstance(node, list) and len(node) == 4):
                    raise InputError(f"{w}: expected [x, x_op, y, y_op], got {node!r}")
                for inp, op in ((node[0], node[1]), (node[2], node[3])):
                    if not isinstance(inp, int) or isinstance(inp, bool) or not 0 <= inp < i + 2:
                        raise InputError(f"{w}: input {inp!r} must be an int in [0, {i + 1}]")
                    if op not in MICRO_OPS:
                        raise InputError(f"{w}: unknown op {op!r}; known: {', '.join(MICRO_OPS)}")
        return arc
    layers = arc.get("layers")
    if not isinstance(layers, list) or not layers:
        raise InputError(f"{where}.layers: expected a non-empty list of {{op, skips}}")
    for i, layer in enumerate(layers):
        w = f"{where}.layers[{i}]"
        if not isinstance(layer, dict) or layer.get("op") not in MACRO_OPS:
            raise InputError(f"{w}.op: expected one of {', '.join(MACRO_OPS)}, got {layer!r}")
        skips = layer.get("skips")
        if not isinstance(skips, list) or len(skips) != i or any(s not in (0, 1) for s in skips):
            raise InputError(f"{w}.skips: expected {i} flags of 0/1, got {skips!r}")
    return arc


def validate_doc(doc: Any, where: str = "architecture") -> Dict[str, Any]:
    """A checked architecture document (see the module docstring)."""
    if not isinstance(doc, dict):
        raise InputError(f"{where}: expected a JSON object")
    space = doc.get("space")
    if space not in SPACES:
        raise InputError(f"{where}: field 'space': expected one of {', '.join(SPACES)}, got {space!r}")
    validate_arc(space, doc.get("arc"), f"{where}: field 'arc'")
    size_key = "n_nodes" if space == "micro" else "n_layers"
    need = ("filters", "n_cells", size_key) if space == "micro" else ("filters", size_key)
    for k in need:
        v = doc.get(k)
        if not isinstance(v, int) or isinstance(v, bool) or v < 1:
            raise InputError(f"{where}: field {k!r}: expected a positive int, got {v!r}")
    if doc[size_key] != arc_size(space, doc["arc"]):
        raise InputError(f"{where}: field {size_key!r} = {doc[size_key]} but the arc has {arc_size(space, doc['arc'])}")
    return doc


def load_arch(path) -> Dict[str, Any]:
    """Read and check an architecture JSON file."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: architecture file not found")
    try:
        doc = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise InputError(f"{path}: not valid JSON ({e})") from None
    return validate_doc(doc, str(path))


def save_arch(path, doc: Dict[str, Any]) -> Path:
    """Write a checked architecture document atomically."""
    return write_json(path, validate_doc(doc))
