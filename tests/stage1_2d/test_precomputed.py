"""precomputed: COCO results, OpenPose folders and Pose2DSeq .npz files (written here) -> one h36m17 person."""
import json
import os
import warnings

import numpy as np
import pytest

from common.errors import InputError
from common.handoff import Pose2DSeq
from common.paths import REPO_ROOT
from common.readers import OPENPOSE_NAMES
from common.registry import lookup
from common.skeleton import COCO17, H36M17, get_layout, to_h36m17
from stage1_2d.person import keypoint_box, salience
from stage1_2d.precomputed import Precomputed

W, H = 640, 480
#: a front-facing person in unit coordinates (its left on the image right), coco17 order
TEMPLATE = {"nose": (0.5, 0.1), "l_eye": (0.55, 0.08), "r_eye": (0.45, 0.08), "l_ear": (0.6, 0.1),
            "r_ear": (0.4, 0.1), "l_shoulder": (0.7, 0.25), "r_shoulder": (0.3, 0.25), "l_elbow": (0.8, 0.4),
            "r_elbow": (0.2, 0.4), "l_wrist": (0.85, 0.55), "r_wrist": (0.15, 0.55), "l_hip": (0.6, 0.55),
            "r_hip": (0.4, 0.55), "l_knee": (0.62, 0.75), "r_knee": (0.38, 0.75), "l_ankle": (0.63, 0.95),
            "r_ankle": (0.37, 0.95)}
LW = H36M17["l_wrist"]


def person(x0, y0, w, h):
    return np.array([TEMPLATE[n] for n in COCO17.names]) * (w, h) + (x0, y0)


def video(T, w=W, h=H):
    return np.zeros((T, h, w, 3), np.uint8)


def result(image_id, kps, score=0.9):
    return {"image_id": image_id, "category_id": 1, "score": 0.8,
            "keypoints": np.c_[kps, np.full(len(kps), score)].ravel().tolist()}


def write(path, obj):
    path.write_text(json.dumps(obj))
    return path


def detector(path, **opts):
    return Precomputed({"path": str(path), **opts})


def big(t):  # a large central person moving right 10 px a frame
    return person(220 + 10 * t, 40, 200, 400)


@pytest.fixture
def coco_file(tmp_path):
    """Frames 0-4 as image_ids 10-14, a big central person and a small one in a corner; image 12 missing."""
    small = person(5, 5, 30, 60)
    res = [r for t in (0, 1, 3, 4) for r in (result(10 + t, small, 0.95), result(10 + t, big(t)))]
    return write(tmp_path / "results.json", res)


def test_coco_results_every_person(coco_file):
    """``person: all``: both people of the file, the big central one first (though the small one is listed
    first in every frame), each with its own identity; image 12's gap filled on the linear path, score 0."""
    det = detector(coco_file, person="all")
    out = det.predict(video(5), fps=30.0)
    assert out.keypoints.shape == (2, 5, 17, 2)
    expect = np.stack([to_h36m17(big(t), "coco17")[0] for t in range(5)])
    assert np.allclose(out.keypoints[0], expect, atol=1e-3)
    small = to_h36m17(person(5, 5, 30, 60), "coco17")[0]
    assert np.allclose(out.keypoints[1], np.broadcast_to(small, (5, 17, 2)), atol=1e-3)
    assert np.all(out.scores[:, 2] == 0) and np.all(out.scores[:, [0, 1, 3, 4]] > 0.5)
    info = det.last_info["person"]
    assert info["policy"] == "all" and info["max_people"] == 2
    assert [(tr["id"], tr["first"], tr["last"], tr["frames_seen"]) for tr in info["tracks"]] == \
        [(0, 0, 4, 4), (1, 0, 4, 4)]
    with pytest.raises(InputError, match="person"):
        detector(coco_file, person="everyone")


def test_registered():
    assert lookup("detector2d", "precomputed") is Precomputed
    assert Precomputed.trainable is False


