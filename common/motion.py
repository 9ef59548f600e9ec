"""Any folder of motion capture, any supported format, as ``h36m17`` sequences in world metres (z up).

Formats, recognised by the file:

* ``.bvh`` -- any humanoid rig (:mod:`common.bvh`, :mod:`common.rig`);
* ``.amc`` -- Acclaim ASF/AMC, the skeleton ``.asf`` beside it (:mod:`common.asf_amc`; CMU, HDM05);
* ``.txt`` holding a JSON object with ``Frames`` -- a DeepMimic motion, its character file found in a
  ``characters/`` folder beside or above it (:mod:`common.deepmimic`);
* ``.npz`` with ``positions_3d`` -- VideoPose3D's prepared ``data_3d_<name>.npz`` (:mod:`common.videopose3d`),
  one sequence per subject and action; its frame rate is not stored: 60 fps when the file's name says
  ``humaneva``, else 50 fps (Human3.6M). A ``data_2d_*`` file (``positions_2d`` only) is 2D and is skipped.

Anything else in the folder (READMEs, licences, ``.asf``, ``.c3d``, json side files) is ignored.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import List

import numpy as np

from .errors import InputError

MOTION_SUFFIXES = (".bvh", ".amc", ".txt", ".npz")
#: frames per second of VideoPose3D's datasets (their npz files do not store it)
NPZ_FPS = {"humaneva": 60.0, "h36m": 50.0}


@dataclass(frozen=True)
class MotionClip:
    """One sequence: ``name`` (the file name, ``#subject/action`` added for an npz), ``joints`` (T, 17, 3) h36m17
    world metres z up, ``fps``."""

    name: str
    joints: np.ndarray
    fps: float


def _is_motion(path: Path) -> bool:
    s = path.suffix.lower()
    if s == ".txt":
        from .deepmimic import is_deepmimic_motion
        return is_deepmimic_motion(path)
    if s == ".npz":
        from .videopose3d import is_positions_2d_file
        return not is_positions_2d_file(path)
    return s in (".bvh", ".amc")


def motion_files(folder) -> List[Path]:
    """Every motion file under ``folder`` (recursively), sorted; a one-line error when there is none."""
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(f"{folder}: motion folder not found")
    files = sorted(p for p in folder.rglob("*") if p.suffix.lower() in MOTION_SUFFIXES and p.is_file()
                   and _is_motion(p))
    if not files:
        raise InputError(f"{folder}: no motion files found (.bvh, .amc with its .asf, DeepMimic .txt, "
                         "VideoPose3D data_3d_*.npz)")
    return files


def load_motion(path) -> List[MotionClip]:
    """The ``h36m17`` sequences of one motion file (one, or one per subject and action of an npz)."""
    path = Path(path)
    s = path.suffix.lower()
    if s == ".bvh":
        from .bvh import load_bvh_h36m17
        joints, fps = load_bvh_h36m17(path)
        return [MotionClip(path.name, joints, fps)]
    if s == ".npz":
        from .videopose3d import load_positions_3d
        fps = NPZ_FPS["humaneva"] if "humaneva" in path.name.lower() else NPZ_FPS["h36m"]
        return [MotionClip(f"{path.name}#{subject}/{action}", joints, fps)
                for subject, actions in sorted(load_positions_3d(path).items())
                for action, joints in sorted(actions.items())]
    from .rig import rig_to_h36m17
    if s == ".amc":
        from .asf_amc import load_asf_amc
        rig = load_asf_amc(path)
    elif s == ".txt":
        from .deepmimic import load_deepmimic
        rig = load_deepmimic(path)
    else:
        raise InputError(f"{path}: not a motion file (expected {', '.join(MOTION_SUFFIXES)})")
    return [MotionClip(path.name, rig_to_h36m17(rig), rig.fps)]
