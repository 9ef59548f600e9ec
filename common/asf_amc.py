"""Acclaim ASF/AMC motion capture: reader, forward kinematics and the :class:`~common.rig.RigMotion` hand-off.

Format: the Acclaim skeleton (``.asf``) and motion (``.amc``) files of Acclaim Entertainment, as distributed by the
CMU Graphics Lab Motion Capture Database (mocap.cs.cmu.edu) and HDM05 (Mueller, Roeder, Clausen, Eberhardt,
Krueger and Weber, "Documentation Mocap Database HDM05", Universitaet Bonn, CG-2007-2, 2007).

ASF: ``:units`` (``mass``, ``length``, ``angle deg|rad``), ``:root`` (``order`` of the root's AMC values, e.g.
``TX TY TZ RX RY RZ``; ``axis`` the order letters of its rotations; ``position``; ``orientation``), ``:bonedata``
(``begin`` ... ``end`` blocks with ``name``, ``direction`` (a unit vector in the global frame of the rest pose),
``length``, ``axis a1 a2 a3 XYZ`` (the bone's local frame: three angles, the k-th about the k-th letter's axis),
``dof`` (a subset of ``rx ry rz tx ty tz l``, the order of the bone's AMC values), ``limits`` (ignored)) and
``:hierarchy`` (lines ``parent child child ...``, the root named ``root``). AMC: header lines (``:FULLY-SPECIFIED``,
``:DEGREES`` or ``:RADIANS``), then per frame its number (consecutive; CMU and HDM05 start at 1) and one line
``bone v1 v2 ...`` per bone with dofs, the values in the order of the bone's ``dof`` list (the root's: ``order``).

Units: ``length f`` means 1 file unit = 1/f inch (CMU and HDM05 convention, mocap.cs.cmu.edu FAQ: ``length
0.45``), so metres per unit = 0.0254 / f (:attr:`Asf.unit`). Angles are degrees unless the ASF says ``angle rad``;
an AMC ``:DEGREES`` / ``:RADIANS`` line overrides that for the motion. Everything is kept in degrees here.

Forward kinematics (file axes and units): ``C`` = the rotation of a bone's ``axis`` angles, ``M`` = the rotation of
the frame's dof values; the bone's global rotation is ``R_b = R_parent C M C^-1``; its START is the END of its
parent (plus ``R_parent C t`` for ``tx ty tz`` dofs, which no CMU/HDM05 bone has), its END is
``start + R_b direction (length + l)`` (``l``: the optional stretch dof). The root's start and end are its position
(``position``, each component replaced by the frame's TX/TY/TZ value when the root has it) and its rotation is
``R_root = O M`` with ``O`` from ``orientation`` (zero in CMU/HDM05) and ``M`` from RX/RY/RZ, both in the root
``axis`` order. The START of ``lfemur`` is the hip, of ``ltibia`` the knee, of ``lfoot`` the ankle, of ``lhumerus``
the shoulder, of ``lradius`` the elbow, of ``lwrist`` the wrist; the END of ``head`` is the top of the head.

Euler order. Order letters ``XYZ`` with angles ``(a, b, c)`` mean ``R = Rz(c) Ry(b) Rx(a)`` (column vectors): the
first letter's rotation is applied first, about the fixed axes. A bone's ``M`` composes its rotation dofs the same
way in the order its ``dof`` line lists them (``rx ry rz`` -> ``Rz Ry Rx``). Evidence: the HDM05 take
``HDM_dg_06-03_03_120`` and its optical markers (``.c3d``, 44 unlabelled markers). The two files share the lab
frame ``(x, y, z)_c3d = (z, x, y)_amc * 25.4 / 0.45`` mm (a proper rotation, no translation; the root translation
stays within 8 cm of the marker centroid, whatever the rotation order). With this order, over the 202 frames, the
FK ankles keep their distance to one marker constant to 0.15-0.22 mm (std), elbows, wrists and knees to 4-13 mm
(skin markers), and these joints sit 4.5-10 cm from their nearest marker; with the letters read the other way
(``XYZ`` -> ``Rx Ry Rz``) the same stds are 34-95 mm and the joints 7.5-17 cm from any marker
(``tests/common/test_asf_amc.py``). Under it the knees bend forward and the feet stay on the floor.

World frame (as :mod:`common.bvh`; ASF files are y-up): ``(x, y, z)_world = (-x, z, y)_file * unit``, metres, z up,
a proper rotation (:data:`common.bvh.BVH_TO_WORLD`). The file's floor (y = 0 in CMU/HDM05) stays at z = 0.

fps: an AMC does not store its frame rate; :func:`load_asf_amc` reads it from the file name when the stem has at
least three ``_``-separated parts and the last is an integer from 24 to 1000 without a leading zero (HDM05:
``HDM_dg_06-03_03_120`` -> 120), else uses 120, the CMU rate (CMU stems are ``subject_trial``, e.g. ``131_01``).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Tuple

import numpy as np

from .bvh import BVH_TO_WORLD
from .errors import InputError
from .rig import RigMotion

ROTATION_DOFS = ("rx", "ry", "rz")
DOFS = ("rx", "ry", "rz", "tx", "ty", "tz", "l")
DEFAULT_FPS = 120.0  # CMU's capture rate; an AMC file does not store its rate


@dataclass(frozen=True)
class AsfRoot:
    """The ``:root`` section: ``order`` (the root's AMC values, e.g. ``("tx", ..., "rz")``), ``axis`` (order
    letters, e.g. ``"XYZ"``), ``position`` (3,) file units, ``orientation`` (3,) degrees."""

    order: Tuple[str, ...]
    axis: str
    position: np.ndarray
    orientation: np.ndarray


@dataclass(frozen=True)
class AsfBone:
    """One bone: ``direction`` (3,) unit vector in the global rest frame, ``length`` file units, ``axis`` (3,)
    degrees with ``axis_order`` letters, ``dof`` the AMC values in file order, ``parent`` index (-1 for the root).
    The root is bone 0: zero length, ``axis`` = its orientation, ``dof`` = its ``order``."""

    name: str
    direction: np.ndarray
    length: float
    axis: np.ndarray
    axis_order: str
    dof: Tuple[str, ...]
    parent: int


@dataclass(frozen=True)
class Asf:
    """A parsed ASF skeleton. ``bones`` start with ``root``; every parent comes before its children."""

    path: str
    mass: float
    length: float  # the ASF length factor: 1 unit = 1/length inch
    angle: str  # "deg" or "rad" (angles here are stored in degrees either way)
    root: AsfRoot
    bones: Tuple[AsfBone, ...]
    hierarchy: Dict[str, Tuple[str, ...]] = field(default_factory=dict)  # parent -> children, as in the file

    @property
    def unit(self) -> float:
        """Metres per file length unit."""
        return 0.0254 / self.length

    @property
    def names(self) -> Tuple[str, ...]:
        return tuple(b.name for b in self.bones)

    @property
    def parents(self) -> Tuple[int, ...]:
        return tuple(b.parent for b in self.bones)

    def index(self, name: str) -> int:
        return self.names.index(name)


@dataclass(frozen=True)
class Amc:
    """A parsed AMC motion: ``frames`` (T,) the file's frame numbers; ``values[bone]`` (T, len(dof)) in the order
    of the bone's ``dof`` list (root: its ``order``), rotations in degrees, translations in file units."""

    path: str
    frames: np.ndarray
    values: Dict[str, np.ndarray]

    @property
    def n_frames(self) -> int:
        return len(self.frames)


