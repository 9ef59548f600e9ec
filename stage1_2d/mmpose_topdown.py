"""``mmpose_topdown``: mmpose's top-down pose estimator, trained on the synthetic renders (the learned default).

The network is an mmpose ``TopdownPoseEstimator`` built by mmpose's registry from an mmpose-style python config
(``configs/mmpose/topdown_small.py`` by default: ``model``, ``codec``, ``input_size``), so any mmpose top-down
config with a heatmap head (SimpleBaseline, Xiao et al. 2018) or a SimCC head (RTMPose, Jiang et al. 2023) and 17
outputs drops in, and a downloaded mmpose checkpoint for it loads through the ``checkpoint`` option.
``mmpose.apis`` needs torchvision, which this project cannot use, so the small top-down path is written here:

- layout: the model's key-points are h36m17 when it was trained here or its checkpoint's meta says so, else
  read by their count (``LAYOUT_BY_OUTPUTS``: mmpose's COCO models) and converted to h36m17 by
  :func:`common.skeleton.to_h36m17`; ``layout:`` names it explicitly;
- encode: a box per frame (a sample's annotated boxes when it has them, as evaluation gives them; else the whole
  frame, or with ``box: track`` the box of the previous frame's key-points),
  an affine crop to ``input_size`` (:mod:`common.crop`), normalisation as the config's data_preprocessor says;
- model: ``backbone -> neck -> head.forward``, a pure tensor function (:meth:`MMPoseTopdown.net`); with
  ``flip_test`` the mirrored crop's output is mirrored back, its left/right joints swapped (h36m17 flip pairs)
  and re-aligned to the unmirrored grid (:func:`flip_offset`) before the two are averaged;
- decode: the config's codec (``head.decode``), the inverse affine back to image pixels, scores clipped to [0, 1].

Training (``fit``, when ``checkpoint`` is null) crops training frames around their ground-truth 2D box grown by
``box_padding`` (or, for a share of crops, around the whole frame as ``whole_frame`` inference and the first
tracked frame see it) with random scale, shift, rotation, horizontal flip (swapping the flip pairs) and colour
jitter, encodes the joints with the config's codec and minimises the head's own loss (``model.loss`` on
``PoseDataSample``\\ s) with AdamW, a linear warm-up and a cosine decay. Joints the renderer marks as occluded
are supervised too by default (``supervise_occluded``): the synthetic world knows where they are and the lifter
downstream needs every joint; set it to false for data whose hidden joints are not annotated. After each epoch,
PCK@0.2 of the torso (left shoulder to right hip, all joints) on ``val_frames`` validation frames is measured
through ``predict`` with whole-frame boxes (batched, fast), and after the last epoch with the configured ``box``.

Measured on the default synthetic world (``build_synthetic({})``: 192 train sequences x 32 frames of 256 x 256,
48 validation and 72 test sequences), 2 CPU cores, default options, seed 0: 8 epochs of 96 steps took 237 s
(5 s of it loading frames, 2-3 s per epoch validating); PCK@0.2 with tracked boxes 0.889 on all 1536 validation
frames (0.901 on the visible joints), 0.871 on the test split, 0.898 on training sequences (so more steps, not
more regularisation, would help); with whole-frame boxes 0.816. Inference with flip test: 44 frames/s tracked
(batch 1), 184 frames/s with whole-frame boxes at batch 16 (45 at batch 1); 62 and 326 without flip test.
Choices behind the defaults (single-seed runs on the same data, PCK on 384 validation frames with tracked
boxes, so indicative only): the RTMCC head reached 0.83 after 6 epochs where a SimpleBaseline heatmap head on the
same backbone reached 0.64; 128 x 128 crops beat 96 x 128 ones (0.90 against 0.82 after 10 epochs); lr 4e-3 beat
2e-3 (0.90 against 0.89) and 8e-3; the light geometric augmentation of ``topdown_training.AUG`` reached in 8
epochs what RTMPose-style stronger augmentation (rotation in half the crops, +-20 deg; scale 0.8-1.35) reached in
10; a fifth of whole-frame crops beat a tenth (0.90 against 0.885).
"""
from __future__ import annotations

import math
import pickle
import time
from typing import Any, Dict, List, Optional, Tuple

import numpy as np
import torch

