"""Evaluation of the joint mode, block by block (Luvizon et al. 2021, sections 4.1.1 and 4.5.4, Fig. 9).

Every test sequence is cropped by its ground-truth box; the network runs once on all its frames (poses of every
block) and once on its clips of ``clip_len`` frames at ``test_stride`` (actions of every block); with
``flip_test`` the mirrored frames and clips run too (``run_sequence``). Per block:

- ``pck``: PCK@0.2 of the ground-truth torso (left shoulder - right hip) in image pixels, visible joints;
- ``mpjpe_mm`` / ``p_mpjpe_mm``: the pose in camera metres (inverse crop, depth from the ground-truth root depth
  as the authors evaluate Human3.6M, the camera's intrinsics), root-aligned, against the 3D labels; after
  Procrustes alignment for P-MPJPE;
- ``top1``: multi-clip (clips ``clip_len / 2`` subsampled frames apart, softmax averaged over clips) and
  ``top1_single_clip`` (the centred clip); null for blocks without an action part;
- ``fps`` (pose: batches of 16 frames) and ``fps_action`` (one clip of 8 frames, pose and action) of the
  network cut after the block, timed on random input (``speed_per_cut``).
"""
from __future__ import annotations

import time
from typing import Dict, List, Optional, Sequence

import numpy as np
import torch

from common import metrics
from common.dataset import Sample
from common.progress import progress_bar
from common.skeleton import get_layout

from .data import clip_frames, eval_crops, normalise, to_camera
from .network import MultitaskNet


