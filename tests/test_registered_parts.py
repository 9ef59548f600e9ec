"""Every registered part of every kind, built with tiny options: fit (when trainable) -> predict on a test
sample's ground-truth input of the right type -> the hand-off contract of its kind (``common/stage.py``,
``common/handoff.py``) -> ``state()`` saved with torch and loaded into a freshly built part predicts the same.

The parameters come from the registries at collection time, so a newly registered part is tested here as soon
as it has an entry in :data:`TINY` (and fails until it has one). Detectors that read frames or files get a cheap
offline input: ``oracle`` the sample, ``precomputed`` a ``.npz`` written in ``tmp_path``, ``mediapipe`` a small
blank clip (as ``tests/stage1_2d/test_mediapipe_pose.py`` does), ``mmpose_topdown`` a tiny config and a few
noise frames (as ``tests/stage1_2d/test_mmpose_topdown.py`` does).
"""
import json

import numpy as np
import pytest
import torch
from tiny_mmpose import TINY_CONFIG

import stage1_2d  # noqa: F401  (fill the registries)
import stage2_lift  # noqa: F401
import stage3_action  # noqa: F401
from common.dataset import Dataset, Sample
from common.handoff import ActionResult, Pose2DSeq, Pose3DSeq
from common.registry import KINDS, build, known, lookup
from pipelines.chain import gt_input_for, gt_pose2d, gt_pose3d

#: packages whose registrations are the project's parts (a test module may register throw-away parts too)
PROJECT_PACKAGES = ("common", "stage1_2d", "stage2_lift", "stage3_action", "joint", "pipelines")


def _registered():
    out = []
    for kind in KINDS:
        for name in known(kind):
            if lookup(kind, name).__module__.split(".")[0] in PROJECT_PACKAGES:
                out.append((kind, name))
    return out


PARTS = _registered()

_MEMBER = {"type": "pose_cnn", "epochs": 1, "width": 8, "clip_len": 16, "batch_size": 16}

#: tiny options per (kind, name): each part trains and predicts in a few seconds on ``tiny_poses``
TINY = {
    # detectors
    ("detector2d", "oracle"): {"noise_px": 2.0, "drop_rate": 0.1},
    ("detector2d", "precomputed"): {"min_score": 0.2},  # + path: a Pose2DSeq .npz written in tmp_path
    ("detector2d", "mediapipe"): {"person": "largest_central"},
    ("detector2d", "mmpose_topdown"): {"epochs": 1, "batch_size": 4, "frames_per_epoch": 8, "frame_stride": 1,
                                       "val_frames": 4, "box": "whole_frame", "batch_infer": 4},  # + config
    # lifters
    ("lifter", "oracle"): {},
    ("lifter", "martinez_mlp"): {"width": 32, "epochs": 1, "batch_size": 256},
    ("lifter", "mmpose_simplebaseline3d"): {"width": 32, "dropout": 0.1, "epochs": 1, "batch_size": 256},
    ("lifter", "stereo_lifter"): {"width": 32, "epochs": 1, "synth_epochs": 1, "batch_size": 256,
                                  "search_iters": 2, "search_cg_iters": 4},
    ("lifter", "temporal_conv"): {"channels": 16, "filter_widths": [3, 3], "epochs": 1, "batch_size": 256},
    ("lifter", "two_stream_mlp"): {"width": 32, "epochs": 1, "batch_size": 256},
    # encoders
    ("encoder", "pose_image"): {"streams": ["joints", "bones", "motion"]},
    ("encoder", "enhanced_spmf"): {"size": 16},
    # action classifiers
    ("action", "pose_cnn"): {k: v for k, v in _MEMBER.items() if k != "type"},
    ("action", "searched_cnn"): {"epochs": 1, "filters": 8, "clip_len": 16, "batch_size": 16},
    # a 3D ensemble with a 2D member: predict also needs the 2D (needs_pose2d), as the chain passes it
    ("action", "ensemble"): {"input": "3d", "members": {"pose3d": dict(_MEMBER),
                                                        "pose2d": {**_MEMBER, "input": "2d"}}},
}



def test_tiny_names_exactly_the_registered_parts():
    """A part registered without tiny options, or options left for a part that is gone, is an error."""
    assert set(PARTS) - set(TINY) == set(), "registered parts without an entry in TINY"
    assert set(TINY) - set(PARTS) == set(), "TINY entries for parts that are not registered"


