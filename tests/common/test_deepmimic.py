"""DeepMimic reader: a tiny character and motion with known answers, the real clips, and every input error."""
import functools
import json
import math

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from common.deepmimic import (
    FILE_TO_WORLD,
    euler_to_matrix,
    find_character,
    forward_kinematics,
    is_deepmimic_motion,
    load_deepmimic,
    quaternion_to_matrix,
    read_character,
    read_motion,
    to_world,
)
from common.errors import InputError
from common.rig import RigMotion
from tests.real_data import need

S = math.sqrt(0.5)


def joint(name, jtype, parent, xyz=(0, 0, 0), theta=(0, 0, 0)):
    return {"Name": name, "Type": jtype, "Parent": parent, "AttachX": xyz[0], "AttachY": xyz[1], "AttachZ": xyz[2],
            "AttachThetaX": theta[0], "AttachThetaY": theta[1], "AttachThetaZ": theta[2]}


def sphere(name, xyz, diameter):
    return {"Name": name, "Shape": "sphere", "AttachX": xyz[0], "AttachY": xyz[1], "AttachZ": xyz[2],
            "Param0": diameter, "Param1": diameter, "Param2": diameter}


TINY_JOINTS = [joint("root", "none", -1), joint("chest", "spherical", 0, (0, 0.3, 0)),
               joint("neck", "spherical", 1, (0, 0.2, 0)), joint("right_hip", "spherical", 0, (0, 0, 0.1)),
               joint("right_knee", "revolute", 3, (0, -0.4, 0)), joint("right_ankle", "fixed", 4, (0, -0.4, 0))]
TINY_BODIES = [{"Shape": "null"}, sphere("chest", (0, 0.1, 0), 0.2), sphere("neck", (0, 0.1, 0), 0.2)]
ID = [1, 0, 0, 0]
# dt, root xyz, root wxyz, chest wxyz, neck wxyz, hip wxyz, knee angle (ankle: fixed, no value) = 21 values
TINY_FRAMES = [
    [0.05, 0, 0.9, 0, *ID, *ID, *ID, *ID, 0.0],
    [0.05, 1, 0.9, 2, S, 0, S, 0, *ID, *ID, *ID, -math.pi / 2],  # root turned 90 deg about up, knee bent 90 deg
    [0.0, 0, 0.9, 0, *ID, S, 0, 0, S, *ID, *ID, 0.0],  # chest turned 90 deg about the file z axis
]


def write_json(path, doc):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc))
    return path


@pytest.fixture
def tiny(tmp_path):
    char = write_json(tmp_path / "data" / "characters" / "humanoid3d.txt",
                      {"Skeleton": {"Joints": TINY_JOINTS}, "BodyDefs": TINY_BODIES})
    motion = write_json(tmp_path / "data" / "motions" / "sub" / "tiny.txt", {"Loop": "none", "Frames": TINY_FRAMES})
    return char, motion


def test_world_axes_are_a_proper_rotation():
    np.testing.assert_allclose(FILE_TO_WORLD @ FILE_TO_WORLD.T, np.eye(3))
    assert np.linalg.det(FILE_TO_WORLD) == pytest.approx(1.0)
    np.testing.assert_allclose(to_world([0, 1, 0]), [0, 0, 1])  # file y up -> world z up
    np.testing.assert_allclose(to_world([1, 0, 0]), [0, 1, 0])  # DeepMimic heading +x -> world forward +y


def test_rotation_conventions_match_scipy():
    rng = np.random.default_rng(0)
    theta = rng.uniform(-2, 2, (5, 3))
    np.testing.assert_allclose(euler_to_matrix(theta), Rotation.from_euler("xyz", theta).as_matrix(), atol=1e-12)
    q = rng.normal(size=(5, 4))
    q /= np.linalg.norm(q, axis=1, keepdims=True)
    np.testing.assert_allclose(quaternion_to_matrix(q), Rotation.from_quat(q[:, [1, 2, 3, 0]]).as_matrix(),
                               atol=1e-12)


