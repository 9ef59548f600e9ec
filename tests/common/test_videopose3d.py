"""common/videopose3d.py: VideoPose3D's data_3d / data_2d .npz files, written in the format and read back."""
import zipfile

import numpy as np
import pytest
from real_data import need

from common.errors import InputError
from common.rig import up_rotation
from common.skeleton import H36M17, from_h36m17, get_layout, to_h36m17
from common.videopose3d import (
    H36M32_KEPT,
    is_positions_2d_file,
    load_positions_2d,
    load_positions_3d,
    metadata_2d,
    write_positions_2d,
    write_positions_3d,
)

H = H36M17.index
# A standing person in metres, z up, facing +x, so the person's left is +y; the neck joint (H36M joint 9, at the
# nose) is in front of the thorax-head line. Every value is a multiple of 1/64: exact in float32.
POSE = np.array([
    (0, 0, 1.0), (0, -0.125, 1.0), (0.03125, -0.125, 0.5), (0, -0.125, 0.0625),  # pelvis, right leg
    (0, 0.125, 1.0), (0.03125, 0.125, 0.5), (0, 0.125, 0.0625),  # left leg
    (0, 0, 1.25), (0, 0, 1.5), (0.0625, 0, 1.625), (0, 0, 1.75),  # spine, thorax, neck, head (top)
    (0, 0.1875, 1.4375), (0, 0.25, 1.1875), (0.0625, 0.25, 0.9375),  # left arm
    (0, -0.1875, 1.4375), (0, -0.25, 1.1875), (0.0625, -0.25, 0.9375)])  # right arm


def seq(T=5, shift=(0.25, 0.5, 0.0)):
    """(T, 17, 3) h36m17: POSE walking along ``shift`` per frame."""
    return POSE[None] + np.arange(T)[:, None, None] * np.asarray(shift)


def handedness(k, forward="nose"):
    """det[left - right, up the body, forward]: positive for a person (not a mirror image) in a right-handed
    frame. Forward is the nose joint's offset from the thorax-head midpoint, or (``knees``, for data without a
    nose) the knees' offset from the hip-ankle midpoints."""
    left = k[..., H["l_hip"], :] - k[..., H["r_hip"], :]
    up = k[..., H["thorax"], :] - k[..., H["pelvis"], :]
    if forward == "nose":
        fwd = k[..., H["neck"], :] - 0.5 * (k[..., H["thorax"], :] + k[..., H["head"], :])
    else:
        fwd = sum(k[..., H[f"{s}_knee"], :] - 0.5 * (k[..., H[f"{s}_hip"], :] + k[..., H[f"{s}_ankle"], :])
                  for s in "lr")
    return np.linalg.det(np.stack([left, up, fwd], axis=-1))


def rot(axis, quarter_turns):
    """A proper rotation by ``quarter_turns`` * 90 degrees about ``axis`` (0, 1, 2), integer entries."""
    c, s = [(1, 0), (0, 1), (-1, 0), (0, -1)][quarter_turns % 4]
    i, j = [a for a in range(3) if a != axis]
    R = np.eye(3)
    R[i, i], R[i, j], R[j, i], R[j, j] = c, -s, s, c
    return R


def one_line(e, path):
    msg = str(e.value)
    assert str(path) in msg and "\n" not in msg
    return msg


# ------------------------------------------------------------------------------------------------ 3D
def test_h36m32_keeps_the_17_joints(tmp_path):
    """32-joint Human3.6M data: the known pose at VideoPose3D's kept indices, junk elsewhere; float32 as in
    VideoPose3D's files. The H36M world is z up: nothing is rotated."""
    rng = np.random.default_rng(0)
    data, want = {}, {}
    for subject, actions in {"S1": ["Directions", "Walking 1"], "S11": ["Photo"]}.items():
        data[subject], want[subject] = {}, {}
        for i, action in enumerate(actions):
            k = seq(4 + i)
            full = rng.uniform(-50, 50, (len(k), 32, 3))
            full[:, list(H36M32_KEPT)] = k
            data[subject][action] = full.astype(np.float32)
            want[subject][action] = k
    path = write_positions_3d(tmp_path / "data_3d_h36m.npz", data)
    with np.load(path, allow_pickle=True) as z:  # VideoPose3D's own reading
        assert z.files == ["positions_3d"]
        assert z["positions_3d"].item()["S1"]["Walking 1"].shape == (5, 32, 3)
    out = load_positions_3d(path)
    assert out.keys() == want.keys()
    for s in want:
        assert out[s].keys() == want[s].keys()
        for a in want[s]:
            assert out[s][a].dtype == np.float64 and out[s][a].shape == (len(want[s][a]), 17, 3)
            np.testing.assert_array_equal(out[s][a], want[s][a])


