"""stage1_2d/mediapipe_pose.py: the real pretrained MediaPipe Pose model on real frames.

(a) given boxes on the 4 annotated Human3.6M frames: PCK@0.2 (torso) over all 17 h36m17 joints. Measured
    (mediapipe 0.10.21, CPU): 56/68 = 0.824 with flip_test off and on alike (the S5 SittingDown frame is the
    hard one, 5-6/17); the bar is 0.80 (at most one more joint lost).
(b) video following: one real COCO person pasted twice onto a grey canvas (full size in the centre, half size
    near the right edge), drifting 2 px a frame towards each other: both are found on the first frame, the big
    central one is followed (measured: its key-points stay 18-27 px inside its annotated box, its limbs within
    0.13 torso of the annotation; the followed pose drifts 22 px right over the 11 frame steps, as the pasted
    copy does).
    With ``person: all`` both copies are tracked, one identity each, the big central one first.
(c) a blank grey clip: nobody found, scores all 0.
(d) option errors. (e) flip_test on and off on the same boxes.
About 30 s in all, most of it the given-box ensembles (6 crops x 2 passes per frame, twice with flip_test).
"""
import cv2
import numpy as np
import pytest

pytest.importorskip("mediapipe")

from real_data import need, rgb

from common.dataset import Sample
from common.errors import InputError
from common.metrics import torso_size
from common.readers import read_coco_keypoints, read_h36m_npz
from common.skeleton import COCO17, H36M17
from stage1_2d.mediapipe_pose import MediaPipePose

PCK_BAR = 0.80  # measured 0.824 (module docstring)




@pytest.fixture(scope="module")
def h36m_frames():
    """(image, Sample) per annotated H36M frame; the box is the annotated joints' extent grown by 10 %."""
    d = read_h36m_npz(need("h36m", "test_h36m_body3d.npz"))
    out = []
    for i, name in enumerate(d["imgname"]):
        img = rgb(need("h36m", str(name)))
        gt = d["kps2d"][i].astype(np.float64)
        lo, hi = gt.min(0), gt.max(0)
        size = (hi - lo) * 1.1
        box = np.r_[(lo + hi) / 2 - size / 2, size]
        out.append((img, Sample(name=str(name), action=-1, subject=-1, fps=1.0, joints2d=gt[None],
                                visible=d["vis2d"][i][None] > 0, joints3d=None, camera=None,
                                image_size=(img.shape[1], img.shape[0]), boxes=box[None])))
    assert len(out) == 4
    return out


@pytest.fixture(scope="module")
def detector():
    return MediaPipePose()


def given_box_pck(det, frames):
    hits = total = 0
    for img, s in frames:
        p = det.predict(img[None], 1.0, sample=s)
        assert p.layout == "h36m17" and p.keypoints.shape == (1, 1, 17, 2) and p.scores.shape == (1, 1, 17)
        assert p.image_size == s.image_size
        assert np.all((p.scores >= 0) & (p.scores <= 1)) and p.scores.max() > 0.5
        assert det.last_info == {"boxes": "given", "frames_without_person": 0}
        err = np.linalg.norm(p.keypoints[0, 0] - s.joints2d[0], axis=-1)
        ok = err < 0.2 * torso_size(s.joints2d[0], "h36m17")
        hits, total = hits + int(ok.sum()), total + ok.size
    return hits / total


@pytest.fixture(scope="module")
def pck_no_flip(detector, h36m_frames):
    return given_box_pck(detector, h36m_frames)


def test_given_boxes_on_h36m_frames(pck_no_flip):
    assert pck_no_flip >= PCK_BAR


def test_flip_test_on_the_same_boxes(h36m_frames, pck_no_flip):
    det = MediaPipePose({"flip_test": True})
    pck_flip = given_box_pck(det, h36m_frames)
    assert pck_flip >= PCK_BAR and pck_no_flip >= PCK_BAR
    assert abs(pck_flip - pck_no_flip) <= 0.1  # mirroring the crops refines, it does not change the answer


def two_copies():
    """One real COCO person pasted twice on a grey canvas (module docstring (b)): frames, the person's
    annotation, the big and the small copy's boxes per frame, and the paste offsets."""
    coco = need("images", "coco", "test_coco.json")
    person = next(p for p in read_coco_keypoints(coco) if p["image"] == "000000000785.jpg")
    img = rgb(coco.parent / "000000000785.jpg")
    x0, y0 = 230, 20
    big = img[y0:425, x0:550]                                       # 405 x 320 around the person
    small = cv2.resize(big, (160, 202), interpolation=cv2.INTER_AREA)
    T, H, W = 12, 480, 1280
    frames, big_boxes, small_boxes = [], [], []
    bx, by = person["bbox"][:2] - [x0, y0]
    bw, bh = person["bbox"][2:]
    for t in range(T):
        c = np.full((H, W, 3), 128, np.uint8)
        px, py = 480 + 2 * t, 37                                    # the big copy, centre of the canvas
        c[py:py + 405, px:px + 320] = big
        sx, sy = 1090 - 2 * t, 140                                  # the half-size copy, near the right edge
        c[sy:sy + 202, sx:sx + 160] = small
        frames.append(c)
        big_boxes.append([px + bx, py + by, px + bx + bw, py + by + bh])
        small_boxes.append([sx + bx / 2, sy + by / 2, sx + (bx + bw) / 2, sy + (by + bh) / 2])
    return np.stack(frames), person, big_boxes, small_boxes, (x0, y0)


