"""Any humanoid rig to h36m17 by joint names: naming conventions, the unit from the skeleton's size, the same
answer as the exact known formats, every shared BVH source, and one-line errors."""
import glob
import re

import numpy as np
import pytest

from common.bvh import BVH_FORMATS, bvh_rig, detect_format, load_bvh_h36m17, read_bvh
from common.errors import InputError
from common.mocap import place_on_floor
from common.paths import shared
from common.rig import RigMotion, infer_unit, name_words, place_joints, rig_to_h36m17
from common.skeleton import H36M17

H = H36M17.index


@pytest.mark.parametrize("name,expected", [
    ("LeftUpLeg", ("l", "upleg")), ("mixamorig:RightForeArm", ("r", "forearm")), ("CC_Base_L_Thigh", ("l", "thigh")),
    ("thigh_l", ("l", "thigh")), ("DEF-upper_arm.L", ("l", "upperarm")), ("Bip01 R Calf", ("r", "calf")),
    ("lfemur", ("l", "femur")), ("rradius", ("r", "radius")), ("LHipJoint", ("l", "hipjoint")),
    ("lowerback", (None, "lowerback")), ("Spine1", (None, "spine")), ("HeadTop_End", (None, "headtopend")),
    ("Character1_LeftHand", ("l", "hand")), ("LEFTUPLEG", ("l", "upleg")), ("right_knee", ("r", "knee")),
    ("UpperArm_L", ("l", "upperarm")), ("LUArm", ("l", "uarm")), ("RFArm", ("r", "farm")), ("LShin", ("l", "shin")),
    ("CC_Base_R_ThighTwist01", ("r", "thightwist")), ("hand.R", ("r", "hand")),
])
def test_name_words(name, expected):
    assert name_words(name) == expected