def test_kept_indices_are_the_h36m17_joints():
    """The 32-joint skeleton's left leg is 6-10 and left arm 16-23 (VideoPose3D's joints_left): the kept ones
    land on h36m17's left joints."""
    assert len(H36M32_KEPT) == 17 and sorted(H36M32_KEPT) == list(H36M32_KEPT)
    left32 = {6, 7, 8, 9, 10, 16, 17, 18, 19, 20, 21, 22, 23}
    left17 = {i for i, j in enumerate(H36M32_KEPT) if j in left32}
    assert left17 == {i for i, n in enumerate(H36M17.names) if n.startswith("l_")}


def test_h36m17_file_is_read_as_is(tmp_path):
    path = write_positions_3d(tmp_path / "data_3d_h36m17.npz", {"S9": {"Eating": seq(3)}})
    np.testing.assert_array_equal(load_positions_3d(path)["S9"]["Eating"], seq(3))


@pytest.mark.parametrize("Q", [rot(0, 3), rot(0, 1), rot(1, 3), rot(1, 1), rot(0, 2), rot(1, 1) @ rot(0, 3)],
                         ids=["y-up", "minus-y-up", "x-up", "minus-x-up", "minus-z-up", "y-up-turned"])
def test_humaneva15_comes_out_z_up_and_unmirrored(tmp_path, request, Q):
    """A 15-joint HumanEva file, in a world whose up axis is not +z: read back z up, a person not a mirror
    image, heights exact; for the plain y-up world (a quarter turn about x) every value is exact."""
    assert np.isclose(np.linalg.det(Q), 1.0)
    up = Q @ [0, 0, 1]  # the world's up axis
    assert np.count_nonzero(up) == 1 and (request.node.callspec.id.startswith("y") == (up[1] == 1))
    he = from_h36m17(seq(6), "humaneva15")[0]
    he_world = he @ Q.T
    data = {"Train/S1": {"Walking 1 chunk0": he_world[:4]}, "Validate/S2": {"Box 1 chunk1": he_world[4:]}}
    path = write_positions_3d(tmp_path / "data_3d_humaneva15.npz", data)
    out = load_positions_3d(path)
    k = np.concatenate([out["Train/S1"]["Walking 1 chunk0"], out["Validate/S2"]["Box 1 chunk1"]])
    want = to_h36m17(he, "humaneva15")[0]
    np.testing.assert_array_equal(k[..., 2], want[..., 2])  # heights: z up
    assert (handedness(k, "knees") > 0).all() and (handedness(want, "knees") > 0).all()
    dist = np.linalg.norm(want - want[:, :1], axis=-1)
    np.testing.assert_allclose(np.linalg.norm(k - k[:, :1], axis=-1), dist)  # a rigid motion
    if request.node.callspec.id == "y-up":  # y up -> exactly the original
        np.testing.assert_array_equal(k, want)
        assert (k[:, H["l_hip"], 1] > k[:, H["r_hip"], 1]).all()  # facing +x, the left hip is at +y


