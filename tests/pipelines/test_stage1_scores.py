"""pipelines/evaluate.py detection_scores / stage1_section on hand-built cases: predictions made from the ground
truth (to_h36m17), then known joints moved by known fractions of the torso (or head) size."""
import math

import numpy as np
import pytest

from common.dataset import Sample
from common.handoff import Pose2DSeq
from common.metrics import torso_size
from common.skeleton import COCO17, H36M17, MPII16, to_h36m17
from pipelines.evaluate import detection_scores, stage1_section

H = H36M17.index

# a standing person in coco17, pixels (y down); the person's left is on the image right
COCO_POSE = np.array([
    [200, 100], [205, 95], [195, 95], [212, 98], [188, 98],        # nose, eyes, ears
    [230, 140], [170, 140], [240, 190], [160, 190], [245, 235],    # shoulders, elbows, l_wrist
    [155, 235], [220, 240], [180, 240], [222, 310], [178, 310],    # r_wrist, hips, knees
    [224, 380], [176, 380]], np.float64)                            # ankles


def coco_sample(frames, visible=None, boxes=None, source="coco", name="p"):
    frames = np.asarray(frames, np.float64)
    vis = np.ones(frames.shape[:2], bool) if visible is None else visible
    return Sample(name=name, action=-1, subject=-1, fps=1.0, joints2d=frames, visible=vis, joints3d=None,
                  camera=None, image_size=(640, 480), layout="coco17", source=source, boxes=boxes)


def prediction(sample):
    kps, scores = to_h36m17(sample.joints2d, sample.layout)
    return kps, scores


def seq(kps, scores):
    return Pose2DSeq(kps[None].astype(np.float32), scores[None].astype(np.float32), (640, 480), 1.0, "h36m17")


def move(kps, t, joint, frac, torso, angle_deg=0.0):
    a = math.radians(angle_deg)
    kps[t, H[joint]] += frac * torso * np.array([math.cos(a), math.sin(a)])


# ------------------------------------------------------------------------------------------------ records
def test_coco_sample_against_h36m17_prediction():
    f0 = COCO_POSE
    f1 = COCO_POSE * 2.0 + [50, -120]  # twice the size: its own, larger torso threshold
    vis = np.ones((2, 17), bool)
    vis[0, COCO17["l_ankle"]] = False  # occluded: never counted, however wrong
    s = coco_sample([f0, f1], vis, boxes=np.array([[150, 80, 110, 310], [350, 40, 220, 620]], float))
    torso = torso_size(s.joints2d, "coco17")
    assert torso[1] == pytest.approx(2 * torso[0]) and torso[0] == pytest.approx(np.hypot(50, 100))

    kps, scores = prediction(s)
    perfect = detection_scores(seq(kps, scores), s)
    assert perfect == {"name": "p", "set": "coco", "given_box": True, "frames": 2, "hits": 23, "joints": 23}

    move(kps, 0, "l_wrist", 0.19, torso[0])            # counts
    move(kps, 0, "r_knee", 0.21, torso[0], 90)         # does not
    move(kps, 0, "l_ankle", 2.0, torso[0])             # occluded: not counted at all
    move(kps, 0, "head", 5.0, torso[0])                # not a joint COCO shares: ignored
    move(kps, 0, "neck", 5.0, torso[0])
    move(kps, 1, "l_hip", 0.19, torso[1], 45)          # 0.38 x frame 0's torso, but counts in frame 1
    move(kps, 1, "r_elbow", 0.21, torso[1], -135)      # does not
    rec = detection_scores(seq(kps, scores), s)
    assert rec["joints"] == 11 + 12
    assert rec["hits"] == 23 - 2
    assert "pckh_hits" not in rec  # no head sizes: no PCKh

    # the scores play no part: a correct joint with score 0 still counts
    rec0 = detection_scores(seq(kps, np.zeros_like(scores)), s)
    assert rec0["hits"] == 21


