"""DeepMimic motion clips: character reader, motion reader, forward kinematics, and the :class:`RigMotion` hand-off.

DeepMimic (X. B. Peng, P. Abbeel, S. Levine, M. van de Panne, "DeepMimic: Example-Guided Deep Reinforcement
Learning of Physics-Based Character Skills", ACM Trans. Graph. 37(4), SIGGRAPH 2018) stores a character and its
motions as JSON text files (``data/characters/*.txt``, ``data/motions/**/*.txt``). The conventions used here:

Character file: ``Skeleton.Joints`` is a list, in file order (the order of the motion values; every parent
comes before its children, the first joint is the root with ``Parent`` -1). Each joint has ``Name``, ``Type``
(``none`` for the root, ``spherical``, ``revolute``, ``fixed``; DeepMimic's ``prismatic`` and ``planar`` are
read too), ``AttachX/Y/Z`` -- the joint's origin in its parent's frame, metres (the root's is ignored, as
DeepMimic zeroes it) -- and ``AttachThetaX/Y/Z`` -- a constant rotation of the joint frame relative to the parent,
radians, ``R_attach = Rz(tz) Ry(ty) Rx(tx)``. ``BodyDefs`` (one body per joint, in joint order) and
``DrawShapeDefs`` (``ParentJoint``) place shapes in a joint's frame: ``Attach*`` as above, ``Param0..2`` the
size -- sphere: diameter; box: full extents x, y, z; capsule and cylinder: diameter, length along local y.

Motion file: ``{"Loop": "wrap" | "none", "Frames": [[dt, root x y z, root w x y z, joint values...], ...]}``.
``dt`` is the duration of the frame in seconds (the last frame's is often 0). The root position and rotation
are in the world (DeepMimic's world is y up, the ground plane at y = 0), the other values are local, per
joint in character order, root excluded: a spherical joint a unit quaternion ``w x y z`` (w first), a revolute
joint one angle in radians about the joint frame's z axis, a prismatic joint a shift along x, a planar joint
``x y angle``, a fixed joint nothing. Quaternions are normalised on reading (some clips are off by up to 10%).

Forward kinematics (DeepMimic's ``cKinTree`` chain): a joint's world transform is its parent's world transform
times ``[R_attach | attach]`` times the local transform ``[R_local | t_local]``; the root's local transform is
``[R(root quaternion) | root position]``. So ``p_j = p_parent + R_parent (attach_j + R_attach,j t_local)`` and
``R_j = R_parent R_attach,j R_local``.

Checked on the clips of ``../shared/data/mocap/deepmimic`` (see ``tests/common/test_deepmimic.py``):

* w first: the root quaternions of standing clips start near ``(1, 0, 0, 0)``; read x-first, the walk clip
  would be upside down (head below the pelvis).
* revolute axis z: humanoid3d's right/left hips sit at file ``z = +/-0.085`` and DeepMimic's heading is
  the root's +x axis, so the character faces +x with its right along +z. Knee angles in every clip are <= 0
  (limits ``[-3.14, 0]``) and elbow angles >= 0; a rotation by a negative angle about +z swings the shin
  (along -y) towards -x, i.e. backward -- knees bend backward, elbows (positive angles) forward. About x the
  shin would swing sideways and about y it would only twist.

World frame of this toolkit (``common/camera.py``, :mod:`common.rig`): metres, z up, floor at z = 0.
``(x, y, z)_world = (z, x, y)_file`` (:data:`FILE_TO_WORLD`, a cyclic permutation: a proper rotation, no
mirror). It takes the rest pose (facing file +x, right along +z) to face world +y with its right along +x and
its left along -x = up x forward, as ``common/bvh.py`` does for BVH. DeepMimic's ground (y = 0) becomes z = 0.

Head top: the character has no head joint; the head is a shape on the ``neck`` joint (humanoid3d: a sphere of
diameter 0.205 m, centre 0.175 m above the neck joint). The head top is the shape's centre plus the shape's
extent (a sphere: its radius) along the axis from the neck joint to that centre; centre and axis follow the
neck's rotation. The shape is the body (``BodyDefs``) of the joint named ``head`` or else ``neck``, or failing
that a draw shape on that joint; with none, ``head_top`` is None.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import InputError
from .rig import RigMotion

#: DeepMimic's y-up file axes to the z-up world: (x, y, z)_world = (z, x, y)_file (a rotation, det = +1)
FILE_TO_WORLD = np.array([[0.0, 0, 1], [1, 0, 0], [0, 1, 0]])
#: values per joint in a motion frame, by joint type (the root, whatever its type, has 7: position, quaternion)
PARAM_SIZES = {"spherical": 4, "revolute": 1, "fixed": 0, "prismatic": 1, "planar": 3, "none": 0}
ROOT_SIZE = 7
SHAPES = ("sphere", "box", "capsule", "cylinder")


@dataclass(frozen=True)
class Shape:
    """A body or draw shape fixed to ``joint``: ``kind`` (sphere/box/capsule/cylinder), ``centre`` (3,) metres
    and ``rotation`` (3, 3) in the joint's frame, ``size`` (3,) = Param0..2 (see the module docstring),
    ``body`` True for a ``BodyDefs`` entry (capsule length includes the caps), False for a draw shape."""

    joint: int
    kind: str
    centre: np.ndarray
    rotation: np.ndarray
    size: np.ndarray
    body: bool = True

    def extent(self, direction: np.ndarray) -> float:
        """Distance from the centre to the surface along the unit ``direction`` (3,) of the shape's frame."""
        u = np.abs(np.asarray(direction, dtype=np.float64))
        r = 0.5 * self.size[0]
        if self.kind == "sphere":
            return float(r)
        if self.kind == "box":
            return float(0.5 * (u @ self.size))
        half = 0.5 * self.size[1] - (r if self.body else 0.0)  # half the straight part
        if self.kind == "capsule":
            return float(r + max(half, 0.0) * u[1])
        return float(r * np.sqrt(max(1.0 - u[1] ** 2, 0.0)) + 0.5 * self.size[1] * u[1])  # cylinder


