"""The ENAS controller: an LSTM that samples an architecture ("arc", in the :mod:`nas_space` format) one
decision at a time and returns the log-probability and entropy of its choices, for REINFORCE.

After Pham, Guan, Zoph, Le, Dean, "Efficient Neural Architecture Search via Parameter Sharing" (ICML 2018):
section 2.1 (an LSTM controller that emits a sequence of decisions, each softmax fed back as an embedding),
section 2.3 (macro space: per layer an op, then skip connections to earlier layers chosen by additive attention
and a sigmoid, with a KL penalty towards a skip rate) and section 2.4 (micro space: a normal cell then a
reduction cell; per node two inputs chosen by attention over earlier nodes' anchors, and two ops).

Values from the released code (github.com/melodyguan/enas, ``general_controller.py``, ``micro_controller.py``
and the ``cifar10_*_search.sh`` scripts), which the paper text does not state or states differently:
  * one LSTM layer of 64 units (paper: 100), every parameter initialised U(-0.1, 0.1);
  * logits squashed as ``c * tanh(logits / temperature)``: c = 1.5 (macro) and 1.1 (micro); the micro op
    logits use ``c / op_tanh_reduce`` = 1.1 / 2.5; no temperature in the scripts (paper: temperature 5, c = 2.5);
  * micro op logits: a LEARNED bias initialised +10 for the separable convs and 0 otherwise (added before the
    tanh, so it saturates: sep convs start at about +c/2.5), plus, in the normal cell only, a FIXED bias of
    +0.25 for separable convs and -0.25 for the other ops (added after the tanh). Both favour separable
    convolutions in normal cells; the reduction cell only gets the learned one;
  * the two cell inputs of a micro cell have zero anchors (choosing them feeds a zero vector back);
  * macro skip threshold rho = skip_target = 0.4, penalty weight skip_weight = 0.8; the next LSTM input after a
    layer's skips is the mean of the chosen anchors, ``sum / (1 + #skips)``.
Deliberate small differences from the code: each skip edge is a Bernoulli with P(skip) = sigmoid(2 q')
(= softmax of the code's logits [-q', q']) and the skip penalty is the exact KL(Bernoulli(P) || Bernoulli(rho))
summed over a layer's edges and averaged over layers (the code applies the sigmoid to both logits separately);
the entropy returned is the exact entropy of every decision's distribution (the code uses the sampled
choice's -p log p). All random draws use a CPU ``torch.Generator`` when one is given, so sampling is
reproducible and independent of the device.
"""
from __future__ import annotations

import math
from typing import Any, Dict, List, Optional, Tuple

import torch
import torch.nn.functional as F
from torch import nn

from common.errors import InputError

from .nas_space import MACRO_OPS, MICRO_OPS, SPACES, arc_size, validate_arc

Sample = Tuple[Dict[str, Any], torch.Tensor, torch.Tensor, torch.Tensor]


