"""COCO-format files with other key-point sets: the layouts of PoseTrack18, CrowdPose, AI Challenger, Halpe and
COCO-WholeBody (common/skeleton.py), the name -> layout resolver (common/keypoint_sets.py), and the readers
(common/readers.py, common/annotated.py) on small files written here."""
import json
import random

import numpy as np
import pytest
from real_data import need

from common.annotated import coco_people
from common.errors import InputError
from common.keypoint_sets import FILE_ALIASES, layout_from_keypoint_names, normalise_name
from common.readers import read_coco_keypoints, read_coco_results
from common.skeleton import H36M17, flip, from_h36m17, get_layout, shared_joints, to_h36m17

H = H36M17.index
LIMBS = ["r_hip", "r_knee", "r_ankle", "l_hip", "l_knee", "l_ankle", "l_shoulder", "l_elbow", "l_wrist",
         "r_shoulder", "r_elbow", "r_wrist"]
COCO = ["nose", "left_eye", "right_eye", "left_ear", "right_ear", "left_shoulder", "right_shoulder", "left_elbow",
        "right_elbow", "left_wrist", "right_wrist", "left_hip", "right_hip", "left_knee", "right_knee", "left_ankle",
        "right_ankle"]
FINGERS = ["thumb", "forefinger", "middle_finger", "ring_finger", "pinky_finger"]
#: ``categories[].keypoints`` as the datasets' files (and mmpose's dataset info) write them
FILE_NAMES = {
    "coco17": COCO,
    "posetrack18": ["nose", "head_bottom", "head_top"] + COCO[3:],
    "crowdpose14": COCO[5:] + ["head", "neck"],
    "aic14": ["right_shoulder", "right_elbow", "right_wrist", "left_shoulder", "left_elbow", "left_wrist", "right_hip",
              "right_knee", "right_ankle", "left_hip", "left_knee", "left_ankle", "head_top", "neck"],
    "mpii16": ["right_ankle", "right_knee", "right_hip", "left_hip", "left_knee", "left_ankle", "pelvis", "thorax",
               "upper_neck", "head_top", "right_wrist", "right_elbow", "right_shoulder", "left_shoulder",
               "left_elbow", "left_wrist"],
    "halpe26": COCO + ["head", "neck", "hip", "left_big_toe", "right_big_toe", "left_small_toe", "right_small_toe",
                       "left_heel", "right_heel"],
    "coco_wholebody133": COCO + ["left_big_toe", "left_small_toe", "left_heel", "right_big_toe", "right_small_toe",
                                 "right_heel"] + [f"face-{k}" for k in range(68)]
    + [f"{s}_{n}" for s in ("left", "right") for n in ["hand_root"] + [f"{f}{k}" for f in FINGERS
                                                                         for k in range(1, 5)]],
}
#: Halpe full-body: Halpe-26, then the face and hands spelt as COCO-WholeBody (mmpose's Halpe dataset info)
FILE_NAMES["halpe136"] = FILE_NAMES["halpe26"] + FILE_NAMES["coco_wholebody133"][23:]
NEW = ["posetrack18", "crowdpose14", "aic14", "halpe26", "coco_wholebody133", "halpe136"]

#: a front-facing person in pixels (its left on the image right), y down
POSE = {"nose": (100, 40), "head_top": (100, 10), "head_bottom": (100, 55), "neck": (100, 68), "mid_hip": (100, 150),
        "l_eye": (106, 36), "r_eye": (94, 36), "l_ear": (112, 40), "r_ear": (88, 40),
        "l_shoulder": (125, 75), "r_shoulder": (75, 75), "l_elbow": (135, 110), "r_elbow": (65, 110),
        "l_wrist": (140, 140), "r_wrist": (60, 140), "l_hip": (115, 150), "r_hip": (85, 150),
        "l_knee": (117, 200), "r_knee": (83, 200), "l_ankle": (118, 250), "r_ankle": (82, 250)}


def pose(layout):
    """(J, 2) positions of ``layout`` from POSE (joints it lacks, e.g. toes and fingers, placed off the body)."""
    L = get_layout(layout)
    return np.array([POSE.get(n, (300.0 + j, 300.0)) for j, n in enumerate(L.names)], np.float64)


