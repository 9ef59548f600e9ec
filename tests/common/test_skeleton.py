"""Layouts, flips and layout conversions; the conversions are checked on the real annotated files."""
import glob

import numpy as np
import pytest
from real_data import need

from common.errors import InputError
from common.skeleton import H36M17, LAYOUTS, NTU25, PENN13, flip, from_h36m17, get_layout, to_h36m17

H = H36M17.index
LIMBS = ["r_hip", "r_knee", "r_ankle", "l_hip", "l_knee", "l_ankle", "l_shoulder", "l_elbow", "l_wrist",
         "r_shoulder", "r_elbow", "r_wrist"]
LIMB_IDX = [H[n] for n in LIMBS]



# ------------------------------------------------------------------------------------------------ layouts
@pytest.mark.parametrize("name", sorted(LAYOUTS))
def test_layout_well_formed(name):
    L = get_layout(name)
    assert L.name == name and len(set(L.names)) == L.n_joints == len(L.parents)
    order = L.topo_order
    assert sorted(order) == list(range(L.n_joints))
    seen = set()
    for j in order:  # parents precede children
        assert L.parents[j] == -1 or L.parents[j] in seen
        seen.add(j)
    # the dataset orders of MPII, Kinect, CrowdPose and AI Challenger list some children first
    if name not in ("mpii16", "ntu25", "utd20", "crowdpose14", "aic14"):
        assert all(p < c for p, c in L.edges)
    sided = [n for n in L.names if n.startswith(("l_", "r_"))]
    assert len(L.flip_pairs) * 2 == len(sided)
    for a, b in L.flip_pairs:
        assert L.names[a][2:] == L.names[b][2:] and {L.names[a][:2], L.names[b][:2]} == {"l_", "r_"}


def test_get_layout_unknown():
    with pytest.raises(InputError, match="known"):
        get_layout("nope")


@pytest.mark.parametrize("name", sorted(LAYOUTS))
@pytest.mark.parametrize("dim", [2, 3])
def test_flip_twice_is_identity_and_commutes_with_conversion(name, dim):
    L = get_layout(name)
    rng = np.random.default_rng(0)
    kps = rng.uniform(0, 100, (4, 3, L.n_joints, dim))
    width = 100.0 if dim == 2 else None
    np.testing.assert_allclose(flip(flip(kps, L, width), L, width), kps)
    flipped = flip(kps, L, width)
    assert not np.allclose(flipped, kps)
    # mirroring then converting = converting then mirroring (the rules are left/right symmetric)
    a, sa = to_h36m17(flip(kps, L, width), L)
    b, sb = to_h36m17(kps, L)
    np.testing.assert_allclose(a, flip(b, H36M17, width) * (sb[..., None] > 0), atol=1e-9)


def test_flip_pixels():
    k = np.zeros((17, 2))
    k[H["l_wrist"]] = (10, 5)
    f = flip(k, "h36m17", width=640)
    np.testing.assert_allclose(f[H["r_wrist"]], (630, 5))


def test_conversion_shapes_scores_and_errors():
    kps = np.random.default_rng(1).normal(size=(2, 5, 17, 2))
    for name in LAYOUTS:
        out, s = from_h36m17(kps, name)
        assert out.shape == (2, 5, get_layout(name).n_joints, 2) and s.shape == out.shape[:-1]
        back, bs = to_h36m17(out, name, s)
        assert back.shape == kps.shape and bs.shape == kps.shape[:-1]
        # every shared limb joint survives the round trip
        np.testing.assert_allclose(back[..., LIMB_IDX, :], kps[..., LIMB_IDX, :])
    coco, s = from_h36m17(kps, "coco17")
    assert (s[..., 1:5] == 0).all() and (coco[..., 1:5, :] == 0).all()  # eyes and ears cannot be derived
    sc = np.ones((2, 5, 17))
    sc[..., 11] = 0.0  # coco left hip unseen -> pelvis and spine unseen
    k17, s17 = to_h36m17(np.zeros((2, 5, 17, 3)), "coco17", sc)
    assert (s17[..., H["pelvis"]] == 0).all() and (s17[..., H["spine"]] == 0).all()
    assert (s17[..., H["thorax"]] == 1).all()
    with pytest.raises(InputError, match="coco17"):
        to_h36m17(np.zeros((4, 16, 2)), "coco17")
    with pytest.raises(InputError, match="scores"):
        to_h36m17(np.zeros((4, 17, 2)), "coco17", np.ones(4))