def test_video_follows_the_large_central_person():
    detector = MediaPipePose({"person": "largest_central"})
    frames, person, big_boxes, small_boxes, (x0, y0) = two_copies()
    T, H, W = frames.shape[:3]
    p = detector.predict(frames, 12.0)
    assert p.layout == "h36m17" and p.keypoints.shape == (1, T, 17, 2) and p.image_size == (W, H)
    assert np.all((p.scores >= 0) & (p.scores <= 1)) and p.scores.min() > 0
    info = detector.last_info
    assert info["boxes"] == "video"
    person_info = info["person"]
    assert person_info["frames"] == T and person_info["frames_without_person"] == 0
    assert person_info["max_people"] >= 2  # measured: both copies found on the first frame
    assert person_info["acquired"] == 1    # chosen once, then followed
    kp = p.keypoints[0]
    for t in range(T):
        x1, y1, x2, y2 = big_boxes[t]
        assert np.all((kp[t, :, 0] > x1) & (kp[t, :, 0] < x2) & (kp[t, :, 1] > y1) & (kp[t, :, 1] < y2)), t
        s1, _, s2, _ = small_boxes[t]
        assert np.all(kp[t, :, 0] < s1)  # nowhere near the small copy
    # it moves with the big copy: 2 px a frame to the right
    assert kp[-1, :, 0].mean() - kp[0, :, 0].mean() == pytest.approx(2 * (T - 1), abs=8)
    # and it is the person's pose: the annotated limbs, moved onto the canvas
    ann = person["keypoints"] - [x0, y0] + [480, 37]
    for name in ("l_shoulder", "r_shoulder", "l_hip", "r_hip", "l_knee", "r_knee"):
        err = np.linalg.norm(kp[0, H36M17[name]] - ann[COCO17[name]])
        assert err < 0.2 * torso_size(ann[None], "coco17")[0], name


def test_video_tracks_every_person():
    """``person: all``: both copies are tracked for the whole clip with one identity each; the big central one
    is person 0 (the main person), the small one person 1, each staying inside its own box."""
    detector = MediaPipePose({"person": "all"})
    frames, person, big_boxes, small_boxes, _ = two_copies()
    T = len(frames)
    p = detector.predict(frames, 12.0)
    assert p.keypoints.shape == (2, T, 17, 2) and p.scores.min() > 0
    info = detector.last_info["person"]
    assert info["policy"] == "all" and info["max_people"] == 2 and info["tracks_found"] == 2
    assert [(tr["id"], tr["first"], tr["last"], tr["frames_seen"]) for tr in info["tracks"]] == \
        [(0, 0, T - 1, T), (1, 0, T - 1, T)]
    for k, boxes in ((0, big_boxes), (1, small_boxes)):
        for t in range(T):
            x1, y1, x2, y2 = boxes[t]
            pad = 0.15 * (y2 - y1)
            inside = ((p.keypoints[k, t, :, 0] > x1 - pad) & (p.keypoints[k, t, :, 0] < x2 + pad) &
                      (p.keypoints[k, t, :, 1] > y1 - pad) & (p.keypoints[k, t, :, 1] < y2 + pad))
            assert inside.mean() > 0.9, (k, t)


@pytest.mark.parametrize("person", ["largest_central", "all"])
def test_blank_clip_has_nobody(person):
    detector = MediaPipePose({"person": person})
    frames = np.full((6, 240, 480, 3), 128, np.uint8)
    p = detector.predict(frames, 25.0)
    assert p.keypoints.shape == (1, 6, 17, 2)
    assert np.all(p.scores == 0)
    assert detector.last_info["person"]["frames_without_person"] == 6
    assert detector.last_info["person"]["max_people"] == 0


@pytest.mark.parametrize("cfg,match", [({"mode": "foo"}, "mode"), ({"paddings": []}, "paddings"),
                                       ({"paddings": [0.9, 1.5]}, "paddings"), ({"crop_size": 16}, "crop_size"),
                                       ({"refine": 0}, "refine"), ({"person": "one"}, "person"),
                                       ({"max_people": 0}, "max_people"), ({"smooth_cutoff": -1}, "smooth")])
def test_option_errors(cfg, match):
    with pytest.raises(InputError, match=match):
        MediaPipePose(cfg)


def test_box_count_must_match_frames(detector, h36m_frames):
    img, s = h36m_frames[0]
    with pytest.raises(InputError, match="1 boxes for 2 frames"):
        detector.predict(np.stack([img, img]), 1.0, sample=s)