@dataclass(frozen=True)
class DeepMimicCharacter:
    """The joint tree of a character file. Joints in file order: ``names`` (J,), ``parents`` (J,) (-1 for the
    root), ``types`` (J,), ``offsets`` (J, 3) metres in the parent's frame (zero for the root),
    ``attach_theta`` (J, 3) radians and ``attach_rotations`` (J, 3, 3), ``shapes``, ``head`` (index into
    ``shapes`` of the head shape, or None)."""

    path: str
    names: tuple[str, ...]
    parents: tuple[int, ...]
    types: tuple[str, ...]
    offsets: np.ndarray
    attach_theta: np.ndarray
    attach_rotations: np.ndarray
    shapes: tuple[Shape, ...] = ()
    head: int | None = None

    @property
    def param_sizes(self) -> tuple[int, ...]:
        """Motion values per joint (root: 7)."""
        return tuple(ROOT_SIZE if p < 0 else PARAM_SIZES[t] for p, t in zip(self.parents, self.types, strict=True))

    @property
    def n_values(self) -> int:
        """Values per motion frame: the duration plus every joint's values."""
        return 1 + sum(self.param_sizes)


@dataclass(frozen=True)
class DeepMimicMotion:
    """A motion clip read against a character: ``durations`` (T,) seconds, ``root_position`` (T, 3) file
    metres, ``root_quaternion`` (T, 4) w x y z normalised, ``local_rotations`` (T, J, 3, 3) and
    ``local_translations`` (T, J, 3) (root: its world rotation and position; revolute: about z; fixed:
    identity), ``frames`` (T, C) the raw values, ``loop`` the file's ``Loop``."""

    path: str
    loop: str
    durations: np.ndarray
    root_position: np.ndarray
    root_quaternion: np.ndarray
    local_rotations: np.ndarray
    local_translations: np.ndarray
    frames: np.ndarray

    @property
    def n_frames(self) -> int:
        return self.frames.shape[0]

    @property
    def fps(self) -> float:
        """1 / the median frame duration, ignoring a zero duration on the last frame."""
        dt = self.durations[:-1] if self.n_frames > 1 and self.durations[-1] == 0 else self.durations
        med = float(np.median(dt))
        if not med > 0:
            raise InputError(f"{self.path}: no positive frame duration to derive fps from (first value of a frame)")
        return 1.0 / med


def euler_to_matrix(theta) -> np.ndarray:
    """DeepMimic's attach rotation ``Rz(z) Ry(y) Rx(x)`` for ``theta`` (..., 3) radians -> (..., 3, 3)."""
    theta = np.asarray(theta, dtype=np.float64)
    R = np.broadcast_to(np.eye(3), theta.shape[:-1] + (3, 3)).copy()
    for k in (2, 1, 0):  # R = Rz @ Ry @ Rx, built left to right
        R = R @ axis_rotation(k, theta[..., k])
    return R