def test_coco_face_fallbacks():
    k = np.zeros((17, 2))
    k[[5, 6]] = (0, 10), (10, 10)  # shoulders
    k[[3, 4]] = (2, 0), (8, 0)  # ears
    s = np.ones(17)
    s[0] = 0  # nose unseen -> mid-ears
    k17, s17 = to_h36m17(k, "coco17", s)
    np.testing.assert_allclose(k17[H["neck"]], (5, 0))
    np.testing.assert_allclose(k17[H["head"]], (5, -4))  # 0.4 * (mid-ears - mid-shoulders) above
    assert s17[H["neck"]] == 1


# ------------------------------------------------------------------------------------------------ real data
def test_coco_round_trip_on_annotations():
    from common.readers import read_coco_keypoints
    people = read_coco_keypoints(need("images", "coco", "test_coco.json"))
    shared_joints = [i for i, n in enumerate(get_layout("coco17").names) if n == "nose" or n in H]
    n_checked = 0
    for p in people:
        vis = (p["visibility"] > 0).astype(float)
        k17, s17 = to_h36m17(p["keypoints"], "coco17", vis)
        back, bs = from_h36m17(k17, "coco17", s17)
        m = [i for i in shared_joints if vis[i] > 0]
        np.testing.assert_array_equal(back[m], p["keypoints"][m])
        assert (bs[m] > 0).all()
        n_checked += len(m)
        if vis[[5, 6, 11, 12]].all():  # pelvis and thorax are mid-hips and mid-shoulders
            np.testing.assert_allclose(k17[H["pelvis"]], p["keypoints"][[11, 12]].mean(0))
            np.testing.assert_allclose(k17[H["thorax"]], p["keypoints"][[5, 6]].mean(0))
    assert n_checked > 120


def test_coco_to_h36m_on_human36m_frames():
    """The 4 Human3.6M frames: ``h36m_coco.json`` turned out to hold the h36m17 joints (not COCO-17), equal to
    ``part`` of test_h36m_body3d.npz. A COCO-17 person is built from its limb joints and nose (H36M joint 9);
    converted back, limbs land exactly, the pelvis within 1 px, thorax and spine (mid-shoulders, midpoint)
    within 0.25 torso lengths (pelvis-thorax) of the annotation (H36M's thorax is 4-8 cm above the shoulder
    line), the head top within 0.35 torso lengths."""
    from common.readers import read_h36m_coco_json, read_h36m_npz
    ann = read_h36m_npz(need("h36m", "test_h36m_body3d.npz"))["kps2d"]
    js = read_h36m_coco_json(need("h36m", "h36m_coco.json"))["kps2d"]
    np.testing.assert_allclose(js, ann)
    coco = np.zeros((4, 17, 2))
    names = get_layout("coco17").names
    for i, n in enumerate(names):
        if n in H:
            coco[:, i] = js[:, H[n]]
    coco[:, 0] = js[:, H["neck"]]
    vis = np.ones((4, 17))
    vis[:, 1:5] = 0  # no eyes or ears
    k17, s17 = to_h36m17(coco, "coco17", vis)
    err = np.linalg.norm(k17 - ann, axis=-1)
    torso = np.linalg.norm(ann[:, H["thorax"]] - ann[:, H["pelvis"]], axis=-1)[:, None]
    assert err[:, LIMB_IDX].max() < 1e-9
    assert err[:, H["pelvis"]].max() < 1.0
    assert (err[:, [H["thorax"], H["spine"]]] / torso).max() < 0.25
    assert (err[:, H["head"]] / torso[:, 0]).max() < 0.35
    assert (s17 > 0).all()


def test_mpii_round_trip_and_sides():
    from common.readers import read_mpii_json
    people = read_mpii_json(need("images", "mpii", "test_mpii.json"))
    ratios = []
    for p in people:
        vis = p["visibility"].astype(float)
        k17, s17 = to_h36m17(p["joints"], "mpii16", vis)
        back, bs = from_h36m17(k17, "mpii16", s17)
        np.testing.assert_allclose(back[vis > 0], p["joints"][vis > 0], atol=1e-9)
        # left/right agree between shoulders and hips, and neck (nose level) lies between thorax and head top
        assert np.dot(k17[H["l_shoulder"]] - k17[H["r_shoulder"]], k17[H["l_hip"]] - k17[H["r_hip"]]) > 0
        t, n, h = k17[H["thorax"]], k17[H["neck"]], k17[H["head"]]
        assert np.linalg.norm(n - t) < np.linalg.norm(h - t)
        ratios.append(_lr_log_ratios(k17[None], s17[None]))
    # 2D bone lengths foreshorten (5 people only), but left and right limbs are alike within 1.5x on the whole
    assert abs(np.median(np.concatenate(ratios))) < np.log(1.5)


