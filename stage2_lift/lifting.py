"""What single-frame lifters share: 2D/3D training pairs, detector-like and geometric augmentation,
normalisation, the training loop and flip-averaged inference.

Input: 2D key-points in pixels, normalised to the screen (``[-1, 1]`` along the width, VideoPose3D's
``normalize_screen_coordinates``), then z-scored per coordinate with training statistics (Martinez et al.
2017, "A simple yet effective baseline for 3d human pose estimation", section 3.2). Target: root-relative
camera-frame 3D joints in metres, z-scored per coordinate, the root omitted. A subclass supplies
``build_model(in_dim, out_dim)`` (a pure ``nn.Module``, tensor -> tensor).

Augmentation, each a switch (seed 000 and the ANCHORS.md tricks): ``rotate`` - the 3D pose turned about the
camera's vertical axis through the pelvis by up to ``rotate_deg`` and re-projected with the sample's
intrinsics, so new views are seen; ``flip`` - mirrored pose with left/right swapped; ``noise_px`` /
``drop_rate`` - detector-like 2D noise and dropped joints (moved to the pelvis). ``flip_test`` averages the
prediction of the input and of its mirror image.
"""
from __future__ import annotations

import math
from typing import Dict, List

import numpy as np
import torch
from torch import nn

from common.camera import normalize_screen
from common.errors import InputError
from common.handoff import Pose2DSeq, Pose3DSeq
from common.skeleton import get_layout
from common.stage import Lifter
from common.training import seed_everything, train_epochs

LIFTER_DEFAULTS = {
    "epochs": 30, "batch_size": 256, "lr": 1e-3, "lr_decay": 0.96, "weight_decay": 0.0,
    "rotate": True, "rotate_deg": 180.0, "flip": True, "noise_px": 2.0, "drop_rate": 0.02, "flip_test": True,
}


def collect_pairs(samples) -> Dict[str, np.ndarray]:
    """All frames of ``samples`` as arrays: 3D camera-frame joints, intrinsics (fx, fy, cx, cy), image size."""
    if not samples:
        raise InputError("lifter training: no training samples")
    j3, K, size = [], [], []
    for s in samples:
        if s.joints3d is None or s.camera is None:
            raise InputError(f"lifter training: sample {s.name} has no 3D joints or camera")
        j3.append(np.asarray(s.joints3d, np.float32))
        c = s.camera
        K.append(np.tile([c.fx, c.fy, c.cx, c.cy], (s.n_frames, 1)))
        size.append(np.tile(s.image_size, (s.n_frames, 1)))
    return {"j3": np.concatenate(j3), "K": np.concatenate(K).astype(np.float32),
            "size": np.concatenate(size).astype(np.float32)}


def _project(X: torch.Tensor, K: torch.Tensor) -> torch.Tensor:
    """Pinhole projection of (N, J, 3) camera-frame points with per-pose intrinsics (N, 4)."""
    z = X[..., 2:3].clamp(min=1e-3)
    return torch.cat([X[..., :1] / z * K[:, None, 0:1] + K[:, None, 2:3],
                      X[..., 1:2] / z * K[:, None, 1:2] + K[:, None, 3:4]], dim=-1)


def _normalize(uv: torch.Tensor, size: torch.Tensor) -> torch.Tensor:
    w, h = size[:, None, 0:1], size[:, None, 1:2]
    return torch.cat([uv[..., :1] / w * 2 - 1, uv[..., 1:] / w * 2 - h / w], dim=-1)


