"""``ensemble``: a score-level fusion of several stage-3 classifiers - the usual late fusion of skeleton action
recognition, where one network is trained per stream (joints, bones, their motion) and their class scores are
summed with weights (Shi et al., "Two-Stream Adaptive Graph Convolutional Networks for Skeleton-Based Action
Recognition", CVPR 2019, section 3.5; the four-stream fusion of pyskl), and of 2D with lifted 3D poses.

``members`` names each member and its options (a registered ``type`` plus that type's options, e.g.
``{bones: {type: pose_cnn, encoder_options: {streams: [bones]}}}``); ``shared`` options go to every member
(a member's own value wins); a member without ``input`` takes the ensemble's. Each member is trained on the same
data with its own seed (the ensemble's seed + its position). The fused probability of a clip is
``sum_m w_m p_m`` over the members' calibrated probabilities, with ``weights: equal`` (default), a list, or
``val``: chosen on the validation split only, over the grid of the simplex with step ``weight_step``: the
weights of the least validation cross-entropy (``criterion: nll``) or the most validation top-1 (``criterion:
top1``, ties to the least cross-entropy). The members' validation probabilities are kept in the checkpoint, so
the weights are inference options: switching them reuses the trained members. Equal weights are the default
because on Penn Action the validation part (127 videos) also chose each member's best epoch and temperature:
weights fitted on it zeroed a member and cost 2.1 points of holdout top-1 over 5 seeds (``docs/actions.md``).

2D with 3D: a member whose ``input`` differs from the ensemble's reads the other pose hand-off. A 3D ensemble
with 2D members is fed the lifter's 3D and, beside it, the 2D the lifter was given (``predict(..., pose2d=)``;
the pipeline passes it, :attr:`needs_pose2d`); training reads each sample's ``joints2d`` and ``joints3d``
(``train_on: chain`` replaces the 3D with the lifter's output, as for any 3D classifier).
"""
from __future__ import annotations

import itertools
from typing import Dict, List, Optional

import numpy as np

from common.errors import InputError
from common.handoff import ActionResult, Pose2DSeq, Pose3DSeq
from common.registry import build, register
from common.stage import ActionClassifier

#: members whose weights ``weights: val`` may search (the grid grows as (1 / step) ** (members - 1))
MAX_VAL_MEMBERS = 6


def simplex_grid(n: int, step: float) -> np.ndarray:
    """Every weight vector of ``n`` non-negative multiples of ``step`` summing to 1: (K, n)."""
    k = int(round(1 / step))
    if n == 1:
        return np.ones((1, 1))
    rows = [c for c in itertools.product(range(k + 1), repeat=n - 1) if sum(c) <= k]
    return np.array([[*c, k - sum(c)] for c in rows], np.float64) / k


def choose_weights(probs: np.ndarray, y: np.ndarray, step: float, criterion: str = "nll") -> np.ndarray:
    """Fusion weights (M,) for member probabilities ``probs`` (M, N, C) of clips labelled ``y`` (N,)."""
    grid = simplex_grid(len(probs), step)
    fused = np.einsum("km,mnc->knc", grid, probs)
    nll = -np.log(np.clip(fused[:, np.arange(len(y)), y], 1e-12, None)).mean(1)
    if criterion == "nll":
        return grid[int(np.argmin(nll))]
    top1 = (fused.argmax(-1) == y).mean(1)
    best = np.flatnonzero(top1 == top1.max())
    return grid[best[int(np.argmin(nll[best]))]]