def test_humaneva15_rule():
    """humaneva15 -> h36m17 copies limbs, pelvis, thorax, head (top); spine and neck are midpoints."""
    he = from_h36m17(POSE, "humaneva15")[0]
    L = get_layout("humaneva15")
    assert L.parents == (-1, 0, 1, 2, 3, 1, 5, 6, 0, 8, 9, 0, 11, 12, 1)
    assert L.flip_pairs == [(2, 5), (3, 6), (4, 7), (8, 11), (9, 12), (10, 13)]  # VideoPose3D's joints_left/right
    np.testing.assert_array_equal(he[L["head"]], POSE[H["head"]])
    k = to_h36m17(he, "humaneva15")[0]
    same = [i for i, n in enumerate(H36M17.names) if n not in ("spine", "neck")]
    np.testing.assert_array_equal(k[same], POSE[same])
    np.testing.assert_array_equal(k[H["spine"]], (POSE[H["pelvis"]] + POSE[H["thorax"]]) / 2)
    np.testing.assert_array_equal(k[H["neck"]], (POSE[H["thorax"]] + POSE[H["head"]]) / 2)


def test_human36m_camera_frames_come_out_z_up(tmp_path):
    """The 4 real Human3.6M frames in camera space (x right, y down): written as a 17-joint file, read back
    turned by a proper rotation taking -y onto +z; the people keep their handedness."""
    from common.readers import read_h36m_npz
    cam = read_h36m_npz(need("h36m", "test_h36m_body3d.npz"))["kps3d"]
    path = write_positions_3d(tmp_path / "data_3d_cam.npz", {"S1": {"frames": cam}})
    k = load_positions_3d(path)["S1"]["frames"]
    R = up_rotation([0.0, -1.0, 0.0])
    assert np.isclose(np.linalg.det(R), 1.0) and np.array_equal(R @ [0, -1, 0], [0, 0, 1])
    np.testing.assert_array_equal(k, cam @ R.T)
    np.testing.assert_array_equal(k[..., 2], -cam[..., 1])
    assert (k[:, H["head"], 2] > k[:, [H["l_ankle"], H["r_ankle"]], 2].mean(axis=1)).all()  # one sits
    assert (handedness(cam) > 0).all() and (handedness(k) > 0).all()
    # the humaneva15 neck rule on these frames: joint 9 within 10 cm of mid(thorax, head top)
    back = to_h36m17(from_h36m17(cam, "humaneva15")[0], "humaneva15")[0]
    assert np.linalg.norm(back[:, H["neck"]] - cam[:, H["neck"]], axis=-1).max() < 0.10


def test_up_rotations_are_proper():
    for axis in range(3):
        for sign in (1.0, -1.0):
            e = np.zeros(3)
            e[axis] = sign
            R = up_rotation(e + 0.3 * np.roll(e, 1))  # a smaller other component does not change the choice
            assert np.isclose(np.linalg.det(R), 1.0) and np.allclose(R @ R.T, np.eye(3))
            np.testing.assert_array_equal(R @ e, [0, 0, 1])
    np.testing.assert_array_equal(up_rotation(np.zeros(3)), np.eye(3))


# ------------------------------------------------------------------------------------------------ 2D
def test_h36m_2d_and_gt_metadata(tmp_path):
    """h36m layout as is; a ground-truth file (no layout_name, as prepare_data_h36m.py writes) is h36m."""
    rng = np.random.default_rng(1)
    cams = [rng.uniform(0, 1000, (6, 17, 2)).astype(np.float32) for _ in range(4)]
    path = write_positions_2d(tmp_path / "data_2d_h36m_cpn_ft_h36m_dbb.npz", {"S1": {"Walking": cams}},
                              metadata_2d("h36m"))
    assert metadata_2d("h36m")["keypoints_symmetry"] == [[4, 5, 6, 11, 12, 13], [1, 2, 3, 14, 15, 16]]
    with np.load(path, allow_pickle=True) as z:
        assert sorted(z.files) == ["metadata", "positions_2d"] and z["metadata"].item()["layout_name"] == "h36m"
    out, meta = load_positions_2d(path)
    assert meta == metadata_2d("h36m") and len(out["S1"]["Walking"]) == 4
    for a, b in zip(out["S1"]["Walking"], cams):
        assert a.dtype == np.float64
        np.testing.assert_array_equal(a, b)
    gt = {"num_joints": 17, "keypoints_symmetry": [[4, 5, 6, 11, 12, 13], [1, 2, 3, 14, 15, 16]]}
    path = write_positions_2d(tmp_path / "data_2d_h36m_gt", {"S1": {"Walking": cams}}, gt)
    assert path.name == "data_2d_h36m_gt.npz"
    out, meta = load_positions_2d(path)
    assert meta == {**gt, "layout_name": "h36m"}
    np.testing.assert_array_equal(out["S1"]["Walking"][2], cams[2])


