"""UTD-MHAD (Chen, Jafari, Kehtarnavaz, "UTD-MHAD: A Multimodal Dataset for Human Action Recognition
Utilizing a Depth Camera and a Wearable Inertial Sensor", ICIP 2015) Kinect skeletons as
:class:`~common.dataset.Sample` objects.

Each ``a<action>_s<subject>_t<trial>_skeleton.mat`` holds ``d_skel`` (20 joints x 3 x T frames), Kinect v1
camera space in metres at 30 frames per second, joints in the ``utd20`` order (``common.skeleton``). Kinect
camera space (x towards the sensor's left, y up, z away from the sensor) becomes the project's camera frame
(x right, y down, z forward) by a rotation of 180 degrees about z, then h36m17 by the tested ``utd20`` rule.

2D: the dataset has no key-points in an image, so the 3D joints are projected through :data:`KINECT_CAMERA`, a
pinhole like Kinect v1's colour camera (640 x 480 pixels, f = 525 px, principal point at the image centre, no
distortion); that is what the lifter of a chain gets, with detector-like noise added by the pipeline.

Classes a1..a27 (:data:`UTD_ACTIONS`, the dataset's order); the standard cross-subject protocol trains on the
odd subjects 1, 3, 5, 7 and tests on 2, 4, 6, 8.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import List

import numpy as np

from .camera import Camera
from .dataset import Sample
from .errors import InputError
from .paths import files_under
from .progress import progress_bar
from .readers import read_utd_skeleton
from .skeleton import to_h36m17

UTD_ACTIONS = ("swipe_left", "swipe_right", "wave", "clap", "throw", "arm_cross", "basketball_shoot", "draw_x",
               "draw_circle_cw", "draw_circle_ccw", "draw_triangle", "bowling", "boxing", "baseball_swing",
               "tennis_swing", "arm_curl", "tennis_serve", "push", "knock", "catch", "pickup_throw", "jog", "walk",
               "sit_to_stand", "stand_to_sit", "lunge", "squat")
UTD_FPS = 30.0
CS_TRAIN_SUBJECTS = (1, 3, 5, 7)
CS_TEST_SUBJECTS = (2, 4, 6, 8)
#: the documented Kinect-like pinhole that turns the skeletons into 2D key-points
KINECT_CAMERA = Camera(fx=525.0, fy=525.0, cx=320.0, cy=240.0, width=640, height=480, name="kinect_v1_rgb")
_NAME = re.compile(r"a(\d+)_s(\d+)_t(\d+)", re.IGNORECASE)
#: Kinect camera space -> project camera frame (x right, y down, z forward)
_KINECT_TO_CAMERA = np.array([-1.0, -1.0, 1.0])


def parse_name(path) -> tuple:
    """(action index 0..26, subject, trial) from a file name ``a<action>_s<subject>_t<trial>_...``."""
    m = _NAME.search(Path(path).name)
    if m is None:
        raise InputError(f"{path}: file name does not follow UTD-MHAD's a<action>_s<subject>_t<trial> pattern")
    action, subject, trial = (int(g) for g in m.groups())
    if not 1 <= action <= len(UTD_ACTIONS):
        raise InputError(f"{path}: action a{action} outside the {len(UTD_ACTIONS)} UTD-MHAD classes")
    return action - 1, subject, trial


def utd_sample(path) -> Sample:
    path = Path(path)
    action, subject, trial = parse_name(path)
    k3 = read_utd_skeleton(path) * _KINECT_TO_CAMERA
    j3, _ = to_h36m17(k3, "utd20")
    if np.any(j3[..., 2] <= 0.1):
        raise InputError(f"{path}: joints at or behind the sensor (depth <= 0.1 m); not Kinect camera space")
    j2 = KINECT_CAMERA.project(j3)
    return Sample(name=path.stem, action=action, subject=subject, fps=UTD_FPS, joints2d=j2.astype(np.float32),
                  visible=np.ones(j3.shape[:2], bool), joints3d=j3.astype(np.float32), camera=KINECT_CAMERA,
                  image_size=(KINECT_CAMERA.width, KINECT_CAMERA.height), source=path.name)


def utd_samples(folder, progress: bool = True) -> List[Sample]:
    """Every UTD-MHAD skeleton file (``a*_s*_t*...mat``) under ``folder``, recursively."""
    files = [f for f in files_under(folder, ".mat", "UTD-MHAD skeleton") if _NAME.search(f.name)]
    if not files:
        raise InputError(f"{folder}: no UTD-MHAD skeleton files (a<action>_s<subject>_t<trial>_skeleton.mat)")
    with progress_bar(files, desc=f"read {Path(folder).name}", unit="file", leave=False, disable=not progress,
              dynamic_ncols=True) as bar:  # closed (and cleared) before an error is printed
        return [utd_sample(f) for f in bar]


def trial_of(sample: Sample) -> int:
    return parse_name(sample.source)[2]