def _lr_log_ratios(k17, s17):
    """log(left / right) bone lengths (upper arm, forearm, thigh, shin) where all four joints are seen."""
    out = []
    for a, b in (("shoulder", "elbow"), ("elbow", "wrist"), ("hip", "knee"), ("knee", "ankle")):
        ls = np.linalg.norm(k17[:, H["l_" + a]] - k17[:, H["l_" + b]], axis=-1)
        rs = np.linalg.norm(k17[:, H["r_" + a]] - k17[:, H["r_" + b]], axis=-1)
        ok = (s17[:, [H["l_" + a], H["l_" + b], H["r_" + a], H["r_" + b]]] > 0).all(1) & (ls > 0) & (rs > 0)
        out.append(np.log(ls[ok] / rs[ok]))
    return np.concatenate(out)


def test_penn_sides_and_bones():
    """Penn Action lists right before left (see PENN13): the person's left shoulder is on the image right in
    front views and on the image left in back views, across the 1258 train sequences."""
    from common.readers import read_penn_mat
    files = sorted(glob.glob(str(need("penn_action", "train") / "*.mat")))
    if not files:
        pytest.skip("no Penn Action .mat files")
    votes, ratios = {"front": [], "back": []}, []
    for f in files[::4]:
        m = read_penn_mat(f)
        k17, s17 = to_h36m17(m["keypoints"], PENN13, m["visibility"].astype(float))
        if m["pose"] in votes:
            ok = (s17[:, H["l_shoulder"]] > 0) & (s17[:, H["r_shoulder"]] > 0)
            if ok.any():
                votes[m["pose"]].append(np.mean(k17[ok, H["l_shoulder"], 0] > k17[ok, H["r_shoulder"], 0]))
        r = _lr_log_ratios(k17, s17)
        if r.size:
            ratios.append(np.median(r))
    assert np.mean(np.array(votes["front"]) > 0.5) > 0.85
    assert np.mean(np.array(votes["back"]) < 0.5) > 0.65
    assert abs(np.median(ratios)) < 0.1 and np.mean(np.abs(ratios) < 0.4) > 0.9


def test_ntu_sides_and_bones():
    """Kinect joints are the person's: from the 3D joints, the left shoulder and hip lie on the side of
    up x forward (forward = the feet, ankle -> foot; Kinect camera space is right-handed). The colour
    coordinates convert with the same sides; the colour video is a mirror image, so the person, facing the
    camera, has the left shoulder on the image left."""
    from common.readers import read_ntu_skeleton
    r = read_ntu_skeleton(need("ntu", "S001C001P001R001A001.skeleton"))
    J, C = r["joints"][0], r["color"][0]
    k3, s3 = to_h36m17(J, NTU25, (r["tracking"][0] > 0).astype(float))
    k2, _ = to_h36m17(C, NTU25)
    n = NTU25.index
    up = k3[:, H["thorax"]] - k3[:, H["pelvis"]]
    fwd = J[:, n["l_foot"]] - J[:, n["l_ankle"]] + J[:, n["r_foot"]] - J[:, n["r_ankle"]]
    left = np.cross(up, fwd)
    for a in ("shoulder", "hip"):
        assert np.mean(np.sum((k3[:, H["l_" + a]] - k3[:, H["r_" + a]]) * left, -1) > 0) > 0.95
        assert np.mean(k2[:, H["l_" + a], 0] < k2[:, H["r_" + a], 0]) > 0.95
    assert np.median(fwd[:, 2]) < 0  # facing the camera
    assert np.all(np.abs(np.median(_lr_log_ratios(k3, s3))) < 0.2)
    bones = np.linalg.norm(k3[:, [c for _, c in H36M17.edges]] - k3[:, [p for p, _ in H36M17.edges]], axis=-1)
    assert np.all((0.04 < np.median(bones, 0)) & (np.median(bones, 0) < 0.5))
    # head top above neck above thorax (y up in Kinect camera space)
    assert np.all(k3[:, H["head"], 1] > k3[:, H["neck"], 1]) and np.all(k3[:, H["neck"], 1] > k3[:, H["thorax"], 1])