def test_tiny_character_known_answer(tiny):
    char_path, motion_path = tiny
    ch = read_character(char_path)
    assert ch.names == ("root", "chest", "neck", "right_hip", "right_knee", "right_ankle")
    assert ch.parents == (-1, 0, 1, 0, 3, 4) and ch.n_values == 21
    assert ch.types[4] == "revolute" and ch.shapes[ch.head].joint == 2
    rig = load_deepmimic(motion_path)  # finds data/characters/humanoid3d.txt from data/motions/sub/
    assert isinstance(rig, RigMotion) and rig.names == ch.names and rig.parents == ch.parents
    assert rig.joints.shape == (3, 6, 3) and rig.fps == pytest.approx(20.0)  # the last frame's dt = 0 is ignored
    J = rig.joints
    # frame 0, rest pose: world = (z, x, y) of the file; the right hip on the person's right (+x, facing +y)
    np.testing.assert_allclose(J[0], [[0, 0, 0.9], [0, 0, 1.2], [0, 0, 1.4], [0.1, 0, 0.9], [0.1, 0, 0.5],
                                      [0.1, 0, 0.1]], atol=1e-12)
    np.testing.assert_allclose(rig.head_top[0], [0, 0, 1.6], atol=1e-12)  # centre 1.5 + radius 0.1
    # frame 1: root at file (1, 0.9, 2) turned 90 deg about up: the person faces world -x, its right is +y;
    # the knee bent by -90 deg about its z axis sends the shin backward, i.e. to world +x
    np.testing.assert_allclose(J[1, 0], [2, 1, 0.9], atol=1e-12)
    np.testing.assert_allclose(J[1, 3], [2, 1.1, 0.9], atol=1e-12)
    np.testing.assert_allclose(J[1, 4], [2, 1.1, 0.5], atol=1e-12)
    np.testing.assert_allclose(J[1, 5], [2.4, 1.1, 0.5], atol=1e-12)
    # frame 2: the chest turned 90 deg about file z tips the neck and the head (which follows it) to file -x
    np.testing.assert_allclose(J[2, 2], [0, -0.2, 1.2], atol=1e-12)
    np.testing.assert_allclose(rig.head_top[2], [0, -0.4, 1.2], atol=1e-12)


def test_quaternions_are_normalised_and_attach_rotation_applies(tmp_path):
    joints = [joint("root", "none", -1), joint("arm", "spherical", 0, (0, 0.5, 0), theta=(0, 0, math.pi / 2)),
              joint("hand", "fixed", 1, (0, 1, 0))]
    char = write_json(tmp_path / "c.txt", {"Skeleton": {"Joints": joints}})
    motion = write_json(tmp_path / "m.txt", {"Frames": [[0.1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0]]})
    rig = load_deepmimic(motion, char)
    # the arm's frame is turned 90 deg about z by AttachThetaZ, so the hand's +y offset points along file -x
    np.testing.assert_allclose(rig.joints[0, 2], to_world([-1, 0.5, 0]), atol=1e-12)
    assert rig.fps == pytest.approx(10.0) and rig.head_top is None


def test_prismatic_and_planar_joints(tmp_path):
    joints = [joint("root", "none", -1), joint("slide", "prismatic", 0, (0, 1, 0)),
              joint("plane", "planar", 1, (0, 0, 0)), joint("tip", "fixed", 2, (1, 0, 0))]
    char = read_character(write_json(tmp_path / "c.txt", {"Skeleton": {"Joints": joints}}))
    assert char.n_values == 1 + 7 + 1 + 3
    m = read_motion(write_json(tmp_path / "m.txt", {"Frames": [[0.1, 0, 0, 0, *ID, 0.5, 0.2, 0.3, math.pi / 2]]}),
                    char)
    pos, _ = forward_kinematics(char, m)
    np.testing.assert_allclose(pos[0], [[0, 0, 0], [0.5, 1, 0], [0.5 - 0.3, 1 + 0.2, 0], [0.2, 2.2, 0]],
                               atol=1e-12)