def test_moves_just_inside_and_outside_the_threshold():
    s = coco_sample([COCO_POSE])
    torso = torso_size(s.joints2d, "coco17")[0]
    for frac, hit in ((0.19, True), (0.199, True), (0.201, False), (0.21, False), (0.5, False)):
        for joint in ("l_shoulder", "r_ankle", "r_wrist"):
            kps, scores = prediction(s)
            move(kps, 0, joint, frac, torso, 30)
            rec = detection_scores(seq(kps, scores), s)
            assert rec["joints"] == 12 and rec["hits"] == 12 - (not hit), (frac, joint)


def test_frames_without_a_torso_are_not_counted():
    """A frame whose annotation is all zeros (the Kinect body absent) has no torso: none of its joints count."""
    s = coco_sample([COCO_POSE, np.zeros((17, 2))], boxes=None, source=None)
    kps, scores = prediction(s)
    kps[1] = 300.0  # anything
    rec = detection_scores(seq(kps, scores), s)
    assert rec["joints"] == 12 and rec["hits"] == 12 and rec["frames"] == 2
    assert rec["given_box"] is False and rec["set"] is None


def test_same_layout_counts_every_joint():
    gt, _ = to_h36m17(COCO_POSE[None], "coco17")
    s = Sample(name="h", action=-1, subject=-1, fps=1.0, joints2d=gt, visible=np.ones((1, 17), bool),
               joints3d=None, camera=None, image_size=(640, 480), layout="h36m17", source="h36m")
    torso = torso_size(gt, "h36m17")[0]
    kps = gt.copy()
    move(kps, 0, "head", 0.21, torso)      # an h36m17 annotation has a head: it counts (here, a miss)
    move(kps, 0, "spine", 0.19, torso)
    rec = detection_scores(seq(kps, np.ones((1, 17))), s)
    assert rec["joints"] == 17 and rec["hits"] == 16


def test_mpii_pckh_with_head_sizes():
    # an mpii16 pose whose torso (l_shoulder - r_hip) is 200 px
    mp = np.zeros((16, 2))
    named = {"r_ankle": (180, 500), "r_knee": (180, 420), "r_hip": (180, 330), "l_hip": (220, 330),
             "l_knee": (220, 420), "l_ankle": (220, 500), "pelvis": (200, 330), "thorax": (200, 180),
             "upper_neck": (200, 165), "head_top": (200, 110), "r_wrist": (120, 300), "r_elbow": (130, 240),
             "r_shoulder": (160, 180), "l_shoulder": (180 + 120, 330 - 160),  # 120, 160 from r_hip: 200 px
             "l_elbow": (290, 240), "l_wrist": (300, 300)}
    for n, xy in named.items():
        mp[MPII16[n]] = xy
    vis = np.ones((1, 16), bool)
    vis[0, MPII16["r_ankle"]] = False
    head = 60.0  # 0.5 x head = 30 px < 0.2 x torso = 40 px
    s = Sample(name="m", action=-1, subject=-1, fps=1.0, joints2d=mp[None], visible=vis, joints3d=None,
               camera=None, image_size=(640, 640), layout="mpii16", source="mpii",
               boxes=np.array([[100, 90, 220, 420]], float), head_sizes=np.array([head]))
    assert torso_size(s.joints2d, "mpii16")[0] == pytest.approx(200.0)
    kps, scores = to_h36m17(s.joints2d, "mpii16")
    kps[0, H["pelvis"]] += [0.49 * head, 0]           # PCKh hit, PCK hit
    kps[0, H["thorax"]] += [0, 0.51 * head]           # PCKh miss, PCK hit (30.6 < 40)
    kps[0, H["l_wrist"]] += [0, 0.21 * 200.0]         # both miss
    kps[0, H["r_ankle"]] += [500, 500]                # occluded: in neither
    kps[0, H["head"]] += [500, 500]                   # not shared with h36m17 (head_top): in neither
    rec = detection_scores(seq(kps, scores), s)
    assert rec["joints"] == 14 - 1  # mpii16 shares the limbs, pelvis and thorax
    assert rec["hits"] == 13 - 1
    assert rec["pckh_hits"] == 13 - 2


