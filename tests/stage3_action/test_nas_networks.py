"""ENAS child networks (micro and macro spaces): shapes on non-square inputs, weight sharing in search mode,
fixed networks from architecture documents, and that a fixed network can learn."""
import time

import numpy as np
import pytest
import torch
from torch import nn

from common.errors import InputError
from stage3_action.nas_build import build_network, build_shared
from stage3_action.nas_macro import MacroNet
from stage3_action.nas_micro import MicroNet, loose_ends
from stage3_action.nas_space import MACRO_OPS, MICRO_OPS, load_arch, random_arc, save_arch

SHAPES = [(2, 3, 32, 17), (2, 3, 32, 32), (2, 2, 16, 9)]
N = {"micro": 5, "macro": 6}  # nodes per cell / layers


def doc_of(space, arc, filters=8):
    if space == "micro":
        return {"space": "micro", "arc": arc, "filters": filters, "n_cells": 1, "n_nodes": N["micro"], "meta": {}}
    return {"space": "macro", "arc": arc, "filters": filters, "n_layers": N["macro"], "meta": {}}


def n_params(net):
    return sum(p.numel() for p in net.parameters())


@pytest.mark.parametrize("space", ["micro", "macro"])
@pytest.mark.parametrize("shape", SHAPES)
def test_shapes_and_finiteness(space, shape):
    torch.manual_seed(0)
    rng = np.random.default_rng(1)
    shared = build_shared(space, shape[1], 5, filters=8, n=N[space], n_cells=1)
    x = torch.randn(*shape)
    for _ in range(3):
        arc = random_arc(space, rng, N[space])
        fixed = build_network(doc_of(space, arc), shape[1], 5)
        for net, a in ((shared, arc), (fixed, None)):
            for train in (True, False):
                net.train(train)
                y = net(x, a)
                assert y.shape == (shape[0], 5) and torch.isfinite(y).all()
        assert torch.equal(fixed(x, arc), fixed(x))  # the built arc may be passed again
    with pytest.raises(InputError):
        shared(x)  # search mode needs an arc
    with pytest.raises(InputError):
        fixed(x, random_arc(space, np.random.default_rng(99), N[space]))


def unused_op_params(net, arc):
    """(used, unused) lists of parameter lists of the candidate ops of a search-mode network under ``arc``."""
    used, unused = [], []
    if isinstance(net, MicroNet):
        for kind, cell in zip(net.kinds, net.cells):
            for ops, (_x, xo, _y, yo) in zip(cell.ops, arc[kind]):
                for side, chosen in (("x", xo), ("y", yo)):
                    for name in MICRO_OPS:
                        (used if name == chosen else unused).append(list(ops[side][name].parameters()))
    else:
        for layer, spec in zip(net.layers, arc["layers"]):
            for name in MACRO_OPS:
                (used if name == spec["op"] else unused).append(list(layer.ops[name].parameters()))
    return [p for p in used if p], [p for p in unused if p]


@pytest.mark.parametrize("space", ["micro", "macro"])
def test_search_mode_shares_weights(space):
    torch.manual_seed(0)
    rng = np.random.default_rng(2)
    net = build_shared(space, 3, 4, filters=8, n=N[space], n_cells=1)
    params = [id(p) for p in net.parameters()]
    x = torch.randn(4, 3, 16, 9)
    a, b = random_arc(space, rng, N[space]), random_arc(space, rng, N[space])
    net.eval()
    ya, yb = net(x, a), net(x, b)
    assert not torch.allclose(ya, yb)
    assert [id(p) for p in net.parameters()] == params  # the arc builds nothing
    net.train()
    for arc in (a, b):
        net.zero_grad(set_to_none=True)
        out = net(x, arc)
        (out * torch.linspace(-1, 1, out.numel()).view_as(out)).sum().backward()
        used, unused = unused_op_params(net, arc)
        assert used and unused
        for ps in unused:
            assert all(p.grad is None or not p.grad.any() for p in ps)
        assert all(any(p.grad is not None and p.grad.any() for p in ps) for ps in used)
        if space == "micro":  # output 1x1 conv: only the rows of the loose ends get gradient
            cell = net.cells[0]
            g = cell.out_w.grad.view(cell.c, cell.n_nodes, cell.c)
            loose = loose_ends(arc["normal"])
            for i in range(cell.n_nodes):
                assert bool(g[:, i].any()) == (i in loose)