def test_is_deepmimic_motion(tiny, tmp_path):
    char, motion = tiny
    assert is_deepmimic_motion(motion)
    assert not is_deepmimic_motion(char)
    (tmp_path / "notes.txt").write_text("hello {\"Frames\": []}")
    (tmp_path / "list.txt").write_text("[1, 2]")
    (tmp_path / "broken.txt").write_text("{\"Frames\": [")
    write_json(tmp_path / "m.json", {"Frames": []})
    for name in ("notes.txt", "list.txt", "broken.txt", "m.json", "missing.txt"):
        assert not is_deepmimic_motion(tmp_path / name), name


def test_find_character_single_other_name(tmp_path):
    c = write_json(tmp_path / "characters" / "dog3d.txt", {"Skeleton": {"Joints": TINY_JOINTS}})
    (tmp_path / "characters" / "readme.txt").write_text("not a character")
    assert find_character(tmp_path / "motions" / "a" / "m.txt") == c


# ---------------------------------------------------------------- errors


def assert_error(match, fn, *args):
    with pytest.raises(InputError, match=match) as e:
        fn(*args)
    assert "\n" not in str(e.value)
    return str(e.value)


@pytest.mark.parametrize("content, match", [
    ("not json at all", "not JSON"),
    (json.dumps({"Loop": "wrap"}), "no 'Frames'"),
    (json.dumps({"Skeleton": {"Joints": TINY_JOINTS}}), "no 'Frames'.*character file"),
    (json.dumps({"Frames": []}), "no frames"),
    (json.dumps({"Frames": [TINY_FRAMES[0][:-1]]}), "frame 0 has 20 values, expected 21"),
    (json.dumps({"Frames": [TINY_FRAMES[0], TINY_FRAMES[1] + [0.0]]}), "frame 1 has 22 values, expected 21"),
    (json.dumps({"Frames": [TINY_FRAMES[0][:4] + [float("nan")] + TINY_FRAMES[0][5:]]}), "NaN or infinite"),
    (json.dumps({"Frames": [TINY_FRAMES[0][:2] + [float("inf")] + TINY_FRAMES[0][3:]]}), "NaN or infinite"),
    (json.dumps({"Frames": [TINY_FRAMES[0][:4] + ["x"] + TINY_FRAMES[0][5:]]}), "not a number"),
    (json.dumps({"Frames": [TINY_FRAMES[0][:8] + [0, 0, 0, 0] + TINY_FRAMES[0][12:]]}), "zero quaternion.*chest"),
    (json.dumps({"Frames": [[0.0] + TINY_FRAMES[0][1:]]}), "no positive frame duration"),
    (json.dumps({"Frames": [[-0.1] + TINY_FRAMES[0][1:]]}), "frame 0 has a negative duration"),
    (json.dumps({"Frames": [TINY_FRAMES[0], 3.0]}), "frame 1 has float, expected 21"),
])
def test_motion_errors(tiny, content, match):
    char, motion = tiny
    motion.write_text(content)
    msg = assert_error(match, load_deepmimic, motion, char)
    assert str(motion) in msg


def test_wrong_count_names_the_character(tiny):
    char, motion = tiny
    motion.write_text(json.dumps({"Frames": [TINY_FRAMES[0][:-1]]}))
    assert str(char) in assert_error("expected 21", load_deepmimic, motion, char)


def test_missing_character_and_files(tmp_path):
    motion = write_json(tmp_path / "alone" / "m.txt", {"Frames": TINY_FRAMES})
    assert_error("no DeepMimic character file found.*pass character_path", load_deepmimic, motion)
    assert_error("motion file not found", load_deepmimic, tmp_path / "nope.txt", write_json(
        tmp_path / "c.txt", {"Skeleton": {"Joints": TINY_JOINTS}}))
    assert_error("character file not found", load_deepmimic, motion, tmp_path / "nochar.txt")


