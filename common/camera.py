"""Pinhole cameras with Human3.6M radial and tangential distortion, extrinsics and screen normalisation.

Conventions: column vectors, metres. ``R`` and ``t`` map world to camera: ``X_cam = R @ X_world + t``. Camera
axes: x right, y down, z forward (optical axis). Pixels: (0, 0) is the top-left corner of the image.
"""
from __future__ import annotations

import pickle
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Dict, Tuple

import numpy as np

from .errors import InputError


@dataclass(frozen=True)
class Camera:
    fx: float
    fy: float
    cx: float
    cy: float
    width: int
    height: int
    R: np.ndarray = field(default_factory=lambda: np.eye(3))
    t: np.ndarray = field(default_factory=lambda: np.zeros(3))
    k: np.ndarray = field(default_factory=lambda: np.zeros(3))  # radial k1, k2, k3
    p: np.ndarray = field(default_factory=lambda: np.zeros(2))  # tangential p1, p2
    name: str = ""

    # ---------------------------------------------------------------- extrinsics
    @property
    def center(self) -> np.ndarray:
        """Optical centre in world coordinates."""
        return -self.R.T @ self.t

    def world_to_camera(self, X: np.ndarray) -> np.ndarray:
        X = np.asarray(X, dtype=np.float64)
        return X @ self.R.T + self.t

    def camera_to_world(self, X: np.ndarray) -> np.ndarray:
        X = np.asarray(X, dtype=np.float64)
        return (X - self.t) @ self.R

    # ---------------------------------------------------------------- intrinsics
    @property
    def K(self) -> np.ndarray:
        return np.array([[self.fx, 0, self.cx], [0, self.fy, self.cy], [0, 0, 1.0]])

    def project(self, X_cam: np.ndarray, distort: bool = True) -> np.ndarray:
        """Camera-frame points ``(..., 3)`` to pixels ``(..., 2)``.

        Distortion follows Human3.6M's ``ProjectPointRadial``: with ``(x, y) = (X/Z, Y/Z)`` and ``r2 = x^2+y^2``,
        ``radial = 1 + k1 r2 + k2 r2^2 + k3 r2^3``, ``tan = p1 y + p2 x``,
        ``(x', y') = (x, y) (radial + tan) + (p2, p1) r2``; then ``u = fx x' + cx``, ``v = fy y' + cy``.
        """
        X_cam = np.asarray(X_cam, dtype=np.float64)
        z = np.clip(X_cam[..., 2:3], 1e-6, None)
        xy = X_cam[..., :2] / z
        if distort and (np.any(self.k) or np.any(self.p)):
            r2 = np.sum(xy**2, axis=-1, keepdims=True)
            radial = 1 + self.k[0] * r2 + self.k[1] * r2**2 + self.k[2] * r2**3
            tan = self.p[0] * xy[..., 1:2] + self.p[1] * xy[..., 0:1]
            xy = xy * (radial + tan) + r2 * np.array([self.p[1], self.p[0]])
        return np.concatenate([xy[..., :1] * self.fx + self.cx, xy[..., 1:] * self.fy + self.cy], axis=-1)

    def project_world(self, X_world: np.ndarray, distort: bool = True) -> np.ndarray:
        return self.project(self.world_to_camera(X_world), distort)

    def unproject(self, uv: np.ndarray, depth: np.ndarray) -> np.ndarray:
        """Pixels ``(..., 2)`` and depths ``(...)`` to camera-frame points, ignoring distortion."""
        uv = np.asarray(uv, dtype=np.float64)
        depth = np.asarray(depth, dtype=np.float64)[..., None]
        x = (uv[..., :1] - self.cx) / self.fx
        y = (uv[..., 1:] - self.cy) / self.fy
        return np.concatenate([x * depth, y * depth, depth], axis=-1)

    # ---------------------------------------------------------------- screen normalisation
    def normalize_screen(self, uv: np.ndarray) -> np.ndarray:
        """Pixels to [-1, 1] along the width, aspect ratio kept (VideoPose3D's ``normalize_screen_coordinates``)."""
        return normalize_screen(uv, self.width, self.height)

    def unnormalize_screen(self, xy: np.ndarray) -> np.ndarray:
        return unnormalize_screen(xy, self.width, self.height)

    # ---------------------------------------------------------------- derived cameras
    def stereo_right(self, baseline: float) -> "Camera":
        """A second camera displaced by ``baseline`` metres along this camera's x axis, same orientation.

        Seen from it, a point has camera coordinates ``X_cam - (baseline, 0, 0)``.
        """
        return replace(self, t=self.t - np.array([baseline, 0.0, 0.0]), name=f"{self.name}_right")

    def scaled(self, s: float) -> "Camera":
        """The same camera for an image resized by ``s``."""
        return replace(self, fx=self.fx * s, fy=self.fy * s, cx=self.cx * s, cy=self.cy * s,
                       width=int(round(self.width * s)), height=int(round(self.height * s)))

    def to_dict(self) -> dict:
        return {k: (np.asarray(v).tolist() if isinstance(v, np.ndarray) else v) for k, v in self.__dict__.items()}

    @classmethod
    def from_dict(cls, d: dict) -> "Camera":
        d = dict(d)
        for k in ("R", "t", "k", "p"):
            d[k] = np.asarray(d[k], dtype=np.float64)
        return cls(**d)

    @classmethod
    def from_h36m(cls, param: dict) -> "Camera":
        """From a ``cameras.pkl`` entry (as distributed with mmpose): ``R`` rotates camera to world and ``T`` is
        the optical centre in world metres, so world-to-camera is ``R.T @ (X - T)``."""
        R_c2w = np.asarray(param["R"], dtype=np.float64).reshape(3, 3)
        T = np.asarray(param["T"], dtype=np.float64).reshape(3)
        R = R_c2w.T
        f = np.asarray(param["f"], dtype=np.float64).reshape(2)
        c = np.asarray(param["c"], dtype=np.float64).reshape(2)
        return cls(fx=f[0], fy=f[1], cx=c[0], cy=c[1], width=int(param["w"]), height=int(param["h"]),
                   R=R, t=-R @ T, k=np.asarray(param["k"], dtype=np.float64).reshape(3),
                   p=np.asarray(param["p"], dtype=np.float64).reshape(2), name=str(param.get("id", "")))


def normalize_screen(uv: np.ndarray, width: float, height: float) -> np.ndarray:
    uv = np.asarray(uv, dtype=np.float64)
    return uv / width * 2 - np.array([1.0, height / width])


def unnormalize_screen(xy: np.ndarray, width: float, height: float) -> np.ndarray:
    xy = np.asarray(xy, dtype=np.float64)
    return (xy + np.array([1.0, height / width])) * width / 2


def load_h36m_cameras(path) -> Dict[Tuple[str, str], Camera]:
    """``{(subject, camera_id): Camera}`` from Human3.6M's ``cameras.pkl``."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: camera file not found")
    try:
        with open(path, "rb") as f:
            raw = pickle.load(f)
        return {(str(s), str(c)): Camera.from_h36m(p) for (s, c), p in raw.items()}
    except (pickle.UnpicklingError, EOFError, KeyError, ValueError, TypeError) as e:
        raise InputError(f"{path}: not a Human3.6M cameras.pkl ({type(e).__name__}: {e})") from None
