"""The synthetic world: procedural people doing 12 actions, filmed by random (stereo) cameras, cached on disk.

``build_synthetic(cfg)`` returns a :class:`~common.dataset.Dataset` named ``synthetic`` whose train, val and test
splits use different procedural subjects. Every sequence draws its subject, motion, camera, lighting and room
from numpy generators seeded by ``(seed, what, split, class, index)``, so the same config always gives the same
bits, whatever the number of worker processes. The first call generates everything (with a progress bar) into
``CACHE_DIR/synth/<hash of the resolved config>/``: one ``.npz`` per sequence with its labels and its frames as
JPEG bytes, each written under a temporary name and renamed, and a ``COMPLETE`` marker (the index) written last.
Later calls only read the labels; frames are decoded when ``Sample.load_frames()`` is called.
"""
from __future__ import annotations

import copy
import hashlib
import json
import multiprocessing as mp
import os
import zipfile
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Dict, List, Optional

import cv2
import numpy as np

from ..camera import Camera, load_h36m_cameras
from ..dataset import Dataset, Sample
from ..errors import InputError
from ..io import atomic_path
from ..paths import CACHE_DIR, shared
from ..progress import progress_bar
from .body import sample_body
from .motion import ACTIONS, animate
from .render import (
    body_primitives,
    render_background,
    render_frames,
    sample_appearance,
    sample_lighting,
    shadow_polygons,
    visibility,
)

#: bump when the generator changes what it produces, so that old caches are not reused
VERSION = 3
SPLITS = ("train", "val", "test")

SYNTH_DEFAULTS = {
    "seed": 0,                                            # everything is drawn from generators seeded by it
    "image_size": 256,                                    # square frames, pixels
    "frames": 32,                                         # frames per sequence
    "fps": 25.0,
    "subjects": {"train": 10, "val": 3, "test": 3},       # procedural subjects per split (disjoint)
    "per_class": {"train": 16, "val": 4, "test": 6},      # sequences per action class per split
    "render": True,                                       # false: 2D/3D poses only, no frames (fast)
    "jpeg_quality": 90,
    "noise_2d_px": 0.0,                                   # Gaussian noise added to the stored 2D joints
    "fill": [0.5, 0.85],                                  # person height / image height (max over the clip)
    "elevation_deg": [3.0, 20.0],                         # camera elevation above the person's pelvis
    "baseline_m": [0.1, 0.6],                             # stereo baseline of the right camera
    "h36m_intrinsics": 0.5,                               # share of cameras with real H36M intrinsics
    "workers": 2,                                         # generating processes (does not change the data)
}
_NOT_HASHED = ("workers",)


# ------------------------------------------------------------------------------------------------ config
def _cast(key: str, default, value):
    """``value`` as the type of ``default`` (an int may be given as a float with no fraction)."""
    try:
        if isinstance(default, bool):
            if not isinstance(value, bool):
                raise TypeError
            return value
        if isinstance(default, int):
            if isinstance(value, bool) or float(value) != int(value):
                raise TypeError
            return int(value)
        if isinstance(default, float):
            return float(value)
        if isinstance(default, list):
            out = [float(x) for x in value]
            if len(out) != 2 or not out[0] <= out[1]:
                raise TypeError
            return out
    except (TypeError, ValueError):
        want = "[low, high]" if isinstance(default, list) else type(default).__name__
        raise InputError(f"synthetic data: {key} must be {want}, got {value!r}") from None
    return value


def resolve_cfg(cfg: Optional[dict]) -> dict:
    """Defaults overridden by ``cfg`` (``None`` values keep the default), each value checked against its
    default's type; unknown keys raise InputError listing the known ones."""
    out = copy.deepcopy(SYNTH_DEFAULTS)
    for k, v in (cfg or {}).items():
        if k not in SYNTH_DEFAULTS:
            raise InputError(f"synthetic data: unknown option {k!r}; known: {', '.join(SYNTH_DEFAULTS)}")
        if v is None:
            continue
        if isinstance(SYNTH_DEFAULTS[k], dict):
            if not isinstance(v, dict):
                raise InputError(f"synthetic data: {k} must be a mapping with keys {', '.join(SPLITS)}")
            for s, n in v.items():
                if s not in SPLITS:
                    raise InputError(f"synthetic data: unknown split {k}.{s}; known: {', '.join(SPLITS)}")
                if n is not None:
                    out[k][s] = _cast(f"{k}.{s}", 0, n)
        else:
            out[k] = _cast(k, SYNTH_DEFAULTS[k], v)
    if out["image_size"] < 32 or out["frames"] < 2 or out["fps"] <= 0 or out["jpeg_quality"] not in range(1, 101):
        raise InputError("synthetic data: need image_size >= 32, frames >= 2, fps > 0 and jpeg_quality in 1-100")
    for s in SPLITS:
        if out["per_class"][s] < 0 or out["subjects"][s] < 0:
            raise InputError(f"synthetic data: per_class.{s} and subjects.{s} must not be negative")
        if out["per_class"][s] > 0 and out["subjects"][s] < 1:
            raise InputError(f"synthetic data: split {s} has sequences but subjects.{s} = 0")
    return out