# ----------------------------------------------------------------------------------------------------------- ASF

def _floats(path, where: str, tokens: List[str], n: int) -> np.ndarray:
    if len(tokens) != n:
        raise InputError(f"{path}: ASF {where}: expected {n} numbers, got {len(tokens)}")
    try:
        out = np.array([float(t) for t in tokens], dtype=np.float64)
    except ValueError:
        raise InputError(f"{path}: ASF {where}: non-numeric value in {' '.join(tokens)!r}") from None
    if not np.isfinite(out).all():
        raise InputError(f"{path}: ASF {where}: non-finite value in {' '.join(tokens)!r}")
    return out


def _order_letters(path, where: str, token: str) -> str:
    letters = token.upper()
    if len(letters) != 3 or sorted(letters) != ["X", "Y", "Z"]:
        raise InputError(f"{path}: ASF {where}: expected order letters such as XYZ, got {token!r}")
    return letters


def _sections(path, text: str) -> List[Tuple[str, List[Tuple[str, ...]], str]]:
    """``[(keyword, [line tokens], rest of the keyword line)]``; comments (``#``) and blank lines dropped."""
    out: List[Tuple[str, List[Tuple[str, ...]], str]] = []
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        if line.startswith(":"):
            key, _, rest = line[1:].partition(" ")
            out.append((key.lower(), [], rest.strip()))
        elif not out:
            raise InputError(f"{path}: ASF: content before the first ':' keyword: {line[:40]!r}")
        else:
            out[-1][1].append(tuple(line.split()))
    return out