@pytest.mark.parametrize("doc, match", [
    ({"Skeleton": {"Joints": []}}, "no joints"),
    ({"Frames": TINY_FRAMES}, "no joints"),
    ({"Skeleton": {"Joints": [joint("root", "none", -1), joint("a", "ball", 0)]}}, "Type 'ball'"),
    ({"Skeleton": {"Joints": [joint("root", "none", -1), joint("a", "fixed", 1)]}}, "Parent 1"),
    ({"Skeleton": {"Joints": [joint("root", "none", -1), joint("a", "fixed", 0, ("x", 0, 0))]}}, "numbers"),
])
def test_character_errors(tmp_path, doc, match):
    char = write_json(tmp_path / "c.txt", doc)
    assert str(char) in assert_error(match, read_character, char)


def test_character_not_json(tmp_path):
    char = tmp_path / "c.txt"
    char.write_text("{ oops")
    assert_error("character file is not JSON", read_character, char)


# ---------------------------------------------------------------- real clips

WALKING = ("walk", "run", "jog")  # clip names of upright locomotion (feet on the floor, facing the way they go)


@functools.cache
def real():
    root = need("mocap", "deepmimic", "data")
    need("mocap", "deepmimic", "data", "characters", "humanoid3d.txt")
    files = sorted((root / "motions").rglob("*.txt"))
    ch = read_character(root / "characters" / "humanoid3d.txt")
    clips = {}
    for f in files:
        m = read_motion(f, ch)
        pos, rot = forward_kinematics(ch, m)
        clips[f.name] = (load_deepmimic(f), m, to_world(pos), np.einsum("ab,tjbc,dc->tjad", FILE_TO_WORLD, rot,
                                                                         FILE_TO_WORLD))
    return ch, clips


def facing(ch, P, R):
    """Per frame: forward (T, 3), the horizontal way the lower foot points (ankle -> foot box centre), and left."""
    idx = ch.names.index
    feet = []
    for side in ("left", "right"):
        a = idx(f"{side}_ankle")
        box = next(s for s in ch.shapes if s.joint == a and s.body)
        d = R[:, a] @ (FILE_TO_WORLD @ box.centre)
        d[:, 2] = 0
        feet.append(d / np.linalg.norm(d, axis=1, keepdims=True))
    lower = P[:, idx("left_ankle"), 2] < P[:, idx("right_ankle"), 2]
    fwd = np.where(lower[:, None], feet[0], feet[1])
    return fwd, np.cross([0, 0, 1.0], fwd)


def test_every_real_clip_loads_with_constant_bones():
    ch, clips = real()
    assert len(clips) >= 33
    bone = np.linalg.norm(ch.offsets, axis=1)
    for name, (rig, m, P, _) in clips.items():
        assert rig.names == ch.names and rig.joints.shape == (m.n_frames, 15, 3), name
        assert np.isfinite(rig.joints).all() and np.isfinite(rig.head_top).all(), name
        assert 16 * 0.999 <= rig.fps <= 120 * 1.001, (name, rig.fps)  # dt 0.008333 s gives 120.005
        np.testing.assert_allclose(rig.joints, P, err_msg=name)
        for j, p in enumerate(ch.parents):
            if p >= 0:
                length = np.linalg.norm(rig.joints[:, j] - rig.joints[:, p], axis=1)
                np.testing.assert_allclose(length, bone[j], atol=1e-9, err_msg=f"{name} {ch.names[j]}")