def test_coco_results_follow_big_person_and_fill_missing_frame(coco_file):
    det = detector(coco_file)
    out = det.predict(video(5), fps=30.0)
    assert out.keypoints.shape == (1, 5, 17, 2) and out.layout == "h36m17" and out.image_size == (W, H)
    assert out.fps == 30.0
    expect = np.stack([to_h36m17(big(t), "coco17")[0] for t in range(5)])  # frame 2 lies on the linear path
    assert np.allclose(out.keypoints[0], expect, atol=1e-3)
    assert np.all(out.scores[0, 2] == 0) and np.all(out.scores[0, [0, 1, 3, 4]] > 0.5)
    assert out.scores.min() >= 0 and out.scores.max() <= 1
    info = det.last_info
    assert info["format"] == "coco_results" and info["source"] == str(coco_file) and info["frames_missing"] == 1
    assert info["person"]["frames_with_several"] == 4 and info["person"]["frames_without_person"] == 1
    assert info["person"]["max_people"] == 2
    # an explicit first_image_id gives the same; without a video the size is the key-points' extent
    same = detector(coco_file, first_image_id=10, format="coco_results").predict(None)
    assert np.allclose(same.keypoints, out.keypoints) and same.n_frames == 5
    right, bottom = big(4).max(0)
    assert same.image_size == (int(np.ceil(right)), int(np.ceil(bottom)))


def test_shorter_file_holds_the_last_pose(coco_file):
    with pytest.warns(UserWarning, match="5 frames of key-points for a 7-frame video"):
        out = detector(coco_file).predict(video(7))
    assert np.allclose(out.keypoints[0, 5:], out.keypoints[0, 4], atol=1e-4) and np.all(out.scores[0, 5:] == 0)


def test_too_many_frames(coco_file):
    with pytest.raises(InputError, match="5 frames of key-points but the video has 4 frames"):
        detector(coco_file).predict(video(4))
    with pytest.raises(InputError, match="6 frames of key-points but the video has 5 frames"):
        detector(coco_file, first_image_id=9).predict(video(5))
    with pytest.raises(InputError, match="image_id 10 comes before .*first_image_id 11"):
        detector(coco_file, first_image_id=11).predict(video(5))


def test_tracker_keeps_the_followed_person(tmp_path):
    a = [person(150 + 5 * t, 100, 100, 300) for t in range(6)]  # medium, left of centre
    b = person(380, 30, 180, 430)  # bigger, far right: would win a fresh choice
    box = lambda k: keypoint_box(k, np.ones(17))  # noqa: E731
    assert salience(box(b), (W, H)) > salience(box(a[3]), (W, H))
    res = [result(t, a[t]) for t in range(6)] + [result(t, b) for t in range(3, 6)]
    det = detector(write(tmp_path / "r.json", res))
    out = det.predict(video(6))
    expect = np.stack([to_h36m17(k, "coco17")[0] for k in a])
    assert np.allclose(out.keypoints[0], expect, atol=1e-3)
    assert det.last_info["person"]["acquired"] == 1 and det.last_info["person"]["frames_with_several"] == 3
    # with both present from the start, the bigger one is chosen
    res = [result(t, a[t]) for t in range(6)] + [result(t, b) for t in range(6)]
    out = detector(write(tmp_path / "r2.json", res)).predict(video(6))
    assert np.allclose(out.keypoints[0, :, LW], to_h36m17(b, "coco17")[0][LW], atol=1e-3)


def openpose_flat(kps17, scores17, K):
    names = OPENPOSE_NAMES[K]
    a = np.zeros((K, 3))
    for j, n in enumerate(COCO17.names):
        a[names.index(n)] = (*kps17[j], scores17[j])
    a[names.index("neck")] = (*kps17[5:7].mean(0), 0.9)
    if K == 25:
        a[names.index("mid_hip")] = (*kps17[11:13].mean(0), 0.9)
        a[19:] = (*kps17[15], 0.5)
    return a.ravel().tolist()


@pytest.mark.parametrize("K", [25, 18])
def test_openpose_folder(tmp_path, K):
    folder = tmp_path / "op"
    folder.mkdir()
    sc = np.full(17, 0.9)
    undetected = sc.copy()
    undetected[COCO17["l_ankle"]] = 0
    for t in range(4):
        kps = big(t)
        s = undetected if t == 2 else sc
        people = [{"pose_keypoints_2d": openpose_flat(kps * (s > 0)[:, None], s, K)}]
        if t == 1:  # a small passer-by in a corner
            people.insert(0, {"pose_keypoints_2d": openpose_flat(person(600, 400, 30, 60), sc, K)})
        write(folder / f"vid_{t:012d}_keypoints.json", {"version": 1.3, "people": people})
    det = detector(folder)
    out = det.predict(video(4))
    assert det.last_info["format"] == "openpose" and det.last_info["frames_missing"] == 0
    for t in range(4):
        assert np.allclose(out.keypoints[0, t, LW], big(t)[COCO17["l_wrist"]], atol=1e-3)
    assert out.keypoints[0, 0, LW, 0] > out.keypoints[0, 0, H36M17["r_wrist"], 0]
    for j in ("head", "neck", "thorax", "pelvis", "spine"):
        assert np.all(np.isfinite(out.keypoints[0, :, H36M17[j]])) and np.all(out.scores[0, :, H36M17[j]] > 0)
    assert out.scores[0, 2, H36M17["l_ankle"]] == 0 and out.scores[0, 1, H36M17["l_ankle"]] > 0