def axis_rotation(axis: int, angle) -> np.ndarray:
    """Right-handed rotations (..., 3, 3) by ``angle`` (...,) radians about the file axis 0 (x), 1 (y) or 2 (z)."""
    a = np.asarray(angle, dtype=np.float64)
    c, s = np.cos(a), np.sin(a)
    R = np.zeros(a.shape + (3, 3))
    i, j = (axis + 1) % 3, (axis + 2) % 3
    R[..., axis, axis] = 1
    R[..., i, i], R[..., i, j], R[..., j, i], R[..., j, j] = c, -s, s, c
    return R


def quaternion_to_matrix(q) -> np.ndarray:
    """Unit quaternions (..., 4) ``w x y z`` -> rotation matrices (..., 3, 3)."""
    w, x, y, z = np.moveaxis(np.asarray(q, dtype=np.float64), -1, 0)
    return np.stack([
        np.stack([1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)], -1),
        np.stack([2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)], -1),
        np.stack([2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)], -1)], -2)


def _read_json(path: Path, what: str):
    if not path.is_file():
        raise InputError(f"{path}: DeepMimic {what} file not found")
    try:
        return json.loads(path.read_text(encoding="utf-8-sig"))
    except UnicodeDecodeError:
        raise InputError(f"{path}: DeepMimic {what} file is not UTF-8 text") from None
    except json.JSONDecodeError as e:
        raise InputError(f"{path}: DeepMimic {what} file is not JSON ({e.msg} at line {e.lineno})") from None
    except OSError as e:
        raise InputError(f"{path}: cannot read DeepMimic {what} file ({e})") from None


def _numbers(path: Path, where: str, d: dict, keys: tuple[str, ...]) -> np.ndarray:
    try:
        out = np.array([float(d.get(k, 0.0)) for k in keys])
    except (TypeError, ValueError):
        raise InputError(f"{path}: {where}: expected numbers for {', '.join(keys)}") from None
    if not np.isfinite(out).all():
        raise InputError(f"{path}: {where}: {', '.join(keys)} must be finite")
    return out


_XYZ = ("AttachX", "AttachY", "AttachZ")
_THETA = ("AttachThetaX", "AttachThetaY", "AttachThetaZ")
_PARAMS = ("Param0", "Param1", "Param2")


def _shape(path: Path, where: str, d, joint: int, body: bool) -> Shape | None:
    if not isinstance(d, dict) or str(d.get("Shape", "")).lower() not in SHAPES:
        return None
    return Shape(joint, str(d["Shape"]).lower(), _numbers(path, where, d, _XYZ),
                 euler_to_matrix(_numbers(path, where, d, _THETA)), _numbers(path, where, d, _PARAMS), body)


def read_character(path) -> DeepMimicCharacter:
    """Parse a DeepMimic character file (``Skeleton.Joints``, ``BodyDefs``, ``DrawShapeDefs``)."""
    path = Path(path)
    doc = _read_json(path, "character")
    skel = doc.get("Skeleton") if isinstance(doc, dict) else None
    joints = skel.get("Joints") if isinstance(skel, dict) else None
    if not isinstance(joints, list) or not joints:
        raise InputError(f"{path}: no joints in 'Skeleton.Joints' (not a DeepMimic character file)")
    names, parents, types, offsets, thetas = [], [], [], [], []
    for j, d in enumerate(joints):
        if not isinstance(d, dict):
            raise InputError(f"{path}: Skeleton.Joints[{j}] is not an object")
        name = str(d.get("Name", f"joint{j}"))
        where = f"joint {j} ({name})"
        try:
            parent = int(d.get("Parent", -1 if j == 0 else -2))
        except (TypeError, ValueError):
            parent = -2
        if (j == 0) != (parent == -1) or parent >= j or parent < -1:
            raise InputError(f"{path}: {where} has Parent {d.get('Parent')!r}, expected -1 for the first joint "
                             "and an earlier joint's index otherwise")
        jtype = str(d.get("Type", "none" if j == 0 else "")).lower()
        if jtype not in PARAM_SIZES or (j > 0 and jtype == "none"):
            raise InputError(f"{path}: {where} has Type {d.get('Type')!r}, expected one of "
                             f"{', '.join(t for t in PARAM_SIZES if t != 'none')}")
        names.append(name), parents.append(parent), types.append(jtype)
        offsets.append(_numbers(path, where, d, _XYZ) if j > 0 else np.zeros(3))
        thetas.append(_numbers(path, where, d, _THETA))
    shapes = []
    bodies = doc.get("BodyDefs")
    for b, d in enumerate((bodies if isinstance(bodies, list) else [])[: len(names)]):
        s = _shape(path, f"BodyDefs[{b}]", d, b, True)
        if s is not None:
            shapes.append(s)
    draws = doc.get("DrawShapeDefs")
    for b, d in enumerate(draws if isinstance(draws, list) else []):
        joint = d.get("ParentJoint") if isinstance(d, dict) else None
        if isinstance(joint, (int, float)) and 0 <= int(joint) < len(names):
            s = _shape(path, f"DrawShapeDefs[{b}]", d, int(joint), False)
            if s is not None:
                shapes.append(s)
    theta = np.array(thetas)
    return DeepMimicCharacter(str(path), tuple(names), tuple(parents), tuple(types), np.array(offsets), theta,
                              euler_to_matrix(theta), tuple(shapes), _head_shape(names, shapes))


