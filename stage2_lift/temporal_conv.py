"""``temporal_conv``: the dilated temporal convolutional lifter of Pavllo et al., "3D human pose estimation in
video with temporal convolutions and semi-supervised training" (CVPR 2019, VideoPose3D), with a causal option
and the action-directed training of Bai, "An Pose Estimation Training Method For VideoPose3D with Action
Recognition" (Bai).

Model: :class:`~stage2_lift.temporal_conv_net.TemporalConvNet` (VideoPose3D Fig. 2), receptive field ``R``
frames; its output is the lifter base's z-scored, root-relative 3D pose without the root
(:class:`~stage2_lift.lifting.SingleFrameLifter`: same input and target normalisation).

Training (the simple form of VideoPose3D's single-receptive-field training): every training frame is the
target of one window of ``R`` frames cut from its sequence (the frame is the window's centre, or its last
frame when ``causal``), the sequence's ends replicate-padded. Augmentation per window: one rotation angle
about the vertical axis through the target frame's pelvis and one left/right flip for all its frames (a
consistent new view of the clip) and one set of bone-length factors, and detector-like noise and dropped
joints drawn per frame (base options ``rotate``, ``flip``, ``bone_scale``, ``noise_px``, ``drop_rate``). Loss:
mean squared error on the z-scored target, Adam with exponential decay per epoch; an epoch is
``len(train frames) // batch_size`` steps (frames counted at the network's rate ``fps``, see below).

Inference lifts a whole sequence in one pass: the encoded 2D sequence is replicate-padded by ``(R-1)/2`` frames at
each end (all ``R-1`` at the start when ``causal``, so the output at frame ``t`` uses frames ``<= t`` only: an
on-line lifter with a latency of zero frames; input at another rate than the network's: see "Frame rate" below),
so the output has the input's length, however short. ``flip_test`` averages the prediction of the sequence and of
its mirror image as in the base.

Frame rate (option ``fps``, default 25.0, the synthetic world's rate): the rate the network works at. A window of
``R`` frames spans ``R / fps`` seconds, so a network trained on 25 fps windows that is fed 120 fps key-points sees
motion about five times too slow (and one trained on 10 fps mocap as is, then used on 25 fps video, sees motion
2.5 times slower than it learnt): the window must span the same time in training and in use. So every training
sample's 3D sequence is first resampled in time from ``sample.fps`` to ``fps`` (:func:`resample_time`, linear
interpolation; camera, intrinsics and image size kept) and the windows are cut from the resampled sequence (an
epoch counts the resampled frames). At inference, when ``Pose2DSeq.fps`` differs from ``fps`` by more than 1 %,
each person's 2D key-points are resampled to ``fps`` (linearly; when ``causal`` see below), lifted, and the 3D is
sampled back at the input's own frame times (:func:`sample_frames`), so the output keeps the input's frame count
and frame ``i`` is input frame ``i``; the scores are passed through unchanged (the network does not read them).
``fps: null`` uses every sequence at its own rate (the behaviour before the option existed). Validation lifts each
validation sample the same way, from its own rate. The rate is saved with the checkpoint and :meth:`load_state`
refuses a checkpoint trained at another rate.

Causal mode stays causal at any input rate: the output at input frame ``t`` depends on frames ``<= t`` only, and
on frame ``t`` itself. Linear resampling both ways would break this (the 2D at a network time between two input
frames uses the later one, and the 3D at an input time between two network frames uses the later one), and
sample-and-hold both ways would keep it but let an output ignore its own frame (up to one network frame plus one
input frame late). Instead each input frame gets a network grid (at ``fps``, the network's rate) that ends less
than ``1 / (K * fps)`` seconds, ``K = ceil(input fps / fps)`` (at most 64), i.e. less than one input frame, before
its time (at it when they coincide); the grid's 2D is interpolated linearly between the input frames around each
grid time, all at or before frame ``t``, and the causal network's output at the grid's last time is frame ``t``'s
3D. The frames whose times fall in the same ``1 / K`` of a network frame share one grid, so this costs ``K``
passes over the sequence at the network's rate (about one pass at the input's rate). The centred model resamples
linearly both ways (each output then looks a fraction of a frame further ahead than its ``(R-1)/2`` network
frames).

``action_directed`` (Bai, sections 3-4): one model ("expert") per action class present in the training
split, each trained only on that class's training sequences (normalisation statistics are shared, computed on
all training poses). Each expert makes as many gradient steps of ``batch_size`` windows as the model trained on
all actions (Bai eq. (1): the frames seen by one action-directed model equal the frames seen by the
all-actions model, i.e. ``epochs * n_classes`` of the seed's "unit-epochs" on a balanced set); its own windows
are drawn from reshuffled passes over them. Training therefore costs ``n_classes`` times the all-actions model.
At inference the expert of the sample's action (``sample.action``) lifts it - the seed's protocol, "we estimate
ONLY result for this certain action" - so the lifter needs the ground-truth action label: it raises
:class:`~common.errors.InputError` on a video without one (``sample`` None) and for an action no expert was
trained on. ``state()`` saves every expert.

Sizes: the paper uses ``channels`` 1024, ``filter_widths`` [3, 3, 3, 3, 3] (243 frames), dropout 0.25, batch
1024, lr decay 0.95 for 80 epochs on Human3.6M; the default here (256 channels, [3, 3, 3] = 27 frames) trains
on a CPU in minutes (``--set stages.stage2_lift.channels=1024`` and ``filter_widths=[3,3,3,3,3]`` scale it up).
"""
from __future__ import annotations