def clip_starts(n: int, clip_len: int, stride: int) -> List[int]:
    """Starts of the multi-clip evaluation: every ``clip_len // 2`` subsampled frames, the last clip ending at
    the sequence's end; one clip when the sequence is shorter than a clip."""
    stride = max(1, min(stride, n // clip_len)) if n >= clip_len else 1
    span = (clip_len - 1) * stride + 1
    if n <= span:
        return [0]
    starts = list(range(0, n - span + 1, max(1, clip_len // 2) * stride))
    return starts if starts[-1] == n - span else starts + [n - span]


@torch.no_grad()
def run_sequence(net: MultitaskNet, frames: torch.Tensor, clip_len: int, stride: int, batch: int = 32,
                 flip_perm: Optional[np.ndarray] = None):
    """Poses of every block for every frame (list of (T, J, 4)), and per block the clips' class log-probabilities
    (clips, A) or None, the centred clip's last. With ``flip_perm`` (the layout's left/right permutation) the
    mirrored frames run too: their poses, mirrored back (x -> 1 - x, left and right exchanged), are averaged with
    the direct ones, and each clip's log-probabilities are summed with its mirror's (the authors' multi-clip
    test multiplies the softmax over clips and their flips, JOINT_MODEL_NOTES.md section 6)."""
    n = frames.shape[0]
    views = [frames] if flip_perm is None else [frames, frames.flip(-1)]
    idx = [clip_frames(n, clip_len, stride, start=s) for s in clip_starts(n, clip_len, stride)]
    idx.append(clip_frames(n, clip_len, stride))
    idx = torch.as_tensor(np.concatenate(idx))
    poses, logp = None, None
    for v, view in enumerate(views):
        chunks = [net(view[i:i + batch])["poses"] for i in range(0, n, batch)]
        p = [torch.cat([c[b] for c in chunks]).cpu().numpy() for b in range(net.n_blocks)]
        out = [None if a is None else torch.log_softmax(a, -1).cpu().numpy()
               for a in net(view[idx], clip_len=clip_len)["actions"]]
        if v:
            p = [np.concatenate([1.0 - q[:, flip_perm, :1], q[:, flip_perm, 1:]], -1) for q in p]
        poses = p if poses is None else [a + b for a, b in zip(poses, p)]
        logp = out if logp is None else [None if a is None else a + b for a, b in zip(logp, out)]
    return [p / len(views) for p in poses], logp


@torch.no_grad()
def speed_per_cut(net: MultitaskNet, input_size: int, device: str, pose_batch: int = 16, clip_len: int = 8,
                  repeats: int = 3) -> List[Dict[str, float]]:
    """Frames per second of the network cut after each block: pose only on batches of ``pose_batch`` frames,
    pose and action on one clip of ``clip_len`` frames (section 4.5.4); median of ``repeats`` timings after a
    warm-up run (and two runs of the whole network first)."""
    g = torch.Generator().manual_seed(0)
    x = torch.randn(max(pose_batch, clip_len), 3, input_size, input_size, generator=g).to(device)

    def timed(fn) -> float:
        fn()
        ts = []
        for _ in range(repeats):
            if device == "cuda":
                torch.cuda.synchronize()
            t0 = time.perf_counter()
            fn()
            if device == "cuda":
                torch.cuda.synchronize()
            ts.append(time.perf_counter() - t0)
        return float(np.median(ts))

    for _ in range(2):  # allocator and caches warm before the first cut is timed
        net(x[:clip_len], clip_len=clip_len)
    out = []
    for b in range(net.n_blocks):
        rec = {"fps": pose_batch / timed(lambda b=b: net(x[:pose_batch], upto=b))}
        has_action = any(i <= b for i in net.action_blocks())
        rec["fps_action"] = clip_len / timed(lambda b=b: net(x[:clip_len], clip_len=clip_len, upto=b)) \
            if has_action else None
        out.append(rec)
    return out


def _lift_errors(pred: np.ndarray, gt: np.ndarray) -> Dict[str, float]:
    return {"mpjpe_mm": 1000 * metrics.mpjpe(pred, gt), "p_mpjpe_mm": 1000 * metrics.p_mpjpe(pred, gt)}


@torch.no_grad()
def evaluate(net: MultitaskNet, samples: Sequence[Sample], cfg: dict, device: str,
             progress: bool = True, keep: int = 1) -> Dict[str, object]:
    """The ``joint`` section of report.json (without ``per_block`` speeds, which ``speed_per_cut`` adds) plus
    ``_examples``: the first ``keep`` sequences' crops and predictions, for figures."""
    net.eval()
    S, T = int(cfg["input_size"]), int(cfg["train"]["clip_len"])
    stride, depth_range = int(cfg["test_stride"]), float(cfg["depth_range_m"])
    nb = net.n_blocks
    perm = get_layout(samples[0].layout).flip_permutation if cfg.get("flip_test") else None
    acc = {"uv": [[] for _ in range(nb)], "X": [[] for _ in range(nb)], "gt2": [], "vis": [], "gt3": [],
           "multi": [[] for _ in range(nb)], "single": [[] for _ in range(nb)], "labels": []}
    seconds, frames_total, examples = 0.0, 0, []
    for i, s in enumerate(progress_bar(samples, desc="joint: evaluate", unit="clip", leave=False, disable=not progress,
                               dynamic_ncols=True)):
        t0 = time.perf_counter()
        crops, M = eval_crops(s, S, float(cfg["box_padding"]))
        poses, logp = run_sequence(net, normalise(crops, device), T, stride, flip_perm=perm)
        seconds += time.perf_counter() - t0
        frames_total += s.n_frames
        gt3 = np.asarray(s.joints3d, np.float64)
        for b in range(nb):
            uv, X = to_camera(poses[b], M, S, s.camera, gt3[:, 0, 2], depth_range)
            acc["uv"][b].append(uv)
            acc["X"][b].append(X - X[:, :1])
            if logp[b] is not None:
                acc["multi"][b].append(int(np.argmax(logp[b][:-1].sum(0))))
                acc["single"][b].append(int(np.argmax(logp[b][-1])))
        acc["gt2"].append(np.asarray(s.joints2d, np.float64))
        acc["vis"].append(np.asarray(s.visible, bool))
        acc["gt3"].append(gt3 - gt3[:, :1])
        acc["labels"].append(int(s.action))
        if i < keep:
            examples.append({"sample": s, "crops": crops, "matrix": M, "poses": poses})
    gt2, vis, gt3 = (np.concatenate(acc[k]) for k in ("gt2", "vis", "gt3"))
    torso = metrics.torso_size(gt2, samples[0].layout)
    per_block = []
    for b, (p, level, kind) in enumerate(net.blocks):
        uv, X = np.concatenate(acc["uv"][b]), np.concatenate(acc["X"][b])
        rec = {"block": b + 1, "pyramid": p, "level": level, "direction": kind,
               "pck": metrics.pck(uv, gt2, vis, torso, 0.2), **_lift_errors(X, gt3)}
        rec["top1"] = metrics.top1(acc["multi"][b], acc["labels"]) if acc["multi"][b] else None
        rec["top1_single_clip"] = metrics.top1(acc["single"][b], acc["labels"]) if acc["single"][b] else None
        per_block.append(rec)
    last = per_block[-1]
    action_last = [r for r in per_block if r["top1"] is not None]
    return {"pck": last["pck"], "mpjpe_mm": last["mpjpe_mm"], "p_mpjpe_mm": last["p_mpjpe_mm"],
            "top1": action_last[-1]["top1"] if action_last else None,
            "top1_single_clip": action_last[-1]["top1_single_clip"] if action_last else None,
            "fps": frames_total / max(seconds, 1e-9), "n_clips": len(samples), "n_frames": frames_total,
            "test_stride": stride, "flip_test": perm is not None, "per_block": per_block, "_examples": examples,
            "confusion_matrix": metrics.confusion(acc["labels"], acc["multi"][action_last[-1]["block"] - 1],
                                                  net.n_actions).tolist() if action_last else None}

