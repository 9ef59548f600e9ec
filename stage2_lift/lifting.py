"""What single-frame lifters share: 2D/3D training pairs, detector-like and geometric augmentation,
normalisation, the training loop and flip-averaged inference.

Input: 2D key-points in pixels, normalised to the screen (``[-1, 1]`` along the width, VideoPose3D's
``normalize_screen_coordinates``), then z-scored per coordinate with training statistics (Martinez et al.
2017, "A simple yet effective baseline for 3d human pose estimation", section 3.2). Target: root-relative
camera-frame 3D joints in metres, z-scored per coordinate, the root omitted. A subclass supplies
``build_model(in_dim, out_dim)`` (a pure ``nn.Module``, tensor -> tensor).

Augmentation, each a switch (Tang et al. 2020 and the ANCHORS.md tricks): ``rotate`` - the 3D pose turned about the
camera's vertical axis through the pelvis by up to ``rotate_deg`` and re-projected with the sample's
intrinsics, so new views are seen; ``flip`` - mirrored pose with left/right swapped; ``noise_px`` /
``drop_rate`` - detector-like 2D noise and dropped joints (moved to the pelvis); ``bone_scale`` - each bone
(left and right alike) stretched by a log-normal factor of that standard deviation (``common.augment.scale_bones``), so
people and mocap skeletons of other proportions are seen; PoseAug-style (``common/augment.py``):
``proportion_scale`` - legs, torso and arms each stretched by one log-normal factor of that std;
``elevation_deg`` - the camera raised or lowered around the person by up to that angle; ``distance_scale`` /
``focal_scale`` - the camera's distance and focal length times a log-uniform factor in [1/s, s]. ``flip_test``
averages the prediction of the input and of its mirror image.
"""
from __future__ import annotations

import math
from typing import Dict

import numpy as np
import torch
from torch import nn

from common.augment import (
    Compose,
    Draw,
    RandomMirror,
    RandomTurn,
    mirror,
    move_along_ray,
    part_factors,
    scale_bones,
    tilt_about_root,
)
from common.camera import normalize_screen
from common.distributed import shard, sync_replicas
from common.errors import InputError
from common.handoff import Pose2DSeq, Pose3DSeq
from common.noise import detector_noise
from common.onnx_backend import ExportSpec
from common.skeleton import get_layout
from common.stage import Lifter
from common.training import seed_everything, train_epochs

