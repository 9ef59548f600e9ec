"""A view-invariant frame for a 3D pose sequence: the body's own axes instead of the camera's.

The person's vertical is the mean pelvis -> thorax direction of the sequence, across is the mean of the hip and
shoulder lines (person's right -> left) made orthogonal to it; the sequence is rotated so that across is +x,
up is -y and the person faces -z: as a level camera in front of the person would see it (x right, y down,
z forward). One rotation per sequence keeps every motion within it (bending, sitting down, turning). This is
the usual skeleton normalisation of view-invariant action recognition (e.g. the NTU RGB+D preprocessing of
Shahroudy et al., CVPR 2016, which aligns the hips with the x axis); with it a classifier of lifted 3D does not
have to learn the camera's placement.
"""
from __future__ import annotations

import numpy as np

from .skeleton import H36M17, Layout


def body_frame(x: np.ndarray, layout: Layout = H36M17) -> np.ndarray:
    """The rotation (3, 3) whose rows are the sequence's across, down and forward-from-viewer axes, in the
    coordinates of ``x`` (T, J, 3); the identity where the body's axes are undefined (all joints at one point)."""
    x = np.asarray(x, np.float64)
    up = (x[:, layout["thorax"]] - x[:, layout["pelvis"]]).mean(0)
    across = (x[:, layout["l_hip"]] - x[:, layout["r_hip"]] + x[:, layout["l_shoulder"]]
              - x[:, layout["r_shoulder"]]).mean(0)
    n_up = np.linalg.norm(up)
    if n_up < 1e-9:
        return np.eye(3)
    up = up / n_up
    across = across - up * (across @ up)
    n_across = np.linalg.norm(across)
    if n_across < 1e-9:
        return np.eye(3)
    ex, ey = across / n_across, -up
    return np.stack([ex, ey, np.cross(ex, ey)])


def to_body_frame(x: np.ndarray, layout: Layout = H36M17) -> np.ndarray:
    """``x`` (T, J, 3) rotated into :func:`body_frame` (about the origin: pass root-relative joints)."""
    x = np.asarray(x)
    return (x @ body_frame(x, layout).T).astype(x.dtype)
