"""``pose_cnn``: a small CNN that classifies an encoded pose sequence (by default the ``pose_image`` of
Luvizon et al., seed 001, section 3.3.1; any registered encoder can be named).

Model: three stages of (3x3 conv, BatchNorm, ReLU) pairs over the (time x joints) image, halving time between
stages; max over time (the action may happen anywhere in the clip), flatten over joints (which joint moves
matters), dropout and a linear classifier. Training: Adam, cross-entropy, the best validation epoch kept;
augmentation on the fly: random window and speed, rotation about the vertical axis (3D), scale, coordinate
noise, dropped joints and left/right mirroring.

``train_on`` chooses the training poses: ``ground_truth``; ``chain`` - what the upstream stages of the pipeline
predict for the training clips (the pipeline runs them; Luvizon et al. likewise train the action part on
estimated poses); ``both`` (default) - the two together. On the default synthetic world the chain's top-1 was
0.18 when trained on ground truth only (detector errors are temporally coherent, unlike the noise of the
augmentation) and 0.83 with ``both``, which also keeps 1.00 on ground-truth input.
"""
from __future__ import annotations

import copy
import math
from typing import List

import numpy as np
import torch
from torch import nn

from common.errors import InputError
from common.handoff import ActionResult, Pose2DSeq, Pose3DSeq
from common.registry import build, register
from common.skeleton import get_layout
from common.stage import ActionClassifier
from common.training import seed_everything, train_epochs

from .clips import random_window, eval_windows


class PoseCNN(nn.Module):
    def __init__(self, in_ch: int, n_joints: int, n_classes: int, width: int = 32, dropout: float = 0.3):
        super().__init__()

        def block(cin, cout):
            return [nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True)]

        w = width
        self.features = nn.Sequential(
            *block(in_ch, w), *block(w, w), nn.MaxPool2d((2, 1)),
            *block(w, 2 * w), *block(2 * w, 2 * w), nn.MaxPool2d((2, 1)),
            *block(2 * w, 4 * w))
        self.head = nn.Sequential(nn.Flatten(), nn.Dropout(dropout), nn.Linear(4 * w * n_joints, n_classes))

    def forward(self, x):  # (N, C, T, J)
        f = self.features(x)
        return self.head(f.amax(dim=2))