LIFTER_DEFAULTS = {
    "epochs": 30, "batch_size": 256, "lr": 1e-3, "lr_decay": 0.96, "weight_decay": 0.0,
    "rotate": True, "rotate_deg": 180.0, "flip": True, "noise_px": 2.0, "drop_rate": 0.02, "flip_test": True,
    "bone_scale": 0.0, "proportion_scale": 0.0, "elevation_deg": 0.0, "distance_scale": 1.0, "focal_scale": 1.0,
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


def project(X: torch.Tensor, K: torch.Tensor) -> torch.Tensor:
    """Pinhole projection of (N, J, 3) camera-frame points with per-pose intrinsics (N, 4)."""
    z = X[..., 2:3].clamp(min=1e-3)
    return torch.cat([X[..., :1] / z * K[:, None, 0:1] + K[:, None, 2:3],
                      X[..., 1:2] / z * K[:, None, 1:2] + K[:, None, 3:4]], dim=-1)


def normalize(uv: torch.Tensor, size: torch.Tensor) -> torch.Tensor:
    w, h = size[:, None, 0:1], size[:, None, 1:2]
    return torch.cat([uv[..., :1] / w * 2 - 1, uv[..., 1:] / w * 2 - h / w], dim=-1)


class SingleFrameLifter(Lifter):
    """Base of lifters mapping one frame's 2D pose to its 3D pose."""

    defaults = dict(LIFTER_DEFAULTS)
    #: the test-time flip changes only inference: switching it reuses a checkpoint
    inference_options = ("flip_test",)

    def __init__(self, cfg=None, device="cpu", seed=0):
        super().__init__(cfg, device, seed)
        self.model: nn.Module | None = None
        self.stats: Dict[str, np.ndarray] = {}
        self.layout = get_layout("h36m17")
        self._g: torch.Generator | None = None            # training state, set by prepare()
        self._tr: Dict[str, torch.Tensor] | None = None
        self._va: Dict[str, torch.Tensor] | None = None
        #: the exported inference map run in place of :meth:`forward` (``backend: onnx``), else None
        self.runner = None

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

    def views(self, j3: torch.Tensor, K: torch.Tensor, size: torch.Tensor, g: torch.Generator,
              train: bool) -> Dict[str, torch.Tensor]:
        """A batch of training (or validation) views of camera-frame joints ``j3`` (N, J, 3).

        Returns ``j3`` (the posed joints, after rotation and flip), ``K``, ``size``, ``x_clean`` (their exact 2D,
        screen-normalised), ``x`` (the same with detector-like noise and drops when ``train``, else ``x_clean``)
        and ``y`` (the root-relative 3D target without the root, metres).
        """
        c = self.cfg
        if train:
            j3 = self.reshape_body(j3, g, len(j3))
            j3, _ = Compose(RandomTurn(c["rotate_deg"], origin=lambda p: p[:, :1], per=1) if c["rotate"] else None,
                            RandomMirror(self.layout, per=1) if c["flip"] else None)(j3, None, Draw(g))
            j3, K = self.move_camera(j3, K, g, len(j3))
        uv = project(j3, K)
        noisy = detector_noise(uv, None, c["noise_px"], c["drop_rate"], g)[0] if train else uv
        return {"j3": j3, "K": K, "size": size, "x_clean": normalize(uv, size), "x": normalize(noisy, size),
                "y": (j3 - j3[:, :1])[:, 1:]}

    def reshape_body(self, j3: torch.Tensor, g: torch.Generator, n: int) -> torch.Tensor:
        """Bone-length and body-proportion augmentation of poses (N, J, 3); one draw per group of N / ``n``
        consecutive poses (a window of a temporal lifter)."""
        c = self.cfg
        if c["bone_scale"] <= 0 and c["proportion_scale"] <= 0:
            return j3
        f = torch.exp(torch.randn(n, j3.shape[1], generator=g) * c["bone_scale"])
        if c["proportion_scale"] > 0:
            f = f * part_factors(self.layout, torch.randn(n, 3, generator=g), c["proportion_scale"])
        return scale_bones(j3, self.layout, f.repeat_interleave(len(j3) // n, 0))

    def move_camera(self, j3: torch.Tensor, K: torch.Tensor, g: torch.Generator, n: int):
        """Camera elevation, distance and focal-length augmentation of camera-frame poses (N, J, 3) and their
        intrinsics (N, 4); one draw per group of N / ``n`` consecutive poses, turned about each pose's own root."""
        c = self.cfg
        rep = len(j3) // n

        def draw(lo, hi):
            return (lo + (hi - lo) * torch.rand(n, generator=g)).repeat_interleave(rep, 0)

        if c["elevation_deg"] > 0:
            j3 = tilt_about_root(j3, draw(-1, 1) * math.radians(c["elevation_deg"]))
        if c["distance_scale"] > 1:
            j3 = move_along_ray(j3, torch.exp(draw(-1, 1) * math.log(c["distance_scale"])))
        if c["focal_scale"] > 1:
            K = K * torch.cat([torch.exp(draw(-1, 1) * math.log(c["focal_scale"]))[:, None].expand(-1, 2),
                               torch.ones(len(K), 2)], 1)
        return j3, K

    def target(self, y: torch.Tensor) -> torch.Tensor:
        """Root-relative 3D (N, J-1, 3) -> the z-scored vector the network regresses."""
        return ((y.reshape(len(y), -1) - self.stats["y_mean"]) / self.stats["y_std"]).to(self.device)

    def loss(self, batch: Dict[str, torch.Tensor]) -> torch.Tensor:
        """Training loss of one batch of :meth:`views` (mean squared error on the z-scored target)."""
        pred = self.model(self._encode(batch["x"]).to(self.device))
        return (pred - self.target(batch["y"])).pow(2).mean()

    def forward(self, x_enc: torch.Tensor) -> torch.Tensor:
        """Inference map of encoded 2D to the z-scored target (one input; subclasses may combine streams)."""
        return self.model(x_enc)

    # ------------------------------------------------------------------ training
    def prepare(self, data) -> None:
        """Training and validation poses as tensors, normalisation statistics, a fresh model."""
        self._g = seed_everything(self.seed)
        self._tr = {k: torch.as_tensor(v) for k, v in collect_pairs(data.train).items()}
        self._va = {k: torch.as_tensor(v) for k, v in collect_pairs(data.val).items()} if data.val else None
        b = self.views(self._tr["j3"], self._tr["K"], self._tr["size"], self._g, train=True)
        x, y = b["x"].reshape(len(b["x"]), -1), b["y"].reshape(len(b["y"]), -1)
        self.stats = {"x_mean": x.mean(0), "x_std": x.std(0) + 1e-6, "y_mean": y.mean(0), "y_std": y.std(0) + 1e-6}
        n_j = self._tr["j3"].shape[1]
        self.model = self.build_model(2 * n_j, 3 * (n_j - 1)).to(self.device)

    def train_phase(self, params, epochs: int, desc: str, loss_fn=None) -> dict:
        """Adam with exponential decay over ``params`` for ``epochs`` epochs of ``loss_fn`` (default
        :meth:`loss`) on fresh augmented views of the training poses; validation MPJPE after each epoch."""
        c, g, tr = self.cfg, self._g, self._tr
        loss_fn = loss_fn or self.loss
        opt = torch.optim.Adam(params, lr=c["lr"], weight_decay=c["weight_decay"])
        sched = torch.optim.lr_scheduler.ExponentialLR(opt, gamma=c["lr_decay"])
        n = len(tr["j3"])
        n_batches = max(1, n // c["batch_size"])
        order = {"perm": torch.randperm(n, generator=g)}

        def step(b: int) -> float:
            if b == 0:
                order["perm"] = torch.randperm(n, generator=g)
            idx = order["perm"][b * c["batch_size"]:(b + 1) * c["batch_size"]]
            self.model.train()
            # the same views on every process (same generator), each its own rows (common/distributed.py)
            loss = loss_fn(shard(self.views(tr["j3"][idx], tr["K"][idx], tr["size"][idx], g, train=True)))
            opt.zero_grad()
            loss.backward()
            sync_replicas(self.model)
            opt.step()
            return loss.item()

        hist = train_epochs(step, n_batches, epochs, desc, self.validate if self._va else None,
                            on_epoch_end=lambda ep: sched.step(),
                            state={"model": self.model, "opt": opt, "sched": sched, "g": g, "order": order})
        return {"loss": hist["loss"], "val_mpjpe_mm": [-v for v in hist["val"]],
                "train_seconds": hist["train_seconds"], "n_train_poses": n}

    def validate(self) -> float:
        """-MPJPE (mm) on the validation poses with exact 2D (higher is better)."""
        va = self._va
        b = self.views(va["j3"], va["K"], va["size"], self._g, train=False)
        pred = self._predict_norm(b["x"])[:, 1:]
        return -float((pred - b["y"]).norm(dim=-1).mean()) * 1000

    def fit(self, data) -> dict:
        self.prepare(data)
        return self.train_phase(self.model.parameters(), self.cfg["epochs"], f"train {self.registered_name}")

    # ------------------------------------------------------------------ inference
    @torch.no_grad()
    def _predict_norm(self, xy: torch.Tensor) -> torch.Tensor:
        """Normalised 2D (N, J, 2) -> root-relative 3D (N, J, 3) metres, flip-averaged when enabled."""
        self.model.eval()
        net = self.runner or self.forward
        out = self._decode(net(self._encode(xy).to(self.device)).cpu())
        if self.cfg["flip_test"]:
            of = self._decode(net(self._encode(mirror(xy, self.layout)[0]).to(self.device)).cpu())
            out = (out + mirror(of, self.layout)[0]) / 2
        return out

    def predict(self, pose2d: Pose2DSeq, sample=None) -> Pose3DSeq:
        if self.model is None:
            raise RuntimeError(f"{self.registered_name}: not trained")
        if pose2d.layout != self.layout.name:
            raise InputError(f"{self.registered_name}: expects 2D key-points in the {self.layout.name} layout, "
                             f"got {pose2d.layout}")
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

    # ------------------------------------------------------------------ export (pipelines/export.py)
    def networks(self) -> Dict[str, ExportSpec]:
        """The inference map (:meth:`forward`: z-scored 2D (N, 2J) -> z-scored 3D (N, 3(J-1))) as ``lifter``."""
        n_in = int(self.stats["x_mean"].numel())
        return {"lifter": ExportSpec(InferenceMap(self), {"x": torch.zeros(2, n_in)}, ("y",),
                                     {"x": {0: "n"}, "y": {0: "n"}})}

    def load_exported(self, state: dict, networks: Dict[str, object]) -> None:
        self.stats = state["stats"]
        self.model = self.runner = networks["lifter"]


class InferenceMap(nn.Module):
    """A lifter's :meth:`SingleFrameLifter.forward` as a module of its own (what is traced for export)."""

    def __init__(self, lifter: SingleFrameLifter):
        super().__init__()
        self.model = lifter.model
        self._forward = lifter.forward

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self._forward(x)