class SingleFrameLifter(Lifter):
    """Base of lifters mapping one frame's 2D pose to its 3D pose."""

    defaults = dict(LIFTER_DEFAULTS)

    def __init__(self, cfg=None, device="cpu", seed=0):
        super().__init__(cfg, device, seed)
        self.model: nn.Module | None = None
        self.stats: Dict[str, np.ndarray] = {}
        self.layout = get_layout("h36m17")

    def build_model(self, in_dim: int, out_dim: int) -> nn.Module:
        raise NotImplementedError  # abstract

    # ------------------------------------------------------------------ encode / decode
    def _encode(self, xy: torch.Tensor) -> torch.Tensor:
        s = self.stats
        return ((xy.reshape(len(xy), -1) - s["x_mean"]) / s["x_std"]).float()

    def _decode(self, y: torch.Tensor) -> torch.Tensor:
        s = self.stats
        y = y * s["y_std"] + s["y_mean"]
        y = y.reshape(len(y), -1, 3)
        return torch.cat([torch.zeros_like(y[:, :1]), y], dim=1)

    def _augment(self, j3, K, size, g: torch.Generator, train: bool):
        """(N,J,3) camera joints -> (normalised 2D input, root-relative 3D target without the root)."""
        c = self.cfg
        perm = torch.as_tensor(self.layout.flip_permutation)
        if train and c["rotate"]:
            a = (torch.rand(len(j3), generator=g) * 2 - 1) * math.radians(c["rotate_deg"])
            ca, sa = torch.cos(a)[:, None], torch.sin(a)[:, None]
            root = j3[:, :1]
            d = j3 - root
            x = ca * d[..., 0] + sa * d[..., 2]
            z = -sa * d[..., 0] + ca * d[..., 2]
            j3 = root + torch.stack([x, d[..., 1], z], dim=-1)
        if train and c["flip"]:
            f = torch.rand(len(j3), generator=g) < 0.5
            mirrored = j3[:, perm] * torch.tensor([-1.0, 1.0, 1.0])
            j3 = torch.where(f[:, None, None], mirrored, j3)
        uv = _project(j3, K)
        if train and c["noise_px"] > 0:
            uv = uv + torch.randn(uv.shape, generator=g) * c["noise_px"]
        if train and c["drop_rate"] > 0:
            drop = torch.rand(uv.shape[:2], generator=g) < c["drop_rate"]
            drop[:, 0] = False
            uv = torch.where(drop[..., None], uv[:, :1].expand_as(uv), uv)
        return _normalize(uv, size), (j3 - j3[:, :1])[:, 1:]

    # ------------------------------------------------------------------ training
    def fit(self, data) -> dict:
        c = self.cfg
        g = seed_everything(self.seed)
        tr = {k: torch.as_tensor(v) for k, v in collect_pairs(data.train).items()}
        va = {k: torch.as_tensor(v) for k, v in collect_pairs(data.val).items()} if data.val else None
        x, y = self._augment(tr["j3"], tr["K"], tr["size"], g, train=True)
        self.stats = {"x_mean": x.reshape(len(x), -1).mean(0), "x_std": x.reshape(len(x), -1).std(0) + 1e-6,
                      "y_mean": y.reshape(len(y), -1).mean(0), "y_std": y.reshape(len(y), -1).std(0) + 1e-6}
        n_j = tr["j3"].shape[1]
        self.model = self.build_model(2 * n_j, 3 * (n_j - 1)).to(self.device)
        opt = torch.optim.Adam(self.model.parameters(), lr=c["lr"], weight_decay=c["weight_decay"])
        sched = torch.optim.lr_scheduler.ExponentialLR(opt, gamma=c["lr_decay"])
        n = len(tr["j3"])
        n_batches = max(1, n // c["batch_size"])
        order = {"perm": torch.randperm(n, generator=g)}

        def step(b: int) -> float:
            if b == 0:
                order["perm"] = torch.randperm(n, generator=g)
            idx = order["perm"][b * c["batch_size"]:(b + 1) * c["batch_size"]]
            xb, yb = self._augment(tr["j3"][idx], tr["K"][idx], tr["size"][idx], g, train=True)
            self.model.train()
            pred = self.model(self._encode(xb).to(self.device))
            target = ((yb.reshape(len(yb), -1) - self.stats["y_mean"]) / self.stats["y_std"]).to(self.device)
            loss = (pred - target).pow(2).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            return loss.item()

        def validate() -> float:
            if va is None:
                return float("nan")
            xv, yv = self._augment(va["j3"], va["K"], va["size"], g, train=False)
            pred = self._predict_norm(xv)[:, 1:]
            return -float((pred - yv).norm(dim=-1).mean()) * 1000  # -MPJPE in mm (higher is better)

        hist = train_epochs(step, n_batches, c["epochs"], f"train {self.registered_name}", validate,
                            on_epoch_end=lambda ep: sched.step())
        return {"loss": hist["loss"], "val_mpjpe_mm": [-v for v in hist["val"]],
                "train_seconds": hist["train_seconds"], "n_train_poses": n}

    # ------------------------------------------------------------------ inference
    @torch.no_grad()
    def _predict_norm(self, xy: torch.Tensor) -> torch.Tensor:
        """Normalised 2D (N, J, 2) -> root-relative 3D (N, J, 3) metres, flip-averaged when enabled."""
        self.model.eval()
        out = self._decode(self.model(self._encode(xy).to(self.device)).cpu())
        if self.cfg["flip_test"]:
            perm = torch.as_tensor(self.layout.flip_permutation)
            xf = xy[:, perm] * torch.tensor([-1.0, 1.0])
            of = self._decode(self.model(self._encode(xf).to(self.device)).cpu())
            out = (out + of[:, perm] * torch.tensor([-1.0, 1.0, 1.0])) / 2
        return out

    def predict(self, pose2d: Pose2DSeq, sample=None) -> Pose3DSeq:
        if self.model is None:
            raise RuntimeError(f"{self.registered_name}: not trained")
        if pose2d.layout != self.layout.name:
            raise InputError(f"{self.registered_name}: expects 2D key-points in the {self.layout.name} layout, got {pose2d.layout}")
        P, T, J, _ = pose2d.keypoints.shape
        w, h = pose2d.image_size
        xy = torch.as_tensor(normalize_screen(pose2d.keypoints.reshape(P * T, J, 2), w, h), dtype=torch.float32)
        j3 = self._predict_norm(xy).numpy().reshape(P, T, J, 3)
        return Pose3DSeq(j3, pose2d.scores, fps=pose2d.fps, layout=pose2d.layout)

    # ------------------------------------------------------------------ checkpoint
    def state(self) -> dict:
        return {"model": self.model.state_dict(), "stats": self.stats, "cfg": self.cfg}

    def load_state(self, state: dict) -> None:
        self.stats = state["stats"]
        n_in = int(self.stats["x_mean"].numel())
        self.model = self.build_model(n_in, int(self.stats["y_mean"].numel())).to(self.device)
        self.model.load_state_dict(state["model"])
        self.model.eval()
