"""Procedural bodies of the synthetic world: proportions, limb thickness and forward kinematics on h36m17.

World frame as in Human3.6M: metres, z up, floor at ``z = 0``. A body's own (rest) frame: x forward, y to the
person's left, z up; the rest pose stands upright with the arms hanging down.

Joint angles are given per joint as ``(abduct, flex, twist)`` in degrees, expressed in the parent's frame, so
that a motion reads the same on both sides of the body:

- ``abduct``: sideways away from the body's mid-line (left side about +x, right side about -x);
- ``flex``: forward swing of a hip or shoulder, forward bend of the elbow, backward bend of the knee, forward
  bend of the pelvis, spine, thorax and neck;
- ``twist``: about the parent's vertical axis; for an arm held forward it opens the arm outwards.

The rotation of joint ``j`` turns the bones from ``j`` to its children: ``R = Rz(twist) Rx(abduct) Ry(flex)``
(signs mirrored per side), ``G[j] = G[parent] R[j]`` and ``X[child] = X[j] + G[j] offset[child]``.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..skeleton import H36M17

J = H36M17.index
N_JOINTS = H36M17.n_joints
PARENTS = np.array(H36M17.parents)

#: +1 for joints on the left or the mid-line, -1 on the right (mirrors abduction and twist)
SIDE = np.array([-1.0 if n.startswith("r_") else 1.0 for n in H36M17.names])
#: sign that turns "flex" into a rotation about the lateral (y) axis, see the module docstring
FLEX_SIGN = np.ones(N_JOINTS)
for _n in ("r_hip", "l_hip", "r_shoulder", "l_shoulder", "r_elbow", "l_elbow"):
    FLEX_SIGN[J[_n]] = -1.0

#: bone lengths as fractions of standing height, from Human3.6M subjects (about 1.70 m tall)
BONE_FRACTIONS = {
    "hip": 0.078, "thigh": 0.265, "shin": 0.259, "spine": 0.135, "chest": 0.150, "neck": 0.068,
    "head": 0.068, "shoulder": 0.088, "upper_arm": 0.165, "forearm": 0.148, "ankle": 0.053,
}


@dataclass(frozen=True)
class Body:
    """One procedural subject.

    ``offsets[j]`` is joint ``j``'s rest position relative to its parent in the parent's rest frame (metres);
    ``radii`` the half-thickness of each rendered part (metres); ``ankle_height`` the height of the ankle
    joint above the floor when standing; ``foot_length`` from the ankle to the toes.
    """

    height: float
    offsets: np.ndarray
    radii: dict
    ankle_height: float
    foot_length: float

    @property
    def leg_length(self) -> float:
        return float(-self.offsets[J["r_knee"], 2] - self.offsets[J["r_ankle"], 2] + self.ankle_height)


def sample_body(rng: np.random.Generator) -> Body:
    """A random adult: height 1.50-1.95 m; leg, arm and torso ratios +-6 %; shoulder and hip widths +-15 %;
    head size +-6 %; limb thickness (girth) x0.8-1.35 with a separate chest/belly depth."""
    h = rng.uniform(1.50, 1.95)
    f = dict(BONE_FRACTIONS)
    leg, arm = rng.uniform(0.94, 1.06, size=2)
    f["thigh"] *= leg * rng.uniform(0.97, 1.03)
    f["shin"] *= leg * rng.uniform(0.97, 1.03)
    f["upper_arm"] *= arm * rng.uniform(0.97, 1.03)
    f["forearm"] *= arm * rng.uniform(0.97, 1.03)
    f["shoulder"] *= rng.uniform(0.85, 1.15)
    f["hip"] *= rng.uniform(0.85, 1.15)
    head = rng.uniform(0.94, 1.06)
    f["neck"] *= head
    f["head"] *= head
    # the torso takes up what the legs do not, so the total height stays h
    rest = 1.0 - (f["ankle"] + f["shin"] + f["thigh"] + f["neck"] + f["head"])
    torso = f["spine"] + f["chest"]
    f["spine"] *= rest / torso
    f["chest"] *= rest / torso
    L = {k: v * h for k, v in f.items()}

    off = np.zeros((N_JOINTS, 3))
    for s, y in (("r", -1.0), ("l", 1.0)):
        off[J[f"{s}_hip"]] = (0.0, y * L["hip"], 0.0)
        off[J[f"{s}_knee"]] = (0.0, 0.0, -L["thigh"])
        off[J[f"{s}_ankle"]] = (0.0, 0.0, -L["shin"])
        off[J[f"{s}_shoulder"]] = (-0.01 * h, y * L["shoulder"], -0.012 * h)
        off[J[f"{s}_elbow"]] = (0.0, 0.0, -L["upper_arm"])
        off[J[f"{s}_wrist"]] = (0.0, 0.0, -L["forearm"])
    off[J["spine"]] = (0.005 * h, 0.0, L["spine"])
    off[J["thorax"]] = (-0.005 * h, 0.0, L["chest"])
    off[J["neck"]] = (0.25 * L["neck"], 0.0, L["neck"])       # H36M's neck/nose joint sits in front
    off[J["head"]] = (-0.2 * L["head"], 0.0, L["head"])       # top of the head

    g = rng.uniform(0.8, 1.35)          # limb girth
    belly = rng.uniform(0.85, 1.4)      # torso depth
    s = h / 1.70
    radii = {
        "upper_arm": 0.046 * g * s, "forearm": 0.038 * g * s, "hand": 0.045 * s,
        "thigh": 0.074 * g * s, "shin": 0.052 * g * s, "foot": 0.042 * s,
        "neck": 0.05 * g * s, "head": 0.105 * head * s,
        "chest_depth": 0.11 * belly * s, "hip_depth": 0.10 * belly * s, "hip": 0.085 * g * s,
    }
    return Body(height=float(h), offsets=off, radii=radii, ankle_height=float(L["ankle"]),
                foot_length=float(0.15 * s))


# --------------------------------------------------------------------------------------------- rotations
def rot_x(a: np.ndarray) -> np.ndarray:
    a = np.asarray(a, dtype=np.float64)
    c, s, o, z = np.cos(a), np.sin(a), np.ones_like(a), np.zeros_like(a)
    return np.stack([np.stack([o, z, z], -1), np.stack([z, c, -s], -1), np.stack([z, s, c], -1)], -2)


def rot_y(a: np.ndarray) -> np.ndarray:
    a = np.asarray(a, dtype=np.float64)
    c, s, o, z = np.cos(a), np.sin(a), np.ones_like(a), np.zeros_like(a)
    return np.stack([np.stack([c, z, s], -1), np.stack([z, o, z], -1), np.stack([-s, z, c], -1)], -2)


def rot_z(a: np.ndarray) -> np.ndarray:
    a = np.asarray(a, dtype=np.float64)
    c, s, o, z = np.cos(a), np.sin(a), np.ones_like(a), np.zeros_like(a)
    return np.stack([np.stack([c, -s, z], -1), np.stack([s, c, z], -1), np.stack([z, z, o], -1)], -2)


def joint_rotations(angles: np.ndarray) -> np.ndarray:
    """``(..., 17, 3)`` (abduct, flex, twist) degrees -> ``(..., 17, 3, 3)`` local rotation matrices."""
    a = np.deg2rad(np.asarray(angles, dtype=np.float64))
    rx = a[..., 0] * SIDE
    ry = a[..., 1] * FLEX_SIGN
    rz = a[..., 2] * SIDE
    return rot_z(rz) @ rot_x(rx) @ rot_y(ry)


def forward_kinematics(body: Body, angles: np.ndarray, yaw: np.ndarray, root: np.ndarray):
    """World joint positions ``(T, 17, 3)`` and global joint frames ``(T, 17, 3, 3)``.

    ``angles`` (T, 17, 3) in degrees as in the module docstring; ``yaw`` (T,) radians, the heading of the body
    about the world z axis (0 faces +x); ``root`` (T, 3) the pelvis position in the world.
    """
    R = joint_rotations(angles)
    T = R.shape[0]
    G = np.empty((T, N_JOINTS, 3, 3))
    X = np.empty((T, N_JOINTS, 3))
    G[:, 0] = rot_z(yaw) @ R[:, 0]
    X[:, 0] = root
    for j in range(1, N_JOINTS):
        p = PARENTS[j]
        X[:, j] = X[:, p] + G[:, p] @ body.offsets[j]
        G[:, j] = G[:, p] @ R[:, j]
    return X, G