@pytest.mark.parametrize("space", ["micro", "macro"])
def test_fixed_mode_is_small_and_arc_specific(space):
    shared = build_shared(space, 3, 4, filters=8, n=N[space], n_cells=1)
    rng = np.random.default_rng(3)
    fixed = [build_network(doc_of(space, random_arc(space, rng, N[space])), 3, 4) for _ in range(4)]
    counts = [n_params(f) for f in fixed]
    if space == "micro":
        assert max(counts) < 0.5 * n_params(shared), (counts, n_params(shared))
    else:  # fixed macro nets double their width at the downsamplings (ENAS): compare layers of equal width
        k = N["macro"] // 3
        ratios = [n_params(f.layers[i]) / n_params(shared.layers[i]) for f in fixed for i in range(k)]
        assert max(ratios) < 0.7 and np.mean(ratios) < 0.4, ratios
    if space == "micro":
        heavy = {k: [[0, "sep_conv_5x5", 1, "sep_conv_5x5"]] + [[i + 1, "sep_conv_5x5", 0, "sep_conv_5x5"]
                                                                   for i in range(1, 5)] for k in ("normal", "reduce")}
        light = {k: [[n[0], "identity", n[2], "max_pool_3x3"] for n in heavy[k]] for k in heavy}
    else:
        heavy = {"layers": [{"op": "conv_5x5", "skips": [0] * i} for i in range(6)]}
        light = {"layers": [{"op": "max_pool_3x3", "skips": [0] * i} for i in range(6)]}
    assert n_params(build_network(doc_of(space, heavy), 3, 4)) > n_params(build_network(doc_of(space, light), 3, 4))
    assert len(set(counts)) > 1


@pytest.mark.parametrize("space", ["micro", "macro"])
def test_document_round_trip(space, tmp_path):
    doc = doc_of(space, random_arc(space, np.random.default_rng(4), N[space]))
    path = save_arch(tmp_path / "arch.json", doc)
    loaded = load_arch(path)
    torch.manual_seed(0)
    a = build_network(doc, 2, 3).eval()
    torch.manual_seed(1)
    b = build_network(loaded, 2, 3).eval()
    assert list(a.state_dict()) == list(b.state_dict())
    b.load_state_dict(a.state_dict())
    x = torch.randn(3, 2, 16, 9)
    assert torch.equal(a(x), b(x))
    assert build_network(doc, 2, 3, filters=4).stem[0].out_channels == 4


def quadrant_data(n, rng, h=12, w=8):
    """Class = which quadrant (top-left, top-right, bottom-left, bottom-right) is bright, under noise."""
    y = rng.integers(0, 4, n)
    x = rng.normal(0, 1, (n, 2, h, w)).astype(np.float32)
    for i, c in enumerate(y):
        r, q = divmod(int(c), 2)
        x[i, :, r * h // 2:(r + 1) * h // 2, q * w // 2:(q + 1) * w // 2] += 1.5
    return torch.as_tensor(x), torch.as_tensor(y)


TRAIN_ARCS = {
    "micro": {k: [[0, "sep_conv_3x3", 1, "identity"], [2, "max_pool_3x3", 0, "sep_conv_5x5"]]
              for k in ("normal", "reduce")},
    "macro": {"layers": [{"op": op, "skips": [i % 2] * i}
                         for i, op in enumerate(["conv_3x3", "sep_conv_3x3", "max_pool_3x3", "conv_5x5"])]},
}


@pytest.mark.parametrize("space", ["micro", "macro"])
def test_fixed_network_learns(space):
    torch.manual_seed(0)
    rng = np.random.default_rng(5)
    xtr, ytr = quadrant_data(512, rng)
    xte, yte = quadrant_data(256, rng)
    arc = TRAIN_ARCS[space]
    net = (MicroNet(2, 4, 8, 1, 2, arc=arc) if space == "micro" else MacroNet(2, 4, 8, 4, arc=arc))
    opt = torch.optim.Adam(net.parameters(), lr=1e-2)
    losses = []
    for _step in range(40):
        idx = torch.as_tensor(rng.integers(0, len(xtr), 32))
        loss = nn.functional.cross_entropy(net(xtr[idx]), ytr[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    net.eval()
    with torch.no_grad():
        acc = (net(xte).argmax(1) == yte).float().mean().item()
    assert np.mean(losses[-5:]) < 0.6 * np.mean(losses[:5]), losses
    assert acc > 0.6, acc  # chance is 0.25


@pytest.mark.slow  # about 40 s on one busy CPU core, mostly the micro network
def test_forward_backward_timing():
    """Prints (does not assert) forward+backward time, batch 64 of 3 x 32 x 32, default sizes, after one
    warm-up pass (run with ``-m slow -s``)."""
    torch.manual_seed(0)
    x, y = torch.randn(64, 3, 32, 32), torch.randint(0, 10, (64,))
    rng = np.random.default_rng(6)
    for space, n in (("micro", 5), ("macro", 6)):
        arc = random_arc(space, rng, n)
        nets = {"search": ((MicroNet(3, 10) if space == "micro" else MacroNet(3, 10)), arc),
                "fixed": ((MicroNet(3, 10, arc=arc) if space == "micro" else MacroNet(3, 10, arc=arc)), None)}
        for mode, (net, a) in nets.items():
            nn.functional.cross_entropy(net(x, a), y).backward()
            t = time.perf_counter()
            nn.functional.cross_entropy(net(x, a), y).backward()
            print(f"\n{space} {mode}: {n_params(net)} params, forward+backward {time.perf_counter() - t:.3f} s "
                  f"({torch.get_num_threads()} threads)")
