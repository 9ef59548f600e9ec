"""Real motion capture as lifting samples: BVH files -> h36m17 world joints -> the real Human3.6M cameras.

The protocol of ``docs/interfaces.md`` ("Mocap evaluation protocol"): each BVH format's skeleton and unit are fixed
(:mod:`common.bvh`); each frame is placed with its pelvis at the world origin in x and y, its height kept, so a
walking subject stays in view; the pose is then seen by real H36M cameras (``../shared/data/h36m/cameras.pkl``,
world z up, about 5 m from the origin). Evaluation uses the 4 cameras of S9 and the 4 of S11
(:data:`EVAL_SUBJECTS`); training on mocap uses the cameras of the H36M training subjects
(:data:`TRAIN_SUBJECTS`), so no evaluation view is ever trained on. 2D is the exact projection with the
cameras' radial and tangential distortion; every joint counts as visible.

One :class:`~common.dataset.Sample` per file and camera; ``Sample.source`` is the file's name (the report's
``per_file`` key) and ``subject`` the camera index.
"""
from __future__ import annotations

from pathlib import Path
from typing import Dict, List, Sequence, Tuple

import numpy as np

from .bvh import load_bvh_h36m17
from .camera import Camera, load_h36m_cameras
from .dataset import Sample
from .errors import InputError
from .paths import files_under, shared

EVAL_SUBJECTS = ("S9", "S11")
TRAIN_SUBJECTS = ("S1", "S5", "S6", "S7", "S8")


def h36m_cameras(subjects: Sequence[str]) -> List[Tuple[str, Camera]]:
    """``[(name, Camera)]`` of the real H36M cameras of ``subjects``, in a fixed order."""
    path = shared("h36m", "cameras.pkl")
    cams = load_h36m_cameras(path)
    out = [(f"{s}_{c}", cam) for (s, c), cam in sorted(cams.items()) if s in subjects]
    missing = set(subjects) - {n.split("_")[0] for n, _ in out}
    if missing:
        raise InputError(f"{path}: no cameras for subject(s) {', '.join(sorted(missing))}")
    return out


def bvh_files(folder) -> List[Path]:
    """Every ``.bvh`` under ``folder`` (recursively), sorted; a one-line error when there is none."""
    return files_under(folder, ".bvh", "BVH")


def centre_on_origin(joints_world: np.ndarray) -> np.ndarray:
    """Each frame moved so its pelvis is at the world origin in x and y; heights unchanged."""
    out = np.array(joints_world, dtype=np.float64)
    out[..., :2] -= out[:, :1, :2]
    return out


def resample(joints: np.ndarray, fps: float, target_fps: float | None) -> Tuple[np.ndarray, float]:
    """Every k-th frame so the rate is at most ``target_fps`` (``None``: all frames)."""
    if not target_fps or fps <= target_fps:
        return joints, fps
    k = int(round(fps / target_fps))
    return joints[::k], fps / k


def mocap_samples(files: Sequence, cameras: Sequence[Tuple[str, Camera]], target_fps: float | None = None,
                  file_names: Dict[Path, str] | None = None) -> List[Sample]:
    """One sample per file and camera (see the module docstring). ``target_fps`` subsamples frames (for
    training; evaluation keeps every frame)."""
    out = []
    for path in files:
        path = Path(path)
        world, fps = load_bvh_h36m17(path)
        world, fps = resample(centre_on_origin(world), fps, target_fps)
        name = (file_names or {}).get(path, path.name)
        for ci, (cam_name, cam) in enumerate(cameras):
            X = cam.world_to_camera(world.reshape(-1, 3)).reshape(world.shape)
            if (X[..., 2] <= 0.1).any():
                raise InputError(f"{path}: a joint is behind or at camera {cam_name}; is the unit right?")
            uv = cam.project(X.reshape(-1, 3)).reshape(*X.shape[:2], 2)
            out.append(Sample(name=f"{name}@{cam_name}", action=0, subject=ci, fps=fps,
                              joints2d=uv.astype(np.float32), visible=np.ones(X.shape[:2], bool),
                              joints3d=X.astype(np.float32), camera=cam, image_size=(cam.width, cam.height),
                              source=name))
    return out
