"""The synthetic world: determinism, splits, geometry of the labels, rendering, caching, separable classes."""
import time

import numpy as np
import pytest

from common.errors import InputError
from common.synth import world
from common.synth.motion import ACTIONS
from common.synth.world import SYNTH_DEFAULTS, build_synthetic

TINY = {"image_size": 96, "frames": 12, "subjects": {"train": 3, "val": 1, "test": 2},
        "per_class": {"train": 1, "val": 1, "test": 1}, "workers": 1}


def _build(tmp, **over):
    return build_synthetic({**TINY, **over}, cache_dir=tmp, progress=False)


def _samples(ds):
    return ds.train + ds.val + ds.test


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    d = tmp_path_factory.mktemp("synth")
    t0 = time.perf_counter()
    ds = _build(d)
    return ds, d, time.perf_counter() - t0


def test_defaults_and_actions():
    assert ACTIONS == ("walk", "run", "jump", "squat", "wave", "clap", "punch", "kick", "bow", "sit_down",
                       "raise_arms", "turn")
    assert SYNTH_DEFAULTS["seed"] == 0 and SYNTH_DEFAULTS["image_size"] == 256
    assert set(SYNTH_DEFAULTS["subjects"]) == {"train", "val", "test"}


def test_unknown_key_is_an_input_error(tmp_path):
    with pytest.raises(InputError, match="known: .*seed"):
        build_synthetic({"sead": 1}, cache_dir=tmp_path, progress=False)
    with pytest.raises(InputError, match="split"):
        build_synthetic({"per_class": {"training": 1}}, cache_dir=tmp_path, progress=False)
    with pytest.raises(InputError, match="frames must be int"):
        build_synthetic({"frames": "many"}, cache_dir=tmp_path, progress=False)
    with pytest.raises(InputError, match="fill must be"):
        build_synthetic({"fill": [0.9, 0.5]}, cache_dir=tmp_path, progress=False)
    # a folder of someone else's .npz files is never overwritten
    (tmp_path / "train").mkdir()
    (tmp_path / "train" / "mine.npz").write_bytes(b"precious")
    with pytest.raises(InputError, match="not a synthetic-world cache"):
        build_synthetic(TINY, cache_dir=tmp_path, progress=False)
    assert (tmp_path / "train" / "mine.npz").read_bytes() == b"precious"


def test_shapes_and_splits(tiny):
    ds, _, _ = tiny
    assert ds.name == "synthetic" and ds.action_names == list(ACTIONS) and ds.has_frames
    assert len(ds.train) == len(ds.val) == len(ds.test) == len(ACTIONS)
    for s in _samples(ds):
        T = TINY["frames"]
        assert s.joints2d.shape == (T, 17, 2) and s.joints3d.shape == (T, 17, 3) and s.visible.shape == (T, 17)
        assert s.joints2d_right.shape == (T, 17, 2) and s.visible.dtype == bool
        assert s.image_size == (96, 96) and s.camera.width == 96 and s.layout == "h36m17"
        assert np.all(np.isfinite(s.joints3d)) and np.all(s.joints3d[..., 2] > 0.5)
    # subject-disjoint splits, and different subjects really have different bodies
    subj = {k: {s.subject for s in ds.split(k)} for k in ("train", "val", "test")}
    assert not (subj["train"] & subj["val"]) and not (subj["train"] & subj["test"]) and not (subj["val"] & subj["test"])
    thigh = {s.subject: np.linalg.norm(s.joints3d[0, 2] - s.joints3d[0, 1]) for s in _samples(ds)}
    assert len({round(v, 4) for v in thigh.values()}) == len(thigh)


def test_projection_and_stereo(tiny):
    ds, _, _ = tiny
    pinholes = 0
    for s in _samples(ds):
        np.testing.assert_allclose(s.joints2d, s.camera.project(s.joints3d), atol=1e-9)
        b = (s.camera.t - s.camera_right.t)[0]
        assert 0.1 <= b <= 0.6
        np.testing.assert_allclose(s.joints2d_right, s.camera_right.project(s.joints3d - [b, 0, 0]), atol=1e-9)
        if not np.any(s.camera.k) and not np.any(s.camera.p):
            pinholes += 1
            np.testing.assert_allclose(s.joints2d_right[..., 1], s.joints2d[..., 1], atol=1e-6)
            disparity = s.joints2d[..., 0] - s.joints2d_right[..., 0]
            np.testing.assert_allclose(disparity, s.camera.fx * b / s.joints3d[..., 2], rtol=1e-6)
            assert np.all(disparity > 0)
    assert pinholes > 0


def test_person_in_frame_and_visibility(tiny):
    ds, _, _ = tiny
    vis = np.concatenate([s.visible.ravel() for s in _samples(ds)])
    assert 0.7 < vis.mean() < 0.995                     # mostly visible, some occluded
    occluded_inside = 0
    for s in _samples(ds):
        uv = s.joints2d
        inside = (uv[..., 0] >= 0) & (uv[..., 0] < 96) & (uv[..., 1] >= 0) & (uv[..., 1] < 96)
        assert inside.mean() > 0.97
        assert not np.any(s.visible & ~inside)
        occluded_inside += int(np.sum(inside & ~s.visible))
        height = (uv[..., 1].max(1) - uv[..., 1].min(1)).max()
        assert 0.3 * 96 < height < 0.9 * 96
    assert occluded_inside > 0


