"""Readers of imported 2D key-points: COCO keypoint result files and OpenPose JSON folders (written here)."""
import json

import numpy as np
import pytest

from common.errors import InputError
from common.readers import OPENPOSE_NAMES, read_coco_results, read_openpose_folder
from common.skeleton import COCO17

#: a front-facing person in unit coordinates (its left on the image right), coco17 order
TEMPLATE = {"nose": (0.5, 0.1), "l_eye": (0.55, 0.08), "r_eye": (0.45, 0.08), "l_ear": (0.6, 0.1),
            "r_ear": (0.4, 0.1), "l_shoulder": (0.7, 0.25), "r_shoulder": (0.3, 0.25), "l_elbow": (0.8, 0.4),
            "r_elbow": (0.2, 0.4), "l_wrist": (0.85, 0.55), "r_wrist": (0.15, 0.55), "l_hip": (0.6, 0.55),
            "r_hip": (0.4, 0.55), "l_knee": (0.62, 0.75), "r_knee": (0.38, 0.75), "l_ankle": (0.63, 0.95),
            "r_ankle": (0.37, 0.95)}


def person(x0, y0, w, h):
    return np.array([TEMPLATE[n] for n in COCO17.names]) * (w, h) + (x0, y0)


def openpose_flat(kps17, scores17, K):
    """A coco17 person as OpenPose's flat ``[x, y, c] * K`` (neck, mid-hip and feet filled in)."""
    names = OPENPOSE_NAMES[K]
    a = np.zeros((K, 3))
    for j, n in enumerate(COCO17.names):
        a[names.index(n)] = (*kps17[j], scores17[j])
    a[names.index("neck")] = (*kps17[5:7].mean(0), 0.9)
    if "mid_hip" in names:
        a[names.index("mid_hip")] = (*kps17[11:13].mean(0), 0.9)
        a[19:] = (*kps17[15], 0.5)
    return a.ravel().tolist()


def write_json(path, obj):
    path.write_text(json.dumps(obj))
    return path


def test_coco_results(tmp_path):
    a, b = person(100, 50, 200, 300), person(10, 10, 30, 60)
    res = [{"image_id": 7, "category_id": 1, "keypoints": np.c_[a, np.full(17, 1.7)].ravel().tolist(), "score": 0.9},
           {"image_id": 7, "category_id": 1, "keypoints": np.c_[b, np.full(17, -0.1)].ravel().tolist(), "score": 0.3},
           {"image_id": 9, "category_id": 2, "keypoints": [1, 2]},  # not a person: skipped unchecked
           {"image_id": 8, "category_id": 1, "keypoints": np.c_[b, np.full(17, 0.4)].ravel().tolist()}]
    out = read_coco_results(write_json(tmp_path / "res.json", res))
    assert sorted(out) == [7, 8] and len(out[7]) == 2 and len(out[8]) == 1
    kps, sc = out[7][0]
    assert kps.shape == (17, 2) and kps.dtype == np.float64 and np.allclose(kps, a)
    assert np.all(sc == 1.0) and np.all(out[7][1][1] == 0.0) and np.allclose(out[8][0][1], 0.4)


@pytest.mark.parametrize("content,match", [
    ({"images": [], "annotations": [], "categories": []}, "ground-truth annotation file, not a result file"),
    ({"results": []}, "expected a JSON list"),
    ([{"category_id": 1, "keypoints": [0] * 51}], r"missing field \[0\]\.'image_id'"),
    ([{"image_id": 1, "keypoints": [0] * 51}, {"image_id": 1}], r"missing field \[1\]\.'keypoints'"),
    ([{"image_id": 1, "keypoints": [0] * 51}, {"image_id": 2, "keypoints": [0] * 50}],
     r"'\[1\]\.keypoints': expected shape \(51,\), got \(50,\)"),
    ([{"image_id": "a.jpg", "keypoints": [0] * 51}], "expected an integer"),
])
def test_coco_results_errors(tmp_path, content, match):
    f = write_json(tmp_path / "res.json", content)
    with pytest.raises(InputError, match=match) as e:
        read_coco_results(f)
    assert "res.json" in str(e.value) and "\n" not in str(e.value)
    with pytest.raises(InputError, match="not found"):
        read_coco_results(tmp_path / "missing.json")


@pytest.mark.parametrize("K", [25, 18])
def test_openpose_folder(tmp_path, K):
    a, b = person(100, 50, 200, 300), person(400, 60, 100, 150)
    sa, sb = np.linspace(0.3, 1.0, 17), np.full(17, 0.8)
    undetected = np.ones(17)
    undetected[COCO17["l_ankle"]] = 0
    # natural order: frame 2 before frame 10, although "10" < "2" as text
    write_json(tmp_path / "clip_2_keypoints.json", {"version": 1.3, "people": [
        {"pose_keypoints_2d": openpose_flat(a, sa, K), "face_keypoints_2d": []},
        {"pose_keypoints_2d": openpose_flat(b, sb, K)}]})
    write_json(tmp_path / "clip_10_keypoints.json", {"people": [
        {"pose_keypoints_2d": openpose_flat(a * undetected[:, None], sa * undetected, K)}, {"pose_keypoints_2d": []}]})
    write_json(tmp_path / "clip_11_keypoints.json", {"people": []})
    (tmp_path / "notes.txt").write_text("not a frame")
    frames = read_openpose_folder(tmp_path)
    assert [len(f) for f in frames] == [2, 1, 0]
    p0 = frames[0][0]
    assert p0.shape == (17, 3) and np.allclose(p0[:, :2], a) and np.allclose(p0[:, 2], sa)
    assert np.allclose(frames[0][1][:, :2], b)
    assert p0[COCO17["l_wrist"], 0] > p0[COCO17["r_wrist"], 0]  # the person's left on the image right
    la = COCO17["l_ankle"]
    assert frames[1][0][la, 2] == 0 and np.all(np.delete(frames[1][0][:, 2], la) > 0)


def test_openpose_errors(tmp_path):
    with pytest.raises(InputError, match="OpenPose JSON folder not found"):
        read_openpose_folder(tmp_path / "missing")
    (tmp_path / "a.txt").write_text("")
    with pytest.raises(InputError, match="no .json files"):
        read_openpose_folder(tmp_path)
    f = write_json(tmp_path / "f_0_keypoints.json", {"version": 1.3})
    with pytest.raises(InputError, match=r"f_0_keypoints.json: missing field 'people'"):
        read_openpose_folder(tmp_path)
    write_json(f, {"people": [{"pose_keypoints_2d": [1.0, 2.0, 0.5] * 15}]})
    with pytest.raises(InputError, match=r"f_0_keypoints.json: .* 45 values; expected 3 x 25 \(BODY_25\) or 3 x 18"):
        read_openpose_folder(tmp_path)