class Controller(nn.Module):
    """LSTM controller of ENAS for ``space`` "micro" (``n`` nodes per cell) or "macro" (``n`` layers)."""

    def __init__(self, space: str, n: int, hidden: int = 64, tanh_c: Optional[float] = None,
                 op_tanh_reduce: float = 2.5, temperature: Optional[float] = None,
                 skip_target: float = 0.4, skip_weight: float = 0.8):
        super().__init__()
        if space not in SPACES:
            raise InputError(f"controller: unknown search space {space!r}; known: {', '.join(SPACES)}")
        if not isinstance(n, int) or n < 1:
            raise InputError(f"controller: n must be a positive int, got {n!r}")
        if not 0.0 < skip_target < 1.0:
            raise InputError(f"controller: skip_target must be in (0, 1), got {skip_target!r}")
        self.space, self.n = space, n
        self.ops = MICRO_OPS if space == "micro" else MACRO_OPS
        self.tanh_c = (1.1 if space == "micro" else 1.5) if tanh_c is None else tanh_c
        self.op_tanh_c = self.tanh_c / op_tanh_reduce if space == "micro" else self.tanh_c
        self.temperature, self.skip_target, self.skip_weight = temperature, skip_target, skip_weight
        self.lstm = nn.LSTMCell(hidden, hidden)
        self.g_emb = nn.Parameter(torch.empty(1, hidden))        # input at the start / after a node
        self.w_emb = nn.Embedding(len(self.ops), hidden)          # feeds a chosen op back
        self.w_soft = nn.Linear(hidden, len(self.ops), bias=space == "micro")
        self.attn_1 = nn.Linear(hidden, hidden, bias=False)       # W1 h_j (anchors)
        self.attn_2 = nn.Linear(hidden, hidden, bias=False)       # W2 h_i (query)
        self.v_attn = nn.Linear(hidden, 1, bias=False)
        for p in self.parameters():
            nn.init.uniform_(p, -0.1, 0.1)
        if space == "micro":
            sep = torch.tensor([op.startswith("sep_conv") for op in self.ops], dtype=torch.float32)
            with torch.no_grad():
                self.w_soft.bias.copy_(10.0 * sep)
            self.register_buffer("normal_op_bias", 0.5 * sep - 0.25)

    # ------------------------------------------------------------------ public
    def sample(self, greedy: bool = False, generator: Optional[torch.Generator] = None) -> Sample:
        """``(arc, log_prob, entropy, skip_penalty)``: a sampled arc (``greedy``: every decision's argmax) with
        op names, the sum of its decisions' log-probabilities, the sum of their entropies, and the macro skip
        penalty (0 for micro). The tensors carry gradients for the controller's parameters."""
        return self._run(greedy=greedy, generator=generator)

    def score(self, arc: Dict[str, Any]) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """``(log_prob, entropy, skip_penalty)`` of a given arc (teacher-forced decisions)."""
        validate_arc(self.space, arc)
        if arc_size(self.space, arc) != self.n:
            raise InputError(f"arc: expected size {self.n}, got {arc_size(self.space, arc)}")
        return self._run(forced=arc)[1:]

    # ------------------------------------------------------------------ internals
    def _squash(self, logits: torch.Tensor, c: float) -> torch.Tensor:
        if self.temperature:
            logits = logits / self.temperature
        return c * torch.tanh(logits) if c else logits

    def _op_logits(self, h: torch.Tensor, normal: bool) -> torch.Tensor:
        logits = self._squash(self.w_soft(h), self.op_tanh_c)
        if self.space == "micro" and normal:
            logits = logits + self.normal_op_bias
        return logits

    def _choose(self, logits, forced, greedy, gen, acc) -> int:
        """One categorical decision from ``logits`` (1, k); adds its log-prob and entropy to ``acc``."""
        logp = F.log_softmax(logits.reshape(-1), -1)
        if forced is not None:
            idx = int(forced)
        elif greedy:
            idx = int(logp.argmax())
        else:                                                     # inverse-CDF draw from one uniform
            u, idx = float(torch.rand((), generator=gen)), 0
            for i, p in enumerate(logp.detach().exp().tolist()):
                idx = i
                u -= p
                if u < 0:
                    break
        acc["log_prob"].append(logp[idx])
        acc["entropy"].append(-(logp.exp() * logp).sum())
        return idx

    def _run(self, forced=None, greedy=False, generator=None) -> Sample:
        acc: Dict[str, List[torch.Tensor]] = {"log_prob": [], "entropy": [], "skip": []}
        if self.space == "micro":
            arc, state = {}, None
            for cell in ("normal", "reduce"):
                nodes = None if forced is None else forced[cell]
                arc[cell], state = self._micro_cell(cell == "normal", state, nodes, greedy, generator, acc)
        else:
            arc = self._macro(forced, greedy, generator, acc)
        zero = self.g_emb.new_zeros(())
        skip = torch.stack(acc["skip"]).mean() if acc["skip"] else zero
        return arc, torch.stack(acc["log_prob"]).sum(), torch.stack(acc["entropy"]).sum(), skip

    def _micro_cell(self, normal, state, forced, greedy, gen, acc):
        """One cell: two inputs with zero anchors, then per node two input choices and two op choices."""
        anchors, keys = [], []
        for _ in range(2):
            state = self.lstm(self.g_emb, state)
            anchors.append(torch.zeros_like(state[0]))
            keys.append(self.attn_1(state[0]))
        nodes, inputs = [], self.g_emb
        for i in range(self.n):
            node = [None] * 4
            for k in (0, 2):                                      # two inputs by attention over anchors
                state = self.lstm(inputs, state)
                q = self.v_attn(torch.tanh(torch.cat(keys) + self.attn_2(state[0]))).reshape(1, -1)
                j = self._choose(self._squash(q, self.tanh_c), None if forced is None else forced[i][k],
                                 greedy, gen, acc)
                node[k], inputs = j, anchors[j]
            for k in (1, 3):                                      # two ops
                state = self.lstm(inputs, state)
                f = None if forced is None else self.ops.index(forced[i][k])
                o = self._choose(self._op_logits(state[0], normal), f, greedy, gen, acc)
                node[k], inputs = self.ops[o], self.w_emb.weight[o:o + 1]
            state = self.lstm(inputs, state)                      # the node's anchor
            anchors.append(state[0])
            keys.append(self.attn_1(state[0]))
            nodes.append(node)
            inputs = self.g_emb
        return nodes, state

    def _macro(self, forced, greedy, gen, acc):
        """Per layer an op, then one Bernoulli skip decision per earlier layer (additive attention)."""
        layers, anchors, keys, state, inputs = [], [], [], None, self.g_emb
        for i in range(self.n):
            state = self.lstm(inputs, state)
            f = None if forced is None else self.ops.index(forced["layers"][i]["op"])
            o = self._choose(self._op_logits(state[0], True), f, greedy, gen, acc)
            state = self.lstm(self.w_emb.weight[o:o + 1], state)
            skips: List[int] = []
            if i > 0:
                q = self.v_attn(torch.tanh(torch.cat(keys) + self.attn_2(state[0]))).reshape(-1)
                z = 2.0 * self._squash(q, self.tanh_c)            # P(skip_j) = sigmoid(z_j)
                p = torch.sigmoid(z)
                if forced is not None:
                    skips = [int(s) for s in forced["layers"][i]["skips"]]
                elif greedy:
                    skips = [int(v) for v in (z > 0)]
                else:
                    skips = [int(v) for v in torch.bernoulli(p.detach().cpu(), generator=gen)]
                s = torch.tensor(skips, dtype=z.dtype, device=z.device)
                logp1, logp0 = F.logsigmoid(z), F.logsigmoid(-z)
                acc["log_prob"].append((s * logp1 + (1 - s) * logp0).sum())
                acc["entropy"].append(-(p * logp1 + (1 - p) * logp0).sum())
                rho = self.skip_target
                kl = p * (logp1 - math.log(rho)) + (1 - p) * (logp0 - math.log(1 - rho))
                acc["skip"].append(kl.sum())
                inputs = (s.reshape(1, -1) @ torch.cat(anchors)) / (1.0 + s.sum())
            else:
                inputs = self.g_emb
            anchors.append(state[0])
            keys.append(self.attn_1(state[0]))
            layers.append({"op": self.ops[o], "skips": skips})
        return {"layers": layers}
