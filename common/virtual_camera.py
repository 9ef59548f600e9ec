"""Random virtual cameras around a recorded 3D sequence: the same motion as an ordinary video camera would film it
from another place, for training a chained classifier on what the chain will feed it (Tang et al. 2020,
and Pham et al. 2020, recognise actions from 3D key-points lifted from any viewpoint).

A view is drawn from :data:`VIEW_RANGES` (uniform in each range):

- ``azimuth_deg``: the camera's angle about the vertical axis through the person, 0 = where the recording
  camera stood (people are filmed from every side);
- ``elevation_deg``: the camera's height angle above the person's pelvis, positive = looking down;
- ``distance_m``: from the camera to the sequence's mean pelvis;
- ``focal_ratio``: focal length / image width (0.6 = a wide phone lens, 1.6 = a short tele);
- ``aim_jitter_m``: the point the camera looks at moves this far from the pelvis (people are off centre);
- ``image_size``: (width, height) pixels, principal point at the centre, no distortion.

The vertical is the recording camera's ``-y`` axis (cameras of the datasets used here stand level).
"""
from __future__ import annotations

import dataclasses
import math
from typing import List

import numpy as np

from .camera import Camera
from .dataset import Sample

VIEW_RANGES = {"azimuth_deg": (-180.0, 180.0), "elevation_deg": (-10.0, 30.0), "distance_m": (2.0, 6.0),
               "focal_ratio": (0.6, 1.6), "aim_jitter_m": 0.3, "image_size": (1280, 720)}


def look_at_camera(position: np.ndarray, target: np.ndarray, focal: float, size) -> Camera:
    """A level pinhole at ``position`` looking at ``target`` (both in the recording camera's frame: x right,
    y down, z forward): x right, y down, z towards the target."""
    f = np.asarray(target, float) - np.asarray(position, float)
    f /= np.linalg.norm(f)
    r = np.cross([0.0, 1.0, 0.0], f)
    r /= np.linalg.norm(r)
    R = np.stack([r, np.cross(f, r), f])
    w, h = (int(v) for v in size)
    return Camera(fx=focal, fy=focal, cx=w / 2, cy=h / 2, width=w, height=h, R=R, t=-R @ np.asarray(position, float),
                  name="virtual")


def random_camera(center: np.ndarray, rng: np.random.Generator, ranges: dict = VIEW_RANGES) -> Camera:
    """A camera drawn from ``ranges`` around ``center`` (a point of the recording camera's frame)."""
    az = math.radians(rng.uniform(*ranges["azimuth_deg"]))
    el = math.radians(rng.uniform(*ranges["elevation_deg"]))
    d = rng.uniform(*ranges["distance_m"])
    # the recording camera looks along +z, so "where it stood" is -z from the person; +elevation = above (-y)
    offset = d * np.array([math.sin(az) * math.cos(el), -math.sin(el), -math.cos(az) * math.cos(el)])
    aim = np.asarray(center, float) + rng.uniform(-1, 1, 3) * ranges["aim_jitter_m"] * np.array([1.0, 1.0, 0.0])
    w = ranges["image_size"][0]
    return look_at_camera(center + offset, aim, rng.uniform(*ranges["focal_ratio"]) * w, ranges["image_size"])


def virtual_views(sample: Sample, n: int, rng: np.random.Generator, ranges: dict = VIEW_RANGES) -> List[Sample]:
    """``n`` copies of a sample with 3D joints, each seen by its own random camera: ``joints3d`` in that
    camera's frame, ``joints2d`` its projection, ``camera`` and ``image_size`` set; names get ``@v<k>``."""
    j3 = np.asarray(sample.joints3d, np.float64)
    center = j3[:, 0].mean(0)
    out = []
    for k in range(n):
        cam = random_camera(center, rng, ranges)
        jc = cam.world_to_camera(j3)
        out.append(dataclasses.replace(
            sample, name=f"{sample.name}@v{k}", joints3d=jc.astype(np.float32),
            joints2d=cam.project(jc).astype(np.float32), camera=cam, image_size=(cam.width, cam.height),
            visible=np.ones(j3.shape[:2], bool), joints2d_right=None, camera_right=None, load_frames=None,
            boxes=None))
    return out
