"""Crops, targets and augmentation of the joint mode (Luvizon et al. 2021, sections 4.2.1 and 4.2.3).

Each sequence is cropped around its person: the square box around all its frames' 2D joints grown by
``box_padding`` (one box per sequence, so a clip keeps the motion, as the authors crop clips). Targets, per
joint (section 4.2.1): (x, y) in [0, 1] of the crop (top-left corner 0, bottom-right 1; pixel centres at
(u + 0.5) / size); z = 0.5 + (Z_joint - Z_root) / ``depth_range_m`` (the root at 0.5, 2 m of range); a
visibility flag, 1 when the joint falls inside the crop; masks saying which coordinates may be
back-propagated: (x, y) inside the crop, z only for samples with 3D labels and inside [0, 1]. A share
``share_2d_only`` of the training sequences (fixed by the seed) is treated as 2D-annotated only, as the
paper mixes MPII's 2D images with 3D data.

Training sequences are cropped once into memory with room around the box (``STORE_MARGIN``); each batch
then draws its augmentation from that store: rotation, scale, horizontal flip (left and right joints
exchanged), colour (a per-channel power, as the authors' code, JOINT_MODEL_NOTES.md section 6) and, for
clips, temporal subsampling by a random stride. The default geometry is the authors' Human3.6M setting
(rotation +-10 deg, scale 0.8-1.2; the synthetic world is filmed like Human3.6M, upright people, no rotated
test crops); the paper's MPII setting (+-40 deg, 0.7-1.3) is ``augment.rotation_deg: 40, augment.scale: [0.7,
1.3]``, and on the small default budget it cost 11 points of PCK (0.46 against 0.57 after 300 pose steps).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch

from common import crop as C
from common.augment import mirror
from common.dataset import Sample
from common.progress import progress_bar
from common.skeleton import get_layout

#: the in-memory training crops cover this many times the sequence box, for scale and rotation augmentation
STORE_MARGIN = 1.5

AUGMENT_DEFAULTS = {
    "rotation_deg": 10.0,        # uniform in +-, frames and clips (the paper, section 4.2.3: 40 on MPII)
    "scale": [0.8, 1.2],         # box side multiplier (the paper: 0.7-1.3)
    "flip": True,                # horizontal flip, p = 0.5
    "colour": [0.9, 1.1],        # per-channel power of the [0, 1] image
    "strides": [2, 3, 4],        # clip temporal subsampling (the paper: 3 to 10 on 25-30 fps videos)
}


def sequence_box(sample: Sample, padding: float) -> Tuple[np.ndarray, np.ndarray]:
    """(centre, (side, side)) of the square box around all of the sample's 2D joints, grown by ``padding``."""
    kp = np.asarray(sample.joints2d, np.float64).reshape(-1, 2)
    return C.box_from_keypoints(kp, padding, 1.0, min_size=16.0)


def depth_targets(joints3d: np.ndarray, depth_range: float) -> np.ndarray:
    """(T, J, 3) camera-frame metres -> (T, J) normalised depth: root 0.5, ``depth_range`` metres = 1."""
    z = np.asarray(joints3d, np.float64)[..., 2]
    return 0.5 + (z - z[:, :1]) / depth_range


def normalise(crops: np.ndarray, device, power: Optional[np.ndarray] = None) -> torch.Tensor:
    """(N, H, W, 3) uint8 -> (N, 3, H, W) float in [-1, 1]; ``power`` (N, 3) raises each channel of the [0, 1]
    image first (colour augmentation)."""
    x = torch.from_numpy(np.ascontiguousarray(crops)).to(device).permute(0, 3, 1, 2).float() / 255.0
    if power is not None:
        x = x.clamp_min(1e-6) ** torch.as_tensor(power, dtype=x.dtype, device=x.device)[:, :, None, None]
    return (x - 0.5) * 2.0


def targets_in_crop(uv: np.ndarray, z: np.ndarray, has_z: bool, size: int) -> Dict[str, np.ndarray]:
    """Crop pixels (N, J, 2) and depths (N, J) -> ``target`` (N, J, 3), ``mask`` (N, J, 3), ``visible`` (N, J)."""
    xy = (np.asarray(uv, np.float64) + 0.5) / size
    inside = np.all((xy > 0) & (xy < 1), axis=-1)
    zok = inside & (z > 0) & (z < 1) & bool(has_z)
    return {"target": np.concatenate([xy, z[..., None]], -1).astype(np.float32),
            "mask": np.stack([inside, inside, zok], -1).astype(np.float32), "visible": inside.astype(np.float32)}


@dataclass
class Batch:
    frames: torch.Tensor            # (N, 3, S, S)
    target: torch.Tensor            # (N, J, 3)
    mask: torch.Tensor              # (N, J, 3)
    visible: torch.Tensor           # (N, J)
    actions: Optional[torch.Tensor] = None  # (clips,)
    clip_len: Optional[int] = None