@register("action", "ensemble")
class EnsembleClassifier(ActionClassifier):
    defaults = {
        "members": {}, "shared": {}, "input": "auto", "multi_clip": True,
        "weights": "equal", "weight_step": 0.1, "criterion": "nll",
        # what the chain feeds the members in training (pipelines/chain.py reads these of any classifier)
        "train_on": "both", "chain_views": 0, "chain_noise_px": 5.0, "chain_drop_rate": 0.05,
        "unknown_threshold": 0.0, "unknown_distance": 0.0,
    }
    #: the members' validation probabilities are kept, so the weights are chosen at load time: switching them
    #: reuses the trained members
    inference_options = ("weights", "weight_step", "criterion", "unknown_threshold", "unknown_distance")

    def __init__(self, cfg=None, device="cpu", seed=0):
        super().__init__(cfg, device, seed)
        c = self.cfg
        if not isinstance(c["members"], dict) or not c["members"]:
            raise InputError("ensemble: members must name at least one classifier, e.g. "
                             "{joints: {type: pose_cnn}, bones: {type: pose_cnn, encoder_options: {streams: [bones]}}}")
        if c["criterion"] not in ("nll", "top1"):
            raise InputError(f"ensemble: criterion must be nll or top1, got {c['criterion']!r}")
        if not 0 < float(c["weight_step"]) <= 1 or abs(round(1 / c["weight_step"]) * c["weight_step"] - 1) > 1e-6:
            raise InputError(f"ensemble: weight_step must divide 1 (0.1, 0.05, ...), got {c['weight_step']!r}")
        w = c["weights"]
        if not (w in ("val", "equal") or (isinstance(w, (list, tuple)) and len(w) == len(c["members"])
                                          and all(float(v) >= 0 for v in w) and sum(w) > 0)):
            raise InputError(f"ensemble: weights must be val, equal or {len(c['members'])} non-negative numbers, "
                             f"got {w!r}")
        if c["input"] == "auto":  # a pipeline settles it (pipelines/config.py); built directly: 3D
            c["input"] = "3d"
        if w == "val" and len(c["members"]) > MAX_VAL_MEMBERS:
            raise InputError(f"ensemble: weights: val searches a grid over at most {MAX_VAL_MEMBERS} members, got "
                             f"{len(c['members'])}; give the weights as a list or use equal")
        self.members: Dict[str, ActionClassifier] = {}
        for i, (name, mcfg) in enumerate(c["members"].items()):
            mcfg = {**(c["shared"] or {}), **(mcfg or {})}
            if mcfg.get("type") in (None, "ensemble"):
                raise InputError(f"ensemble member {name}: needs a classifier type other than ensemble")
            if mcfg.get("input", "auto") == "auto":
                mcfg["input"] = c["input"]
            if c["input"] == "2d" and mcfg["input"] == "3d":
                raise InputError(f"ensemble member {name}: a 3D member needs a 3D ensemble (input: 3d after a lifter)")
            self.members[name] = build("action", mcfg, device=device, seed=self.seed + i)
        self.labels: List[str] = []
        #: the members' validation probabilities (M, N, C) and labels (N,): what ``weights: val`` is chosen on
        self.val_probs: Optional[np.ndarray] = None
        self.val_labels: Optional[np.ndarray] = None
        self.weights = self.choose()

    def choose(self) -> np.ndarray:
        """The fusion weights (M,) that the options ask for: chosen on the validation probabilities (``val``;
        equal weights when there is no validation split), ``equal``, or the given list, normalised."""
        w, n = self.cfg["weights"], len(self.members)
        if w == "val" and self.val_probs is not None and len(self.val_labels):
            return choose_weights(self.val_probs, self.val_labels, float(self.cfg["weight_step"]),
                                  self.cfg["criterion"])
        w = np.ones(n) if w in ("val", "equal") else np.asarray(w, np.float64)
        return w / w.sum()

    @property
    def needs_pose2d(self) -> bool:
        """True when a 3D ensemble has 2D members: ``predict`` also needs the 2D the 3D was lifted from."""
        return self.cfg["input"] == "3d" and any(m.cfg.get("input") == "2d" for m in self.members.values())

    # ------------------------------------------------------------------ training
    def fit(self, data) -> dict:
        self.labels = list(data.action_names)
        summary = {name: m.fit(data) for name, m in self.members.items()}
        out = {"members": {n: {k: v for k, v in s.items() if k not in ("loss", "val_top1")}
                           for n, s in summary.items()},
               "n_parameters": sum(s.get("n_parameters", 0) for s in summary.values())}
        if data.val:
            y = np.array([s.action for s in data.val])
            probs = np.stack([self._sample_probs(m, data.val) for m in self.members.values()])
            self.val_probs, self.val_labels = probs.astype(np.float32), y
            out["val_top1_members"] = {n: float((p.argmax(-1) == y).mean()) for n, p in zip(self.members, probs)}
        self.weights = self.choose()
        if data.val:
            out["best_val_top1"] = float((np.einsum("m,mnc->nc", self.weights, probs).argmax(-1) == y).mean())
        out["weights"] = dict(zip(self.members, map(float, self.weights)))
        return out

    def _sample_probs(self, member, samples) -> np.ndarray:
        """Member probabilities (N, C) of dataset samples (their ground truth of the member's dimension)."""
        return np.stack([member.infer(*member.sequence(s), self.cfg["multi_clip"])[0] for s in samples])

    # ------------------------------------------------------------------ inference
    def predict(self, seq, sample=None, multi_clip=None, pose2d: Optional[Pose2DSeq] = None) -> ActionResult:
        if not self.labels:
            raise RuntimeError("ensemble: not trained")
        if isinstance(seq, Pose3DSeq):
            inputs = {"3d": seq, "2d": pose2d}
        elif isinstance(seq, Pose2DSeq):
            inputs = {"2d": seq}
        else:
            raise InputError(f"ensemble: expected a Pose2DSeq or Pose3DSeq, got {type(seq).__name__}")
        multi = self.cfg["multi_clip"] if multi_clip is None else multi_clip
        p, d = np.zeros(len(self.labels)), 0.0
        for (name, m), w in zip(self.members.items(), self.weights):
            x = inputs.get(m.cfg["input"])
            if x is None:
                raise InputError(f"ensemble member {name}: needs {m.cfg['input'].upper()} poses; a 3D ensemble with "
                                 "2D members is given the lifter's 2D input as pose2d")
            pm, dm = m.infer(*m._coords(x), multi)
            p, d = p + w * pm, d + w * dm
        return ActionResult(p, tuple(self.labels), float(self.cfg["unknown_threshold"]), float(d),
                            float(self.cfg["unknown_distance"]))

    def encoded_clip(self, seq) -> np.ndarray:
        """What the first member that reads this hand-off sees (for the report's figure)."""
        dim = "3d" if isinstance(seq, Pose3DSeq) else "2d"
        for m in self.members.values():
            if m.cfg["input"] == dim and hasattr(m, "encoded_clip"):
                return m.encoded_clip(seq)
        raise InputError(f"ensemble: no member reads {dim.upper()} poses")

    def window_seconds(self) -> float:
        return max(m.window_seconds() for m in self.members.values())

    def state(self) -> dict:
        return {"members": {n: m.state() for n, m in self.members.items()}, "labels": self.labels,
                "input": self.cfg["input"], "val_probs": self.val_probs, "val_labels": self.val_labels}

    def load_state(self, state: dict) -> None:
        for n, m in self.members.items():
            m.load_state(state["members"][n])
        self._load_codec(state)

    def _load_codec(self, state: dict) -> None:
        self.cfg["input"] = state["input"]
        self.labels = list(state["labels"])
        self.val_probs, self.val_labels = state.get("val_probs"), state.get("val_labels")
        self.weights = self.choose()

    # ------------------------------------------------------------------ export (pipelines/export.py)
    def networks(self) -> dict:
        """Every member's networks, named ``<member>.<network>``."""
        return {f"{n}.{k}": spec for n, m in self.members.items() for k, spec in m.networks().items()}

    def codec_state(self) -> dict:
        return {**self.state(), "members": {n: m.codec_state() for n, m in self.members.items()}}

    def load_exported(self, state: dict, networks: dict) -> None:
        for n, m in self.members.items():
            m.load_exported(state["members"][n], {k.split(".", 1)[1]: v for k, v in networks.items()
                                                  if k.split(".", 1)[0] == n})
        self._load_codec(state)