# ---------------------------------------------------------------------------------------------- inputs
def _frames_dataset(tiny_poses, n_train=3, n_val=1, T=4, size=64, seed=0) -> Dataset:
    """A few sequences of noise frames whose 2D are tiny_poses' 2D scaled into a ``size`` x ``size`` image."""
    rng = np.random.default_rng(seed)

    def sample(k, src):
        frames = rng.integers(0, 256, (T, size, size, 3), dtype=np.uint8)
        j2 = (np.asarray(src.joints2d[:T], np.float32) * (size / max(src.image_size))).astype(np.float32)
        return Sample(name=f"noise{k}", action=0, subject=0, fps=25.0, joints2d=j2, visible=np.ones((T, 17), bool),
                      joints3d=None, camera=None, image_size=(size, size), load_frames=lambda f=frames: f)

    src = tiny_poses.train
    return Dataset("noise", ["move"], [sample(i, src[i]) for i in range(n_train)],
                   [sample(n_train + i, src[n_train + i]) for i in range(n_val)], [], has_frames=True)


def _detector_setup(name, tiny_poses, tmp_path):
    """(extra options, training data, frames, fps, sample) for a detector."""
    s = tiny_poses.test[0]
    if name == "precomputed":
        p2 = gt_pose2d(s)
        path = Pose2DSeq(p2.keypoints, p2.scores, p2.image_size, p2.fps, p2.layout).save(tmp_path / "pose.npz")
        w, h = s.image_size
        return {"path": str(path)}, tiny_poses, np.zeros((s.n_frames, h, w, 3), np.uint8), s.fps, None
    if name == "mmpose_topdown":
        pytest.importorskip("mmcv.ops", reason="mmpose models need the full mmcv")
        cfg = tmp_path / "tiny_topdown.py"
        cfg.write_text(TINY_CONFIG)
        data = _frames_dataset(tiny_poses)
        return {"config": str(cfg)}, data, data.val[0].frames(), 25.0, None
    if name == "mediapipe":
        pytest.importorskip("mediapipe")
        return {}, tiny_poses, np.full((3, 96, 128, 3), 128, np.uint8), 25.0, None
    if lookup("detector2d", name).needs_ground_truth:  # oracle: reads the sample, never frames
        return {}, tiny_poses, None, s.fps, s
    return {}, tiny_poses, np.zeros((3, 64, 64, 3), np.uint8), 25.0, None


def _two_persons(p2: Pose2DSeq) -> Pose2DSeq:
    """The sample's person and a copy 12 px to the right: a lifter keeps every person."""
    kp = np.concatenate([p2.keypoints, p2.keypoints + np.array([12.0, 0.0], np.float32)])
    return Pose2DSeq(kp, np.concatenate([p2.scores, p2.scores]), p2.image_size, p2.fps, p2.layout)


# ---------------------------------------------------------------------------------------------- contracts
def _check_pose2d(out, T, image_size):
    assert isinstance(out, Pose2DSeq), type(out)
    P = out.n_persons
    assert P >= 1 and out.keypoints.shape == (P, T, 17, 2) and out.scores.shape == (P, T, 17)
    assert out.keypoints.dtype == np.float32 and out.scores.dtype == np.float32
    assert out.layout == "h36m17" and tuple(out.image_size) == tuple(image_size)
    assert np.all(np.isfinite(out.keypoints)) and np.all((out.scores >= 0) & (out.scores <= 1))


def _check_pose3d(out, pose2d: Pose2DSeq):
    assert isinstance(out, Pose3DSeq), type(out)
    P, T = pose2d.n_persons, pose2d.n_frames
    assert out.joints.shape == (P, T, 17, 3) and out.scores.shape == (P, T, 17)
    assert out.joints.dtype == np.float32 and out.layout == "h36m17" and out.fps == pose2d.fps
    assert np.all(np.isfinite(out.joints))
    np.testing.assert_allclose(out.joints[:, :, 0], 0, atol=1e-4)  # root-relative: the pelvis at the origin
    assert 0.05 < np.abs(out.joints).max() < 10  # metres, not millimetres or normalised units


def _check_action(out, labels):
    assert isinstance(out, ActionResult), type(out)
    assert out.labels == tuple(labels) and out.scores.shape == (len(labels),)
    assert np.all(out.scores >= 0) and abs(float(out.scores.sum()) - 1) < 1e-5
    assert out.label in labels


def _same(a, b, atol=1e-6):
    """Two hand-offs of one kind hold the same arrays."""
    assert type(a) is type(b)
    for field in ("keypoints", "joints", "scores"):
        if hasattr(a, field):
            np.testing.assert_allclose(getattr(a, field), getattr(b, field), atol=atol, err_msg=field)
    if isinstance(a, ActionResult):
        assert a.labels == b.labels
        np.testing.assert_allclose(a.distance, b.distance, atol=1e-5, equal_nan=True)  # the open-set bank