# ------------------------------------------------------------------------------------------------ resolver
@pytest.mark.parametrize("name", sorted(FILE_NAMES))
def test_resolver_on_each_file_name_list(name):
    L = layout_from_keypoint_names(FILE_NAMES[name])
    assert L is get_layout(name) and L.n_joints == len(FILE_NAMES[name])
    assert layout_from_keypoint_names(tuple(FILE_NAMES[name])) is L  # a tuple works like a list


def test_resolver_spellings():
    assert normalise_name("Left_Shoulder") == "l_shoulder" and normalise_name("face-0") == "face_0"
    mm_crowdpose = FILE_NAMES["crowdpose14"][:12] + ["top_head", "neck"]  # mmpose's dataset info spelling
    assert layout_from_keypoint_names(mm_crowdpose).name == "crowdpose14"
    assert layout_from_keypoint_names(get_layout("crowdpose14").names).name == "crowdpose14"  # l_/r_ names too


@pytest.mark.parametrize("name", ["posetrack18", "crowdpose14", "aic14", "halpe26"])
def test_resolver_shuffled_is_an_error(name):
    names = list(FILE_NAMES[name])
    random.Random(0).shuffle(names)
    with pytest.raises(InputError, match=f"the key-points of .*{name}.* in another order") as e:
        layout_from_keypoint_names(names, "f.json: categories[0].keypoints")
    assert str(e.value).startswith("f.json: categories[0].keypoints:") and "\n" not in str(e.value)


def test_resolver_halpe136():
    L = get_layout("halpe136")
    assert L.n_joints == 136 and L.names[:26] == get_layout("halpe26").names
    assert (L["face_0"], L["l_hand_root"], L["r_hand_root"], L["r_pinky_finger4"]) == (26, 94, 115, 135)
    # face and hand points spelt some other way: known by its Halpe-26 body and its count
    own = FILE_NAMES["halpe26"] + [f"Face{k}" for k in range(68)] + [f"{s}Hand{k}" for s in "LR" for k in range(21)]
    assert layout_from_keypoint_names(own) is L
    # 136 names whose first 26 are not Halpe-26's (its feet in COCO-WholeBody's order)
    wb_feet = FILE_NAMES["coco_wholebody133"][17:23]
    for tail in (FILE_NAMES["halpe136"][26:], own[26:]):
        bad = FILE_NAMES["halpe26"][:20] + wb_feet + tail
        assert len(bad) == 136
        with pytest.raises(InputError, match="halpe136") as e:
            layout_from_keypoint_names(bad, "f.json: categories[0].keypoints")
        assert str(e.value).startswith("f.json: categories[0].keypoints:") and "\n" not in str(e.value)
    with pytest.raises(InputError, match="first 26 are not Halpe-26's"):
        layout_from_keypoint_names(["x"] * 26 + own[26:])
    with pytest.raises(InputError, match="another order"):  # known face / hand names in another order
        layout_from_keypoint_names(FILE_NAMES["halpe26"] + FILE_NAMES["halpe136"][:25:-1])


def test_resolver_unknown_and_partial_lists():
    with pytest.raises(InputError, match=r"unknown keypoint names \['spine_top', 'tail'\]") as e:
        layout_from_keypoint_names(COCO[:15] + ["spine_top", "tail"])
    msg = str(e.value)
    assert "\n" not in msg and all(k in msg for k in ("coco17 (17)", "posetrack18 (17)", "crowdpose14 (14)",
                                                      "aic14 (14)", "mpii16 (16)", "halpe26 (26)"))
    with pytest.raises(InputError, match="match no known set"):  # known names, but no set of these 16
        layout_from_keypoint_names(COCO[:16])
    for bad in ([], "nose", [1, 2, 3], None):
        with pytest.raises(InputError, match="expected"):
            layout_from_keypoint_names(bad)