def _parse_bone(path, block: List[Tuple[str, ...]]) -> dict:
    bone: dict = {"dof": ()}
    for tok in block:
        key = tok[0].lower()
        if key == "id" or key == "limits" or tok[0].startswith("("):
            continue
        if key == "name":
            if len(tok) != 2:
                raise InputError(f"{path}: ASF bonedata: bad name line {' '.join(tok)!r}")
            bone["name"] = tok[1]
    name = bone.get("name")
    if name is None:
        raise InputError(f"{path}: ASF bonedata: a begin/end block without a name")
    for tok in block:
        key = tok[0].lower()
        if key == "direction":
            bone["direction"] = _floats(path, f"bone {name} direction", list(tok[1:]), 3)
        elif key == "length":
            bone["length"] = float(_floats(path, f"bone {name} length", list(tok[1:]), 1)[0])
            if bone["length"] < 0:
                raise InputError(f"{path}: ASF bone {name}: negative length {bone['length']}")
        elif key == "axis":
            if len(tok) != 5:
                raise InputError(f"{path}: ASF bone {name}: expected 'axis a b c XYZ', got {' '.join(tok)!r}")
            bone["axis"] = _floats(path, f"bone {name} axis", list(tok[1:4]), 3)
            bone["axis_order"] = _order_letters(path, f"bone {name} axis", tok[4])
        elif key == "dof":
            dof = tuple(t.lower() for t in tok[1:])
            bad = [d for d in dof if d not in DOFS]
            if bad or len(set(dof)) != len(dof):
                raise InputError(f"{path}: ASF bone {name}: dof {' '.join(tok[1:])!r}, expected distinct "
                                 f"entries of {' '.join(DOFS)}")
            bone["dof"] = dof
    for key in ("direction", "length", "axis"):
        if key not in bone:
            raise InputError(f"{path}: ASF bone {name}: no {key}")
    norm = np.linalg.norm(bone["direction"])
    if norm == 0 and bone["length"] > 0:
        raise InputError(f"{path}: ASF bone {name}: zero direction with length {bone['length']}")
    bone["direction"] = bone["direction"] / norm if norm > 0 else bone["direction"]
    return bone