def cfg_key(cfg: dict) -> str:
    """Short hash of everything that changes the generated data."""
    d = {k: v for k, v in cfg.items() if k not in _NOT_HASHED}
    d["_version"] = VERSION
    d["_h36m_cameras"] = shared("h36m", "cameras.pkl").is_file()
    return hashlib.sha1(json.dumps(d, sort_keys=True).encode()).hexdigest()[:12]


def plan(cfg: dict) -> List[dict]:
    """One entry per sequence: split, class, index, subject id (ids are unique across splits)."""
    specs, first = [], 0
    for si, split in enumerate(SPLITS):
        ids = list(range(first, first + cfg["subjects"][split]))
        first += cfg["subjects"][split]
        for c, action in enumerate(ACTIONS):
            for k in range(cfg["per_class"][split]):
                subj = ids[(k + c) % len(ids)]
                specs.append({"split": split, "split_index": si, "action": c, "index": k, "subject": subj,
                              "name": f"{split}_{action}_{k:03d}_s{subj:02d}"})
    return specs


# ----------------------------------------------------------------------------------------------- cameras
_H36M_CACHE: Dict[str, list] = {}


def _h36m_intrinsics() -> list:
    """Real Human3.6M cameras (sorted, so that choices are reproducible), or [] where the file is absent."""
    path = shared("h36m", "cameras.pkl")
    if str(path) not in _H36M_CACHE:
        try:
            cams = load_h36m_cameras(path)
            _H36M_CACHE[str(path)] = [cams[k] for k in sorted(cams)]
        except InputError:
            _H36M_CACHE[str(path)] = []
    return _H36M_CACHE[str(path)]


def _intrinsics(rng: np.random.Generator, size: int, h36m_share: float) -> Camera:
    real = _h36m_intrinsics()
    if real and rng.uniform() < h36m_share:
        cam = real[int(rng.integers(len(real)))]
        cam = cam.scaled(size / cam.width)
        return replace(cam, width=size, height=size, R=np.eye(3), t=np.zeros(3), name=f"h36m_{cam.name}")
    f = size * rng.uniform(0.9, 1.8)     # H36M's own is about 1.15 x the width
    return Camera(fx=f, fy=f * (1 + rng.normal(0, 0.003)), cx=size / 2 + rng.normal(0, 0.01 * size),
                  cy=size / 2 + rng.normal(0, 0.01 * size), width=size, height=size, name="pinhole")


def look_at(cam: Camera, centre: np.ndarray, target: np.ndarray, roll: float = 0.0) -> Camera:
    """``cam`` moved to world ``centre`` looking at ``target`` with the world z axis up (then rolled)."""
    z = target - centre
    z /= np.linalg.norm(z)
    x = np.cross(z, [0.0, 0.0, 1.0])
    x /= np.linalg.norm(x)
    y = np.cross(z, x)
    c, s = np.cos(roll), np.sin(roll)
    R = np.array([[c, -s, 0], [s, c, 0], [0, 0, 1.0]]) @ np.stack([x, y, z])
    return replace(cam, R=R, t=-R @ centre)


def sample_camera(rng: np.random.Generator, X: np.ndarray, cfg: dict, pad_m: float) -> Camera:
    """A camera all around the person (azimuth uniform), a little above (``elevation_deg``), aimed at the mean
    pelvis, at a distance where the person fills ``fill`` of the image height at most and stays in frame."""
    size = int(cfg["image_size"])
    cam0 = _intrinsics(rng, size, float(cfg["h36m_intrinsics"]))
    az = rng.uniform(-np.pi, np.pi)
    el = np.deg2rad(rng.uniform(*cfg["elevation_deg"]))
    fill = rng.uniform(*cfg["fill"])
    roll = np.deg2rad(rng.normal(0, 1.5))
    target = X[:, 0].mean(axis=0)
    direction = np.array([np.cos(el) * np.cos(az), np.cos(el) * np.sin(az), np.sin(el)])
    pts = X.reshape(-1, 3)

    def place(d):
        cam = look_at(cam0, target + d * direction, target, roll)
        uv = cam.project_world(X)
        pad = cam.fy * pad_m / d
        tall = (uv[..., 1].max(1) - uv[..., 1].min(1)).max() + pad      # + feet below the ankles, head
        inside = (uv.min() > pad + 1) and (uv.max() < size - pad - 1)
        in_front = cam.world_to_camera(pts)[:, 2].min() > 0.5
        return cam, tall, inside and in_front

    d = 4.0
    _, tall, _ = place(d)
    d *= tall / (fill * size)            # projected height ~ 1 / distance
    for _ in range(60):
        cam, tall, ok = place(d)
        if ok and tall <= cfg["fill"][1] * size:
            return cam
        d *= 1.06
    return cam