# ------------------------------------------------------------------------------------------------ layouts
def test_declared_orders_and_flip_pairs():
    for name in NEW:
        L = get_layout(name)
        aliases = FILE_ALIASES.get(name, {})
        assert [aliases.get(normalise_name(n), normalise_name(n)) for n in FILE_NAMES[name]] == list(L.names)
        for a, b in L.flip_pairs:  # each pair: the person's left and right of one joint
            assert L.names[a][2:] == L.names[b][2:] and {L.names[a][:2], L.names[b][:2]} == {"l_", "r_"}
    n_pairs = {"posetrack18": 7, "crowdpose14": 6, "aic14": 6, "halpe26": 11, "coco_wholebody133": 2 + 6 + 3 + 21,
               "halpe136": 11 + 21}
    assert {n: len(get_layout(n).flip_pairs) for n in NEW} == n_pairs
    aic = get_layout("aic14")
    assert (0, 3) in aic.flip_pairs and aic.flip_permutation[0] == 3  # r_shoulder (0) <-> l_shoulder (3)
    k = pose("aic14")
    f = flip(k, "aic14", width=200)
    np.testing.assert_allclose(f[aic["l_shoulder"]], (200 - 75, 75))  # the right shoulder, mirrored, is now left
    np.testing.assert_allclose(f[aic["head_top"]], (100, 10))


@pytest.mark.parametrize("name", NEW)
def test_shared_joints_are_the_limbs(name):
    h_idx, s_idx = shared_joints(name)
    assert {H36M17.names[i] for i in h_idx} == set(LIMBS)
    k17, _ = to_h36m17(pose(name), name)
    np.testing.assert_allclose(k17[h_idx], pose(name)[s_idx])


def mid(*names):
    return np.mean([POSE[n] for n in names], axis=0)


def test_posetrack18_conversion():
    k = pose("posetrack18")
    k17, s17 = to_h36m17(k, "posetrack18")
    for n in LIMBS:
        np.testing.assert_allclose(k17[H[n]], POSE[n])
    np.testing.assert_allclose(k17[H["pelvis"]], mid("l_hip", "r_hip"))
    np.testing.assert_allclose(k17[H["thorax"]], mid("l_shoulder", "r_shoulder"))
    np.testing.assert_allclose(k17[H["neck"]], POSE["nose"])
    np.testing.assert_allclose(k17[H["head"]], POSE["head_top"])
    assert (s17 == 1).all()
    s = np.ones(17)
    s[0] = 0  # nose not annotated -> mid(head_bottom, head_top), as MPII
    k17, s17 = to_h36m17(k, "posetrack18", s)
    np.testing.assert_allclose(k17[H["neck"]], mid("head_bottom", "head_top"))
    k17, s17 = to_h36m17(k, "posetrack18")
    back, sb = from_h36m17(k17, "posetrack18", s17)
    L = get_layout("posetrack18")
    np.testing.assert_allclose(back[L["head_top"]], POSE["head_top"])
    np.testing.assert_allclose(back[L["head_bottom"]], 2 * np.array(POSE["nose"]) - POSE["head_top"])
    assert sb[L["l_ear"]] == 0 and sb[L["r_ear"]] == 0


@pytest.mark.parametrize("name", ["crowdpose14", "aic14"])
def test_crowdpose_aic_conversion(name):
    L = get_layout(name)
    k = pose(name)
    k17, s17 = to_h36m17(k, name)
    for n in LIMBS:
        np.testing.assert_allclose(k17[H[n]], POSE[n])
    np.testing.assert_allclose(k17[H["pelvis"]], mid("l_hip", "r_hip"))
    np.testing.assert_allclose(k17[H["thorax"]], POSE["neck"])  # the base of the neck
    np.testing.assert_allclose(k17[H["spine"]], (mid("l_hip", "r_hip") + POSE["neck"]) / 2)
    np.testing.assert_allclose(k17[H["neck"]], mid("neck", "head_top"))
    np.testing.assert_allclose(k17[H["head"]], POSE["head_top"])
    assert (s17 == 1).all()
    s = np.ones(14)
    s[L["neck"]] = 0  # neck not annotated -> thorax from the shoulders; h36m neck unknown
    k17, s17 = to_h36m17(k, name, s)
    np.testing.assert_allclose(k17[H["thorax"]], mid("l_shoulder", "r_shoulder"))
    assert s17[H["thorax"]] == 1 and s17[H["neck"]] == 0
    k17, s17 = to_h36m17(k, name)
    back, sb = from_h36m17(k17, name, s17)
    np.testing.assert_allclose(back, k)  # every joint comes back
    assert (sb == 1).all()