def read_asf(path) -> Asf:
    """Parse an ASF skeleton file (see the module docstring)."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: ASF file not found")
    sections = _sections(path, path.read_text(errors="replace"))
    units = {"mass": 1.0, "length": 1.0, "angle": "deg"}
    root = None
    bonedata: Dict[str, dict] = {}
    hierarchy: Dict[str, Tuple[str, ...]] = {}
    seen = set()
    for key, lines, _ in sections:
        seen.add(key)
        if key == "units":
            for tok in lines:
                if tok[0].lower() == "angle" and len(tok) == 2:
                    if tok[1].lower() not in ("deg", "rad"):
                        raise InputError(f"{path}: ASF :units angle {tok[1]!r}, expected deg or rad")
                    units["angle"] = tok[1].lower()
                elif tok[0].lower() in ("mass", "length") and len(tok) == 2:
                    units[tok[0].lower()] = float(_floats(path, f":units {tok[0]}", [tok[1]], 1)[0])
            if units["length"] <= 0:
                raise InputError(f"{path}: ASF :units length {units['length']}, expected > 0")
        elif key == "root":
            root = {k[0].lower(): k[1:] for k in lines}
        elif key == "bonedata":
            block: Optional[List[Tuple[str, ...]]] = None
            for tok in lines:
                if tok[0].lower() == "begin":
                    block = []
                elif tok[0].lower() == "end":
                    if block is None:
                        raise InputError(f"{path}: ASF bonedata: 'end' without 'begin'")
                    bone = _parse_bone(path, block)
                    if bone["name"] in bonedata or bone["name"] == "root":
                        raise InputError(f"{path}: ASF bonedata: bone {bone['name']!r} defined twice")
                    bonedata[bone["name"]] = bone
                    block = None
                elif block is None:
                    raise InputError(f"{path}: ASF bonedata: {' '.join(tok)!r} outside a begin/end block")
                else:
                    block.append(tok)
            if block is not None:
                raise InputError(f"{path}: ASF bonedata: a block without 'end'")
        elif key == "hierarchy":
            for tok in lines:
                if tok[0].lower() in ("begin", "end"):
                    continue
                if len(tok) < 2:
                    continue
                if tok[0] in hierarchy:
                    raise InputError(f"{path}: ASF :hierarchy: parent {tok[0]!r} listed twice")
                hierarchy[tok[0]] = tuple(tok[1:])
    for key in ("root", "bonedata", "hierarchy"):
        if key not in seen:
            raise InputError(f"{path}: ASF: no :{key} section")
    scale = 1.0 if units["angle"] == "deg" else 180.0 / math.pi
    asf_root = _parse_root(path, root, scale)

    # bones in depth-first order from the root, children in file order
    names, parents = ["root"], [-1]
    stack = [(c, 0) for c in reversed(hierarchy.get("root", ()))]
    while stack:
        name, parent = stack.pop()
        if name in names:
            raise InputError(f"{path}: ASF :hierarchy: bone {name!r} has two parents or is in a cycle")
        if name not in bonedata:
            raise InputError(f"{path}: ASF :hierarchy: bone {name!r} has no bonedata")
        names.append(name)
        parents.append(parent)
        stack.extend((c, len(names) - 1) for c in reversed(hierarchy.get(name, ())))
    unknown = [p for p in hierarchy if p not in names]
    if unknown:
        raise InputError(f"{path}: ASF :hierarchy: parent {unknown[0]!r} is not reachable from root")
    orphans = [b for b in bonedata if b not in names]
    if orphans:
        raise InputError(f"{path}: ASF: bone {orphans[0]!r} has bonedata but is not in the :hierarchy")
    bones = [AsfBone("root", np.zeros(3), 0.0, asf_root.orientation, asf_root.axis, asf_root.order, -1)]
    for name, parent in zip(names[1:], parents[1:]):
        b = bonedata[name]
        bones.append(AsfBone(name, b["direction"], b["length"], b["axis"] * scale, b.get("axis_order", "XYZ"),
                             b["dof"], parent))
    return Asf(str(path), units["mass"], units["length"], units["angle"], asf_root, tuple(bones), hierarchy)


def _parse_root(path, root: Optional[dict], scale: float) -> AsfRoot:
    root = root or {}
    order = tuple(t.lower() for t in root.get("order", ()))
    bad = [d for d in order if d not in DOFS[:6]]
    if bad or len(set(order)) != len(order):
        raise InputError(f"{path}: ASF :root order {' '.join(order)!r}, expected distinct TX TY TZ RX RY RZ")
    axis = root.get("axis", ("XYZ",))
    if len(axis) != 1:
        raise InputError(f"{path}: ASF :root axis {' '.join(axis)!r}, expected order letters such as XYZ")
    position = _floats(path, ":root position", list(root.get("position", ("0", "0", "0"))), 3)
    orientation = _floats(path, ":root orientation", list(root.get("orientation", ("0", "0", "0"))), 3) * scale
    return AsfRoot(order, _order_letters(path, ":root axis", axis[0]), position, orientation)


# ----------------------------------------------------------------------------------------------------------- AMC

def read_amc(path, asf: Asf) -> Amc:
    """Parse an AMC motion file for the skeleton ``asf``; every bone with dofs must be in every frame."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: AMC file not found")
    dofs = {b.name: b.dof for b in asf.bones}
    degrees = asf.angle == "deg"
    frames: List[int] = []
    rows: Dict[str, List[List[float]]] = {n: [] for n, d in dofs.items() if d}
    current: Dict[str, List[float]] = {}

    def close_frame():
        missing = [n for n in rows if n not in current]
        if missing:
            raise InputError(f"{path}: AMC frame {frames[-1]}: no values for bone {missing[0]!r}")
        for n in rows:
            rows[n].append(current[n])

    for lineno, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        if line.startswith(":"):
            if frames:
                raise InputError(f"{path}:{lineno}: AMC header line {line!r} after the first frame")
            key = line[1:].split()[0].upper() if line[1:].split() else ""
            if key == "DEGREES":
                degrees = True
            elif key == "RADIANS":
                degrees = False
            continue
        tok = line.split()
        if len(tok) == 1 and tok[0].isdigit():
            number = int(tok[0])
            if frames:
                close_frame()
                if number != frames[-1] + 1:
                    raise InputError(f"{path}:{lineno}: AMC frame {number} follows frame {frames[-1]}, expected "
                                     f"consecutive frame numbers")
            frames.append(number)
            current = {}
            continue
        if not frames:
            raise InputError(f"{path}:{lineno}: AMC values before the first frame number: {line[:40]!r}")
        name = tok[0]
        if name not in dofs:
            raise InputError(f"{path}:{lineno}: AMC bone {name!r} is not in the ASF {asf.path}")
        if name in current:
            raise InputError(f"{path}:{lineno}: AMC frame {frames[-1]}: bone {name!r} given twice")
        if len(tok) - 1 != len(dofs[name]):
            raise InputError(f"{path}:{lineno}: AMC bone {name!r}: {len(tok) - 1} values, expected "
                             f"{len(dofs[name])} ({' '.join(dofs[name]) or 'no dofs'})")
        try:
            vals = [float(t) for t in tok[1:]]
        except ValueError:
            raise InputError(f"{path}:{lineno}: AMC bone {name!r}: non-numeric value in {line!r}") from None
        if not all(math.isfinite(v) for v in vals):
            raise InputError(f"{path}:{lineno}: AMC bone {name!r}: non-finite value in {line!r}")
        current[name] = vals
    if not frames:
        raise InputError(f"{path}: AMC: no frames")
    close_frame()
    values = {}
    for name, r in rows.items():
        v = np.array(r, dtype=np.float64).reshape(len(frames), len(dofs[name]))
        if not degrees:
            rot = [i for i, d in enumerate(dofs[name]) if d in ROTATION_DOFS]
            v[:, rot] = np.degrees(v[:, rot])
        values[name] = v
    return Amc(str(path), np.array(frames), values)