@pytest.mark.parametrize("with_name", [True, False])
def test_coco_2d_is_converted(tmp_path, with_name):
    rng = np.random.default_rng(2)
    coco = rng.uniform(0, 640, (5, 17, 2))
    meta = metadata_2d("coco")
    if not with_name:
        del meta["layout_name"]  # the coco symmetry lists tell it from h36m
    path = write_positions_2d(tmp_path / "data_2d_custom_myvideos.npz", {"clip.mp4": {"custom": [coco]}}, meta)
    out, got_meta = load_positions_2d(path)
    assert got_meta["layout_name"] == "coco"
    k = out["clip.mp4"]["custom"][0]
    assert k.shape == (5, 17, 2)
    np.testing.assert_array_equal(k, to_h36m17(coco, "coco17")[0])
    C = get_layout("coco17").index
    for n in ("l_wrist", "r_ankle", "l_shoulder"):  # limbs copied, sides kept
        np.testing.assert_array_equal(k[:, H[n]], coco[:, C[n]])
    np.testing.assert_allclose(k[:, H["pelvis"]], (coco[:, C["l_hip"]] + coco[:, C["r_hip"]]) / 2)
    np.testing.assert_array_equal(k[:, H["neck"]], coco[:, C["nose"]])


def test_scores_channel_and_missing_camera(tmp_path):
    """A (x, y, score) channel goes through the conversion; a camera stored as None stays None (HumanEva)."""
    rng = np.random.default_rng(3)
    he = rng.uniform(0, 480, (4, 15, 3))
    he[..., 2] = 1.0
    he[:, 14, 2] = 0.5  # head score
    path = write_positions_2d(tmp_path / "data_2d_humaneva15_detectron_pt_coco.npz",
                              {"Unlabeled/Train/S1": {"Jog 1 chunk0": [None, he, None]}},
                              metadata_2d("humaneva15"))
    out, meta = load_positions_2d(path)
    views = out["Unlabeled/Train/S1"]["Jog 1 chunk0"]
    assert views[0] is None and views[2] is None and views[1].shape == (4, 17, 3)
    kps, s = to_h36m17(he[..., :2], "humaneva15", he[..., 2])
    np.testing.assert_array_equal(views[1][..., :2], kps)
    np.testing.assert_array_equal(views[1][..., 2], s)
    assert (s[:, [H["head"], H["neck"]]] == 0.5).all() and (s[:, H["pelvis"]] == 1).all()


def test_is_positions_2d_file(tmp_path):
    p2 = write_positions_2d(tmp_path / "a.npz", {"S1": {"x": [np.zeros((2, 17, 2))]}}, metadata_2d("h36m"))
    p3 = write_positions_3d(tmp_path / "b.npz", {"S1": {"x": seq(2)}})
    txt = tmp_path / "c.npz"
    txt.write_text("not a zip")
    assert is_positions_2d_file(p2)
    assert not is_positions_2d_file(p3) and not is_positions_2d_file(txt)
    assert not is_positions_2d_file(tmp_path / "missing.npz")


def test_writers_leave_nothing_half_written(tmp_path):
    with pytest.raises(InputError, match="positions_3d"):
        write_positions_3d(tmp_path / "x.npz", {"S1": np.zeros((2, 17, 3))})
    with pytest.raises(InputError, match="camera"):
        write_positions_2d(tmp_path / "y.npz", {"S1": {"a": np.zeros((2, 17, 2))}}, metadata_2d("h36m"))
    assert list(tmp_path.iterdir()) == []


# ------------------------------------------------------------------------------------------------ errors
def _raw_npz(path, **arrays):
    with open(path, "wb") as f:
        np.savez_compressed(f, **arrays)
    return path


def _corrupt(path):
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("positions_3d.npy", b"\x93NUMPY garbage")
    return path