#: (convention, joint (name, parent) list, expected rig joint of each placed h36m17 joint)
RIGS = {
    "mixamo": ([("mixamorig:Hips", None), ("mixamorig:Spine", "mixamorig:Hips"),
                ("mixamorig:Spine1", "mixamorig:Spine"), ("mixamorig:Spine2", "mixamorig:Spine1"),
                ("mixamorig:Neck", "mixamorig:Spine2"),
                ("mixamorig:Head", "mixamorig:Neck"), ("mixamorig:HeadTop_End", "mixamorig:Head")]
               + [(f"mixamorig:{S}{j}", f"mixamorig:{S}{p}" if p else "mixamorig:Spine2") for S in ("Left", "Right")
                  for j, p in (("Shoulder", None), ("Arm", "Shoulder"), ("ForeArm", "Arm"), ("Hand", "ForeArm"))]
               + [(f"mixamorig:{S}{j}", f"mixamorig:{S}{p}" if p else "mixamorig:Hips") for S in ("Left", "Right")
                  for j, p in (("UpLeg", None), ("Leg", "UpLeg"), ("Foot", "Leg"), ("ToeBase", "Foot"))],
               {"l_hip": "mixamorig:LeftUpLeg", "l_knee": "mixamorig:LeftLeg", "r_ankle": "mixamorig:RightFoot",
                "l_shoulder": "mixamorig:LeftArm", "r_elbow": "mixamorig:RightForeArm", "l_wrist": "mixamorig:LeftHand",
                "head": "mixamorig:Head"}),
    "unreal": ([("root", None), ("pelvis", "root"), ("spine_01", "pelvis"), ("spine_02", "spine_01"),
                ("neck_01", "spine_02"), ("head", "neck_01")]
               + [(f"{j}_{s}", f"{p}_{s}" if p else "spine_02") for s in "lr" for j, p in
                  (("clavicle", None), ("upperarm", "clavicle"), ("lowerarm", "upperarm"), ("hand", "lowerarm"),
                   ("upperarm_twist_01", "upperarm"))]
               + [(f"{j}_{s}", f"{p}_{s}" if p else "pelvis") for s in "lr" for j, p in
                  (("thigh", None), ("calf", "thigh"), ("foot", "calf"), ("ball", "foot"),
                   ("thigh_twist_01", "thigh"))],
               {"l_hip": "thigh_l", "r_knee": "calf_r", "l_ankle": "foot_l", "r_shoulder": "upperarm_r",
                "l_elbow": "lowerarm_l", "r_wrist": "hand_r", "head": "head"}),
    "biped": ([("Bip01", None), ("Bip01 Pelvis", "Bip01"), ("Bip01 Spine", "Bip01 Pelvis"),
               ("Bip01 Neck", "Bip01 Spine"), ("Bip01 Head", "Bip01 Neck")]
              + [(f"Bip01 {s} {j}", f"Bip01 {s} {p}" if p else "Bip01 Neck") for s in "LR" for j, p in
                 (("Clavicle", None), ("UpperArm", "Clavicle"), ("Forearm", "UpperArm"), ("Hand", "Forearm"))]
              + [(f"Bip01 {s} {j}", f"Bip01 {s} {p}" if p else "Bip01 Pelvis") for s in "LR" for j, p in
                 (("Thigh", None), ("Calf", "Thigh"), ("Foot", "Calf"), ("Toe0", "Foot"))],
              {"l_hip": "Bip01 L Thigh", "r_knee": "Bip01 R Calf", "l_shoulder": "Bip01 L UpperArm",
               "r_wrist": "Bip01 R Hand", "head": "Bip01 Head"}),
    "optitrack": ([("Hip", None), ("Ab", "Hip"), ("Chest", "Ab"), ("Neck", "Chest"), ("Head", "Neck")]
                  + [(f"{s}{j}", f"{s}{p}" if p else "Chest") for s in "LR" for j, p in
                     (("Shoulder", None), ("UArm", "Shoulder"), ("FArm", "UArm"), ("Hand", "FArm"))]
                  + [(f"{s}{j}", f"{s}{p}" if p else "Hip") for s in "LR" for j, p in
                     (("Thigh", None), ("Shin", "Thigh"), ("Foot", "Shin"), ("Toe", "Foot"))],
                  {"l_hip": "LThigh", "r_knee": "RShin", "l_shoulder": "LUArm", "r_elbow": "RFArm", "l_wrist": "LHand",
                   "head": "Head"}),
    "xsens": ([("Pelvis", None), ("L5", "Pelvis"), ("L3", "L5"), ("T12", "L3"), ("T8", "T12"), ("Neck", "T8"),
               ("Head", "Neck")]
              + [(f"{S}{j}", f"{S}{p}" if p else "T8") for S in ("Left", "Right") for j, p in
                 (("Shoulder", None), ("UpperArm", "Shoulder"), ("ForeArm", "UpperArm"), ("Hand", "ForeArm"))]
              + [(f"{S}{j}", f"{S}{p}" if p else "Pelvis") for S in ("Left", "Right") for j, p in
                 (("UpperLeg", None), ("LowerLeg", "UpperLeg"), ("Foot", "LowerLeg"), ("Toe", "Foot"))],
              {"l_hip": "LeftUpperLeg", "r_knee": "RightLowerLeg", "l_shoulder": "LeftUpperArm", "r_wrist": "RightHand",
               "head": "Head"}),
    "acclaim": ([("root", None), ("lowerback", "root"), ("upperback", "lowerback"), ("thorax", "upperback"),
                 ("lowerneck", "thorax"), ("upperneck", "lowerneck"), ("head", "upperneck")]
                + [(f"{s}{j}", f"{s}{p}" if p else "thorax") for s in "lr" for j, p in
                   (("clavicle", None), ("humerus", "clavicle"), ("radius", "humerus"), ("wrist", "radius"),
                    ("hand", "wrist"))]
                + [(f"{s}{j}", f"{s}{p}" if p else "root") for s in "lr" for j, p in
                   (("hipjoint", None), ("femur", "hipjoint"), ("tibia", "femur"), ("foot", "tibia"))],
                {"l_hip": "lfemur", "l_knee": "ltibia", "l_ankle": "lfoot", "r_shoulder": "rhumerus",
                 "r_elbow": "rradius", "l_wrist": "lwrist", "head": "head"}),
}