def _head_shape(names, shapes) -> int | None:
    """Index of the head shape: the body, else a draw shape, of the joint named ``head``, else ``neck``."""
    lower = [n.lower() for n in names]
    for key in ("head", "neck"):
        joints = [j for j, n in enumerate(lower) if key in n]
        for body in (True, False):
            hits = [i for i, s in enumerate(shapes) if s.joint in joints and s.body == body]
            if hits:
                return hits[0]
    return None


def read_motion(path, character: DeepMimicCharacter) -> DeepMimicMotion:
    """Parse a DeepMimic motion file against ``character`` (which fixes the number and meaning of the values)."""
    path = Path(path)
    doc = _read_json(path, "motion")
    if not isinstance(doc, dict) or "Frames" not in doc:
        extra = " (it is a character file)" if isinstance(doc, dict) and "Skeleton" in doc else ""
        raise InputError(f"{path}: no 'Frames' list, not a DeepMimic motion file{extra}")
    frames = doc["Frames"]
    if not isinstance(frames, list) or not frames:
        raise InputError(f"{path}: 'Frames' has no frames, expected a list of frames")
    n = character.n_values
    for i, f in enumerate(frames):
        if not isinstance(f, list) or len(f) != n:
            found = f"{len(f)} values" if isinstance(f, list) else type(f).__name__
            raise InputError(f"{path}: frame {i} has {found}, expected {n} for the character {character.path} "
                             f"(1 duration + 7 root + 4 per spherical and 1 per revolute joint)")
    try:
        data = np.array(frames, dtype=np.float64)
    except (TypeError, ValueError):
        raise InputError(f"{path}: 'Frames' holds a value that is not a number") from None
    bad = np.argwhere(~np.isfinite(data))
    if len(bad):
        raise InputError(f"{path}: frame {bad[0][0]} value {bad[0][1]} is NaN or infinite")
    durations = data[:, 0]
    if (durations < 0).any():
        raise InputError(f"{path}: frame {int(np.argmax(durations < 0))} has a negative duration")
    T, J = len(data), len(character.names)
    rots = np.broadcast_to(np.eye(3), (T, J, 3, 3)).copy()
    trans = np.zeros((T, J, 3))
    col = 1
    for j, (size, jtype) in enumerate(zip(character.param_sizes, character.types, strict=True)):
        v = data[:, col:col + size]
        if size == ROOT_SIZE or jtype == "spherical":
            q = v[:, -4:]
            norm = np.linalg.norm(q, axis=1)
            if (norm < 1e-8).any():
                raise InputError(f"{path}: frame {int(np.argmax(norm < 1e-8))}: zero quaternion for joint "
                                 f"{character.names[j]} (values {col + size - 4}..{col + size - 1})")
            rots[:, j] = quaternion_to_matrix(q / norm[:, None])
            if size == ROOT_SIZE:
                trans[:, j] = v[:, :3]
                root_pos, root_q = v[:, :3].copy(), q / norm[:, None]
        elif jtype == "revolute":
            rots[:, j] = axis_rotation(2, v[:, 0])
        elif jtype == "prismatic":
            trans[:, j, 0] = v[:, 0]
        elif jtype == "planar":
            rots[:, j] = axis_rotation(2, v[:, 2])
            trans[:, j, :2] = v[:, :2]
            trans[:, j] = np.einsum("tab,tb->ta", rots[:, j], trans[:, j])
        col += size
    return DeepMimicMotion(str(path), str(doc.get("Loop", "")), durations, root_pos, root_q, rots, trans, data)