import math
from typing import Dict, List, Optional

import numpy as np
import torch
from torch import nn

from common.augment import Compose, Draw, RandomMirror, RandomTurn, mirror
from common.camera import normalize_screen
from common.distributed import shard, sync_replicas
from common.errors import InputError
from common.handoff import Pose2DSeq, Pose3DSeq
from common.noise import detector_noise
from common.onnx_backend import ExportSpec
from common.registry import register
from common.resample import resample_time, sample_frames
from common.training import train_epochs

from .lifting import LIFTER_DEFAULTS, SingleFrameLifter, normalize, project
from .temporal_conv_net import TemporalConvNet, check_filter_widths, receptive_field


def check_fps(fps, where: str = "temporal_conv.fps") -> Optional[float]:
    """The network's frame rate: a number > 0, or None (each sequence at its own rate)."""
    if fps is None:
        return None
    try:
        f = float(fps)
    except (TypeError, ValueError):
        f = float("nan")
    if isinstance(fps, bool) or not (f > 0 and math.isfinite(f)):
        raise InputError(f"{where}: expected a frame rate > 0 (e.g. 25) or null (sequences at their own rate), "
                         f"got {fps!r}")
    return f


class _IndexStream:
    """Indices 0..n-1 in reshuffled passes, drawn ``k`` at a time (a pass may end mid-batch)."""

    def __init__(self, n: int, g: torch.Generator):
        self.n, self.g = n, g
        self.buf = torch.empty(0, dtype=torch.long)

    def state_dict(self) -> dict:
        return {"buf": self.buf.clone()}

    def load_state_dict(self, state: dict) -> None:
        self.buf = state["buf"].clone()

    def take(self, k: int) -> torch.Tensor:
        while len(self.buf) < k:
            self.buf = torch.cat([self.buf, torch.randperm(self.n, generator=self.g)])
        out, self.buf = self.buf[:k], self.buf[k:]
        return out