def test_real_leg_length_and_head_top():
    ch, clips = real()
    idx = ch.names.index
    for side in ("left", "right"):
        leg = np.linalg.norm(ch.offsets[idx(f"{side}_knee")]) + np.linalg.norm(ch.offsets[idx(f"{side}_ankle")])
        assert leg == pytest.approx(0.83, abs=0.01)
    rig = clips["humanoid3d_walk.txt"][0]
    J = rig.joints
    straight = np.linalg.norm(J[:, idx("left_ankle")] - J[:, idx("left_hip")], axis=1)
    assert 0.78 < straight.max() <= 0.8315
    floor = J[0, :, 2].min() - 0.05  # the foot box's sole is 0.05 m below the ankle joint
    assert 1.5 < rig.head_top[0, 2] - floor < 1.9
    assert 1.5 < rig.head_top[0, 2] < 1.9
    neck_to_top = np.linalg.norm(rig.head_top - J[:, idx("neck")], axis=1)
    np.testing.assert_allclose(neck_to_top, 0.175 + 0.1025, atol=1e-9)  # head sphere: centre 0.175, radius


def test_real_feet_on_the_floor_and_left_on_the_left():
    ch, clips = real()
    idx = ch.names.index
    walking = [n for n in clips if any(w in n for w in WALKING)]
    assert len(walking) >= 10
    for name in walking:
        _, _, P, R = clips[name]
        lower = P[:, [idx("left_ankle"), idx("right_ankle")], 2].min(axis=1)
        assert -0.03 < lower.min() and 0.0 < np.median(lower) < 0.12, (name, lower.min(), np.median(lower))
        _, left = facing(ch, P, R)
        for a, b in (("left_hip", "right_hip"), ("left_shoulder", "right_shoulder")):
            side = np.einsum("ta,ta->t", P[:, idx(a)] - P[:, idx(b)], left)
            assert (side > 0).mean() > 0.98, (name, a, (side > 0).mean())


def test_real_knees_and_elbows_bend_the_right_way():
    ch, clips = real()
    idx = ch.names.index
    col = np.cumsum((1,) + ch.param_sizes)  # first value of each joint in a frame
    _, m, P, R = clips["humanoid3d_walk.txt"]
    fwd, left = facing(ch, P, R)
    for side in ("left", "right"):
        hip, knee, ankle = (idx(f"{side}_{j}") for j in ("hip", "knee", "ankle"))
        angle = m.frames[:, col[knee]]
        assert angle.max() <= 0 and angle.min() < -1.0  # DeepMimic knee angles are negative when flexed
        flexed = angle < -0.5
        # the shin turns backward from the thigh: (thigh x shin) along the person's left
        bend = np.einsum("ta,ta->t", np.cross(P[:, knee] - P[:, hip], P[:, ankle] - P[:, knee]), left)
        assert (bend[flexed] > 0).all()
        behind = np.einsum("ta,ta->t", P[:, ankle] - P[:, knee], fwd)
        assert (behind[angle < -1.0] < 0).all()  # deep flexion in swing: the ankle behind the knee
        shoulder, elbow, wrist = (idx(f"{side}_{j}") for j in ("shoulder", "elbow", "wrist"))
        angle = m.frames[:, col[elbow]]
        assert angle.min() >= 0
        bend = np.einsum("ta,ta->t", np.cross(P[:, elbow] - P[:, shoulder], P[:, wrist] - P[:, elbow]), left)
        assert (bend[angle > 0.3] < 0).all()  # the forearm turns forward from the upper arm


def test_real_w_first_keeps_the_walker_upright():
    ch, clips = real()
    _, m, P, _ = clips["humanoid3d_walk.txt"]
    np.testing.assert_allclose(m.root_quaternion[0], m.frames[0, 4:8] / np.linalg.norm(m.frames[0, 4:8]))
    assert m.root_quaternion[:, 0].min() > 0.9  # w first: a small turn; read x-first it would be ~180 deg
    assert (P[:, ch.names.index("neck"), 2] > P[:, 0, 2] + 0.4).all()
