"""mmpose_topdown: config build, crop geometry, flip-test alignment, checkpoints, and a tiny training run.

The training test renders its own stick figures (thick shaded limbs of an h36m17 skeleton posed by random joint
angles, on blurred-noise backgrounds) so it depends on nothing but this package.
"""
import math

import cv2
import numpy as np
import pytest
import torch

pytest.importorskip("mmcv.ops", reason="mmpose models need the full mmcv")

from tiny_mmpose import TINY_CONFIG

from common import crop as C
from common.dataset import Dataset, Sample
from common.errors import InputError
from common.metrics import pck, torso_size
from common.registry import lookup
from common.skeleton import H36M17
from stage1_2d.mmpose_topdown import MMPoseTopdown, flip_offset

# ---------------------------------------------------------------- a tiny stick-figure world
# h36m17 standing pose, y down, pelvis at the origin, about 1 unit from ankles to the top of the head
_TEMPLATE = np.array([
    [0, 0], [-0.09, 0], [-0.09, 0.24], [-0.09, 0.47], [0.09, 0], [0.09, 0.24], [0.09, 0.47], [0, -0.14],
    [0, -0.28], [0, -0.34], [0, -0.48], [0.15, -0.27], [0.18, -0.12], [0.2, 0.02], [-0.15, -0.27],
    [-0.18, -0.12], [-0.2, 0.02]])
_SWING = np.radians([0, 8, 35, 45, 8, 35, 45, 8, 8, 10, 10, 12, 70, 70, 12, 70, 70])  # per-joint angle range
_COLOURS = {"leg": (200, 60, 40), "arm": (40, 150, 220), "torso": (230, 200, 60)}


def _pose(offsets, rotation, scale, center):
    """Forward kinematics in 2D: each bone of the template turned by its own and its ancestors' angles."""
    pos, ang = np.zeros((17, 2)), np.zeros(17)
    for j, p in enumerate(H36M17.parents):
        if p < 0:
            ang[j] = rotation
            continue
        ang[j] = ang[p] + offsets[j]
        c, s = math.cos(ang[j]), math.sin(ang[j])
        bone = _TEMPLATE[j] - _TEMPLATE[p]
        pos[j] = pos[p] + [c * bone[0] - s * bone[1], s * bone[0] + c * bone[1]]
    return pos * scale + center


def _draw(joints, size, rng):
    """Blurred colour noise, then thick limbs (legs, arms, torso in three colours) and a round head."""
    img = cv2.resize(rng.integers(0, 256, (6, 6, 3)).astype(np.uint8), (size, size), interpolation=cv2.INTER_CUBIC)
    img = np.clip(img.astype(int) + rng.integers(-25, 26, img.shape), 0, 255).astype(np.uint8)
    height = np.ptp(joints[:, 1])
    for p, c in H36M17.edges:
        name = H36M17.names[c]
        kind = "leg" if any(k in name for k in ("hip", "knee", "ankle")) else \
            "arm" if any(k in name for k in ("shoulder", "elbow", "wrist")) else "torso"
        a, b = (tuple(int(round(v * 16)) for v in joints[i]) for i in (p, c))
        cv2.line(img, a, b, _COLOURS[kind], max(2, int(height * 0.06)), cv2.LINE_AA, shift=4)
    cv2.circle(img, tuple(int(round(v * 16)) for v in joints[10]), max(2, int(height * 0.07)), (240, 180, 160),
               -1, cv2.LINE_AA, shift=4)
    return img


