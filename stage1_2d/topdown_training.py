"""Training crops of the top-down detector (``mmpose_topdown``): the frames a training run draws from, a random
box per crop (scale, shift, rotation, horizontal flip, or the whole frame), the crop's targets encoded by the
model's codec as mmpose's ``PackPoseInputs`` packs them, and the colour jitter of a normalised batch.
"""
from __future__ import annotations

from typing import List, Sequence, Tuple

import numpy as np
import torch

from common import crop as C
from common.dataset import Sample
from common.errors import InputError
from common.progress import progress_bar
from common.skeleton import H36M17
from common.stage import check_frames

#: training augmentation: share of crops around the whole frame instead of the ground-truth box; scale range
#: of the box; centre shift (fraction of the box); share of rotated crops and their rotation spread (degrees)
AUG = {"whole_frame": 0.2, "scale": (0.85, 1.25), "shift": 0.08, "rotate": 0.3, "rotation_std": 12.0}

Pool = List[Tuple[np.ndarray, np.ndarray, np.ndarray]]


def frame_pool(samples: List[Sample], stride: int) -> Pool:
    """(frames, joints2d, visible) of every ``stride``-th frame of each sequence, loaded once."""
    pool = []
    for s in progress_bar(samples, desc="mmpose_topdown: loading frames", leave=False):
        if s.layout != H36M17.name:
            raise InputError(f"sample {s.name}: layout {s.layout}, mmpose_topdown trains on {H36M17.name}")
        frames = check_frames(s.frames(), f"sample {s.name} frames")
        if len(frames) != s.n_frames:
            raise InputError(f"sample {s.name}: {len(frames)} frames but {s.n_frames} poses")
        pool.append((frames[::stride].copy(), np.asarray(s.joints2d, np.float64)[::stride],
                     np.asarray(s.visible, bool)[::stride]))
    return pool


def random_train_box(rng: np.random.Generator, joints: np.ndarray, image_size, aspect: float,
                     padding: float) -> Tuple[np.ndarray, np.ndarray, float, bool]:
    """A random training box (center, scale, rotation in degrees, flip) for one frame's joints (J, 2)."""
    if rng.random() < AUG["whole_frame"]:
        center, scale = C.whole_frame_box(image_size, aspect)
        scale = scale * rng.uniform(0.85, 1.1)
        center = center + rng.normal(0.0, 0.03, 2) * scale
    else:
        center, scale = C.box_from_keypoints(joints, padding, aspect)
        scale = scale * rng.uniform(*AUG["scale"])
        center = center + rng.uniform(-AUG["shift"], AUG["shift"], 2) * scale
    rotation = 0.0
    if rng.random() < AUG["rotate"]:
        s = AUG["rotation_std"]
        rotation = float(np.clip(rng.normal(0.0, s), -2.5 * s, 2.5 * s))
    return center, scale, rotation, bool(rng.random() < 0.5)


def training_batch(rng: np.random.Generator, pool: Pool, index: np.ndarray, codec, flip_indices: Sequence[int],
                   aspect: float, input_size, box_padding: float, supervise_occluded: bool, device):
    """Augmented crops (B, H, W, 3) uint8 of the pool's (sequence, frame) pairs ``index`` and their targets:
    the joints in crop pixels (left and right swapped in a mirrored crop), weighted 1 (or by visibility when
    not ``supervise_occluded``), encoded by ``codec`` into ``PoseDataSample``\\ s."""
    from mmengine.structures import InstanceData, PixelData
    from mmpose.structures import PoseDataSample

    crops, samples = [], []
    for seq, t in index:
        frames, joints, visible = pool[seq]
        center, scale, rot, flip = random_train_box(rng, joints[t], frames.shape[2:0:-1], aspect, box_padding)
        M = C.crop_matrix(center, scale, input_size, rot, flip)
        crops.append(C.warp(frames[t], M, input_size))
        kp = C.apply_affine(joints[t], M).astype(np.float32)
        w = np.ones(len(kp), np.float32) if supervise_occluded else visible[t].astype(np.float32)
        if flip:  # the mirrored person's left joints are its right ones
            kp, w = kp[flip_indices], w[flip_indices]
        enc = codec.encode(kp[None], w[None])
        ds = PoseDataSample()
        fields = {v: torch.as_tensor(enc[k]) for k, v in codec.field_mapping_table.items() if k in enc}
        if fields:
            ds.gt_fields = PixelData(**fields)
        ds.gt_instance_labels = InstanceData(**{v: torch.as_tensor(np.asarray(enc[k], np.float32))
                                                for k, v in codec.label_mapping_table.items() if k in enc})
        samples.append(ds.to(device))
    return np.stack(crops), samples


def colour_jitter(x: torch.Tensor) -> torch.Tensor:
    """Per-crop contrast, channel gain and brightness jitter on a normalised batch (B, 3, H, W)."""
    b = x.shape[0]
    gain = torch.empty(b, 1, 1, 1).uniform_(0.75, 1.25) * torch.empty(b, 3, 1, 1).uniform_(0.9, 1.1)
    shift = torch.empty(b, 3, 1, 1).normal_(0.0, 0.15)
    return x * gain.to(x.device) + shift.to(x.device)