def _tree(joints):
    names = [n for n, _ in joints]
    return names, [-1 if p is None else names.index(p) for _, p in joints]


@pytest.mark.parametrize("rig", sorted(RIGS))
def test_common_conventions_are_placed_by_name(rig):
    joints, expected = RIGS[rig]
    names, parents = _tree(joints)
    placed = place_joints(names, parents)
    assert len(placed) == 13
    for k, v in expected.items():
        assert names[placed[k]] == v, k


def test_errors_name_the_joints_not_placed():
    names, parents = _tree([("Hips", None), ("Spine", "Hips"), ("Head", "Spine")]
                           + [(f"{S}{j}", f"{S}{p}" if p else "Spine") for S in ("Left", "Right")
                              for j, p in (("Arm", None), ("ForeArm", "Arm"), ("Hand", "ForeArm"))])
    with pytest.raises(InputError, match=r"cannot place h36m17 joint\(s\) l_hip, l_knee, l_ankle, r_hip.*upleg") as e:
        place_joints(names, parents, "legless.bvh")
    assert "\n" not in str(e.value) and "legless.bvh" in str(e.value)
    names, parents = _tree(RIGS["mixamo"][0][:7] + [("mixamorig:LeftHand", "mixamorig:Spine2"),
                                                    ("mixamorig:LeftForeArm", "mixamorig:LeftHand"),
                                                    ("mixamorig:LeftArm", "mixamorig:LeftForeArm")]
                           + RIGS["mixamo"][0][11:])
    with pytest.raises(InputError, match="LeftForeArm .*does not hang below mixamorig:LeftArm"):
        place_joints(names, parents)


def test_thorax_is_on_the_spine_at_shoulder_level_and_head_top_fallback():
    names, parents = _tree(RIGS["unreal"][0])
    X = np.zeros((1, len(names), 3))
    pos = {"pelvis": (0, 0, 1.0), "spine_01": (0, 0, 1.1), "spine_02": (0, 0, 1.3), "neck_01": (0, 0, 1.5),
           "head": (0, 0, 1.55), "upperarm_l": (-0.2, 0, 1.45), "upperarm_r": (0.2, 0, 1.45),
           "thigh_l": (-0.1, 0, 0.95), "thigh_r": (0.1, 0, 0.93)}
    for n, p in pos.items():
        X[0, names.index(n)] = p
    k = rig_to_h36m17(RigMotion("u", tuple(names), tuple(parents), X, 30.0))
    assert np.allclose(k[0, H["thorax"]], (0, 0, 1.45))  # the spine point nearest mid-shoulders
    assert np.allclose(k[0, H["pelvis"]], (0, 0, 0.94)) and np.allclose(k[0, H["spine"]], (0, 0, 1.195))
    assert np.allclose(k[0, H["head"]], (0, 0, 1.45 + 0.245)) and np.allclose(k[0, H["neck"]], (0, 0, 1.6225))
    top = np.array([[0.0, 0.05, 1.8]])
    k = rig_to_h36m17(RigMotion("u", tuple(names), tuple(parents), X, 30.0, head_top=top))
    assert np.allclose(k[0, H["head"]], top[0]) and np.allclose(k[0, H["neck"]], (0, 0.025, 1.675))
    with pytest.raises(InputError, match="non-finite"):
        rig_to_h36m17(RigMotion("u", tuple(names), tuple(parents), X * np.nan, 30.0))


# ------------------------------------------------------------------------------------------------ real files
def need_files(source):
    files = sorted(glob.glob(str(shared("mocap", source, "*.bvh"))))
    if not files:
        pytest.skip(f"real data ../shared/data/mocap/{source} not present")
    return files