# ----------------------------------------------------------------------------------------------- kinematics

def _axis_rotation(axis: str, deg: np.ndarray) -> np.ndarray:
    """Rotation matrices (..., 3, 3) about the x, y or z axis by ``deg`` degrees (right-handed)."""
    a = np.radians(deg)
    c, s = np.cos(a), np.sin(a)
    R = np.zeros(np.shape(a) + (3, 3))
    i, j = {"X": (1, 2), "Y": (2, 0), "Z": (0, 1)}[axis]
    k = 3 - i - j
    R[..., k, k] = 1
    R[..., i, i], R[..., i, j], R[..., j, i], R[..., j, j] = c, -s, s, c
    return R


def euler_matrix(order: str, angles: np.ndarray) -> np.ndarray:
    """``R`` (..., 3, 3) of ``angles`` (..., len(order)) degrees, the k-th about the k-th letter of ``order``:
    the first letter's rotation is applied first, so ``"XYZ"`` gives ``Rz Ry Rx`` (Acclaim convention)."""
    angles = np.asarray(angles, dtype=np.float64)
    R = np.broadcast_to(np.eye(3), angles.shape[:-1] + (3, 3))
    for k, letter in enumerate(order.upper()):
        R = _axis_rotation(letter, angles[..., k]) @ R
    return R