def test_frames_show_the_person_at_the_joints(tiny):
    ds, _, _ = tiny
    cfg = world.resolve_cfg(TINY)
    spec = world.plan(cfg)[3]
    s = ds.train[3]
    frames = s.load_frames()
    assert frames.shape == (12, 96, 96, 3) and frames.dtype == np.uint8 and frames.std() > 10
    full = world.make_sequence(cfg, spec, encode=False)["frames"]
    empty = world.make_sequence(cfg, spec, encode=False, person=False)["frames"]
    assert np.abs(frames.astype(int) - full).mean() < 4          # the cached JPEGs are these frames
    hits = []
    for t in range(12):
        for j in np.flatnonzero(s.visible[t]):
            u, v = np.floor(s.joints2d[t, j]).astype(int)
            hits.append(np.abs(full[t, v, u].astype(int) - empty[t, v, u]).sum() > 0)
        lo, hi = s.joints2d[t].min(0) - 25, s.joints2d[t].max(0) + 25     # far from the person: only the room
        far = np.ones((96, 96), bool)
        far[max(int(lo[1]), 0):int(hi[1]), max(int(lo[0]), 0):int(hi[0])] = False
        assert np.array_equal(full[t][far], empty[t][far])
    assert np.mean(hits) > 0.95


def test_deterministic_and_seeded(tiny, tmp_path):
    ds, _, _ = tiny
    again = _build(tmp_path / "again")
    for a, b in zip(_samples(ds), _samples(again)):
        assert a.name == b.name
        for k in ("joints2d", "joints3d", "visible", "joints2d_right"):
            assert np.array_equal(getattr(a, k), getattr(b, k))
    assert np.array_equal(ds.test[5].load_frames(), again.test[5].load_frames())
    # poses only: the same labels, no frames; another seed: other labels
    poses = _build(tmp_path / "poses", render=False)
    assert not poses.has_frames and poses.train[0].load_frames is None
    assert np.array_equal(poses.val[2].joints2d, ds.val[2].joints2d)
    other = _build(tmp_path / "other", render=False, seed=1)
    assert not np.allclose(other.val[2].joints3d, ds.val[2].joints3d)


def test_cache_is_reused_and_completed(tiny, monkeypatch):
    ds, d, t_first = tiny
    assert (d / "COMPLETE").is_file()

    def boom(*a, **k):
        raise AssertionError("regenerated instead of reading the cache")

    monkeypatch.setattr(world, "make_sequence", boom)
    t0 = time.perf_counter()
    again = _build(d)
    assert time.perf_counter() - t0 < max(1.0, t_first / 3)
    assert np.array_equal(again.train[7].joints3d, ds.train[7].joints3d)
    assert np.array_equal(again.train[7].load_frames(), ds.train[7].load_frames())


def test_half_written_cache_is_not_trusted(tmp_path):
    d = tmp_path / "c"
    ds = _build(d, render=False)
    (d / "COMPLETE").unlink()
    victim = d / "train" / f"{ds.train[0].name}.npz"
    victim.unlink()
    (d / "train" / f".{ds.train[1].name}.npz.123.tmp").write_bytes(b"half")
    again = _build(d, render=False)
    assert (d / "COMPLETE").is_file() and victim.is_file()
    assert np.array_equal(again.train[0].joints3d, ds.train[0].joints3d)
    victim.write_bytes(b"damaged after completion")           # rebuilt, not trusted
    again = _build(d, render=False)
    assert np.array_equal(again.train[0].joints3d, ds.train[0].joints3d)


def _features(s):
    """View-invariant motion features: world-frame heights, spreads and motion of key joints."""
    X = s.camera.camera_to_world(s.joints3d)
    h = X[..., 10, 2].max()
    rel = (X - X[:, :1]) / h
    z = X[..., 2] / h
    hor = np.linalg.norm(rel[..., :2], axis=-1)
    hips = X[:, 4, :2] - X[:, 1, :2]
    ang = np.unwrap(np.arctan2(hips[:, 1], hips[:, 0]))
    wr = np.linalg.norm(X[:, 13] - X[:, 16], axis=-1) / h
    travel = np.linalg.norm(X[-1, 0, :2] - X[0, 0, :2]) / h
    vel = np.linalg.norm(np.diff(X, axis=0), axis=-1).mean(0) / h * s.fps
    lr = np.abs(z[:, 13] - z[:, 16])
    return np.concatenate([z.mean(0), z.std(0), hor.mean(0), hor.std(0), vel,
                           [abs(ang[-1] - ang[0]), travel, wr.mean(), wr.std(), lr.mean(), z[-1, 0] - z[0, 0]]])


def test_classes_are_separable_from_3d_motion(tmp_path):
    ds = build_synthetic({"frames": 32, "render": False, "subjects": {"train": 4, "val": 1, "test": 2},
                          "per_class": {"train": 6, "val": 0, "test": 3}, "workers": 1},
                         cache_dir=tmp_path, progress=False)
    Xtr = np.stack([_features(s) for s in ds.train])
    ytr = np.array([s.action for s in ds.train])
    Xte = np.stack([_features(s) for s in ds.test])
    yte = np.array([s.action for s in ds.test])
    mu, sd = Xtr.mean(0), Xtr.std(0) + 1e-6
    Xtr, Xte = (Xtr - mu) / sd, (Xte - mu) / sd
    centroids = np.stack([Xtr[ytr == c].mean(0) for c in range(len(ACTIONS))])
    pred = np.argmin(((Xte[:, None] - centroids[None]) ** 2).sum(-1), axis=1)
    acc = (pred == yte).mean()
    assert acc > 0.6, f"nearest-centroid accuracy {acc:.2f} (chance {1 / len(ACTIONS):.2f})"
    # ... but not trivially: the same class differs between subjects and sequences
    walk = [s for s in ds.train if s.action == 0]
    assert not np.allclose(_features(walk[0]), _features(walk[1]), rtol=0.05)
