"""Readers on every real file of their format, and their errors on missing and corrupt files."""
import glob
import json

import numpy as np
import pytest
from real_data import need

from common import readers
from common.errors import InputError
from common.paths import shared

READERS = [(readers.read_penn_mat, ".mat"), (readers.read_ntu_skeleton, ".skeleton"),
           (readers.read_h36m_npz, ".npz"), (readers.read_h36m_detections, ".npy"),
           (readers.read_h36m_coco_json, ".json"), (readers.read_coco_keypoints, ".json"),
           (readers.read_mpii_json, ".json")]


@pytest.mark.parametrize("reader,ext", READERS, ids=[r.__name__ for r, _ in READERS])
def test_missing_and_corrupt_files(tmp_path, reader, ext):
    with pytest.raises(InputError, match="not found"):
        reader(tmp_path / f"missing{ext}")
    bad = tmp_path / f"garbage{ext}"
    bad.write_bytes(b"\x00\x9f garbage {not: valid]\n" * 20)
    with pytest.raises(InputError, match=str(bad.name)):
        reader(bad)
    wrong = tmp_path / f"wrong{ext}"  # well-formed container, wrong content
    if ext == ".json":
        wrong.write_text(json.dumps({"images": [], "annotations": [{"image_id": 1}]}))
    elif ext in (".npz", ".npy"):
        (np.savez if ext == ".npz" else np.save)(wrong, np.zeros((2, 5)))
    elif ext == ".mat":
        from scipy.io import savemat
        savemat(wrong, {"x": np.zeros((3, 13))})
    else:
        wrong.write_text("2\n1\n72057594037931101 0 1 1 1 1 0 0.02 0.05 2\n25\n0 0 0\n")
    with pytest.raises(InputError, match=str(wrong.name)):
        reader(wrong)


def test_penn_all_files():
    files = sorted(glob.glob(str(need("penn_action", "train") / "*.mat")))
    actions = set()
    for f in files:
        m = readers.read_penn_mat(f)
        T = m["nframes"]
        assert m["x"].shape == m["y"].shape == m["visibility"].shape == (T, 13)
        assert m["keypoints"].shape == (T, 13, 2) and m["bbox"].shape == (T, 4)
        assert m["dimensions"][2] == T and m["train"] is True and m["pose"] in ("front", "back", "left", "right")
        assert set(np.unique(m["visibility"])) <= {0, 1}
        actions.add(m["action"])
    assert len(files) == 0 or len(actions) == 15
    if shared("penn_action", "train", "1865.mat").exists():  # 72 boxes for 73 frames: last one repeated
        m = readers.read_penn_mat(shared("penn_action", "train", "1865.mat"))
        np.testing.assert_array_equal(m["bbox"][-1], m["bbox"][-2])


def test_ntu_skeleton():
    r = readers.read_ntu_skeleton(need("ntu", "S001C001P001R001A001.skeleton"))
    assert r["n_frames"] == 103 and r["body_ids"].shape == (1,)
    assert r["joints"].shape == (1, 103, 25, 3) and r["color"].shape == r["depth"].shape == (1, 103, 25, 2)
    assert r["orientation"].shape == (1, 103, 25, 4) and r["tracking"].shape == (1, 103, 25)
    assert r["present"].all() and set(np.unique(r["tracking"])) <= {0, 1, 2}
    assert 2.5 < np.median(r["joints"][..., 2]) < 4.5  # metres from the sensor
    assert (0 <= r["color"][..., 0]).all() and (r["color"][..., 0] < 1920).all()
    assert (0 <= r["depth"][..., 0]).all() and (r["depth"][..., 0] < 512).all()
    np.testing.assert_allclose(np.linalg.norm(r["orientation"][0, :, 1], axis=-1), 1, atol=1e-3)


def test_h36m_files():
    b = readers.read_h36m_npz(need("h36m", "test_h36m_body3d.npz"))
    assert b["kps2d"].shape == (4, 17, 2) and b["kps3d"].shape == (4, 17, 3) and b["imgname"].shape == (4,)
    assert 3 < np.median(b["kps3d"][..., 2]) < 7  # camera frame, metres
    s = readers.read_h36m_npz(need("h36m", "test_h36m.npz"))
    assert s["kps2d"].shape == (4, 24, 2) and s["pose"].shape == (4, 72) and s["shape"].shape == (4, 10)
    j = readers.read_h36m_coco_json(need("h36m", "h36m_coco.json"))
    assert j["kps2d"].shape == (4, 17, 2) and j["kps3d"].shape == (4, 17, 3) and len(j["file_name"]) == 4
    np.testing.assert_array_equal(j["kps2d"], b["kps2d"])
    assert [str(n).split("/")[-1] for n in b["imgname"]] == j["file_name"]
    assert 0.7 < np.median(j["kps3d"][:, 0, 2]) < 1.1  # world z up: the pelvis height
    # world and camera 3D agree up to a rigid motion: same bone lengths
    edges = [(0, 1), (1, 2), (2, 3), (8, 11), (11, 12), (12, 13)]

    def bl(k):
        return np.linalg.norm(k[:, [a for a, _ in edges]] - k[:, [c for _, c in edges]], axis=-1)

    np.testing.assert_allclose(bl(j["kps3d"]), bl(b["kps3d"]), atol=1e-6)
    d = readers.read_h36m_detections(need("h36m", "test_h36m_2d_detection.npy"))
    assert d["kps2d"].shape == (4, 17, 2) and d["scores"].shape == (4, 17)
    assert np.median(np.linalg.norm(d["kps2d"] - b["kps2d"], axis=-1)) < 10


def test_coco_keypoints():
    for name in ("test_coco.json", "test_coco_wholebody.json"):
        people = readers.read_coco_keypoints(need("images", "coco", name))
        assert len(people) == 14 and sum(p["num_keypoints"] > 0 for p in people) == 12
        assert len({p["image"] for p in people}) == 4
        for p in people:
            assert p["keypoints"].shape == (17, 2) and p["visibility"].shape == (17,) and p["bbox"].shape == (4,)
            assert set(p["visibility"]) <= {0, 1, 2} and p["num_keypoints"] == (p["visibility"] > 0).sum()
            seen = p["visibility"] > 0
            x, y, w, h = p["bbox"]
            assert (p["keypoints"][seen, 0] <= p["width"]).all() and (p["keypoints"][seen, 1] <= p["height"]).all()
            margin = 0.1 * max(w, h)  # labelled (occluded) keypoints may lie a little outside the box
            assert (np.abs(p["keypoints"][seen] - [x + w / 2, y + h / 2]) <= [w / 2 + margin, h / 2 + margin]).all()
    with pytest.raises(InputError, match="COCO keypoint names"):  # h36m17 joints in COCO json clothing
        readers.read_coco_keypoints(need("h36m", "h36m_coco.json"))


def test_mpii_json(tmp_path):
    people = readers.read_mpii_json(need("images", "mpii", "test_mpii.json"))
    assert len(people) == 5
    for p in people:
        assert p["joints"].shape == (16, 2) and p["visibility"].shape == (16,) and p["center"].shape == (2,)
        assert p["scale"] > 0 and "head_box" not in p
        assert (p["joints"][p["visibility"] == 0] == -1).all()
    extra = [dict(json.loads(need("images", "mpii", "test_mpii.json").read_text())[0], headbox=[[1, 2], [3, 4]])]
    (tmp_path / "h.json").write_text(json.dumps(extra))
    np.testing.assert_array_equal(readers.read_mpii_json(tmp_path / "h.json")[0]["head_box"], [1, 2, 3, 4])