def forward_kinematics(asf: Asf, amc: Amc) -> Tuple[np.ndarray, np.ndarray]:
    """``(starts, ends)`` (T, J, 3) of every bone of ``asf.bones``, file axes and length units."""
    T, J = amc.n_frames, len(asf.bones)
    starts, ends = np.zeros((T, J, 3)), np.zeros((T, J, 3))
    glob_R = np.zeros((T, J, 3, 3))
    for j, bone in enumerate(asf.bones):
        vals = amc.values.get(bone.name, np.zeros((T, 0)))
        col = {d: vals[:, i] for i, d in enumerate(bone.dof)}
        if j == 0:
            pos = np.broadcast_to(asf.root.position, (T, 3)).copy()
            for i, d in enumerate(("tx", "ty", "tz")):
                if d in col:
                    pos[:, i] = col[d]
            rot = np.stack([col.get(d, np.zeros(T)) for d in ("r" + a.lower() for a in asf.root.axis)], -1)
            glob_R[:, 0] = euler_matrix(asf.root.axis, asf.root.orientation) @ euler_matrix(asf.root.axis, rot)
            starts[:, 0] = ends[:, 0] = pos
            continue
        p = bone.parent
        C = euler_matrix(bone.axis_order, bone.axis)
        rdofs = [d for d in bone.dof if d in ROTATION_DOFS]
        if rdofs:
            M = euler_matrix("".join(d[1] for d in rdofs), np.stack([col[d] for d in rdofs], -1))
        else:
            M = np.eye(3)
        glob_R[:, j] = glob_R[:, p] @ (C @ M @ C.T)
        start = ends[:, p].copy()
        if any(d in col for d in ("tx", "ty", "tz")):
            t = np.stack([col.get(d, np.zeros(T)) for d in ("tx", "ty", "tz")], -1)
            start += np.einsum("tab,tb->ta", glob_R[:, p] @ C, t)
        length = bone.length + col.get("l", 0.0)
        starts[:, j] = start
        ends[:, j] = start + np.einsum("tab,b->ta", glob_R[:, j], bone.direction) * np.reshape(length, (-1, 1))
    return starts, ends


def to_world(points: np.ndarray, unit: float) -> np.ndarray:
    """ASF file units and y-up axes to world metres, z up (:data:`common.bvh.BVH_TO_WORLD`)."""
    return points @ BVH_TO_WORLD.T * unit


# ------------------------------------------------------------------------------------------------- loading

def find_asf(amc_path) -> Path:
    """The ``.asf`` next to ``amc_path`` whose stem is the longest prefix of the amc's stem (ending at a
    non-alphanumeric character or the end: ``131.asf`` for ``131_01.amc``), else the only ``.asf`` there."""
    amc_path = Path(amc_path)
    asfs = sorted(p for p in amc_path.parent.glob("*") if p.suffix.lower() == ".asf" and p.is_file())
    stem = amc_path.stem.lower()
    best = None
    for p in asfs:
        s = p.stem.lower()
        if stem.startswith(s) and (len(s) == len(stem) or not stem[len(s)].isalnum()):
            if best is None or len(s) > len(best.stem):
                best = p
    if best is not None:
        return best
    if len(asfs) == 1:
        return asfs[0]
    raise InputError(f"{amc_path}: no matching .asf skeleton in {amc_path.parent} ({len(asfs)} .asf files, none "
                     f"whose name is a prefix of {amc_path.stem!r}); pass asf_path")


def fps_from_name(amc_path) -> float:
    """The frame rate in an AMC file name (HDM05 ``..._120.amc``), else :data:`DEFAULT_FPS`."""
    parts = Path(amc_path).stem.split("_")
    last = parts[-1]
    if len(parts) >= 3 and last.isdigit() and not last.startswith("0") and 24 <= int(last) <= 1000:
        return float(last)
    return DEFAULT_FPS


def load_asf_amc(amc_path, asf_path=None) -> RigMotion:
    """An AMC take as a :class:`RigMotion`: the bones (``root`` first) with their STARTS as joints, world
    metres z up; ``head_top`` the end of the ``head`` bone (None without one); fps from :func:`fps_from_name`."""
    amc_path = Path(amc_path)
    if not amc_path.is_file():
        raise InputError(f"{amc_path}: AMC file not found")
    asf = read_asf(find_asf(amc_path) if asf_path is None else asf_path)
    amc = read_amc(amc_path, asf)
    starts, ends = forward_kinematics(asf, amc)
    head_top = to_world(ends[:, asf.index("head")], asf.unit) if "head" in asf.names else None
    return RigMotion(str(amc_path), asf.names, asf.parents, to_world(starts, asf.unit), fps_from_name(amc_path),
                     head_top)