ERRORS_3D = {
    "not an .npz": lambda p: (p.write_text("hello"), p)[1],
    "no such file": lambda p: p,
    "unreadable": _corrupt,
    "data_3d_<name>.npz": lambda p: _raw_npz(p, poses=np.zeros((2, 17, 3))),
    "use load_positions_2d": lambda p: write_positions_2d(p, {"S1": {"a": [np.zeros((2, 17, 2))]}},
                                                         metadata_2d("h36m")),
    "expected a dict": lambda p: _raw_npz(p, positions_3d=np.zeros((2, 17, 3))),
    "non-dict values": lambda p: _raw_npz(p, positions_3d={"S1": np.zeros((2, 17, 3))}),
    "empty (no subject": lambda p: write_positions_3d(p, {}),
    "is empty (no subject with": lambda p: write_positions_3d(p, {"S1": {}}),
    "is empty (shape": lambda p: write_positions_3d(p, {"S1": {"a": np.zeros((0, 17, 3))}}),
    "expected (frames, joints, 3)": lambda p: write_positions_3d(p, {"S1": {"a": np.zeros((2, 17, 2))}}),
    "20 joints": lambda p: write_positions_3d(p, {"S1": {"a": np.zeros((2, 20, 3))}}),
    "NaN": lambda p: write_positions_3d(p, {"S1": {"a": np.full((2, 17, 3), np.nan)}}),
    "infinite": lambda p: write_positions_3d(p, {"S1": {"a": np.full((2, 17, 3), np.inf)}}),
    "other actions": lambda p: write_positions_3d(p, {"S1": {"a": seq(2), "b": np.zeros((2, 15, 3))}}),
    "millimetres": lambda p: write_positions_3d(p, {"S1": {"a": seq(2) * 1000}}),
}


@pytest.mark.parametrize("expect", sorted(ERRORS_3D))
def test_3d_errors(tmp_path, expect):
    path = ERRORS_3D[expect](tmp_path / "data_3d_bad.npz")
    with pytest.raises(InputError) as e:
        load_positions_3d(path)
    assert expect in one_line(e, path)


ERRORS_2D = {
    "no 'positions_2d' key": lambda p: _raw_npz(p, other=np.zeros(3)),
    "use load_positions_3d": lambda p: write_positions_3d(p, {"S1": {"a": seq(2)}}),
    "list of camera arrays": lambda p: _raw_npz(p, positions_2d={"S1": {"a": np.zeros((2, 17, 2))}},
                                                metadata=metadata_2d("h36m")),
    "num_joints is 17": lambda p: write_positions_2d(p, {"S1": {"a": [np.zeros((2, 16, 2))]}},
                                                     metadata_2d("h36m")),
    "'humaneva20' is not supported": lambda p: write_positions_2d(
        p, {"S1": {"a": [np.zeros((2, 20, 2))]}}, {"layout_name": "humaneva20", "num_joints": 20}),
    "does not match layout": lambda p: write_positions_2d(
        p, {"S1": {"a": [np.zeros((2, 17, 2))]}}, {**metadata_2d("h36m"), "keypoints_symmetry": [[1], [2]]}),
    "NaN": lambda p: write_positions_2d(p, {"S1": {"a": [np.full((2, 17, 2), np.nan)]}}, metadata_2d("h36m")),
    "expected (frames, joints, 2 or 3)": lambda p: write_positions_2d(p, {"S1": {"a": [np.zeros((2, 17, 4))]}},
                                                                      metadata_2d("h36m")),
    "match no single layout": lambda p: write_positions_2d(p, {"S1": {"a": [np.zeros((2, 12, 2))]}}, {}),
    "no camera with key-points": lambda p: write_positions_2d(p, {"S1": {"a": [None]}}, metadata_2d("h36m")),
}


@pytest.mark.parametrize("expect", sorted(ERRORS_2D))
def test_2d_errors(tmp_path, expect):
    path = ERRORS_2D[expect](tmp_path / "data_2d_bad.npz")
    with pytest.raises(InputError) as e:
        load_positions_2d(path)
    assert expect in one_line(e, path)