from common import crop as C
from common.dataset import Dataset, Sample
from common.distributed import mean_over_processes, shard, sync_replicas, world
from common.errors import InputError
from common.handoff import Pose2DSeq
from common.metrics import pck, torso_size
from common.mmpose_glue import load_config, mmpose_registries, quiet_mmengine, resolve_path, strip_pretrained
from common.onnx_backend import ExportSpec
from common.progress import progress_bar
from common.progress import write as progress_write
from common.registry import register
from common.resume import Snapshots
from common.skeleton import H36M17, get_layout, to_h36m17
from common.stage import Detector2D, check_frames

from .topdown_training import colour_jitter, frame_pool, training_batch

BOX_MODES = ("whole_frame", "track")
#: ``layout: auto`` for a checkpoint that does not name its layout: by the head's number of key-points
#: (mmpose's model zoo: 17 COCO, 16 MPII; Halpe-26 and COCO-WholeBody-133 begin with the 17 COCO points)
LAYOUT_BY_OUTPUTS = {17: "coco17", 16: "mpii16", 26: "coco17", 133: "coco17"}
#: ``box: track`` trusts the previous frame's key-points when their mean score reaches this, using only the
#: joints scoring at least TRACK_JOINT_SCORE, of which it needs TRACK_MIN_JOINTS
TRACK_MIN_SCORE, TRACK_JOINT_SCORE, TRACK_MIN_JOINTS = 0.3, 0.2, 6


# ---------------------------------------------------------------------------------------------- flip test
def shift_last_axis(t: torch.Tensor, offset: float) -> torch.Tensor:
    """``out[..., j] = t[..., j + offset]`` along the last axis, linearly interpolated, zero outside."""
    if offset == 0:
        return t
    n = math.floor(offset)
    f = offset - n

    def take(k):
        if k == 0:
            return t
        out = torch.zeros_like(t)
        if k > 0:
            out[..., :-k] = t[..., k:]
        else:
            out[..., -k:] = t[..., :k]
        return out

    return take(n) if f == 0 else (1 - f) * take(n) + f * take(n + 1)


def flip_offset(codec, n_bins: int, width: int) -> float:
    """How far (in output bins along x) the mirror image of a mirrored crop's output lands from the plain one.

    A codec puts crop column ``u`` at output index ``a*u + b``; mirroring the crop (``u -> W-1-u``) and then the
    output (``i -> N-1-i``) lands the point at ``i + N-1 - a*(W-1) - 2b``. MSRA heatmaps and SimCC labels use
    ``a = N/W, b = 0``: an offset of ``N/W - 1``, i.e. -0.75 bins for stride-4 heatmaps and +1 bin for SimCC at
    split ratio 2, which mmpose's flip test leaves in (or rounds to one bin with ``shift_heatmap``). UDP heatmaps
    (Huang et al. 2020) use ``a = (N-1)/(W-1)``, which makes the mirror exact.
    """
    if type(codec).__name__ == "UDPHeatmap":
        return 0.0
    return n_bins / width - 1.0