def stick_dataset(n_train=24, n_val=6, n_frames=8, size=96, seed=0) -> Dataset:
    """Sequences of a stick figure moving between two random poses, filling 50-85 % of the image height."""
    rng = np.random.default_rng(seed)

    def sequence(k):
        a, b = (rng.uniform(-1, 1, 17) * _SWING for _ in range(2))
        rot = rng.uniform(-0.25, 0.25, 2)
        scale = rng.uniform(0.5, 0.85) * size
        c0 = np.array([size / 2, size / 2]) + rng.uniform(-0.12, 0.12, 2) * size
        c1 = c0 + rng.uniform(-0.05, 0.05, 2) * size
        joints, frames = [], []
        for t in np.linspace(0, 1, n_frames):
            j = _pose(a + (b - a) * t, rot[0] + (rot[1] - rot[0]) * t, scale, c0 + (c1 - c0) * t)
            joints.append(j)
            frames.append(_draw(j, size, rng))
        frames = np.stack(frames)
        return Sample(name=f"stick{k}", action=0, subject=0, fps=25.0, joints2d=np.stack(joints).astype(np.float32),
                      visible=np.ones((n_frames, 17), bool), joints3d=None, camera=None, image_size=(size, size),
                      load_frames=lambda f=frames: f)

    return Dataset("stick", ["move"], [sequence(i) for i in range(n_train)],
                   [sequence(n_train + i) for i in range(n_val)], [], has_frames=True)


@pytest.fixture(scope="module")
def tiny_config(tmp_path_factory):
    path = tmp_path_factory.mktemp("cfg") / "tiny.py"
    path.write_text(TINY_CONFIG)
    return str(path)


# ---------------------------------------------------------------- building and options
@pytest.mark.parametrize("box", ["whole_frame", "track"])
def test_default_config_builds_and_predicts_finite_shapes(box):
    assert lookup("detector2d", "mmpose_topdown") is MMPoseTopdown
    det = MMPoseTopdown({"box": box, "batch_infer": 2})
    assert type(det.model).__name__ == "TopdownPoseEstimator"
    frames = np.random.default_rng(0).integers(0, 256, (3, 90, 120, 3), dtype=np.uint8)
    out = det.predict(frames, fps=30.0)
    assert out.keypoints.shape == (1, 3, 17, 2) and out.scores.shape == (1, 3, 17)
    assert np.all(np.isfinite(out.keypoints)) and np.all((out.scores >= 0) & (out.scores <= 1))
    assert out.image_size == (120, 90) and out.fps == 30.0 and out.layout == "h36m17"


def test_options_and_configs_are_checked(tiny_config, tmp_path):
    with pytest.raises(InputError, match="unknown option"):
        MMPoseTopdown({"config": tiny_config, "bogus": 1})
    with pytest.raises(InputError, match="box"):
        MMPoseTopdown({"config": tiny_config, "box": "detector"})
    with pytest.raises(InputError, match="not found"):
        MMPoseTopdown({"config": "configs/mmpose/nope.py"})
    wrong = tmp_path / "coco.py"
    wrong.write_text(TINY_CONFIG.replace("out_channels=17", "out_channels=16"))
    with pytest.raises(InputError, match="16 key-points"):
        MMPoseTopdown({"config": str(wrong)})
    det = MMPoseTopdown({"config": tiny_config})
    with pytest.raises(InputError, match="uint8"):
        det.predict(np.zeros((2, 32, 32, 3), np.float32))
    with pytest.raises(InputError, match="does not fit"):
        det.load_state({"meta": {}, "state_dict": {"backbone.nope": torch.zeros(1)}})


