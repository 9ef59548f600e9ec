"""What every image-based action classifier of stage 3 shares: a pose clip is encoded as an image by a registered
encoder (``pose_image``, ``enhanced_spmf``) and classified by a CNN; only the CNN differs between types
(``pose_cnn``, ``searched_cnn``), through :meth:`EncodedClassifier.build_model`.

Data: a sequence of any length becomes fixed-length clips (``clips.py``): training takes one random window
(random start and speed) per sequence and epoch; testing takes the middle window (single-clip) or windows
half a window apart whose class probabilities are averaged (multi-clip), as in Luvizon et al. 2021, section 4.4.
A window spans ``window_frames`` frames of the sequence (0: ``clip_len``), subsampled to ``clip_len``.
Augmentation on the fly: bone lengths (3D, ``aug_bone_scale``: one log-normal factor per bone and sequence,
``common.augment.scale_bones``), rotation about the vertical axis (3D), in-plane rotation about the camera axis
and a stretch of each axis (2D and 3D, ``aug_roll_deg``, ``aug_stretch``: another camera's roll and aspect),
left/right mirroring, dropped joints (``aug_drop_rate``), random crops in time and speed (``aug_speed``), and
image-level scale and noise; ``mixup`` (Beta alpha) blends pairs of encoded clips and their labels.
Training: AdamW with a one-cycle schedule, cross-entropy (``label_smoothing``), the best validation epoch kept
(validation = single-clip top-1 on the dataset's ``val`` split). ``flip_test`` (default on) also averages the
probabilities of the mirrored sequence at test time (+0.8 and +1.6 points of Penn Action holdout top-1 on two
seeds of the 2D ``pose_cnn``); it changes only inference, so switching it reuses a checkpoint.

``train_on`` chooses the training poses: ``ground_truth``; ``chain`` - what the upstream stages of the pipeline
predict for the training clips (the pipeline runs them; Luvizon et al. likewise train the action part on
estimated poses); ``both`` (default) - the two together. On the default synthetic world the chain's top-1 was
0.18 when trained on ground truth only (detector errors are temporally coherent, unlike the noise of the
augmentation) and 0.83 with ``both``, which also keeps 1.00 on ground-truth input.
"""
from __future__ import annotations

import copy
import math
from typing import List, Optional, Sequence, Tuple

import numpy as np
import torch
from torch import nn

from common.augment import Compose, Draw, RandomMirror, RandomRollStretch, RandomTurn, mirror, scale_bones
from common.distributed import shard, sync_replicas
from common.errors import InputError
from common.handoff import ActionResult, Pose2DSeq, Pose3DSeq
from common.onnx_backend import ExportSpec
from common.registry import build
from common.resample import resample_time
from common.skeleton import get_layout
from common.stage import ActionClassifier
from common.training import seed_everything, train_epochs
from common.view import to_body_frame

from .clips import eval_windows, random_window

#: options every encoded classifier has (a type adds its model's options)
CLASSIFIER_DEFAULTS = {
    "encoder": "pose_image", "encoder_options": {}, "input": "auto", "clip_len": 32, "multi_clip": True,
    "window_frames": 0,  # frames of the sequence one clip spans (subsampled to clip_len); 0 = clip_len
    "view_normalize": False,  # 3D: rotate each sequence into the body's own frame (common/view.py)
    "flip_test": True,
    "dropout": 0.3, "epochs": 60, "batch_size": 32, "lr": 2e-3, "weight_decay": 1e-4,
    "aug_rotate_deg": 45.0, "aug_scale": 0.1, "aug_noise": 0.2, "aug_drop_rate": 0.05, "aug_flip": True,
    "aug_speed": 0.2, "aug_bone_scale": 0.0, "train_on": "both", "label_smoothing": 0.0,
    # in-plane rotation (degrees, about the camera axis), per-axis stretch (fraction) and mixup (Beta alpha; 0 off)
    "aug_roll_deg": 0.0, "aug_stretch": 0.0, "mixup": 0.0,
    # training through the chain (pipelines/chain.py): random virtual cameras per 3D training sequence, and the
    # detector-like noise that stands for a frame-based detector on data without frames
    "chain_views": 0, "chain_noise_px": 5.0, "chain_drop_rate": 0.05,
    # open set: a clip whose top probability stays below unknown_threshold, or whose features lie further than
    # unknown_distance from every training clip's, is reported as "unknown" (0: never)
    "unknown_threshold": 0.0, "unknown_distance": 0.0,
}