@pytest.mark.parametrize("layout", ["h36m17", "coco17"])
def test_npz_round_trip(tmp_path, layout):
    rng = np.random.default_rng(0)
    T, J = 6, 17
    kps = rng.uniform(50, 300, (1, T, J, 2))
    sc = rng.uniform(0.5, 1.0, (1, T, J))
    f = Pose2DSeq(kps, sc, (320, 240), fps=50.0, layout=layout).save(tmp_path / "pose.npz")
    det = detector(f)
    out = det.predict(video(T, 320, 240), fps=50.0)
    k17, s17 = to_h36m17(kps[0], layout, sc[0])
    assert np.allclose(out.keypoints[0], k17, atol=1e-3) and np.allclose(out.scores[0], s17, atol=1e-6)
    assert det.last_info["format"] == "npz"
    assert detector(f).predict(None).image_size == (320, 240)
    with pytest.raises(InputError, match="320x240 image but the video is 640x480"):
        detector(f).predict(video(T))


def test_npz_several_persons(tmp_path):
    """Person indices that change between frames, and zero padding, as a multi-person detector may save."""
    a = np.stack([big(t) for t in range(4)])
    kps, sc = np.zeros((2, 4, 17, 2)), np.zeros((2, 4, 17))
    kps[0, [0, 3]], kps[1, 1] = a[[0, 3]], a[1]  # frame 2: nobody; frame 3: a small one in a corner too
    kps[1, 3] = person(5, 5, 30, 60)
    sc[0, [0, 3]] = sc[1, [1, 3]] = 1
    f = Pose2DSeq(kps, sc, (W, H), layout="coco17").save(tmp_path / "multi.npz")
    det = detector(f)
    out = det.predict(video(4))
    assert np.allclose(out.keypoints[0, :, LW], a[:, COCO17["l_wrist"]], atol=1e-3)
    assert np.all(out.scores[0, 2] == 0) and np.all(out.scores[0, [0, 1, 3]] > 0)
    assert det.last_info["frames_missing"] == 1 and det.last_info["person"]["acquired"] == 1


def test_option_and_file_errors(tmp_path, coco_file):
    with pytest.raises(InputError, match="stages.stage1_2d.format: unknown format 'csv'"):
        Precomputed({"path": str(coco_file), "format": "csv"})
    with pytest.raises(InputError, match="stages.stage1_2d.path must name a file"):
        Precomputed({})
    with pytest.raises(InputError, match="unknown option"):
        Precomputed({"path": str(coco_file), "files": "x"})
    with pytest.raises(InputError, match="missing.json: precomputed key-points file not found"):
        detector(tmp_path / "missing.json").predict(video(5))
    ann = write(tmp_path / "person_keypoints_val.json", {"images": [], "annotations": [], "categories": []})
    with pytest.raises(InputError, match="ground-truth annotation file, not a result file"):
        detector(ann).predict(video(5))
    folder = tmp_path / "op"
    folder.mkdir()
    write(folder / "f_0_keypoints.json", {"people": [{"pose_keypoints_2d": [1.0, 2.0, 0.9] * 17}]})
    with pytest.raises(InputError, match="f_0_keypoints.json: .* 51 values; expected 3 x 25"):
        detector(folder).predict(video(1))
    nobody = write(tmp_path / "low.json", [result(0, big(0), score=0.1)])
    with pytest.raises(InputError, match="no frame has a person"):
        detector(nobody).predict(video(1))
    odd = write(tmp_path / "pose.csv", [])
    with pytest.raises(InputError, match="cannot tell the key-points format"):
        detector(odd).predict(video(1))


def test_relative_path_resolves_against_repo(coco_file):
    rel = os.path.relpath(coco_file, REPO_ROOT)
    assert detector(rel).path.resolve() == coco_file.resolve()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert detector(rel).predict(video(5)).n_frames == 5