def test_unannotated_torso_joint_gives_no_free_hits():
    vis = np.ones((1, 17), bool)
    pose = COCO_POSE + [320, 160]  # the person in the lower right of a 640 x 480 image
    pose[COCO17["l_shoulder"]] = np.nan  # how common.annotated writes an unlabelled key-point (COCO: v = 0)
    vis[0, COCO17["l_shoulder"]] = False
    s = coco_sample([pose], vis)
    kps, scores = prediction(s)
    kps = np.nan_to_num(kps)  # a detector's output is always finite
    true_torso = np.hypot(50, 100)  # the person's real torso (see COCO_POSE)
    kps[0, H["r_wrist"]] += [true_torso, 0]  # a whole torso off: a miss by any reading of PCK@0.2
    rec = detection_scores(seq(kps, scores), s)
    assert rec["joints"] == 0 and rec["hits"] == 0  # no torso, no score


# ------------------------------------------------------------------------------------------------ section
def rec(name, src, hits, joints, frames=1, box=True, pckh=None):
    r = {"name": name, "set": src, "given_box": box, "frames": frames, "hits": hits, "joints": joints}
    if pckh is not None:
        r["pckh_hits"] = pckh
    return r


def test_stage1_section_pools_by_joint_and_splits_by_set():
    recs = [rec("a", "coco", 9, 10), rec("b", "coco", 1, 2), rec("c", "mpii", 5, 8, pckh=4),
            rec("d", "kinect", 50, 100, frames=100, box=False)]
    out = stage1_section(recs, fps=12.5)
    assert out["pck"] == pytest.approx(65 / 120)  # joint-weighted, not the mean of per-person ratios
    assert out["pck"] != pytest.approx(np.mean([0.9, 0.5, 5 / 8, 0.5]))
    assert out["n_persons"] == 4 and out["n_frames"] == 103 and out["n_joints"] == 120
    assert out["fps"] == 12.5
    assert out["pckh"] == pytest.approx(4 / 8) and out["n_persons_pckh"] == 1
    assert list(out["per_set"]) == ["coco", "mpii", "kinect"]  # Sample.source, first-seen order
    coco = out["per_set"]["coco"]
    assert coco == {"pck": pytest.approx(10 / 12), "n_persons": 2, "n_frames": 2, "n_joints": 12}  # no pckh
    assert out["per_set"]["mpii"]["pckh"] == pytest.approx(0.5)
    assert out["per_set"]["kinect"]["pck"] == pytest.approx(0.5) and "pckh" not in out["per_set"]["kinect"]
    # per person: only the people cropped by an annotated box
    assert [p["name"] for p in out["per_person"]] == ["a", "b", "c"]
    assert [p["pck"] for p in out["per_person"]] == pytest.approx([0.9, 0.5, 0.625])
    assert [p["joints"] for p in out["per_person"]] == [10, 2, 8]
    assert [p["set"] for p in out["per_person"]] == ["coco", "coco", "mpii"]


def test_stage1_section_without_sets_boxes_or_joints():
    out = stage1_section([rec("v", None, 3, 4, frames=7, box=False)], fps=30.0)
    assert out["pck"] == pytest.approx(0.75) and out["n_frames"] == 7
    assert "per_set" not in out and "per_person" not in out and "pckh" not in out
    empty = stage1_section([rec("z", "coco", 0, 0)], fps=1.0)
    assert math.isnan(empty["pck"]) and math.isnan(empty["per_set"]["coco"]["pck"])
    assert math.isnan(empty["per_person"][0]["pck"])


def test_records_into_section():
    s1 = coco_sample([COCO_POSE], boxes=np.array([[150, 80, 110, 310]], float), name="one")
    s2 = coco_sample([COCO_POSE * 1.5], boxes=None, source="video", name="two")
    k1, c1 = prediction(s1)
    move(k1, 0, "r_wrist", 0.3, torso_size(s1.joints2d, "coco17")[0])
    k2, c2 = prediction(s2)
    out = stage1_section([detection_scores(seq(k1, c1), s1), detection_scores(seq(k2, c2), s2)], fps=5.0)
    assert out["pck"] == pytest.approx(23 / 24)
    assert out["per_set"]["coco"]["pck"] == pytest.approx(11 / 12) and out["per_set"]["video"]["pck"] == 1.0
    assert [p["name"] for p in out["per_person"]] == ["one"]