class TrainStore:
    """Training sequences cropped once (``STORE_MARGIN`` x the sequence box) and the batch sampler."""

    def __init__(self, samples: Sequence[Sample], input_size: int, box_padding: float, depth_range: float,
                 share_2d_only: float, augment: dict, seed: int, progress: bool = True):
        if not samples:
            raise ValueError("joint: no training sequences")
        missing = [s.name for s in samples if s.load_frames is None or s.joints3d is None]
        if missing:
            raise ValueError(f"joint: training needs frames and 3D labels; {missing[0]} has none")
        self.size, self.aug = int(input_size), dict(augment)
        self.store = int(round(self.size * STORE_MARGIN))
        self.layout = get_layout(samples[0].layout)
        rng = np.random.default_rng([seed, 7])
        n2d = int(round(share_2d_only * len(samples)))
        self.has_z = np.ones(len(samples), bool)
        self.has_z[rng.permutation(len(samples))[:n2d]] = False
        self.crops, self.uv, self.z, self.actions = [], [], [], []
        for s in progress_bar(samples, desc="joint: cropping training clips", unit="clip", leave=False,
                      disable=not progress):
            centre, scale = sequence_box(s, box_padding)
            M = C.crop_matrix(centre, scale * STORE_MARGIN, (self.store, self.store))
            self.crops.append(np.stack([C.warp(f, M, (self.store, self.store)) for f in s.frames()]))
            self.uv.append(C.apply_affine(s.joints2d, M).astype(np.float32))
            self.z.append(depth_targets(s.joints3d, depth_range).astype(np.float32))
            self.actions.append(int(s.action))

    def __len__(self) -> int:
        return len(self.crops)

    def _matrix(self, rng: np.random.Generator) -> Tuple[np.ndarray, bool]:
        """A random store -> input crop matrix (rotation, scale, flip) and whether it flips."""
        a = self.aug
        side = self.store / STORE_MARGIN * rng.uniform(*a["scale"])
        rot = rng.uniform(-a["rotation_deg"], a["rotation_deg"])
        flip = bool(a["flip"]) and rng.random() < 0.5
        c = (self.store - 1) / 2
        return C.crop_matrix((c, c), (side, side), (self.size, self.size), rot, flip), flip

    def _views(self, rng, seq: int, frames: np.ndarray) -> dict:
        M, flip = self._matrix(rng)
        crops = np.stack([C.warp(self.crops[seq][t], M, (self.size, self.size)) for t in frames])
        uv = C.apply_affine(self.uv[seq][frames], M)
        z = self.z[seq][frames]
        if flip:
            uv, z = mirror(uv, self.layout, z, negate=False)  # the crop matrix has mirrored x
        out = targets_in_crop(uv, z, self.has_z[seq], self.size)
        power = rng.uniform(*self.aug["colour"], size=3)
        out.update(crops=crops, power=np.repeat(power[None], len(frames), 0))
        return out

    def _collate(self, views: List[dict], device, **extra) -> Batch:
        cat = lambda k: np.concatenate([v[k] for v in views])  # noqa: E731
        t = lambda a: torch.from_numpy(a).to(device)  # noqa: E731
        return Batch(normalise(cat("crops"), device, cat("power")), t(cat("target")), t(cat("mask")),
                     t(cat("visible")), **extra)

    def pose_batch(self, rng: np.random.Generator, n: int, device) -> Batch:
        """``n`` single frames, each from a random sequence with its own augmentation."""
        views = []
        for _ in range(n):
            seq = int(rng.integers(len(self)))
            views.append(self._views(rng, seq, np.array([rng.integers(len(self.crops[seq]))])))
        return self._collate(views, device)

    def action_batch(self, rng: np.random.Generator, clips: int, clip_len: int, device) -> Batch:
        """``clips`` clips of ``clip_len`` frames at a random stride of ``augment.strides`` (capped so that the
        clip fits), one augmentation per clip."""
        views, labels = [], []
        for _ in range(clips):
            seq = int(rng.integers(len(self)))
            views.append(self._views(rng, seq, clip_frames(len(self.crops[seq]), clip_len,
                                                            int(rng.choice(self.aug["strides"])), rng)))
            labels.append(self.actions[seq])
        return self._collate(views, device, actions=torch.tensor(labels, device=device), clip_len=clip_len)


def clip_frames(n: int, clip_len: int, stride: int, rng: Optional[np.random.Generator] = None,
                start: Optional[int] = None) -> np.ndarray:
    """Frame indices of a clip of ``clip_len`` frames ``stride`` apart in a sequence of ``n`` frames: the stride
    is capped at ``n // clip_len`` (at least 1); the start is random with ``rng``, centred otherwise (or
    ``start``); a sequence shorter than the clip repeats frames."""
    stride = max(1, min(int(stride), n // clip_len)) if n >= clip_len else 1
    span = (clip_len - 1) * stride + 1
    if start is None:
        start = int(rng.integers(0, max(n - span, 0) + 1)) if rng is not None else max(n - span, 0) // 2
    return np.minimum(start + stride * np.arange(clip_len), n - 1)


def eval_crops(sample: Sample, input_size: int, box_padding: float) -> Tuple[np.ndarray, np.ndarray]:
    """A test sequence cropped by its ground-truth sequence box (no augmentation): crops (T, S, S, 3) and the
    image -> crop matrix (the paper evaluates with ground-truth person boxes, section 4.1.1)."""
    centre, scale = sequence_box(sample, box_padding)
    M = C.crop_matrix(centre, scale, (input_size, input_size))
    return np.stack([C.warp(f, M, (input_size, input_size)) for f in sample.frames()]), M


def to_camera(pose: np.ndarray, M: np.ndarray, size: int, camera, root_depth: np.ndarray,
              depth_range: float) -> Tuple[np.ndarray, np.ndarray]:
    """Predicted (T, J, >=3) crop-normalised poses -> image pixels (T, J, 2) and camera-frame metres (T, J, 3):
    the inverse crop, then the depth from the ground-truth root depth (as the authors evaluate Human3.6M,
    JOINT_MODEL_NOTES.md section 9) and the camera's intrinsics."""
    uv = C.apply_affine(np.asarray(pose[..., :2], np.float64) * size - 0.5, C.invert_affine(M))
    depth = np.asarray(root_depth, np.float64)[:, None] + (np.asarray(pose[..., 2], np.float64) - 0.5) * depth_range
    return uv, camera.unproject(uv, depth)