@register("lifter", "temporal_conv")
class TemporalConvLifter(SingleFrameLifter):
    defaults = {**LIFTER_DEFAULTS, "channels": 256, "filter_widths": [3, 3, 3], "dropout": 0.25,
                "causal": False, "action_directed": False, "fps": 25.0}

    def __init__(self, cfg=None, device="cpu", seed=0):
        super().__init__(cfg, device, seed)
        self.cfg["filter_widths"] = check_filter_widths(self.cfg["filter_widths"])
        self.cfg["fps"] = check_fps(self.cfg["fps"])
        self.experts: Dict[int, nn.Module] = {}          # action -> model, when action_directed
        self.action_names: List[str] = []
        self._win: Optional[Dict[str, torch.Tensor]] = None
        self._val_samples: list = []

    # ------------------------------------------------------------------ geometry of the windows
    @property
    def receptive_field(self) -> int:
        return receptive_field(self.cfg["filter_widths"])

    @property
    def pad_left_right(self):
        r = self.receptive_field - 1
        return (r, 0) if self.cfg["causal"] else (r // 2, r // 2)

    def causal_frames(self, fps: float) -> int:
        """The receptive field, in frames at ``fps`` (plus one for the resampling to the network's rate)."""
        if not self.cfg["causal"]:
            raise InputError(f"{self.registered_name}: --stream lifts each frame as it arrives, which needs a "
                             "causal network (set stages.stage2_lift.causal=true and train it)")
        own = self.cfg["fps"] or fps
        return math.ceil(self.receptive_field * max(1.0, float(fps) / own)) + 1

    def build_model(self, in_dim: int, out_dim: int) -> nn.Module:
        c = self.cfg
        return TemporalConvNet(in_dim, out_dim, c["filter_widths"], c["channels"], c["dropout"], c["causal"])

    def resamples(self, fps) -> bool:
        """True when a sequence at ``fps`` is resampled to the network's rate at inference (more than 1 % off)."""
        own = self.cfg["fps"]
        return own is not None and abs(float(fps) - own) > 0.01 * own

    def _windows(self, samples) -> Dict[str, torch.Tensor]:
        """Every frame of ``samples`` (each resampled to the network's rate ``fps`` first) as the target of one
        window: the sequences replicate-padded and joined (``j3``), each window's first row (``start``), its
        intrinsics, image size and action."""
        pl, pr = self.pad_left_right
        j3, start, K, size, action = [], [], [], [], []
        offset = 0
        for s in samples:
            if s.joints3d is None or s.camera is None:
                raise InputError(f"lifter training: sample {s.name} has no 3D joints or camera")
            j = np.asarray(s.joints3d, np.float32)
            if self.cfg["fps"] is not None:
                if not (s.fps is not None and float(s.fps) > 0):
                    raise InputError(f"lifter training: sample {s.name} has no frame rate (fps {s.fps!r})")
                j = resample_time(j, s.fps, self.cfg["fps"], "linear", axis=0)
            j3.append(np.concatenate([np.repeat(j[:1], pl, 0), j, np.repeat(j[-1:], pr, 0)]))
            T = len(j)
            start.append(offset + np.arange(T))
            offset += T + pl + pr
            c = s.camera
            K.append(np.tile([c.fx, c.fy, c.cx, c.cy], (T, 1)))
            size.append(np.tile(s.image_size, (T, 1)))
            action.append(np.full(T, int(s.action)))
        return {"j3": torch.as_tensor(np.concatenate(j3)), "start": torch.as_tensor(np.concatenate(start)),
                "K": torch.as_tensor(np.concatenate(K), dtype=torch.float32),
                "size": torch.as_tensor(np.concatenate(size), dtype=torch.float32),
                "action": torch.as_tensor(np.concatenate(action))}

    def window_views(self, j3: torch.Tensor, K: torch.Tensor, size: torch.Tensor, g: torch.Generator,
                     train: bool) -> Dict[str, torch.Tensor]:
        """Augmented views of windows ``j3`` (B, L, J, 3): one rotation and flip per window, noise and drops
        per frame. Returns ``x`` (B, L, J, 2) screen-normalised 2D and ``y`` (B, L, J-1, 3) root-relative 3D."""
        c = self.cfg
        B, L, J, _ = j3.shape
        if train:  # one skeleton per window
            j3 = self.reshape_body(j3.reshape(B * L, J, 3), g, B).reshape(B, L, J, 3)
            pl = self.pad_left_right[0]  # about the target frame's pelvis (B, 1, 1, 3)
            j3, _ = Compose(RandomTurn(c["rotate_deg"], origin=lambda w: w[:, pl, :1][:, None], per=1)
                            if c["rotate"] else None,
                            RandomMirror(self.layout, per=1) if c["flip"] else None)(j3, None, Draw(g))
        flat = j3.reshape(B * L, J, 3)
        Kf, sf = K.repeat_interleave(L, 0), size.repeat_interleave(L, 0)
        if train:  # one camera per window
            flat, Kf = self.move_camera(flat, Kf, g, B)
            j3 = flat.reshape(B, L, J, 3)
        uv = project(flat, Kf)
        if train:
            uv, _ = detector_noise(uv, None, c["noise_px"], c["drop_rate"], g)
        return {"x": normalize(uv, sf).reshape(B, L, J, 2), "y": (j3 - j3[:, :, :1])[:, :, 1:]}

    # ------------------------------------------------------------------ network on encoded sequences
    def _encode_seq(self, xy: torch.Tensor) -> torch.Tensor:
        """(N, T, J, 2) screen-normalised -> (N, T, J*2) z-scored."""
        N, T = xy.shape[:2]
        return self._encode(xy.reshape(N * T, *xy.shape[2:])).reshape(N, T, -1)

    @torch.no_grad()
    def _lift(self, model: nn.Module, xy: torch.Tensor) -> torch.Tensor:
        """Whole sequences (N, T, J, 2) screen-normalised -> root-relative 3D (N, T, J, 3), one pass, ends
        replicate-padded, flip-averaged when ``flip_test``."""
        model.eval()
        pl, pr = self.pad_left_right
        N, T = xy.shape[:2]

        def run(v):
            e = self._encode_seq(v)
            e = torch.cat([e[:, :1].expand(N, pl, -1), e, e[:, -1:].expand(N, pr, -1)], 1).to(self.device)
            out = model(e).cpu().reshape(N * T, -1)
            return self._decode(out).reshape(N, T, -1, 3)

        out = run(xy)
        if self.cfg["flip_test"]:
            out = (out + mirror(run(mirror(xy, self.layout)[0]), self.layout)[0]) / 2
        return out

    def _lift_at(self, model: nn.Module, xy: torch.Tensor, fps: float) -> torch.Tensor:
        """:meth:`_lift` of sequences (N, T, J, 2) at ``fps``: resampled to the network's rate when it differs
        by more than 1 % and the 3D brought back to the input's frames (N, T, J, 3): linearly both ways, or
        by :meth:`_lift_causal_at` when ``causal``."""
        if not self.resamples(fps):
            return self._lift(model, xy)
        if self.cfg["causal"]:
            return self._lift_causal_at(model, xy, fps)
        own, T = self.cfg["fps"], xy.shape[1]
        x = resample_time(xy.numpy(), fps, own, "linear", axis=1)
        out = self._lift(model, torch.as_tensor(x)).numpy()
        return torch.as_tensor(sample_frames(out, np.arange(T) * (own / float(fps)), "linear", axis=1))

    def _lift_causal_at(self, model: nn.Module, xy: torch.Tensor, fps: float) -> torch.Tensor:
        """Causal lifting of sequences (N, T, J, 2) at another rate ``fps``: input frame ``i`` (time ``i /
        fps``) is lifted by the network run on a grid at its own rate that ends within ``1 / (K * self.fps)``
        seconds at or before that time, ``K = ceil(fps / self.fps)`` (at most 64), so within one input frame
        of it. The grid's 2D is interpolated linearly from the input frames around each grid time, all at or
        before frame ``i``'s time: the output at frame ``i`` depends on frames ``<= i`` only, and on frame ``i``
        itself. Frames are grouped by the phase of their time within a network frame (``K`` classes); one
        pass per class, all its frames' grids being the same grid."""
        own, src = self.cfg["fps"], float(fps)
        x = xy.numpy()
        T = x.shape[1]
        K = max(1, min(64, math.ceil(src / own - 1e-9)))
        q = np.arange(T) * (own / src)                            # frame times in network frames
        m = np.floor(q + 1e-9)                                    # the network frame at or before
        b = np.clip(np.floor((q - m) * K + 1e-9), 0, K - 1)      # phase class: grid offset b / K network frames
        out = None
        for bb in np.unique(b):
            sel = np.nonzero(b == bb)[0]
            pos = (np.arange(int(m[sel].max()) + 1) + bb / K) * (src / own)   # grid times in input frames
            whole = np.round(pos)
            pos = np.where(np.abs(pos - whole) < 1e-6, whole, pos)           # rounding never steps past a frame
            lifted = self._lift(model, torch.as_tensor(sample_frames(x, pos, "linear", axis=1))).numpy()
            if out is None:
                out = np.empty((x.shape[0], T) + lifted.shape[2:], lifted.dtype)
            out[:, sel] = lifted[:, m[sel].astype(np.int64)]
        return torch.as_tensor(out)

    # ------------------------------------------------------------------ training
    def prepare(self, data) -> None:
        """Base statistics (all training poses), the training windows, the validation sequences."""
        super().prepare(data)                            # seeds, stats, self.model for the all-actions case
        self._win = self._windows(data.train)
        self._val_samples = [s for s in (data.val or []) if s.joints3d is not None and s.camera is not None]
        self.action_names = list(getattr(data, "action_names", []) or [])

    def _val_mpjpe(self, model: nn.Module, samples) -> tuple:
        """(mean MPJPE in mm, n frames) of ``model`` on ``samples`` with their exact 2D."""
        err, n = 0.0, 0
        for s in samples:
            j = torch.as_tensor(np.asarray(s.joints3d, np.float32))
            c = s.camera
            K = torch.tensor([[c.fx, c.fy, c.cx, c.cy]], dtype=torch.float32).expand(len(j), 4)
            size = torch.tensor([s.image_size], dtype=torch.float32).expand(len(j), 2)
            xy = normalize(project(j, K), size)
            pred = self._lift_at(model, xy[None], s.fps)[0]
            err += float((pred - (j - j[:, :1])).norm(dim=-1).mean(-1).sum()) * 1000
            n += len(j)
        return err / max(n, 1), n

    def _train_model(self, model: nn.Module, idx: torch.Tensor, n_batches: int, val_samples, desc: str) -> dict:
        """``epochs * n_batches`` Adam steps of ``batch_size`` windows drawn from the windows ``idx``."""
        c, g, w = self.cfg, self._g, self._win
        R, tgt = self.receptive_field, self.pad_left_right[0]
        opt = torch.optim.Adam(model.parameters(), lr=c["lr"], weight_decay=c["weight_decay"])
        sched = torch.optim.lr_scheduler.ExponentialLR(opt, gamma=c["lr_decay"])
        stream = _IndexStream(len(idx), g)
        offsets = torch.arange(R)

        def step(_b: int) -> float:
            sel = idx[stream.take(c["batch_size"])]
            rows = w["start"][sel][:, None] + offsets
            v = shard(self.window_views(w["j3"][rows], w["K"][sel], w["size"][sel], g, train=True))
            model.train()
            pred = model(self._encode_seq(v["x"]).to(self.device))[:, 0]
            loss = (pred - self.target(v["y"][:, tgt])).pow(2).mean()
            opt.zero_grad()
            loss.backward()
            sync_replicas(model)
            opt.step()
            return loss.item()

        n_val = sum(s.n_frames for s in val_samples)

        def validate() -> float:
            return -self._val_mpjpe(model, val_samples)[0]

        hist = train_epochs(step, n_batches, c["epochs"], desc, validate if val_samples else None,
                            on_epoch_end=lambda ep: sched.step(),
                            state={"model": model, "opt": opt, "sched": sched, "g": g, "stream": stream})
        return {"loss": hist["loss"], "val_mpjpe_mm": [-v for v in hist["val"]], "n_val_frames": n_val,
                "train_seconds": hist["train_seconds"], "n_train_poses": int(len(idx))}

    def fit(self, data) -> dict:
        self.prepare(data)
        c, w = self.cfg, self._win
        n_all = len(w["start"])
        n_batches = max(1, n_all // c["batch_size"])     # steps per epoch of the all-actions model
        info = {"receptive_field": self.receptive_field, "causal": bool(c["causal"]),
                "steps_per_model": n_batches * c["epochs"]}
        if not c["action_directed"]:
            self.experts = {}
            s = self._train_model(self.model, torch.arange(n_all), n_batches, self._val_samples,
                                  f"train {self.registered_name}")
            s.pop("n_val_frames")
            return {**s, **info}
        # Bai: one expert per action, each as many steps (frames seen) as the all-actions model
        n_in, n_out = int(self.stats["x_mean"].numel()), int(self.stats["y_mean"].numel())
        self.model = None
        self.experts, per = {}, {}
        for a in sorted(int(x) for x in torch.unique(w["action"])):
            idx = torch.nonzero(w["action"] == a)[:, 0]
            model = self.build_model(n_in, n_out).to(self.device)
            val = [s for s in self._val_samples if int(s.action) == a]
            per[a] = self._train_model(model, idx, n_batches, val, f"train {self.registered_name} [{self._name(a)}]")
            per[a]["unit_epochs"] = c["epochs"] * n_all / len(idx)
            self.experts[a] = model
        epochs = c["epochs"]
        loss = [float(np.mean([p["loss"][e] for p in per.values()])) for e in range(epochs)]
        with_val = [p for p in per.values() if p["val_mpjpe_mm"]]
        val = []
        if with_val:  # frame-weighted error of each expert on its own action's validation clips
            wts = [p["n_val_frames"] for p in with_val]
            val = [float(np.average([p["val_mpjpe_mm"][e] for p in with_val], weights=wts)) for e in range(epochs)]
        for p in per.values():
            p.pop("n_val_frames")
        return {"loss": loss, "val_mpjpe_mm": val,
                "train_seconds": float(sum(p["train_seconds"] for p in per.values())),
                "n_train_poses": n_all, "n_experts": len(per),
                "experts": {self._name(a): p for a, p in per.items()}, **info}

    def validate(self) -> float:
        return -self._val_mpjpe(self.model, self._val_samples)[0]

    def _name(self, a: int) -> str:
        return self.action_names[a] if 0 <= a < len(self.action_names) else str(a)

    # ------------------------------------------------------------------ inference
    def model_for(self, sample=None) -> nn.Module:
        """The network that lifts ``sample``: the single model, or the expert of ``sample.action``."""
        if not self.cfg["action_directed"]:
            if self.model is None:
                raise RuntimeError(f"{self.registered_name}: not trained")
            return self.model
        if not self.experts:
            raise RuntimeError(f"{self.registered_name}: not trained")
        if sample is None or getattr(sample, "action", None) is None:
            raise InputError(f"{self.registered_name}: action_directed needs the action label of the sample (one "
                             f"expert per action); set action_directed=false to lift a video without one")
        a = int(sample.action)
        if a not in self.experts:
            raise InputError(f"{self.registered_name}: no expert for action {self._name(a)} (index {a}); trained: "
                             f"{', '.join(self._name(k) for k in sorted(self.experts))}")
        return self.experts[a]

    def predict(self, pose2d: Pose2DSeq, sample=None) -> Pose3DSeq:
        if pose2d.layout != self.layout.name:
            raise InputError(f"{self.registered_name}: expects 2D key-points in the {self.layout.name} layout, "
                             f"got {pose2d.layout}")
        model = self.model_for(sample)
        P, T, J, _ = pose2d.keypoints.shape
        w, h = pose2d.image_size
        xy = torch.as_tensor(normalize_screen(pose2d.keypoints.reshape(P * T, J, 2), w, h), dtype=torch.float32)
        j3 = self._lift_at(model, xy.reshape(P, T, J, 2), pose2d.fps).numpy()
        return Pose3DSeq(j3, pose2d.scores, fps=pose2d.fps, layout=pose2d.layout)

    # ------------------------------------------------------------------ checkpoint
    def state(self) -> dict:
        st = {"stats": self.stats, "cfg": self.cfg, "action_names": self.action_names, "fps": self.cfg["fps"]}
        if self.cfg["action_directed"]:
            st["experts"] = {a: m.state_dict() for a, m in self.experts.items()}
        else:
            st["model"] = self.model.state_dict()
        return st

    network_state_keys = ("model", "experts")

    def _load_codec(self, state: dict) -> None:
        """The statistics and action names of a checkpoint, after checking its network rate against ``fps``."""
        # the network's rate is part of what it learnt (a checkpoint without one predates the option: own rates)
        trained = state["fps"] if "fps" in state else (state.get("cfg") or {}).get("fps")
        trained = check_fps(trained, "temporal_conv checkpoint fps")
        own = self.cfg["fps"]
        if (trained is None) != (own is None) or (own is not None and abs(trained - own) > 1e-6 * own):
            def show(f):
                return "null (sequences at their own rate)" if f is None else f"{f:g}"
            raise InputError(f"{self.registered_name}: checkpoint was trained with fps={show(trained)}, this "
                             f"lifter is set to fps={show(own)}; set fps to the checkpoint's rate or retrain")
        self.stats = state["stats"]
        self.action_names = list(state.get("action_names", []))

    def load_state(self, state: dict) -> None:
        self._load_codec(state)
        n_in, n_out = int(self.stats["x_mean"].numel()), int(self.stats["y_mean"].numel())

        def make(sd):
            m = self.build_model(n_in, n_out).to(self.device)
            m.load_state_dict(sd)
            return m.eval()

        self._set_networks(state, make)

    def _set_networks(self, state: dict, make) -> None:
        """The single model or the per-action experts of ``state``, each made by ``make(weights or name)``."""
        if self.cfg["action_directed"]:
            if "experts" not in state:
                raise InputError(f"{self.registered_name}: checkpoint has no per-action experts; it was trained "
                                 f"with action_directed=false")
            self.model = None
            self.experts = {int(a): make(sd) for a, sd in state["experts"].items()}
        else:
            if "model" not in state:
                raise InputError(f"{self.registered_name}: checkpoint holds per-action experts; it was trained "
                                 f"with action_directed=true")
            self.experts = {}
            self.model = make(state["model"])

    # ------------------------------------------------------------------ export (pipelines/export.py)
    def networks(self) -> dict:
        """The network on z-scored 2D windows (N, T, 2J) -> z-scored 3D (N, T - receptive field + 1, 3(J-1)),
        T free: ``lifter``, or ``expert_<action index>`` per action when ``action_directed``."""
        n_in = int(self.stats["x_mean"].numel())
        nets = {f"expert_{a}": m for a, m in self.experts.items()} if self.experts else {"lifter": self.model}
        x = torch.zeros(1, self.receptive_field + 2, n_in)
        return {name: ExportSpec(m, {"x": x}, ("y",), {"x": {0: "n", 1: "t"}, "y": {0: "n", 1: "t_out"}})
                for name, m in nets.items()}

    def codec_state(self) -> dict:
        st = super().codec_state()
        if self.cfg["action_directed"]:  # which experts there are
            st["experts"] = {a: f"expert_{a}" for a in self.experts}
        else:
            st["model"] = "lifter"
        return st

    def load_exported(self, state: dict, networks: dict) -> None:
        self._load_codec(state)
        self._set_networks(state, lambda name: networks[name])
