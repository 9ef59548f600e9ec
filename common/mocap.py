"""Real motion capture as lifting samples: motion files -> h36m17 world joints -> the real Human3.6M cameras.

The protocol of ``docs/interfaces.md`` ("Mocap evaluation protocol"): any motion file of :mod:`common.motion`
(BVH of any humanoid rig, ASF/AMC, DeepMimic, VideoPose3D npz) becomes h36m17 world joints; each clip is put on
the floor (:func:`place_on_floor`: files put their floor anywhere); each frame is placed with its pelvis at the
world origin in x and y, its height kept, so a walking subject stays in view; the pose is then seen by real H36M
cameras (``../shared/data/h36m/cameras.pkl``, world z up, about 5 m from the origin). Evaluation uses the 4
cameras of S9 and the 4 of S11 (:data:`EVAL_SUBJECTS`); training on mocap uses the cameras of the H36M training
subjects (:data:`TRAIN_SUBJECTS`), so no evaluation view is ever trained on. 2D is the exact projection with the
cameras' radial and tangential distortion; every joint counts as visible.

One :class:`~common.dataset.Sample` per clip and camera; ``Sample.source`` is the clip's name (the file's name;
the report's ``per_file`` key) and ``subject`` the camera index. For training, ``max_seconds`` caps what one
clip gives: a longer clip is subsampled evenly to that many seconds at the training rate, so no single long
take dominates the training set.
"""
from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import List, Optional, Sequence, Tuple

import numpy as np

from .camera import Camera, load_h36m_cameras
from .dataset import Sample
from .errors import InputError
from .motion import load_motion
from .paths import shared
from .skeleton import H36M17

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


def centre_on_origin(joints_world: np.ndarray) -> np.ndarray:
    """Each frame moved so its pelvis is at the world origin in x and y; heights unchanged."""
    out = np.array(joints_world, dtype=np.float64)
    out[..., :2] -= out[:, :1, :2]
    return out


#: height of the ankle centres above the floor when a foot is down (Human3.6M: 0.08-0.12 m)
ANKLE_HEIGHT = 0.10


def place_on_floor(joints_world: np.ndarray) -> np.ndarray:
    """The clip moved up or down so its feet rest on the floor z = 0: the lower ankle's height, at its 5th
    percentile over the frames, becomes :data:`ANKLE_HEIGHT` (motion files put their floor anywhere)."""
    ankles = np.minimum(joints_world[:, H36M17["l_ankle"], 2], joints_world[:, H36M17["r_ankle"], 2])
    out = np.array(joints_world, dtype=np.float64)
    out[..., 2] += ANKLE_HEIGHT - np.percentile(ankles, 5)
    return out


def resample(joints: np.ndarray, fps: float, target_fps: float | None) -> Tuple[np.ndarray, float]:
    """Every k-th frame so the rate is at most ``target_fps`` (``None``: all frames)."""
    if not target_fps or fps <= target_fps:
        return joints, fps
    k = int(round(fps / target_fps))
    return joints[::k], fps / k


def cap_frames(joints: np.ndarray, fps: float, max_seconds: float | None) -> np.ndarray:
    """At most ``max_seconds * fps`` frames, evenly spread over the clip (``None``: all)."""
    if not max_seconds or len(joints) <= max_seconds * fps:
        return joints
    keep = np.linspace(0, len(joints) - 1, int(max_seconds * fps)).round().astype(int)
    return joints[keep]


def filmed(world: np.ndarray, fps: float, name: str, cameras: Sequence[Tuple[str, Camera]], what="") -> List[Sample]:
    """One sample per camera of world joints (T, 17, 3): camera-frame 3D and its exact (distorted) projection."""
    out = []
    for ci, (cam_name, cam) in enumerate(cameras):
        X = cam.world_to_camera(world.reshape(-1, 3)).reshape(world.shape)
        if (X[..., 2] <= 0.1).any():
            raise InputError(f"{what or name}: a joint is behind or at camera {cam_name}; is the unit right?")
        uv = cam.project(X.reshape(-1, 3)).reshape(*X.shape[:2], 2)
        out.append(Sample(name=f"{name}@{cam_name}", action=0, subject=ci, fps=fps, joints2d=uv.astype(np.float32),
                          visible=np.ones(X.shape[:2], bool), joints3d=X.astype(np.float32), camera=cam,
                          image_size=(cam.width, cam.height), source=name))
    return out


def mocap_samples(files: Sequence, cameras: Sequence[Tuple[str, Camera]], target_fps: float | None = None,
                  max_seconds: float | None = None) -> List[Sample]:
    """One sample per clip and camera (see the module docstring). ``target_fps`` subsamples frames and
    ``max_seconds`` caps a clip's length (for training; evaluation keeps every frame)."""
    out = []
    for path in files:
        path = Path(path)
        for clip in load_motion(path):
            world, fps = resample(centre_on_origin(place_on_floor(clip.joints)), clip.fps, target_fps)
            world = cap_frames(world, fps, max_seconds)
            out += filmed(world, fps, clip.name, cameras, path)
    return out


def h36m_npz_samples(npz_3d, subjects: Sequence[str], npz_2d=None, target_fps: float | None = None) -> List[Sample]:
    """Human3.6M as VideoPose3D prepares it (``data_3d_h36m.npz``, :mod:`common.videopose3d`), the standard
    protocol: each ``subject``'s actions filmed by that subject's own 4 real cameras (``cameras.pkl``, in camera-id
    order, VideoPose3D's order), the world placement kept. 2D: the exact projection, or the per-camera key-points of
    ``npz_2d`` (``data_2d_h36m_<detector>.npz``: a detector's, for the standard "detected 2D" rows)."""
    from .videopose3d import load_positions_2d, load_positions_3d
    positions = load_positions_3d(npz_3d)
    missing = sorted(set(subjects) - set(positions))
    if missing:
        raise InputError(f"{npz_3d}: no subject(s) {', '.join(missing)} (has {', '.join(sorted(positions))})")
    p2d: Optional[dict] = load_positions_2d(npz_2d)[0] if npz_2d else None
    cams = load_h36m_cameras(shared("h36m", "cameras.pkl"))
    out = []
    for subject in subjects:
        views = [(f"{s}_{c}", cam) for (s, c), cam in sorted(cams.items()) if s == subject]
        if not views:
            raise InputError(f"{npz_3d}: subject {subject} has no cameras in cameras.pkl (Human3.6M S1-S11 only; "
                             "another dataset's npz goes in data.motion_dir)")
        for action, world in sorted(positions[subject].items()):
            fps = 50.0
            samples = filmed(world, fps, f"{subject}/{action}", views, npz_3d)
            for ci, smp in enumerate(samples):
                if p2d is not None:
                    kp = (p2d.get(subject, {}).get(action) or [None] * 4)[ci]
                    if kp is None or len(kp) != len(world):
                        raise InputError(f"{npz_2d}: no 2D of {subject}/{action} camera {ci} with {len(world)} frames")
                    smp.joints2d[:] = np.asarray(kp, np.float32)[..., :2]
            if target_fps and target_fps < fps:
                k = int(round(fps / target_fps))
                samples = [dataclasses.replace(s, joints2d=s.joints2d[::k], joints3d=s.joints3d[::k],
                                               visible=s.visible[::k], fps=fps / k) for s in samples]
            out += samples
    return out