class EncodedClassifier(ActionClassifier):
    """Base of the encoder + CNN classifiers; subclasses implement :meth:`build_model`."""

    defaults = CLASSIFIER_DEFAULTS
    inference_options = ("flip_test", "unknown_threshold", "unknown_distance")

    def __init__(self, cfg=None, device="cpu", seed=0):
        super().__init__(cfg, device, seed)
        if self.cfg["train_on"] not in ("both", "chain", "ground_truth"):
            raise InputError("stages.stage3_action.train_on: expected both, chain or ground_truth, "
                             f"got {self.cfg['train_on']!r}")
        if self.cfg["input"] not in ("auto", "2d", "3d"):
            raise InputError(f"stages.stage3_action.input: expected auto, 2d or 3d, got {self.cfg['input']!r}")
        if self.cfg["input"] == "auto":  # a pipeline settles it (pipelines/config.py); built directly: 3D
            self.cfg["input"] = "3d"
        self.encoder = build("encoder", {"type": self.cfg["encoder"], **(self.cfg["encoder_options"] or {})})
        self.layout = get_layout("h36m17")
        self.model: Optional[nn.Module] = None
        self.labels: List[str] = []
        #: softmax temperature fitted on the validation split after training (calibrated probabilities)
        self.temperature = 1.0
        #: frame rate and median length (frames) of the training sequences; inputs at another rate are resampled
        self.train_fps: Optional[float] = None
        self.train_frames: Optional[float] = None
        #: unit-length penultimate features of the training clips (float16): the open-set distance's reference
        self.bank: Optional[np.ndarray] = None
        self._bank32: Optional[Tuple[np.ndarray, torch.Tensor]] = None  # (bank, its float32 copy), once per bank
        #: the exported network (images -> logits, features) run in place of the model (``backend: onnx``)
        self.runner = None

    # ------------------------------------------------------------------ to override
    def build_model(self, in_ch: int, image_hw: Tuple[int, int], n_classes: int) -> nn.Module:
        raise NotImplementedError  # abstract

    # ------------------------------------------------------------------ data
    @property
    def dim(self) -> int:
        return 2 if self.cfg["input"] == "2d" else 3

    def image_shape(self) -> Tuple[int, int, int]:
        """(C, H, W) of the encoded clip."""
        c = self.cfg["clip_len"]
        x = np.zeros((c, self.layout.n_joints, self.dim), np.float32)
        x[:, :, 0] = np.arange(self.layout.n_joints)
        return self.encoder.encode(x, np.ones(x.shape[:2], np.float32)).shape

    def sequence(self, s) -> Tuple[np.ndarray, np.ndarray]:
        """Training sequence of a sample: (T, J, D) coordinates, (T, J) scores (ones unless the sample has
        scores, as the chain's predictions and annotated visibilities do)."""
        x = np.asarray(s.joints3d if self.dim == 3 else s.joints2d, np.float32)
        if x.ndim != 3:
            raise InputError(f"sample {s.name}: no {self.dim}D poses to train {self.registered_name} on")
        if self.dim == 3:
            x = self.view(x - x[:, :1])
        sc = np.ones(x.shape[:2], np.float32) if s.scores is None else np.asarray(s.scores, np.float32)
        return x, sc

    def view(self, x: np.ndarray) -> np.ndarray:
        """Root-relative 3D in the body's own frame when ``view_normalize`` is on (else unchanged)."""
        return to_body_frame(x, self.layout) if self.cfg["view_normalize"] else x

    def mirror(self, x, sc):
        """The left/right mirror image of a sequence: joints swapped, x negated (the encoders are
        translation-invariant, so negating pixels mirrors a 2D sequence too)."""
        return mirror(x, self.layout, sc)

    def augment(self, x, sc, rng):
        c = self.cfg
        x = x.copy()
        sc = sc.copy()
        if self.dim == 3 and c["aug_bone_scale"] > 0:  # another person's proportions, the whole sequence alike
            f = np.exp(rng.normal(0, c["aug_bone_scale"], (1, x.shape[1]))).astype(np.float32)
            x = scale_bones(x, self.layout, np.repeat(f, len(x), axis=0))
        x, sc = Compose(
            RandomTurn(c["aug_rotate_deg"]) if self.dim == 3 and c["aug_rotate_deg"] > 0 else None,
            # another camera roll and aspect, about the mean root
            RandomRollStretch(c["aug_roll_deg"], c["aug_stretch"], origin=lambda v: v[:, :1].mean(0, keepdims=True))
            if c["aug_roll_deg"] > 0 or c["aug_stretch"] > 0 else None,
            RandomMirror(self.layout) if c["aug_flip"] else None)(x, sc, Draw(rng))
        if c["aug_drop_rate"] > 0:
            sc = np.where(rng.random(sc.shape) < c["aug_drop_rate"], 0.0, sc).astype(np.float32)
        return x, sc

    def image(self, x, sc, idx, rng=None) -> np.ndarray:
        img = self.encoder.encode(x[idx], sc[idx])
        if rng is not None:
            c = self.cfg
            img = img * rng.uniform(1 - c["aug_scale"], 1 + c["aug_scale"])
            img = img + rng.normal(0, c["aug_noise"], img.shape).astype(np.float32)
        return img

    def train_batch(self, items: Sequence, rng: np.random.Generator) -> Tuple[torch.Tensor, torch.Tensor]:
        """Augmented images and labels of ``items`` = [((x, sc), label), ...]."""
        imgs, ys = [], []
        for (x, sc), y in items:
            x, sc = self.augment(x, sc, rng)
            imgs.append(self.image(x, sc, random_window(len(x), self.cfg["clip_len"], rng, self.cfg["aug_speed"],
                                                         self.cfg["window_frames"]), rng))
            ys.append(y)
        return torch.as_tensor(np.stack(imgs)).to(self.device), torch.as_tensor(ys).to(self.device)

    def eval_images(self, samples: Sequence) -> Tuple[torch.Tensor, torch.Tensor]:
        """Single-clip (middle window) images and labels of ``samples``, un-augmented."""
        imgs = []
        for s in samples:
            x, sc = self.sequence(s)
            imgs.append(self.image(x, sc, eval_windows(len(x), self.cfg["clip_len"], False,
                                                       self.cfg["window_frames"])[0]))
        return (torch.as_tensor(np.stack(imgs)).to(self.device),
                torch.as_tensor([s.action for s in samples]).to(self.device))

    def training_items(self, data) -> List:
        self.labels = list(data.action_names)
        if self.dim == 2 and (self.cfg["view_normalize"] or self.cfg["aug_bone_scale"] > 0):
            raise InputError(f"{self.registered_name}: view_normalize and aug_bone_scale need 3D input; "
                             "set stages.stage3_action.input=3d or switch them off")
        items = [(self.sequence(s), s.action) for s in data.train]
        if not items:
            raise InputError("action training: no training samples")
        return items

    # ------------------------------------------------------------------ training
    def fit(self, data) -> dict:
        c = self.cfg
        seed_everything(self.seed)
        rng = np.random.default_rng(self.seed)
        train = self.training_items(data)
        self.model = self.build_model(*self._model_args()).to(self.device)
        if not any(isinstance(m, nn.Linear) for m in self.model.modules()):
            raise InputError(f"{self.registered_name}: the model needs a final nn.Linear classifier (its input is the "
                             "feature of the open-set distance)")
        opt = torch.optim.AdamW(self.model.parameters(), lr=c["lr"], weight_decay=c["weight_decay"])
        n_batches = max(1, math.ceil(len(train) / c["batch_size"]))
        sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=c["lr"], total_steps=n_batches * c["epochs"])
        order = {"perm": rng.permutation(len(train))}
        best = {"acc": -1.0, "state": None}
        val = self.eval_images(data.val) if data.val else None

        def step(b):
            if b == 0:
                order["perm"] = rng.permutation(len(train))
            x, y = self.train_batch([train[i] for i in order["perm"][b * c["batch_size"]:(b + 1) * c["batch_size"]]],
                                    rng)
            self.model.train()
            if c["mixup"] > 0:  # Zhang et al., "mixup: Beyond Empirical Risk Minimization", ICLR 2018
                lam = float(rng.beta(c["mixup"], c["mixup"]))
                mix = torch.as_tensor(rng.permutation(len(y))).to(y.device)
                b = shard({"x": lam * x + (1 - lam) * x[mix], "y": y, "y_mix": y[mix]})  # this process's rows
                out = self.model(b["x"])
                loss = lam * nn.functional.cross_entropy(out, b["y"], label_smoothing=c["label_smoothing"]) + \
                    (1 - lam) * nn.functional.cross_entropy(out, b["y_mix"], label_smoothing=c["label_smoothing"])
            else:
                b = shard({"x": x, "y": y})
                loss = nn.functional.cross_entropy(self.model(b["x"]), b["y"], label_smoothing=c["label_smoothing"])
            opt.zero_grad()
            loss.backward()
            sync_replicas(self.model)
            opt.step()
            sched.step()
            return loss.item()

        def validate():
            if val is None:
                return float("nan")
            acc = accuracy(self.model, *val)
            if acc > best["acc"]:
                best.update(acc=acc, state=copy.deepcopy(self.model.state_dict()))
            return acc

        hist = train_epochs(step, n_batches, c["epochs"], f"train {self.registered_name}", validate,
                            state={"model": self.model, "opt": opt, "sched": sched, "rng": rng, "order": order,
                                   "best": best})
        if best["state"] is not None:
            self.model.load_state_dict(best["state"])
        self.train_fps = float(np.median([s.fps for s in data.train]))
        self.train_frames = float(np.median([s.n_frames for s in data.train]))
        self.temperature = fit_temperature(self.model, *val) if val is not None else 1.0
        bank_from = data.train if len(data.train) <= BANK_SIZE else \
            [data.train[i] for i in np.sort(rng.choice(len(data.train), BANK_SIZE, replace=False))]
        self.bank = self.features(self.eval_images(bank_from)[0]).astype(np.float16)
        return {"loss": hist["loss"], "val_top1": hist["val"], "best_val_top1": best["acc"],
                "temperature": self.temperature,
                "train_seconds": hist["train_seconds"], "n_train_sequences": len(train),
                "n_parameters": sum(p.numel() for p in self.model.parameters())}

    def _model_args(self):
        shape = self.image_shape()
        return shape[0], tuple(shape[1:]), len(self.labels)

    # ------------------------------------------------------------------ inference
    @torch.no_grad()
    def forward_features(self, imgs: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        """Logits and the penultimate features (the input of the model's last linear layer) of images."""
        if self.runner is not None:
            return self.runner(imgs)
        self.model.eval()
        return WithFeatures(self.model)(imgs)

    def features(self, imgs: torch.Tensor, batch: int = 256) -> np.ndarray:
        """Unit-length penultimate features (N, F) of images."""
        f = torch.cat([self.forward_features(imgs[i:i + batch])[1] for i in range(0, len(imgs), batch)])
        return torch.nn.functional.normalize(f, dim=1).cpu().numpy()

    def distance(self, feats: np.ndarray) -> np.ndarray:
        """Open-set distance of unit features (N, F): 1 - the mean cosine similarity to the K_NEAREST closest
        training clips (Sun et al., "Out-of-Distribution Detection with Deep Nearest Neighbors", ICML 2022); NaN
        without a training bank (checkpoints saved before it existed)."""
        if self.bank is None:
            return np.full(len(feats), np.nan)
        if self._bank32 is None or self._bank32[0] is not self.bank:  # stored in float16, compared in float32
            self._bank32 = (self.bank, torch.from_numpy(self.bank.astype(np.float32)))
        # in torch, on its threads: numpy's BLAS threads would compete with torch's, still spinning after the network
        sims = torch.as_tensor(np.asarray(feats, np.float32)) @ self._bank32[1].T
        k = min(K_NEAREST, sims.shape[1])
        return 1.0 - torch.sort(sims, dim=1).values[:, -k:].mean(1).numpy().astype(np.float64)

    @torch.no_grad()
    def infer(self, x, sc, multi=None) -> Tuple[np.ndarray, float]:
        """Class probabilities (windows and views averaged) and the open-set distance of their mean feature."""
        multi = self.cfg["multi_clip"] if multi is None else multi
        views = [(x, sc)]
        if self.cfg["flip_test"]:
            views.append(self.mirror(x, sc))
        imgs = [self.image(v, s, idx) for v, s in views for idx in eval_windows(len(x), self.cfg["clip_len"], multi,
                                                                             self.cfg["window_frames"])]
        logits, f = self.forward_features(torch.as_tensor(np.stack(imgs)).to(self.device))
        p = torch.softmax(logits / self.temperature, dim=-1).mean(0).cpu().numpy()
        f = torch.nn.functional.normalize(torch.nn.functional.normalize(f, dim=1).mean(0, keepdim=True), dim=1)
        return p, float(self.distance(f.cpu().numpy())[0])

    def scores(self, x, sc, multi=None) -> np.ndarray:
        return self.infer(x, sc, multi)[0]

    def encoded_clip(self, seq) -> np.ndarray:
        """The (C, H, W) image of the middle clip of ``seq`` that the CNN sees (for figures)."""
        x, sc = self._coords(seq)
        return self.image(x, sc, eval_windows(len(x), self.cfg["clip_len"], False, self.cfg["window_frames"])[0])

    def _coords(self, seq) -> Tuple[np.ndarray, np.ndarray]:
        """(T, J, D) coordinates and (T, J) scores of a hand-off, checked against what the model was trained on."""
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
        if dim == 3:
            x = self.view(x)
        sc = seq.scores[0]
        if self.train_fps and abs(seq.fps / self.train_fps - 1) > 0.05:  # the clips cover the trained durations
            x, sc = resample_time(x, seq.fps, self.train_fps), resample_time(sc, seq.fps, self.train_fps)
        return x, sc

    def predict(self, seq, sample=None, multi_clip=None) -> ActionResult:
        if self.model is None and self.runner is None:
            raise RuntimeError(f"{self.registered_name}: not trained")
        p, d = self.infer(*self._coords(seq), multi_clip)
        return ActionResult(p, tuple(self.labels), float(self.cfg["unknown_threshold"]), d,
                            float(self.cfg["unknown_distance"]))

    def window_seconds(self) -> float:
        """One action's length, for sliding windows over a video: the span of a clip (``window_frames``) or,
        without one, the median duration of the training sequences."""
        if self.train_fps and (self.cfg["window_frames"] or self.train_frames):
            return (self.cfg["window_frames"] or self.train_frames) / self.train_fps
        return super().window_seconds()

    def state(self) -> dict:
        return {"model": self.model.state_dict(), "labels": self.labels, "cfg": self.cfg,
                "temperature": self.temperature, "train_fps": self.train_fps, "train_frames": self.train_frames,
                "bank": self.bank}

    def load_state(self, state: dict) -> None:
        self._load_codec(state)
        self.model = self.build_model(*self._model_args()).to(self.device)
        self.model.load_state_dict(state["model"])
        self.model.eval()

    def _load_codec(self, state: dict) -> None:
        self.labels = list(state["labels"])
        self.temperature = float(state.get("temperature", 1.0))
        self.train_fps, self.train_frames = state.get("train_fps"), state.get("train_frames")
        self.bank = state.get("bank")
        self.cfg["input"] = state["cfg"]["input"]

    # ------------------------------------------------------------------ export (pipelines/export.py)
    def networks(self) -> dict:
        """The CNN on encoded clips (N, C, H, W) -> logits (N, classes) and penultimate features (N, F)."""
        dynamic = {k: {0: "n"} for k in ("image", "logits", "features")}
        return {"classifier": ExportSpec(WithFeatures(self.model), {"image": torch.zeros(2, *self.image_shape())},
                                         ("logits", "features"), dynamic)}

    def load_exported(self, state: dict, networks: dict) -> None:
        self._load_codec(state)
        self.model, self.runner = None, networks["classifier"]


class WithFeatures(nn.Module):
    """A classifier network that also returns its penultimate features (the input of its last linear layer,
    flattened): the open-set distance's input."""

    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = model
        self.last = [m for m in model.modules() if isinstance(m, nn.Linear)][-1]

    def forward(self, imgs: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        store = {}
        hook = self.last.register_forward_hook(lambda m, i, o: store.__setitem__("f", i[0]))
        try:
            logits = self.model(imgs)
        finally:
            hook.remove()
        return logits, store["f"].flatten(1)


#: neighbours averaged by the open-set distance, and training clips kept for it at most (a random subset)
K_NEAREST = 5
BANK_SIZE = 4096


def fit_temperature(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    """Temperature scaling (Guo et al., "On Calibration of Modern Neural Networks", ICML 2017): the T > 0 that
    minimises the cross-entropy of softmax(logits / T) on held-out clips; it changes no arg-max."""
    model.eval()
    with torch.no_grad():
        logits = torch.cat([model(x[i:i + 256]) for i in range(0, len(x), 256)])
    logits, y = logits.detach().cpu(), y.cpu()
    log_t = torch.zeros((), requires_grad=True)
    opt = torch.optim.LBFGS([log_t], lr=0.1, max_iter=100)

    def closure():
        opt.zero_grad()
        loss = nn.functional.cross_entropy(logits / log_t.exp(), y)
        loss.backward()
        return loss

    opt.step(closure)
    return float(np.clip(log_t.exp().item(), 0.05, 20.0))


@torch.no_grad()
def accuracy(model: nn.Module, x: torch.Tensor, y: torch.Tensor, batch: int = 256) -> float:
    model.eval()
    hits = sum(int((model(x[i:i + batch]).argmax(-1) == y[i:i + batch]).sum()) for i in range(0, len(x), batch))
    return hits / max(len(x), 1)