# ---------------------------------------------------------------- crop geometry
def test_affine_crop_round_trip_and_pixel_placement():
    rng = np.random.default_rng(1)
    for _ in range(20):
        center, scale = rng.uniform(20, 200, 2), rng.uniform(30, 300, 2)
        M = C.crop_matrix(center, scale, (64, 48), rotation=rng.uniform(-60, 60), flip=bool(rng.random() < 0.5))
        pts = rng.uniform(0, 256, (17, 2))
        np.testing.assert_allclose(C.apply_affine(C.apply_affine(pts, M), C.invert_affine(M)), pts, atol=1e-9)
        np.testing.assert_allclose(C.apply_affine(center, M), [31.5, 23.5], atol=1e-9)  # box centre -> crop centre
    # a bright spot lands where the matrix says, also mirrored and rotated
    yy, xx = np.mgrid[:100, :120]
    img = np.repeat(np.exp(-((xx - 70) ** 2 + (yy - 30) ** 2) / 18.0)[..., None], 3, -1).astype(np.float32)
    for rot, flip in ((0, False), (30, True)):
        M = C.crop_matrix((60, 50), (80, 80), (40, 40), rotation=rot, flip=flip)
        crop = C.warp(img, M, (40, 40)).sum(-1).astype(float)
        peak = np.array([(crop.sum(0) * np.arange(40)).sum(), (crop.sum(1) * np.arange(40)).sum()]) / crop.sum()
        np.testing.assert_allclose(peak, C.apply_affine([70, 30], M), atol=0.05)
    # the whole 256 x 256 frame maps edge to edge onto a 128 x 128 crop; a flipped crop is the crop of the
    # flipped image
    M = C.crop_matrix(*C.whole_frame_box((256, 256)), (128, 128))
    np.testing.assert_allclose(C.apply_affine([[-0.5, -0.5], [255.5, 255.5]], M), [[-0.5, -0.5], [127.5, 127.5]])
    img = rng.integers(0, 256, (100, 120, 3)).astype(np.uint8)
    M, Mf = (C.crop_matrix((50, 40), (70, 70), (32, 32), 0, f) for f in (False, True))
    np.testing.assert_array_equal(C.warp(img, Mf, (32, 32)), C.warp(img, M, (32, 32))[:, ::-1])
    # a box keeps the network's aspect ratio by growing, never by cutting
    center, scale = C.box_from_keypoints(np.array([[10, 10], [30, 90]]), padding=1.25, aspect=0.75)
    np.testing.assert_allclose(center, [20, 50])
    np.testing.assert_allclose(scale, [75, 100])


# ---------------------------------------------------------------- flip test
@pytest.mark.parametrize("codec", [
    dict(type="MSRAHeatmap", input_size=(128, 128), heatmap_size=(32, 32), sigma=2.0, unbiased=True),
    dict(type="UDPHeatmap", input_size=(128, 128), heatmap_size=(32, 32), sigma=2.0),
    dict(type="SimCCLabel", input_size=(128, 128), sigma=4.0, simcc_split_ratio=2.0, normalize=False),
])
def test_flip_test_averaging_is_aligned(tiny_config, codec):
    """Feed the merge the codec's own encoding of a pose and of its mirror image: the average must decode to
    where the unflipped half alone decodes (mmpose's flip-back is off by 0.75 heatmap bins or 1 SimCC bin)."""
    from mmpose.registry import KEYPOINT_CODECS

    det = MMPoseTopdown({"config": tiny_config})
    det.codec = det.model.head.decoder = KEYPOINT_CODECS.build(codec)
    det.input_size = (128, 128)
    kp = np.random.default_rng(2).uniform(16, 112, (1, 17, 2)).astype(np.float32)
    mirrored = kp.copy()
    mirrored[..., 0] = 127 - mirrored[..., 0]
    mirrored = mirrored[:, det.flip_indices]

    def encode(k):
        e = det.codec.encode(k, np.ones((1, 17), np.float32))
        if "heatmaps" in e:
            return torch.from_numpy(e["heatmaps"])[None]
        return torch.from_numpy(e["keypoint_x_labels"]), torch.from_numpy(e["keypoint_y_labels"])

    plain, mirror = encode(kp), encode(mirrored)
    det._x_bins = (plain[0] if isinstance(plain, tuple) else plain).shape[-1]
    det.net = lambda x: tuple(torch.cat([a, b]) for a, b in zip(plain, mirror)) if isinstance(plain, tuple) \
        else torch.cat([plain, mirror])
    merged = det.forward(torch.zeros(1, 3, 128, 128), flip_test=True)
    decoded, alone = det.decode(merged)[0], det.decode(plain)[0]
    np.testing.assert_allclose(decoded, alone, atol=0.3)  # the mirrored half adds no shift ...
    np.testing.assert_allclose(decoded, kp, atol=0.5)     # ... and both sit on the pose (SimCC bins are 0.5 px)
    assert flip_offset(det.codec, det._x_bins, 128) == {"MSRAHeatmap": -0.75, "UDPHeatmap": 0.0,
                                                        "SimCCLabel": 1.0}[codec["type"]]