def test_halpe26_and_wholebody_conversion():
    k = pose("halpe26")
    k17, s17 = to_h36m17(k, "halpe26")
    for n in LIMBS:
        np.testing.assert_allclose(k17[H[n]], POSE[n])
    np.testing.assert_allclose(k17[H["pelvis"]], POSE["mid_hip"])
    np.testing.assert_allclose(k17[H["thorax"]], POSE["neck"])
    np.testing.assert_allclose(k17[H["neck"]], POSE["nose"])
    np.testing.assert_allclose(k17[H["head"]], POSE["head_top"])
    L = get_layout("halpe26")
    s = np.ones(26)
    s[[L["head_top"], L["neck"], L["mid_hip"]]] = 0  # COCO's rules take over
    a, _ = to_h36m17(k, "halpe26", s)
    b, _ = to_h36m17(k[:17], "coco17")
    np.testing.assert_allclose(a, b)
    w = pose("coco_wholebody133")
    np.testing.assert_allclose(to_h36m17(w, "coco_wholebody133")[0], to_h36m17(w[:17], "coco17")[0])
    h = pose("halpe136")
    for a, b in zip(to_h36m17(h, "halpe136", np.r_[s, np.ones(110)]), to_h36m17(k, "halpe26", s)):
        np.testing.assert_allclose(a, b)


# ------------------------------------------------------------------------------------------------ files
IMAGE = "000000000785.jpg"  # 640 x 425


def write_coco(path, name, people, categories=True):
    """A COCO-format json of ``name``'s key-points: one annotation per (kps (J, 2), vis (J,)) in ``people``."""
    d = {"images": [{"id": 1, "file_name": IMAGE, "width": 640, "height": 425}], "annotations": []}
    if categories:
        d["categories"] = [{"id": 1, "name": "person", "keypoints": FILE_NAMES[name]}]
    for i, (kps, vis) in enumerate(people):
        kp = np.c_[np.where(vis[:, None] > 0, kps, 0), vis].ravel().tolist()
        d["annotations"].append({"id": 10 + i, "image_id": 1, "category_id": 1, "iscrowd": 0, "bbox": [50, 0, 110, 260],
                                 "keypoints": kp, "num_keypoints": int((vis > 0).sum())})
    path.write_text(json.dumps(d))
    return path


@pytest.mark.parametrize("name", ["posetrack18", "crowdpose14", "aic14"])
def test_coco_people_of_other_sets(tmp_path, name):
    image_dir = need("images", "coco", IMAGE).parent
    L = get_layout(name)
    vis = np.full(L.n_joints, 2)
    if name == "posetrack18":
        vis[[L["l_ear"], L["r_ear"]]] = 0  # never annotated in PoseTrack
    people = coco_people(write_coco(tmp_path / f"{name}.json", name, [(pose(name), vis)]), str(image_dir))
    assert len(people) == 1
    s = people[0]
    assert s.layout == name and s.source == name and s.name == f"{IMAGE[:-4]}#10" and s.image_size == (640, 425)
    assert s.joints2d.shape == (1, L.n_joints, 2) and s.visible.shape == (1, L.n_joints)
    np.testing.assert_array_equal(s.visible[0], vis > 0)
    assert np.isnan(s.joints2d[0][vis == 0]).all()
    np.testing.assert_allclose(s.joints2d[0][vis > 0], pose(name)[vis > 0])

    # the evaluation: a detector's h36m17 key-points against the annotation, on the shared joints
    from common.handoff import Pose2DSeq
    from pipelines.evaluate import detection_scores

    k17, _ = to_h36m17(np.nan_to_num(s.joints2d[0]), name)
    perfect = Pose2DSeq(k17[None, None], np.ones((1, 1, 17)), (640, 425))
    rec = detection_scores(perfect, s)
    assert rec["set"] == name and rec["joints"] == 12 and rec["hits"] == 12  # the 12 limb joints
    k17[H["l_wrist"]] += 500
    assert detection_scores(Pose2DSeq(k17[None, None], np.ones((1, 1, 17)), (640, 425)), s)["hits"] == 11


