"""common/annotated.py: the real annotated COCO / MPII people and the NTU Kinect clip as evaluation samples.

Everything is checked against the shared files themselves (json read directly, the skeleton through its
reader); the NTU video's frames are never decoded (640 MB), only its header.
"""
import json
import shutil

import cv2
import numpy as np
import pytest
from real_data import need, rgb

from common.annotated import MPII_HEAD_FACTOR, coco_people, kinect_clip, kinect_clips, mpii_people
from common.errors import InputError
from common.readers import read_ntu_skeleton
from common.skeleton import NTU25

NTU_STEM = "S001C001P001R001A001"




# ------------------------------------------------------------------------------------------------ COCO
@pytest.fixture(scope="module")
def coco_json():
    return need("images", "coco", "test_coco.json")


def test_coco_people_counts_and_fields(coco_json):
    d = json.loads(coco_json.read_text())
    images = {im["id"]: im for im in d["images"]}
    kept = [a for a in d["annotations"] if a["num_keypoints"] > 0 and not a.get("iscrowd", 0)]
    dropped = [a for a in d["annotations"] if a["num_keypoints"] == 0]
    assert len(kept) == 12 and len(dropped) == 2  # what the README promises of these files

    people = coco_people(coco_json)
    assert len(people) == 12
    by_id = {int(s.name.split("#")[1]): s for s in people}
    assert set(by_id) == {a["id"] for a in kept}
    assert not set(by_id) & {a["id"] for a in dropped}
    for a in kept:
        s, im = by_id[a["id"]], images[a["image_id"]]
        kp = np.array(a["keypoints"], np.float64).reshape(17, 3)
        assert s.name == f"{im['file_name'].rsplit('.', 1)[0]}#{a['id']}"
        assert s.layout == "coco17" and s.source == "coco" and s.n_frames == 1
        assert s.joints2d.shape == (1, 17, 2) and s.visible.shape == (1, 17)
        lab = kp[:, 2] > 0
        np.testing.assert_allclose(s.joints2d[0][lab], kp[lab, :2], atol=1e-3)
        assert np.isnan(s.joints2d[0][~lab]).all()  # unlabelled joints are NaN, not COCO's (0, 0)
        np.testing.assert_array_equal(s.visible[0], lab)
        assert s.visible.sum() == a["num_keypoints"]
        np.testing.assert_allclose(s.boxes, [a["bbox"]])  # the annotated box, copied
        assert s.boxes.shape == (1, 4)
        assert s.image_size == (im["width"], im["height"])
        assert s.head_sizes is None and s.joints3d is None and s.camera is None


def test_coco_frames_are_the_rgb_image(coco_json):
    people = coco_people(coco_json)
    s = next(p for p in people if p.name.startswith("000000000785#"))
    f = s.frames()
    img = rgb(coco_json.parent / "000000000785.jpg")
    assert f.shape == (1, img.shape[0], img.shape[1], 3) == (1, 425, 640, 3) and f.dtype == np.uint8
    assert (f.shape[2], f.shape[1]) == s.image_size
    np.testing.assert_array_equal(f[0], img)  # RGB, not OpenCV's BGR
    assert not np.array_equal(f[0], img[..., ::-1])


def test_coco_crowd_and_keypointless_annotations_dropped(tmp_path, coco_json):
    d = json.loads(coco_json.read_text())
    a = dict(next(a for a in d["annotations"] if a["id"] == 442619))
    crowd = dict(a, id=1, iscrowd=1)
    tiny = dict(a, id=2, bbox=[10.0, 10.0, 1.0, 50.0])  # a box a pixel wide is not a person to crop
    d["annotations"] = [a, crowd, tiny, dict(a, id=3, num_keypoints=0)]
    p = tmp_path / "ann.json"
    p.write_text(json.dumps(d))
    people = coco_people(p, image_dir=coco_json.parent)
    assert [s.name for s in people] == ["000000000785#442619"]
    d["annotations"] = [crowd, tiny]
    p.write_text(json.dumps(d))
    with pytest.raises(InputError, match="no annotated person"):
        coco_people(p, image_dir=coco_json.parent)


def test_coco_image_dir_given_vs_beside_json(tmp_path, coco_json):
    moved = tmp_path / "ann" / "test_coco.json"
    moved.parent.mkdir()
    shutil.copy(coco_json, moved)
    with pytest.raises(InputError, match=r"000000000785\.jpg"):  # images are looked for beside the json
        coco_people(moved)
    people = coco_people(moved, image_dir=str(coco_json.parent))
    assert len(people) == 12
    np.testing.assert_array_equal(people[0].frames()[0], rgb(coco_json.parent / "000000000785.jpg"))
    # an image folder holding only one of the images: the first missing one is named
    imgs = tmp_path / "imgs"
    imgs.mkdir()
    shutil.copy(coco_json.parent / "000000000785.jpg", imgs)
    with pytest.raises(InputError, match=r"000000040083\.jpg.*not found"):
        coco_people(moved, image_dir=imgs)


# ------------------------------------------------------------------------------------------------ MPII
@pytest.fixture(scope="module")
def mpii_json():
    return need("images", "mpii", "test_mpii.json")


