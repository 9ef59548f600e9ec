"""ENAS controller and search loop on toy problems (no images, no real child networks)."""
import math
from itertools import product

import pytest
import torch
from torch import nn

from common.errors import InputError
from stage3_action.enas_controller import Controller
from stage3_action.enas_search import ENAS_DEFAULTS, Reinforce, cosine_lr, enas_search, resolve_cfg, reward_figure
from stage3_action.nas_space import MACRO_OPS, MICRO_OPS, validate_arc


def _freq(ctrl, fn, seed=1, k=100):
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        return sum(fn(ctrl.sample(generator=g)[0]) for _ in range(k)) / k


# ---------------------------------------------------------------- controller
@pytest.mark.parametrize("space,n", [("micro", 1), ("micro", 3), ("micro", 5), ("macro", 1), ("macro", 4),
                                     ("macro", 8)])
def test_controller_samples_valid_arcs(space, n):
    torch.manual_seed(0)
    ctrl = Controller(space, n)
    g = torch.Generator().manual_seed(0)
    for greedy in (False, False, False, True):
        arc, log_prob, entropy, skip = ctrl.sample(greedy=greedy, generator=g)
        validate_arc(space, arc)
        assert (len(arc["normal"]) if space == "micro" else len(arc["layers"])) == n
        assert log_prob.ndim == 0 and log_prob.item() < 0 and log_prob.requires_grad
        assert entropy.item() > 0
        assert math.isfinite(skip.item()) and skip.item() >= 0
        if space == "micro" or n == 1:
            assert skip.item() == 0
        else:
            assert skip.item() > 0
        lp, ent, sk = ctrl.score(arc)                 # re-scoring the same decisions gives the same numbers
        assert torch.allclose(lp, log_prob) and torch.allclose(ent, entropy) and torch.allclose(sk, skip)
    # same seed -> same arcs; another seed -> (almost surely) different ones
    draw = lambda s: [ctrl.sample(generator=torch.Generator().manual_seed(s))[0] for _ in range(3)]  # noqa: E731
    assert draw(5) == draw(5) and draw(5) != draw(6)
    assert ctrl.sample(greedy=True)[0] == ctrl.sample(greedy=True)[0]


def test_controller_log_prob_is_a_distribution():
    """Macro, 2 layers: 6 x 2 x 6 = 72 arcs; their probabilities sum to 1, sampling follows them, entropy of
    the first decision is exact, and the greedy arc takes the most likely first op."""
    torch.manual_seed(0)
    ctrl = Controller("macro", 2, tanh_c=2.5)
    arcs = [{"layers": [{"op": a, "skips": []}, {"op": b, "skips": [s]}]}
            for a, s, b in product(MACRO_OPS, (0, 1), MACRO_OPS)]
    with torch.no_grad():
        probs = torch.stack([ctrl.score(a)[0] for a in arcs]).exp()
    assert abs(probs.sum().item() - 1) < 1e-5
    g, counts, n = torch.Generator().manual_seed(0), torch.zeros(len(arcs)), 1000
    keys = [repr(a) for a in arcs]
    with torch.no_grad():
        for _ in range(n):
            counts[keys.index(repr(ctrl.sample(generator=g)[0]))] += 1
    assert (counts / n - probs).abs().max() < 0.05
    first = probs.reshape(6, 12).sum(1)                     # marginal of the first op
    one = Controller("macro", 1, tanh_c=2.5)
    one.load_state_dict(ctrl.state_dict())
    exact = -(first * first.log()).sum()
    assert torch.allclose(one.sample(greedy=True)[2], exact, atol=1e-5)
    assert ctrl.sample(greedy=True)[0]["layers"][0]["op"] == MACRO_OPS[int(first.argmax())]


def test_micro_op_bias_favours_separable_convs():
    ctrl = Controller("micro", 2)
    sep = _freq(ctrl, lambda a: sum(n[k].startswith("sep") for n in a["normal"] for k in (1, 3)) / 4, k=60)
    assert sep > 2 / 5 + 0.1                                # uniform would be 2/5