# ---------------------------------------------------------------- checkpoints
def test_state_saved_with_torch_loads_through_checkpoint_option(tiny_config, tmp_path):
    frames = stick_dataset(1, 0, 4, 80, seed=3).train[0].frames()
    src = MMPoseTopdown({"config": tiny_config, "box": "track"}, seed=1)
    with torch.no_grad():  # move the weights away from any fresh initialisation
        for p in src.model.parameters():
            p.add_(torch.randn_like(p) * 0.05)
    state = src.state()
    assert set(state) == {"meta", "state_dict"} and state["meta"]["layout"] == "h36m17"
    path = tmp_path / "det.pth"
    torch.save(state, path)
    loaded = MMPoseTopdown({"config": tiny_config, "box": "track", "checkpoint": str(path)}, seed=0)
    fresh = MMPoseTopdown({"config": tiny_config, "box": "track"}, seed=0)
    a, b = src.predict(frames), loaded.predict(frames)
    np.testing.assert_array_equal(a.keypoints, b.keypoints)
    np.testing.assert_array_equal(a.scores, b.scores)
    assert not np.array_equal(a.scores, fresh.predict(frames).scores)
    fresh.load_state(state)
    np.testing.assert_array_equal(fresh.predict(frames).keypoints, a.keypoints)
    assert loaded.fit(stick_dataset(1, 1, 4, 80))["trained"] is False  # a given checkpoint is not retrained
    # a model-zoo style file: numpy arrays pickled in its meta, weights saved from a DataParallel wrapper
    zoo = tmp_path / "zoo.pth"
    torch.save({"meta": {"dataset_meta": {"sigmas": np.ones(17)}},
                "state_dict": {"module." + k: v for k, v in state["state_dict"].items()}}, zoo)
    zoo_auto = MMPoseTopdown({"config": tiny_config, "box": "track", "checkpoint": str(zoo)})
    assert zoo_auto.layout.name == "coco17"  # a checkpoint that names no layout: 17 outputs are COCO's
    np.testing.assert_array_equal(MMPoseTopdown({"config": tiny_config, "box": "track", "checkpoint": str(zoo),
                                                 "layout": "h36m17"}).predict(frames).keypoints, a.keypoints)


# ---------------------------------------------------------------- training
def test_training_lowers_loss_and_beats_the_mean_pose(tiny_config):
    data = stick_dataset(n_train=32, n_val=4, n_frames=8, size=96, seed=0)
    det = MMPoseTopdown({"config": tiny_config, "epochs": 4, "batch_size": 16, "frames_per_epoch": 800, "lr": 8e-3,
                         "frame_stride": 1, "val_frames": 32, "box": "whole_frame"}, seed=0)
    summary = det.fit(data)
    assert summary["trained"] and len(summary["loss"]) == 4 and summary["train_time_s"] > 0
    assert summary["loss"][-1] < 0.8 * summary["loss"][0]

    gt = np.concatenate([s.joints2d for s in data.val])
    mean_pose = np.concatenate([s.joints2d for s in data.train]).mean(0)
    baseline = pck(np.broadcast_to(mean_pose, gt.shape), gt, ref_size=torso_size(gt))  # about 0.12
    pred = np.concatenate([det.predict(s.frames()).keypoints[0] for s in data.val])
    acc = pck(pred, gt, ref_size=torso_size(gt))  # about 0.55
    assert acc == pytest.approx(summary["val_pck"][-1]) == pytest.approx(summary["final_val_pck"])
    assert acc > baseline + 0.2, (acc, baseline)

    # with flip test the trained model is mirror-symmetric: mirrored frames give mirrored joints
    frames = data.val[0].frames()
    kp = det.predict(frames).keypoints[0]
    kp_m = det.predict(np.ascontiguousarray(frames[:, :, ::-1])).keypoints[0][:, det.flip_indices]
    kp_m[..., 0] = frames.shape[2] - 1 - kp_m[..., 0]
    assert np.median(np.linalg.norm(kp - kp_m, axis=-1)) < 1.0

    det.cfg["box"] = "track"  # boxes from the previous frame's joints work as well
    pred = np.concatenate([det.predict(s.frames()).keypoints[0] for s in data.val])
    assert pck(pred, gt, ref_size=torso_size(gt)) > baseline + 0.2