# ----------------------------------------------------------------------------------------------- sequences
def _rng(cfg: dict, what: int, spec: dict) -> np.random.Generator:
    return np.random.default_rng([int(cfg["seed"]), what, spec["split_index"], spec["action"], spec["index"]])


def make_sequence(cfg: dict, spec: dict, encode: bool = True, person: bool = True) -> dict:
    """Labels (and JPEG-encoded frames when ``render``) of one sequence, as arrays ready for ``np.savez``;
    ``encode=False`` returns the raw frames (T, H, W, 3) uint8 RGB under ``frames`` instead; ``person=False``
    renders the empty room (background plates) with the same labels."""
    subj_rng = np.random.default_rng([int(cfg["seed"]), 1, spec["subject"]])
    body, app = sample_body(subj_rng), sample_appearance(subj_rng)
    rng = _rng(cfg, 2, spec)
    X, G, _ = animate(ACTIONS[spec["action"]], body, int(cfg["frames"]), float(cfg["fps"]), rng)
    cam = sample_camera(rng, X, cfg, pad_m=0.13 * body.height / 1.7)
    cam_r = cam.stereo_right(float(rng.uniform(*cfg["baseline_m"])))
    light = sample_lighting(rng)
    joints3d = cam.world_to_camera(X)
    joints2d = cam.project(joints3d)
    joints2d_r = cam_r.project_world(X)
    prims = body_primitives(body, app, X, G, cam, light)
    out = {"joints3d": joints3d, "visible": visibility(prims, joints2d),
           "camera": np.array(json.dumps(cam.to_dict())), "camera_right": np.array(json.dumps(cam_r.to_dict()))}
    if cfg["noise_2d_px"] > 0:
        nrng = _rng(cfg, 3, spec)
        joints2d = joints2d + nrng.normal(0, cfg["noise_2d_px"], joints2d.shape)
        joints2d_r = joints2d_r + nrng.normal(0, cfg["noise_2d_px"], joints2d_r.shape)
    out["joints2d"], out["joints2d_right"] = joints2d, joints2d_r
    if cfg["render"]:
        brng = _rng(cfg, 4, spec)
        room = np.linalg.norm(cam.center[:2] - X[:, 0, :2].mean(0)) + brng.uniform(1.5, 5.0)
        bg = render_background(cam, X[:, 0].mean(0), light, brng, room)
        if person:
            frames = render_frames(prims, bg, shadow_polygons(X, body, cam), brng.uniform(0.25, 0.5))
        else:
            frames = np.repeat(bg[None], len(X), axis=0)
        if encode:
            out["jpeg"], out["jpeg_offsets"] = encode_jpeg(frames, int(cfg["jpeg_quality"]))
        else:
            out["frames"] = frames
    return out


def encode_jpeg(frames: np.ndarray, quality: int = 90):
    """RGB frames (T, H, W, 3) -> (concatenated JPEG bytes as uint8, offsets (T + 1,))."""
    blobs = [cv2.imencode(".jpg", cv2.cvtColor(f, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, quality])[1]
             for f in frames]
    offsets = np.cumsum([0] + [len(b) for b in blobs]).astype(np.int64)
    return np.concatenate(blobs).astype(np.uint8), offsets