def _round_trip(kind, name, opts, part, tmp_path, predict):
    """state() through torch.save / torch.load into a freshly built part (another seed for trained parts:
    only the state may carry what was learnt); it predicts the same."""
    path = tmp_path / "state.pt"
    torch.save(part.state(), path)
    fresh = build(kind, {"type": name, **opts}, seed=1 if part.trainable else 0)
    fresh.load_state(torch.load(path, weights_only=False))
    _same(predict(part), predict(fresh))


# ---------------------------------------------------------------------------------------------- the test
@pytest.mark.parametrize("kind,name", PARTS, ids=[f"{k}-{n}" for k, n in PARTS])
def test_part_contract(kind, name, tiny_poses, tmp_path):
    if (kind, name) not in TINY:
        pytest.fail(f"{kind} {name!r} is registered but has no tiny options in TINY (tests/test_registered_parts.py)")
    opts = dict(TINY[(kind, name)])
    cls = lookup(kind, name)
    sample = tiny_poses.test[0]

    if kind == "encoder":
        enc = build(kind, {"type": name, **opts})
        assert not getattr(cls, "trainable", False)
        fresh = build(kind, {"type": name, **opts})
        for seq in (gt_pose3d(sample), gt_pose2d(sample)):
            coords = seq.joints[0] if isinstance(seq, Pose3DSeq) else seq.keypoints[0]
            img = enc.encode(coords, seq.scores[0])
            assert isinstance(img, np.ndarray) and img.dtype == np.float32 and img.ndim == 3, (img.dtype, img.shape)
            if hasattr(enc, "channels"):
                assert img.shape[0] == enc.channels(coords.shape[-1]), (img.shape, coords.shape)
            assert np.all(np.isfinite(img)) and np.abs(img).max() > 0
            np.testing.assert_array_equal(fresh.encode(coords, seq.scores[0]), img)  # deterministic
        return

    data = tiny_poses
    if kind == "detector2d":
        extra, data, frames, fps, det_sample = _detector_setup(name, tiny_poses, tmp_path)
        opts.update(extra)

        def predict(p):
            return p.predict(frames, fps, det_sample)
    elif kind == "lifter":
        pose2d = gt_pose2d(sample) if cls.needs_ground_truth else _two_persons(gt_pose2d(sample))

        def predict(p):
            return p.predict(pose2d, sample)
    else:
        def predict(p):
            x = gt_input_for(p, sample)
            return p.predict(x, sample, pose2d=gt_pose2d(sample)) if p.needs_pose2d else p.predict(x, sample)

    part = build(kind, {"type": name, **opts}, seed=0)
    assert part.kind == kind and part.registered_name == name
    if part.trainable:
        summary = part.fit(data)
        assert isinstance(summary, dict)
    out = predict(part)

    if kind == "detector2d":
        if frames is None:
            _check_pose2d(out, sample.n_frames, sample.image_size)
        else:
            _check_pose2d(out, len(frames), (frames.shape[2], frames.shape[1]))
        if name == "precomputed":  # the file's one person comes back as written
            np.testing.assert_allclose(out.keypoints[0], sample.joints2d, atol=1e-3)
    elif kind == "lifter":
        _check_pose3d(out, pose2d)
    else:
        assert part.cfg["input"] in ("2d", "3d")  # "auto" is settled by fit
        _check_action(out, data.action_names)

    _round_trip(kind, name, opts, part, tmp_path, predict)
    if kind != "encoder":
        _export_round_trip(kind, name, opts, part, tmp_path, predict)


def _export_round_trip(kind, name, opts, part, tmp_path, predict):
    """The networks exported to ONNX and the codec state beside them (``pipelines/exported.py``), restored into a
    freshly built part that runs them with onnxruntime: it predicts what the torch part predicts."""
    pytest.importorskip("onnxruntime")
    from pipelines.exported import codec_file, load_exported, write_stage

    out = tmp_path / "export"
    out.mkdir()
    nets = write_stage("stage", part, out)
    assert set(nets) == set(part.networks())
    for info in nets.values():
        assert info["max_abs_diff"] < 1e-3, info
    fresh = build(kind, {"type": name, **opts}, seed=1 if part.trainable else 0)
    manifest = {"stages": {"stage": {"type": name, "networks": nets}}}
    (out / "manifest.json").write_text(json.dumps(manifest))
    assert (out / codec_file("stage")).is_file()
    info = load_exported("stage", fresh, out, threads=1)
    assert info["networks"] == sorted(nets)
    a, b = predict(part), predict(fresh)
    if kind == "detector2d" and nets:
        # an untrained detector's heatmaps are nearly flat: a 1e-7 difference may move an arg-max to a tie
        np.testing.assert_allclose(a.scores, b.scores, atol=1e-3)
        assert np.mean(np.abs(a.keypoints - b.keypoints).max(-1) < 1e-3) >= 0.95
    else:
        _same(a, b, atol=1e-4)