def test_mpii_people_boxes_and_sizes(mpii_json):
    recs = json.loads(mpii_json.read_text())
    people = mpii_people(mpii_json)
    assert len(people) == len(recs) == 5
    for i, (s, r) in enumerate(zip(people, recs)):
        assert s.name == f"{r['image'].rsplit('.', 1)[0]}#{i}"
        assert s.layout == "mpii16" and s.source == "mpii" and s.n_frames == 1
        lab = np.array(r["joints_vis"]) > 0
        np.testing.assert_allclose(s.joints2d[0][lab], np.array(r["joints"])[lab], atol=1e-3)
        assert np.isnan(s.joints2d[0][~lab]).all()
        np.testing.assert_array_equal(s.visible[0], lab)
        side = r["scale"] * 200.0
        x, y, w, h = s.boxes[0]
        assert w == pytest.approx(side) and h == pytest.approx(side)
        assert (x + w / 2, y + h / 2) == pytest.approx(tuple(r["center"]))
        img = cv2.imread(str(mpii_json.parent / r["image"]))
        assert s.image_size == (img.shape[1], img.shape[0])
        assert s.head_sizes is None  # the shared records carry no head box
    f = people[1].frames()
    assert f.shape == (1, 480, 854, 3) and f.dtype == np.uint8
    np.testing.assert_array_equal(f[0], rgb(mpii_json.parent / recs[1]["image"]))


@pytest.mark.parametrize("form", ["pairs", "flat"])
def test_mpii_head_sizes_from_headbox(tmp_path, mpii_json, form):
    recs = json.loads(mpii_json.read_text())
    (x1, y1), (x2, y2) = (900.0, 60.0), (1030.0, 250.0)
    with_head = dict(recs[0])
    if form == "pairs":
        with_head["headbox"] = [[x1, y1], [x2, y2]]
    else:
        with_head["head_box"] = [x1, y1, x2, y2]
    p = tmp_path / "one.json"
    p.write_text(json.dumps([with_head, recs[1]]))
    with pytest.raises(InputError, match=recs[0]["image"]):  # no image beside the tmp json
        mpii_people(p)
    people = mpii_people(p, image_dir=mpii_json.parent)
    assert len(people) == 2
    diag = np.hypot(x2 - x1, y2 - y1)
    assert people[0].head_sizes.shape == (1,)
    assert people[0].head_sizes[0] == pytest.approx(0.6 * diag) == pytest.approx(MPII_HEAD_FACTOR * diag)
    assert people[1].head_sizes is None  # only the record with a head box gets one


# ------------------------------------------------------------------------------------------------ Kinect
@pytest.fixture(scope="module")
def ntu_files():
    sk = need("ntu", f"{NTU_STEM}.skeleton")
    video = need("ntu", f"{NTU_STEM}_rgb.avi")
    return sk, video


def test_kinect_clip_is_mirrored_colour_joints(ntu_files):
    sk, video = ntu_files
    s = kinect_clip(sk, video)
    d = read_ntu_skeleton(sk)
    assert s.layout == "ntu25" and s.source == "kinect" and s.name == NTU_STEM
    assert s.n_frames == 103 and s.joints2d.shape == (103, 25, 2) and s.visible.shape == (103, 25)
    assert s.image_size == (1920, 1080) and s.fps == pytest.approx(30.0)
    assert s.boxes is None and s.head_sizes is None and callable(s.load_frames)
    colour = d["color"][0]
    # left and right exchanged: the video is a mirror image
    L = NTU25.index
    np.testing.assert_allclose(s.joints2d[:, L["l_wrist"]], colour[:, L["r_wrist"]], atol=1e-3)
    np.testing.assert_allclose(s.joints2d[:, L["r_ankle"]], colour[:, L["l_ankle"]], atol=1e-3)
    np.testing.assert_allclose(s.joints2d[:, L["head"]], colour[:, L["head"]], atol=1e-3)  # unsided: as is
    assert not np.allclose(s.joints2d[:, L["l_wrist"]], colour[:, L["l_wrist"]], atol=5)
    np.testing.assert_allclose(s.joints2d, colour[:, NTU25.flip_permutation], atol=1e-3)
    np.testing.assert_array_equal(s.visible, d["tracking"][0][:, NTU25.flip_permutation] > 0)
    # the reference is in the video's pixels
    assert 0 < s.joints2d[..., 0].min() and s.joints2d[..., 0].max() < 1920
    assert 0 < s.joints2d[..., 1].min() and s.joints2d[..., 1].max() < 1080


def test_kinect_clips_finds_videos_beside_skeletons(tmp_path, ntu_files):
    sk, video = ntu_files
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / sk.name).symlink_to(sk)
    (tmp_path / "a" / f"{NTU_STEM}.avi").symlink_to(video)  # <stem> + a video suffix also counts
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / sk.name).symlink_to(sk)  # no video: left out
    clips = kinect_clips(tmp_path)
    assert len(clips) == 1 and clips[0].n_frames == 103 and clips[0].layout == "ntu25"
    assert [s.name for s in kinect_clips(sk.parent)] == [NTU_STEM]
    with pytest.raises(InputError, match="colour video"):
        kinect_clips(tmp_path / "b")


def test_kinect_clip_errors(tmp_path, ntu_files):
    sk, video = ntu_files
    lines = sk.read_text().splitlines()
    short = tmp_path / "short.skeleton"  # the first 50 frames (one body each: 28 lines a frame)
    short.write_text("\n".join(["50"] + lines[1:1 + 50 * 28]) + "\n")
    assert read_ntu_skeleton(short)["n_frames"] == 50
    with pytest.raises(InputError, match="103 frames"):
        kinect_clip(short, video)
    empty = tmp_path / "empty.skeleton"
    empty.write_text("2\n0\n0\n")
    with pytest.raises(InputError, match="no tracked body"):
        kinect_clip(empty, video)