class FrameLoader:
    """``Sample.load_frames``: decodes the sequence's JPEG frames from its cache file (picklable)."""

    def __init__(self, path):
        self.path = str(path)

    def __call__(self) -> np.ndarray:
        with np.load(self.path) as z:
            data, off = z["jpeg"], z["jpeg_offsets"]
        return np.stack([cv2.cvtColor(cv2.imdecode(data[a:b], cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
                         for a, b in zip(off[:-1], off[1:])])


# ----------------------------------------------------------------------------------------------- cache
def _write_atomic(path: Path, write) -> None:
    with atomic_path(path) as tmp, open(tmp, "wb") as f:
        write(f)


def _generate_one(args) -> str:
    cfg, spec, path = args
    path = Path(path)
    if not path.is_file():
        arrays = make_sequence(cfg, spec)
        _write_atomic(path, lambda f: np.savez(f, **arrays))
    return spec["name"]


def _sample(cfg: dict, spec: dict, path: Path) -> Sample:
    with np.load(path) as z:
        lab = {k: z[k] for k in ("joints2d", "joints2d_right", "joints3d", "visible", "camera", "camera_right")}
        has_frames = "jpeg" in z.files
    size = int(cfg["image_size"])
    return Sample(name=spec["name"], action=spec["action"], subject=spec["subject"], fps=float(cfg["fps"]),
                  joints2d=lab["joints2d"], visible=lab["visible"], joints3d=lab["joints3d"],
                  camera=Camera.from_dict(json.loads(str(lab["camera"]))), image_size=(size, size),
                  joints2d_right=lab["joints2d_right"],
                  camera_right=Camera.from_dict(json.loads(str(lab["camera_right"]))),
                  load_frames=FrameLoader(path) if has_frames else None)


def build_synthetic(cfg: Optional[dict] = None, cache_dir=None, progress: bool = True) -> Dataset:
    """The synthetic dataset for ``cfg`` (see ``SYNTH_DEFAULTS``), generated once and then read from the cache."""
    cfg = resolve_cfg(cfg)
    cache_dir = Path(cache_dir) if cache_dir is not None else CACHE_DIR / "synth" / cfg_key(cfg)
    specs = plan(cfg)
    stored = {k: v for k, v in cfg.items() if k not in _NOT_HASHED}
    marker, cfg_file = cache_dir / "COMPLETE", cache_dir / "cfg.json"
    complete = False
    if marker.is_file() and cfg_file.is_file():
        try:
            complete = json.loads(cfg_file.read_text()) == {**stored, "_version": VERSION}
        except ValueError:
            complete = False
    if not complete:
        _generate(cfg, specs, cache_dir, progress)
    splits, bad = _load(cfg, specs, cache_dir)
    if bad:                                   # damaged after completion: regenerate those files once
        for p in bad:
            p.unlink(missing_ok=True)
        _generate(cfg, specs, cache_dir, progress)
        splits, bad = _load(cfg, specs, cache_dir)
        if bad:
            raise InputError(f"{bad[0]}: unreadable synthetic-world cache file")
    return Dataset(name="synthetic", action_names=list(ACTIONS), train=splits["train"], val=splits["val"],
                   test=splits["test"], has_frames=bool(cfg["render"]))


def _load(cfg: dict, specs: List[dict], cache_dir: Path):
    splits: Dict[str, List[Sample]] = {s: [] for s in SPLITS}
    bad = []
    for spec in specs:
        path = cache_dir / spec["split"] / f"{spec['name']}.npz"
        try:
            splits[spec["split"]].append(_sample(cfg, spec, path))
        except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):
            bad.append(path)
    return splits, bad


def _generate(cfg: dict, specs: List[dict], cache_dir: Path, progress: bool) -> None:
    stored = {**{k: v for k, v in cfg.items() if k not in _NOT_HASHED}, "_version": VERSION}
    cache_dir.mkdir(parents=True, exist_ok=True)
    marker, cfg_file = cache_dir / "COMPLETE", cache_dir / "cfg.json"
    if marker.exists():
        marker.unlink()
    same = False
    if cfg_file.is_file():
        try:
            same = json.loads(cfg_file.read_text()) == stored
        except ValueError:
            pass
    elif any(any((cache_dir / s).glob("*.npz")) for s in SPLITS):
        raise InputError(f"{cache_dir}: has .npz files but no cfg.json; not a synthetic-world cache, not touching it")
    for s in SPLITS:
        (cache_dir / s).mkdir(exist_ok=True)
        if not same:                      # files of another config or version must not be resumed from
            for old in (cache_dir / s).glob("*.npz"):
                old.unlink()
    _write_atomic(cfg_file, lambda f: f.write(json.dumps(stored, indent=1, sort_keys=True).encode()))
    jobs = [(cfg, spec, str(cache_dir / spec["split"] / f"{spec['name']}.npz")) for spec in specs]
    todo = [j for j in jobs if not Path(j[2]).is_file()]
    bar = progress_bar(total=len(jobs), initial=len(jobs) - len(todo), desc=f"synthetic world -> {cache_dir}",
               unit="seq", disable=not progress)
    workers = max(1, min(int(cfg["workers"] or 1), os.cpu_count() or 1, len(todo)))
    if workers > 1 and len(todo) >= 8:
        ctx = mp.get_context("fork" if "fork" in mp.get_all_start_methods() else "spawn")
        with ProcessPoolExecutor(workers, mp_context=ctx) as ex:
            for _ in ex.map(_generate_one, todo, chunksize=2):
                bar.update()
    else:
        for job in todo:
            _generate_one(job)
            bar.update()
    bar.close()
    _write_atomic(marker, lambda f: f.write(json.dumps([s["name"] for s in specs]).encode()))