@register("action", "pose_cnn")
class PoseCNNClassifier(ActionClassifier):
    defaults = {
        "encoder": "pose_image", "input": "auto", "clip_len": 32, "multi_clip": True, "width": 32,
        "dropout": 0.3, "epochs": 60, "batch_size": 32, "lr": 2e-3, "weight_decay": 1e-4,
        "aug_rotate_deg": 45.0, "aug_scale": 0.1, "aug_noise": 0.2, "aug_drop_rate": 0.05, "aug_flip": True,
        "aug_speed": 0.2, "train_on": "both",
    }

    def __init__(self, cfg=None, device="cpu", seed=0):
        super().__init__(cfg, device, seed)
        if self.cfg["train_on"] not in ("both", "chain", "ground_truth"):
            raise InputError("stages.stage3_action.train_on: expected both, chain or ground_truth, "
                             f"got {self.cfg['train_on']!r}")
        if self.cfg["input"] not in ("auto", "2d", "3d"):
            raise InputError(f"stages.stage3_action.input: expected auto, 2d or 3d, got {self.cfg['input']!r}")
        self.encoder = build("encoder", {"type": self.cfg["encoder"]})
        self.layout = get_layout("h36m17")
        self.model = None
        self.labels: List[str] = []

    @property
    def dim(self) -> int:
        return 2 if self.cfg["input"] == "2d" else 3

    # ------------------------------------------------------------------ data
    def _sequence(self, s):
        """Training sequence of a sample: (T, J, D) coordinates, (T, J) scores (ones unless the sample has
        scores, as the chain's predictions do)."""
        x = np.asarray(s.joints3d if self.dim == 3 else s.joints2d, np.float32)
        if self.dim == 3:
            x = x - x[:, :1]
        sc = np.ones(x.shape[:2], np.float32) if s.scores is None else np.asarray(s.scores, np.float32)
        return x, sc

    def _augment(self, x, sc, rng):
        c = self.cfg
        x = x.copy()
        sc = sc.copy()
        if self.dim == 3 and c["aug_rotate_deg"] > 0:
            a = math.radians(rng.uniform(-1, 1) * c["aug_rotate_deg"])
            R = np.array([[math.cos(a), 0, math.sin(a)], [0, 1, 0], [-math.sin(a), 0, math.cos(a)]], np.float32)
            x = x @ R.T
        if c["aug_flip"] and rng.random() < 0.5:
            x = x[:, self.layout.flip_permutation]
            x[..., 0] = -x[..., 0]
        if c["aug_drop_rate"] > 0:
            sc = np.where(rng.random(sc.shape) < c["aug_drop_rate"], 0.0, sc).astype(np.float32)
        return x, sc

    def _image(self, x, sc, idx, rng=None):
        img = self.encoder.encode(x[idx], sc[idx])
        if rng is not None:
            c = self.cfg
            img = img * rng.uniform(1 - c["aug_scale"], 1 + c["aug_scale"])
            img = img + rng.normal(0, c["aug_noise"], img.shape).astype(np.float32)
        return img

    # ------------------------------------------------------------------ training
    def fit(self, data) -> dict:
        c = self.cfg
        if c["input"] == "auto":
            c["input"] = "3d"
        g = seed_everything(self.seed)
        rng = np.random.default_rng(self.seed)
        self.labels = list(data.action_names)
        train = [(self._sequence(s), s.action) for s in data.train]
        if not train:
            raise InputError("action training: no training samples")
        self.model = PoseCNN(self.encoder.channels(self.dim), self.layout.n_joints, len(self.labels),
                             c["width"], c["dropout"]).to(self.device)
        opt = torch.optim.AdamW(self.model.parameters(), lr=c["lr"], weight_decay=c["weight_decay"])
        n_batches = max(1, math.ceil(len(train) / c["batch_size"]))
        sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=c["lr"], total_steps=n_batches * c["epochs"])
        order = {"perm": rng.permutation(len(train))}
        best = {"acc": -1.0, "state": None}

        def step(b):
            if b == 0:
                order["perm"] = rng.permutation(len(train))
            imgs, ys = [], []
            for i in order["perm"][b * c["batch_size"]:(b + 1) * c["batch_size"]]:
                (x, sc), y = train[i]
                x, sc = self._augment(x, sc, rng)
                idx = random_window(len(x), c["clip_len"], rng, c["aug_speed"])
                imgs.append(self._image(x, sc, idx, rng))
                ys.append(y)
            self.model.train()
            logits = self.model(torch.as_tensor(np.stack(imgs)).to(self.device))
            loss = nn.functional.cross_entropy(logits, torch.as_tensor(ys).to(self.device))
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            return loss.item()

        def validate():
            if not data.val:
                return float("nan")
            acc = float(np.mean([self._scores(*self._sequence(s)).argmax() == s.action for s in data.val]))
            if acc > best["acc"]:
                best.update(acc=acc, state=copy.deepcopy(self.model.state_dict()))
            return acc

        hist = train_epochs(step, n_batches, c["epochs"], f"train {self.registered_name}", validate)
        if best["state"] is not None:
            self.model.load_state_dict(best["state"])
        return {"loss": hist["loss"], "val_top1": hist["val"], "best_val_top1": best["acc"],
                "train_seconds": hist["train_seconds"], "n_train_sequences": len(train)}

    # ------------------------------------------------------------------ inference
    @torch.no_grad()
    def _scores(self, x, sc, multi=None) -> np.ndarray:
        multi = self.cfg["multi_clip"] if multi is None else multi
        self.model.eval()
        imgs = [self._image(x, sc, idx) for idx in eval_windows(len(x), self.cfg["clip_len"], multi)]
        p = torch.softmax(self.model(torch.as_tensor(np.stack(imgs)).to(self.device)), dim=-1)
        return p.mean(0).cpu().numpy()

    def predict(self, seq, sample=None, multi_clip=None) -> ActionResult:
        if self.model is None:
            raise RuntimeError(f"{self.registered_name}: not trained")
        if isinstance(seq, Pose3DSeq):
            x, dim = seq.joints[0], 3
        elif isinstance(seq, Pose2DSeq):
            x, dim = seq.keypoints[0], 2
        else:
            raise InputError(f"{self.registered_name}: expected a Pose2DSeq or Pose3DSeq, got {type(seq).__name__}")
        if dim != self.dim:
            raise InputError(f"{self.registered_name}: trained on {self.dim}D poses but got {dim}D; "
                             f"set stages.stage3_action.input={dim}d")
        if seq.layout != self.layout.name:
            raise InputError(f"{self.registered_name}: expects the {self.layout.name} layout, got {seq.layout}")
        return ActionResult(self._scores(x, seq.scores[0], multi_clip), tuple(self.labels))

    def state(self) -> dict:
        return {"model": self.model.state_dict(), "labels": self.labels, "cfg": self.cfg}

    def load_state(self, state: dict) -> None:
        self.labels = list(state["labels"])
        self.cfg["input"] = state["cfg"]["input"]
        self.model = PoseCNN(self.encoder.channels(self.dim), self.layout.n_joints, len(self.labels),
                             self.cfg["width"], self.cfg["dropout"]).to(self.device)
        self.model.load_state_dict(state["model"])
        self.model.eval()