#: the CMU cgspeed joint names -> the other common CMU conversion (Mixamo-style names), as in the issue
CMU_AS_MIXAMO = {"LeftHip": "LeftUpLeg", "LeftKnee": "LeftLeg", "LeftAnkle": "LeftFoot", "LeftToe": "LeftToeBase",
                 "lowerback": "LowerBack", "Chest": "Spine", "Chest2": "Spine1", "lowerneck": "Neck", "Neck": "Neck1",
                 "LeftCollar": "LeftShoulder", "LeftShoulder": "LeftArm", "LeftElbow": "LeftForeArm",
                 "LeftWrist": "LeftHand", "lhand": "LeftFingerBase", "LFingers": "LeftHandIndex1"}
CMU_AS_MIXAMO.update({k.replace("Left", "Right").replace("lhand", "rhand").replace("LFingers", "RFingers"):
                      v.replace("Left", "Right") for k, v in CMU_AS_MIXAMO.items() if "Left" in k + v})


def _renamed(path, tmp_path, mapping, scale=1.0, prefix=""):
    """The BVH at ``path`` with its joints renamed and its lengths (offsets, root positions) times ``scale``."""
    lines, out, motion = open(path).read().splitlines(), [], False
    for line in lines:
        m = re.match(r"(\s*)(ROOT|JOINT)\s+(\S+)", line)
        if m:
            line = f"{m.group(1)}{m.group(2)} {prefix}{mapping.get(m.group(3), m.group(3))}"
        elif re.match(r"\s*OFFSET", line):
            line = "OFFSET " + " ".join(f"{float(v) * scale:.6f}" for v in line.split()[1:])
        elif motion and line and line[0] not in "FM":
            v = line.split()
            line = " ".join([f"{float(x) * scale:.6f}" for x in v[:3]] + v[3:])
        motion = motion or line.strip() == "MOTION"
        out.append(line)
    p = tmp_path / f"renamed_{scale}.bvh"
    p.write_text("\n".join(out) + "\n")
    return p


@pytest.mark.parametrize("scale,unit", [(1.0, "cmu"), (0.0254 / 0.45 / 0.01, "cm"), (1 / 0.45, "inch")])
def test_other_cmu_conversion_gives_the_exact_cgspeed_answer(tmp_path, scale, unit):
    """The issue's file: CMU in Mixamo-style names (LeftUpLeg, Spine1, Neck1, ...), in CMU units, centimetres or
    inches, is no known format, yet maps to the same h36m17 joints as the cgspeed file (exact format)."""
    src = need_files("cmu")[0]
    p = _renamed(src, tmp_path, CMU_AS_MIXAMO, scale, prefix="mixamorig:")
    bvh = read_bvh(p)
    assert detect_format(bvh) is None and infer_unit(bvh.names, list(bvh.parents), bvh.offsets)[0] == unit
    exact, fps = load_bvh_h36m17(src)
    generic, fps2 = load_bvh_h36m17(p)
    assert fps == fps2 and np.abs(generic - exact).max() < 1e-4


@pytest.mark.parametrize("source,unit,leg", [("bandai", "cm", 0.80), ("bandai2", "cm", 0.80), ("cmu", "cmu", 0.80),
                                             ("cmu_iclone", "cm", 0.97), ("pymo", "inch", 0.82)])
