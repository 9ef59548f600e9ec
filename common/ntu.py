"""NTU RGB+D (Shahroudy, Liu, Ng, Wang, "NTU RGB+D: A Large Scale Dataset for 3D Human Activity Analysis",
CVPR 2016) ``.skeleton`` files as :class:`~common.dataset.Sample` objects.

File names hold the setup, camera, performer, replication and action (``S001C001P001R001A001``); the action
index is ``A - 1`` into the 60 classes of ``label_map_ntu60.txt``. One person per file: the body tracked in
the most frames (the main actor). Kinect camera space (x to the sensor's left, y up, metres) becomes the
project's camera frame (x right, y down, z forward) by a rotation of 180 degrees about z, and the mirrored
colour-image joints are mirrored back (``x -> 1920 - x``), so 2D and 3D describe the same, unmirrored person.
Joints are converted from ``ntu25`` to h36m17; untracked joints (trackingState 0) get score 0.
The standard cross-subject split trains on the performers in :data:`CS_TRAIN_PERFORMERS`.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import List

import numpy as np

from .dataset import Sample
from .errors import InputError
from .paths import files_under
from .readers import read_ntu_skeleton
from .skeleton import to_h36m17

NTU_FPS = 30.0
NTU_IMAGE_SIZE = (1920, 1080)
CS_TRAIN_PERFORMERS = (1, 2, 4, 5, 8, 9, 13, 14, 15, 16, 17, 18, 19, 25, 27, 28, 31, 34, 35, 38)
_NAME = re.compile(r"S(\d{3})C(\d{3})P(\d{3})R(\d{3})A(\d{3})")


def read_label_map(path) -> List[str]:
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: NTU label map not found")
    names = [ln.strip() for ln in path.read_text().splitlines() if ln.strip()]
    if not names:
        raise InputError(f"{path}: empty NTU label map")
    return names


def ntu_sample(path, n_classes: int = 60) -> Sample:
    path = Path(path)
    m = _NAME.search(path.name)
    if m is None:
        raise InputError(f"{path}: file name does not follow NTU's SsssCcccPpppRrrrAaaa pattern")
    action = int(m.group(5)) - 1
    if not 0 <= action < n_classes:
        raise InputError(f"{path}: action A{action + 1:03d} outside the {n_classes} classes of the label map")
    d = read_ntu_skeleton(path)
    if len(d["body_ids"]) == 0:
        raise InputError(f"{path}: no tracked body")
    b = int(np.argmax(d["present"].sum(1)))
    frames = d["present"][b]
    j3 = d["joints"][b][frames] * np.array([-1.0, -1.0, 1.0])
    j2 = d["color"][b][frames].copy()
    j2[..., 0] = NTU_IMAGE_SIZE[0] - j2[..., 0]
    sc = (d["tracking"][b][frames] > 0).astype(np.float64)
    k3, s17 = to_h36m17(j3, "ntu25", sc)
    k2, _ = to_h36m17(j2, "ntu25", sc)
    return Sample(name=path.stem, action=action, subject=int(m.group(3)), fps=NTU_FPS,
                  joints2d=k2.astype(np.float32), visible=s17 > 0, joints3d=k3.astype(np.float32), camera=None,
                  image_size=NTU_IMAGE_SIZE, scores=s17.astype(np.float32), source=path.name)


def ntu_samples(folder, n_classes: int = 60) -> List[Sample]:
    return [ntu_sample(f, n_classes) for f in files_under(folder, ".skeleton", "NTU")]