# ------------------------------------------------------------------------------------------------ layout option
LIMB_IDX = [H36M17[n] for n in ("r_hip", "r_knee", "r_ankle", "l_hip", "l_knee", "l_ankle", "l_shoulder",
                                "l_elbow", "l_wrist", "r_shoulder", "r_elbow", "r_wrist")]


def as_layout(kps17, layout):
    """A coco17 person ``(17, 2)`` as key-points of ``layout``: the joints COCO has copied, the others (head top,
    neck, toes, face, hands, ...) put at the nose."""
    L = get_layout(layout)
    return np.array([kps17[COCO17[n]] if n in COCO17.index else kps17[COCO17["nose"]] for n in L.names])


@pytest.mark.parametrize("layout", ["posetrack18", "crowdpose14", "aic14", "halpe26", "halpe136",
                                    "coco_wholebody133", "mpii16"])
def test_layout_option_reads_result_files_of_other_sets(tmp_path, layout):
    small = person(5, 5, 30, 60)
    frames = [(t, big(t)) for t in (0, 1, 3, 4)]
    coco = write(tmp_path / "coco.json", [r for t, k in frames for r in (result(10 + t, small), result(10 + t, k))])
    other = write(tmp_path / f"{layout}.json", [r for t, k in frames for r in
                                                (result(10 + t, as_layout(small, layout)),
                                                 result(10 + t, as_layout(k, layout)))])
    ref = detector(coco).predict(video(5))
    assert detector(coco, layout="coco17").predict(video(5)).keypoints.tolist() == ref.keypoints.tolist()
    det = detector(other, layout=layout)
    out = det.predict(video(5))
    assert out.layout == "h36m17" and out.keypoints.shape == (1, 5, 17, 2) and det.load()[1] == layout
    np.testing.assert_allclose(out.keypoints[0][:, LIMB_IDX], ref.keypoints[0][:, LIMB_IDX], atol=1e-9)
    np.testing.assert_allclose(out.scores[0][:, LIMB_IDX], ref.scores[0][:, LIMB_IDX])
    assert np.all(out.scores[0, 2] == 0)  # the missing image, as with coco17


def test_layout_option_errors(tmp_path, coco_file):
    assert Precomputed.defaults["layout"] == "auto"
    for bad in ("coco18", "Halpe26", 17):
        with pytest.raises(InputError, match=f"stages.stage1_2d.layout: unknown key-point layout {bad!r}") as e:
            detector(coco_file, layout=bad)
        assert "halpe136" in str(e.value) and "\n" not in str(e.value)
    assert detector(coco_file, layout=None).layout_option == "auto"  # null = auto

    # an entry whose key-point count is not the layout's: the layout and both counts named
    halpe = write(tmp_path / "halpe.json", [result(0, as_layout(big(0), "halpe26"))])
    with pytest.raises(InputError) as e:
        detector(coco_file, layout="halpe26").predict(video(5))
    msg = str(e.value)
    assert "\n" not in msg and "26 key-points of halpe26; the entry has 17" in msg
    assert msg.endswith("stages.stage1_2d.layout: halpe26")
    with pytest.raises(InputError, match=r"17 key-points of coco17; the entry has 26\).*layout: auto reads result "
                                         r"files as coco17") as e:
        detector(halpe).predict(video(1))
    assert "\n" not in str(e.value)
    with pytest.raises(InputError, match="17 key-points of posetrack18; the entry has 26"):
        detector(halpe, layout="posetrack18").predict(video(1))
    assert detector(halpe, layout="halpe26").predict(video(1)).n_frames == 1

    # OpenPose folders and npz files name their own key-points: a contradicting layout is an error
    f = Pose2DSeq(big(0)[None, None], np.ones((1, 1, 17)), (W, H), layout="coco17").save(tmp_path / "p.npz")
    assert detector(f, layout="coco17").predict(video(1)).n_frames == 1
    with pytest.raises(InputError, match="layout is halpe26 but the file is a Pose2DSeq of layout coco17"):
        detector(f, layout="halpe26").predict(video(1))
    folder = tmp_path / "op"
    folder.mkdir()
    write(folder / "f_0_keypoints.json", {"people": [{"pose_keypoints_2d": openpose_flat(big(0), np.ones(17), 25)}]})
    assert detector(folder, layout="coco17").predict(video(1)).n_frames == 1
    with pytest.raises(InputError, match="layout is posetrack18 but the file is an OpenPose folder"):
        detector(folder, layout="posetrack18").predict(video(1))