def test_every_shared_bvh_source(source, unit, leg):
    """Every shared BVH source maps: the unit inferred from the skeleton is the file's, legs of a grown-up, head top
    1.35-2.0 m up, ankles near the floor, the person's left on the left (forward = ankle -> toe)."""
    for f in need_files(source)[:6]:
        bvh = read_bvh(f)
        names, parents = bvh.names, list(bvh.parents)
        assert infer_unit(names, parents, bvh.offsets)[0] == unit
        rig = bvh_rig(bvh)
        k = place_on_floor(rig_to_h36m17(rig))
        assert k.shape == (bvh.n_frames, 17, 3) and np.isfinite(k).all()
        legs = np.linalg.norm(k[:, H["l_hip"]] - k[:, H["l_knee"]], axis=-1) + \
            np.linalg.norm(k[:, H["l_knee"]] - k[:, H["l_ankle"]], axis=-1)
        assert abs(np.median(legs) - leg) < 0.02
        ankle = np.minimum(k[:, H["l_ankle"], 2], k[:, H["r_ankle"], 2])
        assert abs(np.percentile(ankle, 5) - 0.1) < 1e-6 and np.percentile(ankle, 50) < 0.3
        assert 1.35 < np.percentile(k[:, H["head"], 2] - ankle, 95) < 2.0
        toes = {s: [i for i, n in enumerate(names) if name_words(n)[0] == s and "toe" in name_words(n)[1]][0]
                for s in "lr"}
        fwd = (0.5 * (rig.joints[:, toes["l"]] + rig.joints[:, toes["r"]])
               - 0.5 * (k[:, H["l_ankle"]] + k[:, H["r_ankle"]]))
        left = np.cross([0.0, 0.0, 1.0], fwd)
        for a in ("hip", "shoulder"):
            assert np.median(np.sum((k[:, H["l_" + a]] - k[:, H["r_" + a]]) * left, -1)) > 0, (f, a)


def test_known_formats_keep_their_fixed_units():
    for source, key in (("bandai", "bandai22"), ("cmu", "cmu31")):
        bvh = read_bvh(need_files(source)[0])
        assert detect_format(bvh) == key
        rig = bvh_rig(bvh)
        hip = [i for i, n in enumerate(bvh.names) if name_words(n) in (("l", "upperleg"), ("l", "hip"))][0]
        knee = [i for i, n in enumerate(bvh.names) if name_words(n) in (("l", "lowerleg"), ("l", "knee"))][0]
        thigh = np.linalg.norm(rig.joints[0, knee] - rig.joints[0, hip])
        assert abs(thigh - np.linalg.norm(bvh.offsets[knee]) * BVH_FORMATS[key].unit) < 1e-9


def _z_up(path, tmp_path):
    """The y-up BVH at ``path`` rewritten z up (every point p -> Q p, Q: y -> z, z -> -y): offsets (x, y, z) ->
    (x, -z, y); Y/Z position and rotation channels trade names, the old Z ones negated (Q Rz(t) Q^T = Ry(-t))."""
    head, motion = open(path).read().split("MOTION")
    negate, col, out = [], 0, []
    for line in head.splitlines():
        words = line.split()
        if words[:1] == ["OFFSET"]:
            x, y, z = map(float, words[1:4])
            line = f"OFFSET {x:.6f} {-z:.6f} {y:.6f}"
        elif words[:1] == ["CHANNELS"]:
            names = []
            for ch in words[2:]:
                negate.append(ch[0] == "Z")
                names.append({"Y": "Z", "Z": "Y"}.get(ch[0], ch[0]) + ch[1:])
                col += 1
            line = f"CHANNELS {words[1]} " + " ".join(names)
        out.append(line)
    rows = motion.strip().splitlines()
    flip = np.where(negate, -1.0, 1.0)
    values = [" ".join(f"{v:.6f}" for v in np.array(r.split(), float) * flip) for r in rows[2:]]
    p = tmp_path / "z_up.bvh"
    p.write_text("\n".join(out) + "\nMOTION\n" + "\n".join(rows[:2] + values) + "\n")
    return p


def test_a_z_up_bvh_is_stood_up(tmp_path):
    src = need_files("pymo")[0]
    z_up = _z_up(src, tmp_path)
    assert read_bvh(z_up).offsets[2, 2] > 0  # the head is now along the file's z
    expected, _ = load_bvh_h36m17(src)
    got, _ = load_bvh_h36m17(z_up)
    assert np.abs(got - expected).max() < 1e-4