# ---------------------------------------------------------------- REINFORCE
def test_reinforce_raises_rewarded_macro_op():
    torch.manual_seed(0)
    ctrl = Controller("macro", 2)
    reward = lambda a: sum(l["op"] == "conv_5x5" for l in a["layers"]) / 2  # noqa: E731,E741
    before = _freq(ctrl, reward, k=60)
    rl, g = Reinforce(ctrl, lr=2e-2), torch.Generator().manual_seed(0)
    for _ in range(25):
        stats = rl.step(reward, 5, g)
    assert before < 0.3 and _freq(ctrl, reward, k=60) > 0.6
    assert set(stats) >= {"reward", "baseline", "entropy", "loss"}


def test_reinforce_raises_rewarded_micro_inputs():
    torch.manual_seed(0)
    ctrl = Controller("micro", 1)                          # defaults: lr 3.5e-3, tanh 1.1
    reward = lambda a: sum((n[0] == 1) + (n[2] == 1) for c in ("normal", "reduce") for n in a[c]) / 4  # noqa
    before = _freq(ctrl, reward, k=60)
    rl, g = Reinforce(ctrl, lr=3.5e-3), torch.Generator().manual_seed(0)
    for _ in range(80):
        rl.step(reward, 2, g)
    assert before < 0.6 and _freq(ctrl, reward, k=60) > 0.8


# ---------------------------------------------------------------- search loop
class ToyShared(nn.Module):
    """One linear path per op; only ``signal_op``'s path sees the informative features (the first two)."""

    def __init__(self, ops, signal_op, d=8, classes=2):
        super().__init__()
        self.paths = nn.ModuleDict({op: nn.Linear(d, classes) for op in ops})
        for op in ops:
            m = torch.zeros(d)
            (m[:2] if op == signal_op else m[2:]).fill_(1.0)
            self.register_buffer(f"mask_{op}", m)

    def forward(self, x, arc):
        ops = [layer["op"] for layer in arc["layers"]] if "layers" in arc else [n[1] for n in arc["normal"]]
        return torch.stack([self.paths[o](x * getattr(self, f"mask_{o}")) for o in ops]).mean(0)


def _toy_data(seed=0, n_train=512, n_val=256, batch=64):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n_train + n_val, 8, generator=g)
    y = (x[:, 0] + x[:, 1] > 0).long()
    xt, yt, xv, yv = x[:n_train], y[:n_train], x[n_train:], y[n_train:]

    def train_batches():
        p = torch.randperm(n_train, generator=g)
        return [(xt[p[i:i + batch]], yt[p[i:i + batch]]) for i in range(0, n_train, batch)]

    def val_batch():
        i = torch.randint(0, n_val, (batch,), generator=g)
        return xv[i], yv[i]

    def val_batches():
        return [(xv[i:i + batch], yv[i:i + batch]) for i in range(0, n_val, batch)]
    return train_batches, val_batch, val_batches


def _search(space, n, signal_op, epochs, cfg, seed=0):
    torch.manual_seed(seed)
    net, ctrl = ToyShared(MICRO_OPS if space == "micro" else MACRO_OPS, signal_op), Controller(space, n)
    return enas_search(net, ctrl, *_toy_data(seed), epochs=epochs, cfg=cfg, seed=seed, log=lambda s: None)