def test_coco_file_errors(tmp_path):
    good = [(pose("crowdpose14"), np.full(14, 2))]
    people = read_coco_keypoints(write_coco(tmp_path / "ok.json", "crowdpose14", good))
    assert people[0]["layout"] == "crowdpose14" and people[0]["keypoints"].shape == (14, 2)

    def fails(path, match):
        with pytest.raises(InputError, match=match) as e:
            read_coco_keypoints(path)
        assert str(path) in str(e.value) and "\n" not in str(e.value)

    fails(write_coco(tmp_path / "nocat.json", "crowdpose14", good, categories=False), "missing field 'categories'")
    d = json.loads((tmp_path / "ok.json").read_text())
    d["categories"][0]["keypoints"] = FILE_NAMES["crowdpose14"][:13] + ["chin"]
    (tmp_path / "unknown.json").write_text(json.dumps(d))
    fails(tmp_path / "unknown.json", r"categories\[0\]\.keypoints: unknown keypoint names \['chin'\]")
    d["categories"][0]["keypoints"] = FILE_NAMES["crowdpose14"][::-1]
    (tmp_path / "order.json").write_text(json.dumps(d))
    fails(tmp_path / "order.json", "key-points of crowdpose14 in another order")
    d["categories"][0]["keypoints"] = FILE_NAMES["crowdpose14"]
    d["annotations"][0]["keypoints"] = d["annotations"][0]["keypoints"][:-3]  # 13 key-points
    (tmp_path / "short.json").write_text(json.dumps(d))
    fails(tmp_path / "short.json", r"'annotations\[0\]\.keypoints': expected shape \(42,\), got \(39,\) .*crowdpose14")


def test_halpe136_file_converts_as_halpe26(tmp_path):
    L = get_layout("halpe136")
    k = pose("halpe136")
    k[26:] += np.random.default_rng(0).uniform(-5, 5, (110, 2))  # face and hands somewhere
    people = []
    for i in range(3):  # three people: all labelled; head top and mid-hip unlabelled; a foot and a hand unlabelled
        vis = np.full(136, 2)
        if i == 1:
            vis[[L["head_top"], L["mid_hip"], L["nose"]]] = 0
        if i == 2:
            vis[[L["l_ankle"], L["l_heel"], L["l_big_toe"], *range(94, 115)]] = 0
        people.append((k + 7 * i, vis))
    full = read_coco_keypoints(write_coco(tmp_path / "halpe136.json", "halpe136", people))
    body = read_coco_keypoints(write_coco(tmp_path / "halpe26.json", "halpe26",
                                          [(kp[:26], v[:26]) for kp, v in people]))
    assert [p["layout"] for p in full] == ["halpe136"] * 3 and [p["layout"] for p in body] == ["halpe26"] * 3
    for f, b in zip(full, body):
        assert f["keypoints"].shape == (136, 2)
        np.testing.assert_array_equal(f["keypoints"][:26], b["keypoints"])
        k17, s17 = to_h36m17(f["keypoints"], "halpe136", (f["visibility"] > 0).astype(float))
        b17, bs17 = to_h36m17(b["keypoints"], "halpe26", (b["visibility"] > 0).astype(float))
        np.testing.assert_array_equal(k17, b17)
        np.testing.assert_array_equal(s17, bs17)
    assert full[2]["visibility"][94:115].sum() == 0 and (full[2]["visibility"][115:] == 2).all()
    # the same file written as result entries reads with the layout given
    res = [{"image_id": 1, "category_id": 1, "keypoints": np.c_[kp, np.full(136, 0.9)].ravel().tolist(), "score": 1}
           for kp, _ in people]
    (tmp_path / "res.json").write_text(json.dumps(res))
    out = read_coco_results(tmp_path / "res.json", "halpe136")
    np.testing.assert_allclose(to_h36m17(out[1][0][0], "halpe136")[0], to_h36m17(k[:26], "halpe26")[0])


def test_coco_results_of_another_set(tmp_path):
    k = pose("aic14")
    res = [{"image_id": 3, "category_id": 1, "keypoints": np.c_[k, np.full(14, 0.8)].ravel().tolist(), "score": 1}]
    f = tmp_path / "res.json"
    f.write_text(json.dumps(res))
    out = read_coco_results(f, "aic14")
    np.testing.assert_allclose(out[3][0][0], k)
    np.testing.assert_allclose(out[3][0][1], 0.8)
    assert read_coco_results(f, get_layout("crowdpose14"))[3][0][0].shape == (14, 2)
    with pytest.raises(InputError, match=r"expected shape \(51,\), got \(42,\) .*coco17"):
        read_coco_results(f)  # coco17 by default
    with pytest.raises(InputError, match="unknown skeleton layout"):
        read_coco_results(f, "aic")