def forward_kinematics(character: DeepMimicCharacter, motion: DeepMimicMotion) -> tuple[np.ndarray, np.ndarray]:
    """Global joint positions (T, J, 3) and rotations (T, J, 3, 3), in the file's (y-up) frame, metres."""
    T, J = motion.local_rotations.shape[:2]
    pos, rot = np.zeros((T, J, 3)), np.zeros((T, J, 3, 3))
    for j, p in enumerate(character.parents):
        A = character.attach_rotations[j]
        local = character.offsets[j] + motion.local_translations[:, j] @ A.T
        if p < 0:
            pos[:, j], rot[:, j] = local, A @ motion.local_rotations[:, j]
        else:
            pos[:, j] = pos[:, p] + np.einsum("tab,tb->ta", rot[:, p], local)
            rot[:, j] = rot[:, p] @ A @ motion.local_rotations[:, j]
    return pos, rot


def head_top(character: DeepMimicCharacter, pos: np.ndarray, rot: np.ndarray) -> np.ndarray | None:
    """The top of the head (T, 3), file frame, from the head shape (see the module docstring), or None."""
    if character.head is None:
        return None
    s = character.shapes[character.head]
    centre = pos[:, s.joint] + rot[:, s.joint] @ s.centre
    if np.linalg.norm(s.centre) > 1e-9:  # the axis from the joint to the centre, in the shape's frame
        u_shape = s.rotation.T @ (s.centre / np.linalg.norm(s.centre))
    else:
        u_shape = np.array([0.0, 1.0, 0.0])
    return centre + s.extent(u_shape) * (rot[:, s.joint] @ (s.rotation @ u_shape))


def to_world(points: np.ndarray) -> np.ndarray:
    """File-frame points (..., 3) to the toolkit's world (z up), by :data:`FILE_TO_WORLD`."""
    return np.asarray(points) @ FILE_TO_WORLD.T


def find_character(motion_path) -> Path:
    """``characters/humanoid3d.txt`` (or the single character ``.txt`` in ``characters/``) in the motion file's
    folder or an ancestor (DeepMimic's ``data/motions/...`` beside ``data/characters/``)."""
    motion_path = Path(motion_path).absolute()
    for folder in motion_path.parents:
        chars = folder / "characters"
        if (chars / "humanoid3d.txt").is_file():
            return chars / "humanoid3d.txt"
        if chars.is_dir():
            found = [p for p in sorted(chars.glob("*.txt")) if _is_character(p)]
            if len(found) == 1:
                return found[0]
    raise InputError(f"{motion_path}: no DeepMimic character file found (characters/humanoid3d.txt beside or "
                     "above the motion file); pass character_path")


def _is_character(path: Path) -> bool:
    try:
        doc = json.loads(path.read_text(encoding="utf-8-sig"))
    except (OSError, ValueError):
        return False
    return isinstance(doc, dict) and isinstance(doc.get("Skeleton"), dict)


def is_deepmimic_motion(path) -> bool:
    """True for a ``.txt`` file holding a JSON object with a ``Frames`` key (not a ``Skeleton`` character)."""
    path = Path(path)
    if path.suffix.lower() != ".txt" or not path.is_file():
        return False
    try:
        with open(path, "rb") as f:
            start = f.read(4096).lstrip(b"\xef\xbb\xbf \t\r\n")
        if not start.startswith(b"{"):
            return False
        doc = json.loads(path.read_text(encoding="utf-8-sig"))
    except (OSError, ValueError):
        return False
    return isinstance(doc, dict) and "Frames" in doc and "Skeleton" not in doc


def load_deepmimic(motion_path, character_path=None) -> RigMotion:
    """A DeepMimic motion clip as a :class:`RigMotion`: the character's joint names and parents, global joint
    positions (T, J, 3) in world metres z up, fps = 1 / median frame duration, and the head top (T, 3).

    ``character_path`` None: :func:`find_character` looks beside and above the motion file.
    """
    character = read_character(character_path if character_path is not None else find_character(motion_path))
    motion = read_motion(motion_path, character)
    pos, rot = forward_kinematics(character, motion)
    top = head_top(character, pos, rot)
    return RigMotion(path=str(motion_path), names=character.names, parents=character.parents,
                     joints=to_world(pos), fps=motion.fps, head_top=None if top is None else to_world(top))