def test_enas_search_finds_informative_op(tmp_path):
    seen = []
    torch.manual_seed(0)
    net, ctrl = ToyShared(MACRO_OPS, "conv_5x5"), Controller("macro", 2)
    cfg = {"ctrl_steps": 10, "ctrl_samples": 5, "n_derive": 8, "ctrl_lr": 1e-2}
    out = enas_search(net, ctrl, *_toy_data(0), epochs=4, cfg=cfg, seed=0, log=lambda s: None,
                      on_epoch=lambda ep, st: seen.append(ep))
    validate_arc("macro", out["arc"])
    assert seen == [0, 1, 2, 3] and len(out["history"]) == 4
    for h in out["history"]:
        assert {"train_loss", "mean_reward", "baseline", "entropy", "controller_loss", "seconds"} <= set(h)
    assert "conv_5x5" in [layer["op"] for layer in out["arc"]["layers"]]
    assert out["val_acc_shared"] > 0.85 and out["val_acc_shared"] == out["candidates"][0][1]
    blind = {"layers": [{"op": "conv_3x3", "skips": []}, {"op": "max_pool_3x3", "skips": [0]}]}
    with torch.no_grad():                                   # the accuracy really depends on the arc
        accs = [(net(x, blind).argmax(1) == y).float().mean().item() for x, y in _toy_data(0)[2]()]
    assert sum(accs) / len(accs) < 0.7
    assert out["history"][-1]["train_loss"] < out["history"][0]["train_loss"]
    assert out["history"][-1]["mean_acc"] > out["history"][0]["mean_acc"]
    png = reward_figure(out["history"], tmp_path / "reward.png")
    assert png.is_file() and png.read_bytes()[:4] == b"\x89PNG"


def test_enas_search_micro_deterministic():
    cfg = {"ctrl_steps": 2, "ctrl_samples": 2, "n_derive": 3}
    a = _search("micro", 2, "max_pool_3x3", 1, cfg)
    b = _search("micro", 2, "max_pool_3x3", 1, cfg)
    validate_arc("micro", a["arc"])
    assert a["arc"] == b["arc"] and a["candidates"] == b["candidates"]
    assert a["history"][0]["train_loss"] == b["history"][0]["train_loss"]


def test_cfg_and_schedule():
    with pytest.raises(InputError, match="unknown key"):
        resolve_cfg({"lr": 0.1, "bogus": 1}, "micro")
    assert resolve_cfg(None, "micro")["ctrl_lr"] == 3.5e-3 and resolve_cfg({}, "macro")["ctrl_lr"] == 1e-3
    assert set(resolve_cfg(None, "macro")) == set(ENAS_DEFAULTS)
    assert cosine_lr(0, 10, 0.05, 0.0005) == pytest.approx(0.05)
    assert cosine_lr(9, 10, 0.05, 0.0005) < 0.002
    assert cosine_lr(10, 30, 0.05, 0.0005, T0=10, Tmul=2) == pytest.approx(0.05)   # SGDR restart
    with pytest.raises(InputError):
        _search("macro", 2, "conv_5x5", 0, {})


def test_enas_search_resumes_after_a_crash(tmp_path):
    """Inside ``common.resume.resuming`` each epoch's state (shared weights, controller, its optimiser and
    baseline, generators) is saved; a search cut after its second epoch, started again, runs only the third and
    ends as the uninterrupted search does."""
    from common.resume import resuming

    cfg = {"ctrl_steps": 2, "ctrl_samples": 2, "n_derive": 3}

    def run(folder, crash_after=None):
        torch.manual_seed(0)
        net, ctrl = ToyShared(MACRO_OPS, "conv_5x5"), Controller("macro", 2)
        g = torch.Generator().manual_seed(5)
        data = _toy_data(0)
        x = torch.randn(64, 8)

        def train_batches():  # the caller's own generator, handed to the snapshots as state
            return [(x[torch.randperm(64, generator=g)[:32]], (x[:32, 0] > 0).long())]

        def on_epoch(ep, _stats):
            if ep == crash_after:
                raise KeyboardInterrupt

        with resuming(folder, keep=True):
            out = enas_search(net, ctrl, train_batches, data[1], data[2], epochs=3, cfg=cfg, seed=0,
                              log=lambda s: None, on_epoch=on_epoch, state={"g": g})
        return out, net

    straight, net_a = run(tmp_path / "a")
    with pytest.raises(KeyboardInterrupt):
        run(tmp_path / "b", crash_after=1)
    resumed, net_b = run(tmp_path / "b")
    assert [h["train_loss"] for h in resumed["history"]] == [h["train_loss"] for h in straight["history"]]
    assert resumed["arc"] == straight["arc"] and resumed["candidates"] == straight["candidates"]
    for a, b in zip(net_a.state_dict().values(), net_b.state_dict().values()):
        assert torch.equal(a, b)