# ---------------------------------------------------------------------------------------------- the stage
@register("detector2d", "mmpose_topdown")
class MMPoseTopdown(Detector2D):
    """mmpose ``TopdownPoseEstimator`` from a config; trained on the synthetic renders unless ``checkpoint``."""

    defaults = {
        "config": "configs/mmpose/topdown_small.py",  # mmpose-style python config, relative to the repo root
        "checkpoint": None,        # null: train on data.train's frames; a path: load this mmengine checkpoint
        "epochs": 8,
        "batch_size": 32,
        "lr": 4e-3,                # AdamW; linear warm-up, then cosine decay to 5 %
        "weight_decay": 1e-4,
        "frames_per_epoch": 3072,  # training crops per epoch, drawn at random from the kept frames
        "frame_stride": 2,         # keep every n-th frame of each training sequence (neighbours are near-copies)
        "supervise_occluded": True,
        "val_frames": 384,         # validation frames scored after each epoch (whole sequences, spread out)
        "flip_test": True,
        "box": "track",            # whole_frame | track (the previous frame's key-points, else the whole frame);
                                   # a sample's annotated boxes (evaluation) are used whenever it has them
        "layout": "auto",          # the model's key-points: auto (module docstring), h36m17, coco17, mpii16
        "box_padding": 1.25,
        "batch_infer": 16,         # crops per forward pass with whole-frame boxes
    }

    def __init__(self, cfg: Optional[dict] = None, device: str = "cpu", seed: int = 0):
        super().__init__(cfg, device, seed)
        if self.cfg["box"] not in BOX_MODES:
            raise InputError(f"detector2d mmpose_topdown.box: expected one of {', '.join(BOX_MODES)}, "
                             f"got {self.cfg['box']!r}")
        for key in ("epochs", "batch_size", "batch_infer", "frames_per_epoch", "frame_stride", "val_frames"):
            if int(self.cfg[key]) < (0 if key in ("epochs", "val_frames") else 1):
                raise InputError(f"detector2d mmpose_topdown.{key}: expected a positive integer, got {self.cfg[key]}")
        MODELS, CODECS = mmpose_registries()
        self.mm_cfg = load_config(self.cfg["config"])
        self.codec = CODECS.build(self.mm_cfg.codec)
        self.input_size = tuple(int(v) for v in self.mm_cfg.get("input_size", self.codec.input_size))
        self.aspect = self.input_size[0] / self.input_size[1]
        pre = dict(self.mm_cfg.model.get("data_preprocessor") or {})
        # mmpose hands BGR images to its preprocessor, which swaps the channels when bgr_to_rgb/rgb_to_bgr is set
        self._net_rgb = bool(pre.get("bgr_to_rgb") or pre.get("rgb_to_bgr"))
        self._mean = torch.tensor(pre.get("mean", [0.0] * 3), dtype=torch.float32).view(1, -1, 1, 1)
        self._std = torch.tensor(pre.get("std", [1.0] * 3), dtype=torch.float32).view(1, -1, 1, 1)
        torch.manual_seed(self.seed)
        self._ckpt_meta: Optional[dict] = None
        if not self.cfg["checkpoint"]:  # nothing may download: pretrained initialisations are dropped
            strip_pretrained(self.mm_cfg.model)
        self.model = MODELS.build(self.mm_cfg.model)
        self.runner = None
        if self.cfg["checkpoint"]:
            self._load_checkpoint(self.cfg["checkpoint"])
        else:
            with quiet_mmengine():
                self.model.init_weights()
        self.model.to(self.device).eval()
        with torch.no_grad():  # one pass on a blank crop: one output per h36m17 joint?
            out = self.net(torch.zeros(1, 3, self.input_size[1], self.input_size[0], device=self.device))
        first = out[0] if isinstance(out, (tuple, list)) else out
        self.layout, self.flip_indices = self._output_layout(int(first.shape[1]))
        self._x_bins = first.shape[-1]

    def _output_layout(self, k: int) -> Tuple[Any, List[int]]:
        """The layout of the model's first key-points and the flip permutation of all ``k`` of them.

        ``layout: auto``: trained here -> h36m17; a checkpoint whose meta names a ``layout`` (this project's)
        -> that; otherwise by ``k`` (:data:`LAYOUT_BY_OUTPUTS`). The flip permutation is the checkpoint's
        ``dataset_meta.flip_indices`` when it has them, else the layout's own (then ``k`` must equal its size).
        """
        name = self.cfg["layout"]
        meta = self._ckpt_meta or {}
        if name == "auto":
            name = (H36M17.name if not self.cfg["checkpoint"] else meta.get("layout") or LAYOUT_BY_OUTPUTS.get(k))
            if name is None:
                raise InputError(f"{self.cfg['config']}: a head with {k} key-points; set layout: (one of "
                                 f"{', '.join(sorted(set(LAYOUT_BY_OUTPUTS.values()) | {H36M17.name}))})")
        layout = get_layout(name)
        if k < layout.n_joints or (not self.cfg["checkpoint"] and k != layout.n_joints):
            raise InputError(f"{self.cfg['config']}: the head outputs {k} key-points, layout {name} needs "
                             f"{layout.n_joints}")
        flip = (meta.get("dataset_meta") or {}).get("flip_indices")
        if flip is None or len(flip) != k:
            if k != layout.n_joints and self.cfg["flip_test"]:
                raise InputError(f"{self.cfg['config']}: no flip indices for its {k} key-points in the "
                                 "checkpoint; set flip_test: false")
            flip = list(layout.flip_permutation) + list(range(layout.n_joints, k))
        return layout, [int(i) for i in flip]

    # ------------------------------------------------------------------ encode / model / decode
    def normalise(self, crops: np.ndarray) -> torch.Tensor:
        """RGB uint8 crops (B, H, W, 3) -> the network input (B, 3, H, W) as the config's data_preprocessor says."""
        x = torch.from_numpy(np.ascontiguousarray(crops)).to(self.device).permute(0, 3, 1, 2).float()
        if not self._net_rgb:
            x = x.flip(1)
        return (x - self._mean.to(x.device)) / self._std.to(x.device)

    def net(self, x: torch.Tensor):
        """The pure tensor model: backbone (+ neck) + head.forward -> heatmaps or SimCC (x, y) logits (the
        exported network under ``backend: onnx``)."""
        return (self.runner or TensorNet(self.model))(x)

    def forward(self, x: torch.Tensor, flip_test: bool):
        """Network outputs for normalised crops; with ``flip_test`` averaged with the mirrored crops' outputs."""
        if not flip_test:
            return self.net(x)
        both, b = self.net(torch.cat([x, x.flip(-1)])), x.shape[0]
        o = flip_offset(self.codec, self._x_bins, self.input_size[0])
        if isinstance(both, torch.Tensor) and both.ndim == 4:  # heatmaps (2B, K, H, W)
            mirrored = shift_last_axis(both[b:].flip(-1)[:, self.flip_indices], o)
            return (both[:b] + mirrored) / 2
        if isinstance(both, (tuple, list)) and len(both) == 2:  # SimCC x (2B, K, Wx), y (2B, K, Wy)
            bx, by = both
            mx = shift_last_axis(bx[b:].flip(-1)[:, self.flip_indices], o)
            return (bx[:b] + mx) / 2, (by[:b] + by[b:][:, self.flip_indices]) / 2
        raise InputError(f"{self.cfg['config']}: flip_test supports heatmap and SimCC heads only; "
                         "set flip_test: false")

    def decode(self, out) -> Tuple[np.ndarray, np.ndarray]:
        """Network outputs -> key-points (B, J, 2) in crop pixels and raw scores (B, J), by the config's codec.

        UDP heatmaps decode to mmpose's ``[0, W]`` span (its UDP warp maps a box onto ``W - 1`` pixels): they are
        rescaled to this module's pixel-centre crops."""
        preds = self.model.head.decode(out)
        uv = np.stack([np.asarray(p.keypoints, dtype=np.float64)[0, :, :2] for p in preds])
        if type(self.codec).__name__ == "UDPHeatmap":
            uv = uv * (np.asarray(self.input_size) - 1) / np.asarray(self.input_size)
        return uv, np.stack([np.asarray(p.keypoint_scores, dtype=np.float64).reshape(-1) for p in preds])

    @torch.no_grad()
    def infer_crops(self, frames: np.ndarray, centers, scales) -> Tuple[np.ndarray, np.ndarray]:
        """Key-points (B, J, 2) in image pixels and scores (B, J) for frames (B, H, W, 3) and their boxes."""
        mats = [C.crop_matrix(c, s, self.input_size) for c, s in zip(centers, scales)]
        crops = np.stack([C.warp(f, m, self.input_size) for f, m in zip(frames, mats)])
        self.model.eval()
        uv, scores = self.decode(self.forward(self.normalise(crops), bool(self.cfg["flip_test"])))
        kps = np.stack([C.apply_affine(p, C.invert_affine(m)) for p, m in zip(uv, mats)])
        n = self.layout.n_joints
        kps, scores = to_h36m17(kps[:, :n], self.layout, np.clip(np.nan_to_num(scores[:, :n]), 0.0, 1.0))
        return kps.astype(np.float32), scores.astype(np.float32)

    def track_box(self, kps: np.ndarray, scores: np.ndarray, image_size) -> Optional[Tuple[np.ndarray, np.ndarray]]:
        """The box around one frame's confident key-points, or None when they are not to be trusted."""
        good = scores >= TRACK_JOINT_SCORE
        if scores.mean() < TRACK_MIN_SCORE or good.sum() < TRACK_MIN_JOINTS:
            return None
        center, scale = C.box_from_keypoints(kps[good], self.cfg["box_padding"], self.aspect)
        if min(scale) < 16 or not (0 <= center[0] < image_size[0] and 0 <= center[1] < image_size[1]):
            return None
        return center, scale

    def predict(self, frames: np.ndarray, fps: float = 25.0, sample: Optional[Sample] = None) -> Pose2DSeq:
        frames = check_frames(frames)
        T, H, W = frames.shape[:3]
        whole = C.whole_frame_box((W, H), self.aspect)
        kps = np.zeros((T, H36M17.n_joints, 2), np.float32)
        scores = np.zeros((T, H36M17.n_joints), np.float32)
        boxes = None if sample is None else sample.boxes
        if boxes is not None:  # given boxes: each annotated person cropped by its box, as top-down protocols do
            boxes = np.asarray(boxes, np.float64).reshape(-1, 4)
            if len(boxes) != T:
                raise InputError(f"sample {sample.name}: {len(boxes)} boxes for {T} frames")
            bs = int(self.cfg["batch_infer"])
            for i in range(0, T, bs):
                cs = [C.box_from_xywh(b, self.cfg["box_padding"], self.aspect) for b in boxes[i:i + bs]]
                kps[i:i + bs], scores[i:i + bs] = self.infer_crops(frames[i:i + bs], *zip(*cs))
            self.last_info = {"boxes": "given"}
        elif self.cfg["box"] == "whole_frame":
            bs = int(self.cfg["batch_infer"])
            for i in range(0, T, bs):
                n = min(bs, T - i)
                kps[i:i + n], scores[i:i + n] = self.infer_crops(frames[i:i + n], [whole[0]] * n, [whole[1]] * n)
        else:  # track: each box comes from the frame before, so the frames go one at a time
            box = whole
            for t in range(T):
                kps[t:t + 1], scores[t:t + 1] = self.infer_crops(frames[t:t + 1], [box[0]], [box[1]])
                box = self.track_box(kps[t], scores[t], (W, H)) or whole
        if boxes is None:
            self.last_info = {"boxes": self.cfg["box"]}
        return Pose2DSeq(kps[None], scores[None], (W, H), fps, H36M17.name)

    def stream(self, fps: float):
        """Frame by frame, the box carried over as in ``box: track`` (the whole frame when it is lost)."""
        state = {"box": None}

        def step(frame: np.ndarray) -> Pose2DSeq:
            frames = check_frames(frame[None])
            H, W = frames.shape[1:3]
            box = state["box"] or C.whole_frame_box((W, H), self.aspect)
            kps, scores = self.infer_crops(frames, [box[0]], [box[1]])
            if self.cfg["box"] == "track":
                state["box"] = self.track_box(kps[0], scores[0], (W, H))
            return Pose2DSeq(kps[None], scores[None], (W, H), fps, H36M17.name)

        return step

    # ------------------------------------------------------------------ training
    def _val_subset(self, samples: List[Sample]) -> List[Sample]:
        """Whole validation sequences, spread over the split, holding about ``val_frames`` frames."""
        samples = [s for s in samples if s.load_frames is not None]
        if not samples or int(self.cfg["val_frames"]) == 0:
            return []
        per = max(1, int(np.mean([s.n_frames for s in samples])))
        k = max(1, min(len(samples), round(int(self.cfg["val_frames"]) / per)))
        return [samples[i] for i in np.unique(np.linspace(0, len(samples) - 1, k).round().astype(int))]

    def evaluate(self, samples: List[Sample], frames: Optional[List[np.ndarray]] = None,
                 box: Optional[str] = None) -> float:
        """PCK@0.2 of the ground-truth torso (left shoulder - right hip) over all joints of ``samples``, with
        the ``box`` mode given (default: the configured one)."""
        if not samples:
            return float("nan")
        saved, preds = self.cfg["box"], []
        self.cfg["box"] = box or saved
        try:
            for i, s in enumerate(samples):
                preds.append(self.predict(frames[i] if frames is not None else s.frames(), s.fps).keypoints[0])
        finally:
            self.cfg["box"] = saved
        gt = np.concatenate([np.asarray(s.joints2d, np.float64) for s in samples])
        return pck(np.concatenate(preds), gt, ref_size=torso_size(gt), thr=0.2)

    def fit(self, data: Dataset) -> Dict[str, Any]:
        if self.cfg["checkpoint"]:  # a given checkpoint is used as it is, only measured
            return {"trained": False, "checkpoint": str(self.cfg["checkpoint"]),
                    "final_val_pck": self.evaluate(self._val_subset(data.val))}
        train = [s for s in data.train if s.load_frames is not None]
        if not train:
            raise InputError(f"dataset {data.name}: no training sample has frames; mmpose_topdown trains on RGB "
                             "frames (or set checkpoint: PATH)")
        torch.manual_seed(self.seed)
        rng = np.random.default_rng(self.seed)
        t0 = time.perf_counter()
        pool = frame_pool(train, int(self.cfg["frame_stride"]))
        index = np.array([(i, t) for i, p in enumerate(pool) for t in range(len(p[0]))])
        val = self._val_subset(data.val)
        val_frames = [s.frames() for s in val]
        load_s = time.perf_counter() - t0

        epochs, bs = int(self.cfg["epochs"]), int(self.cfg["batch_size"])
        steps = max(1, math.ceil(int(self.cfg["frames_per_epoch"]) / bs))
        total, warm = epochs * steps, min(100, max(1, epochs * steps // 10))
        opt = torch.optim.AdamW(self.model.parameters(), lr=float(self.cfg["lr"]),
                                weight_decay=float(self.cfg["weight_decay"]))
        sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda i: (i + 1) / warm if i < warm else 0.05 + 0.475 * (
            1 + math.cos(math.pi * (i - warm) / max(1, total - warm))))
        # under torchrun each process's loss covers its own rows; when the head's loss adds its instances up
        # (RTMCC's KLDiscretLoss does) rather than averaging them, the batch's loss is the processes' sum: each
        # process's loss is scaled by their number, so that the averaged gradients are the batch's
        size = world()[1]
        per_process = size if 1 < size <= bs and self._loss_adds_up_instances(pool, index) else 1
        snaps = Snapshots({"model": self.model, "opt": opt, "sched": sched, "rng": rng}, epochs)
        first, saved = snaps.start()  # after a kill: from the last finished epoch (common/resume.py)
        history: Dict[str, List[float]] = {"loss": [], "val_pck": [], "epoch_time_s": [], **saved}
        for epoch in range(first, epochs):
            te = time.perf_counter()
            self.model.train()
            losses = []
            bar = progress_bar(range(steps), desc=f"mmpose_topdown epoch {epoch + 1}/{epochs}", leave=False)
            for _ in bar:
                crops, targets = training_batch(rng, pool, index[rng.choice(len(index), bs, replace=len(index) < bs)],
                                                self.codec, self.flip_indices, self.aspect, self.input_size,
                                                self.cfg["box_padding"], self.cfg["supervise_occluded"], self.device)
                x = colour_jitter(self.normalise(crops))  # the same on every process, each its own rows
                out = self.model.loss(shard(x), shard(targets))
                loss = per_process * sum(v for k, v in out.items() if k.startswith("loss"))
                opt.zero_grad(set_to_none=True)
                loss.backward()
                sync_replicas(self.model)
                opt.step()
                sched.step()
                losses.append(mean_over_processes(loss.item()))
                bar.set_postfix(loss=f"{np.mean(losses[-20:]):.3g}")
            self.model.eval()
            history["loss"].append(float(np.mean(losses)))
            history["val_pck"].append(self.evaluate(val, val_frames, "whole_frame"))
            history["epoch_time_s"].append(time.perf_counter() - te)
            progress_write(f"mmpose_topdown epoch {epoch + 1}/{epochs}: loss {history['loss'][-1]:.4g}, "
                           f"val PCK@0.2 (whole frame) {history['val_pck'][-1]:.3f}")
            snaps.save(epoch, history)
        train_s = time.perf_counter() - t0
        return {"trained": True, "epochs": epochs, "steps": total, "n_train_frames": int(len(index)),
                "n_val_frames": int(sum(s.n_frames for s in val)), **history,
                "final_val_pck": self.evaluate(val, val_frames), "box": self.cfg["box"],
                "load_time_s": load_s, "train_time_s": train_s}

    def _loss_adds_up_instances(self, pool, index: np.ndarray) -> bool:
        """Whether the head's loss grows with the batch (a sum over instances) rather than staying (a mean): the
        loss of one training crop against that of the crop twice, in eval mode, drawing on no generator of the
        training."""
        crops, targets = training_batch(np.random.default_rng(0), pool, index[:1], self.codec, self.flip_indices,
                                        self.aspect, self.input_size, self.cfg["box_padding"],
                                        self.cfg["supervise_occluded"], self.device)
        x = self.normalise(crops)
        self.model.eval()
        with torch.no_grad():
            one, two = (float(sum(v for k, v in self.model.loss(xx, tt).items() if k.startswith("loss")))
                        for xx, tt in ((x, targets), (torch.cat([x, x]), targets + targets)))
        self.model.train()
        return two > 1.5 * one

    # ------------------------------------------------------------------ checkpoints
    def state(self) -> Dict[str, Any]:
        """An mmengine-style checkpoint ``{'meta': {...}, 'state_dict': ...}`` (only plain types in ``meta``)."""
        meta = {"stage": f"{self.kind}/{self.registered_name}", "config": str(self.cfg["config"]),
                "input_size": list(self.input_size), "layout": self.layout.name, "options": dict(self.cfg),
                "dataset_meta": {"num_keypoints": self.layout.n_joints, "keypoint_names": list(self.layout.names),
                                 "flip_indices": list(self.flip_indices)}}
        return {"meta": meta, "state_dict": {k: v.detach().cpu() for k, v in self.model.state_dict().items()}}

    def load_state(self, state: Dict[str, Any]) -> None:
        sd = state.get("state_dict", state) if isinstance(state, dict) else None
        if not isinstance(sd, dict):
            raise InputError("mmpose_topdown state: expected {'meta': ..., 'state_dict': ...}")
        sd = {k[len("module."):] if k.startswith("module.") else k: v for k, v in sd.items()}
        try:
            self.model.load_state_dict(sd, strict=True)
        except RuntimeError as e:
            raise InputError(f"mmpose_topdown state: does not fit {self.cfg['config']} "
                             f"({str(e).splitlines()[0]})") from None
        self.model.to(self.device).eval()

    # ------------------------------------------------------------------ export (pipelines/export.py)
    network_state_keys = ("state_dict",)

    def networks(self) -> Dict[str, Any]:
        """Backbone + head on normalised crops (N, 3, H, W) -> heatmaps (N, K, h, w) or SimCC x and y logits;
        the crops, the flip test and the codec's decoding stay outside (:meth:`infer_crops`)."""
        crops = torch.zeros(2, 3, self.input_size[1], self.input_size[0])
        with torch.no_grad():
            simcc = isinstance(self.net(crops), (tuple, list))
        outputs = ("simcc_x", "simcc_y") if simcc else ("heatmaps",)
        return {"detector": ExportSpec(TensorNet(self.model), {"crops": crops}, outputs,
                                       {k: {0: "n"} for k in ("crops",) + outputs})}

    def load_exported(self, state: Dict[str, Any], networks: Dict[str, Any]) -> None:
        self.runner = networks["detector"]

    def _load_checkpoint(self, path) -> None:
        """Load an mmengine checkpoint file (what mmpose's model zoo ships) the way mmengine's runner does.

        torch loads weights only by default; model-zoo checkpoints that pickle numpy arrays in their ``meta``
        are loaded in full instead, trusted as mmpose trusts them."""
        from mmengine.runner import load_checkpoint

        p = resolve_path(path)
        if not p.is_file():
            raise InputError(f"checkpoint: file {p} not found")
        try:
            try:
                ckpt = load_checkpoint(self.model, str(p), map_location="cpu", strict=True, logger="silent")
            except pickle.UnpicklingError:
                ckpt = torch.load(p, map_location="cpu", weights_only=False)
                self.load_state(ckpt)
        except (RuntimeError, KeyError, EOFError, OSError, pickle.UnpicklingError) as e:
            raise InputError(f"checkpoint {p}: cannot be loaded into {self.cfg['config']} "
                             f"({str(e).splitlines()[0] if str(e) else type(e).__name__})") from None
        self._ckpt_meta = ckpt.get("meta") if isinstance(ckpt, dict) and isinstance(ckpt.get("meta"), dict) else {}


class TensorNet(torch.nn.Module):
    """An mmpose top-down model as a tensor function: backbone (+ neck) + ``head.forward`` (what is exported)."""

    def __init__(self, model: torch.nn.Module):
        super().__init__()
        self.model = model

    def forward(self, x: torch.Tensor):
        return self.model.head.forward(self.model.extract_feat(x))