# ---------------------------------------------------------------- any mmpose config + checkpoint
def test_zoo_checkpoint_keypoints_are_converted_from_coco17(tiny_config, tmp_path):
    """A checkpoint that names no layout is read as COCO's 17 key-points and converted by the tested rule."""
    from common.skeleton import to_h36m17

    model = MMPoseTopdown({"config": tiny_config, "box": "whole_frame", "flip_test": False})
    zoo = tmp_path / "coco.pth"
    torch.save({"meta": {"dataset_meta": {"dataset_name": "coco"}}, "state_dict": model.state()["state_dict"]}, zoo)
    coco = MMPoseTopdown({"config": tiny_config, "box": "whole_frame", "flip_test": False, "checkpoint": str(zoo)})
    assert coco.layout.name == "coco17"
    frames = np.random.default_rng(0).integers(0, 255, (2, 80, 60, 3), dtype=np.uint8)
    raw = model.predict(frames)  # the same weights read as h36m17: the identity conversion
    got = coco.predict(frames)
    want, want_s = to_h36m17(raw.keypoints[0], "coco17", raw.scores[0])
    np.testing.assert_allclose(got.keypoints[0], want, atol=1e-4)
    np.testing.assert_allclose(got.scores[0], want_s, atol=1e-6)
    with pytest.raises(InputError, match="needs 25"):
        MMPoseTopdown({"config": tiny_config, "checkpoint": str(zoo), "layout": "ntu25"})


def test_given_boxes_are_cropped(tiny_config, monkeypatch):
    """A sample's annotated boxes (x, y, w, h) decide the crops, grown by box_padding, whatever the box mode."""
    model = MMPoseTopdown({"config": tiny_config, "box": "track", "box_padding": 1.0})
    seen = []
    real = model.infer_crops
    monkeypatch.setattr(model, "infer_crops", lambda f, c, s: seen.append((c, s)) or real(f, c, s))
    frames = np.zeros((2, 100, 120, 3), np.uint8)
    s = Sample("p", 0, 0, 1.0, np.zeros((2, 17, 2)), np.ones((2, 17), bool), None, None, (120, 100),
               boxes=np.array([[10, 20, 40, 40], [50, 10, 20, 40]], float))
    model.predict(frames, 1.0, s)
    centers, scales = seen[0]
    np.testing.assert_allclose(centers[0], [29.5, 39.5])
    np.testing.assert_allclose(scales[1], [40, 40])  # 20 x 40 grown to the square input
    assert model.last_info == {"boxes": "given"}


def test_shipped_rtmpose_config_builds_offline(monkeypatch):
    """mmpose's own RTMPose-t config (its backbone initialises from a URL) builds without any network access."""
    import socket
    from pathlib import Path

    import mmpose

    cfg = (Path(mmpose.__file__).parent
           / ".mim/configs/body_2d_keypoint/rtmpose/coco/rtmpose-t_8xb256-420e_coco-256x192.py")
    if not cfg.is_file():
        pytest.skip(f"{cfg} is not in this mmpose install")

    def no_network(*a, **k):
        raise AssertionError("network access attempted")
    monkeypatch.setattr(socket, "socket", no_network)
    model = MMPoseTopdown({"config": str(cfg), "box": "whole_frame"})
    assert model.input_size == (192, 256) and model.layout.name == "h36m17"
    out = model.predict(np.zeros((1, 120, 160, 3), np.uint8))
    assert out.keypoints.shape == (1, 1, 17, 2)
