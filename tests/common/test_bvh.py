"""BVH reader and forward kinematics: synthetic files with known answers, then the real Bandai and CMU clips."""
import functools
import glob

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from common.bvh import BVH_FORMATS, forward_kinematics, load_bvh, load_bvh_h36m17, read_bvh, to_world
from common.errors import InputError
from common.paths import shared
from common.skeleton import H36M17

H = H36M17.index

TWO_JOINTS = """HIERARCHY
ROOT Hips
{
  OFFSET 0 0 0
  CHANNELS 6 Xposition Yposition Zposition %s
  JOINT Arm
  {
    OFFSET 0 10 0
    CHANNELS 3 %s
    End Site
    {
      OFFSET 5 0 0
    }
  }
}
MOTION
Frames: 2
Frame Time: 0.04
%s
"""


def write(tmp_path, text, name="a.bvh"):
    p = tmp_path / name
    p.write_text(text)
    return p


@pytest.mark.parametrize("order", ["ZXY", "ZYX", "XYZ", "YXZ"])
def test_forward_kinematics_matches_intrinsic_euler(tmp_path, order):
    rng = np.random.default_rng(len(order) + ord(order[0]))
    a_root, a_arm = rng.uniform(-90, 90, (2, 3))
    ch = " ".join(f"{c}rotation" for c in order)
    row = "1 2 3 " + " ".join(map(str, a_root)) + " " + " ".join(map(str, a_arm))
    bvh = read_bvh(write(tmp_path, TWO_JOINTS % (ch, ch, row + "\n" + row)))
    assert bvh.names == ("Hips", "Arm") and bvh.fps == 25 and bvh.n_frames == 2
    joints, ends, _ = forward_kinematics(bvh)
    R0 = Rotation.from_euler(order, a_root, degrees=True).as_matrix()  # upper case = intrinsic = R_a R_b R_c
    R1 = R0 @ Rotation.from_euler(order, a_arm, degrees=True).as_matrix()
    np.testing.assert_allclose(joints[0, 0], [1, 2, 3])
    np.testing.assert_allclose(joints[0, 1], [1, 2, 3] + R0 @ [0, 10, 0], atol=1e-9)
    np.testing.assert_allclose(ends[0, 0], joints[0, 1] + R1 @ [5, 0, 0], atol=1e-9)


def test_world_axes_are_a_rotation():
    # y-up BVH -> z-up world without mirroring: BVH up (0, 1, 0) -> z, BVH forward +z -> world +y
    np.testing.assert_allclose(to_world(np.array([0, 1.0, 0]), 1.0), [0, 0, 1])
    np.testing.assert_allclose(to_world(np.array([0, 0, 1.0]), 1.0), [0, 1, 0])
    M = to_world(np.eye(3), 1.0)
    assert np.isclose(np.linalg.det(M), 1.0)


def test_errors(tmp_path):
    with pytest.raises(InputError, match="not found"):
        read_bvh(tmp_path / "missing.bvh")
    with pytest.raises(InputError, match="HIERARCHY"):
        read_bvh(write(tmp_path, "garbage \x00\x01 not a bvh"))
    row = "0 0 0 0 0 0 0 0 0"
    text = TWO_JOINTS % ("Zrotation Xrotation Yrotation", "Zrotation Xrotation Yrotation", row)
    with pytest.raises(InputError, match="MOTION"):  # 2 frames announced, 1 given
        read_bvh(write(tmp_path, text))
    with pytest.raises(InputError, match="channel"):
        read_bvh(write(tmp_path, text.replace("CHANNELS 3 Zrotation", "CHANNELS 3 Wrotation")))
    with pytest.raises(InputError, match="non-numeric"):
        read_bvh(write(tmp_path, text.replace(row, row + "\n0 0 0 0 0 0 0 x 0")))
    ok = write(tmp_path, text.replace(row, row + "\n" + row))
    assert read_bvh(ok).n_frames == 2
    with pytest.raises(InputError, match="cannot place h36m17 joint"):
        load_bvh_h36m17(ok)


# ------------------------------------------------------------------------------------------------ real clips
def bvh_files(fmt):
    folder = shared("mocap", {"bandai22": "bandai", "cmu31": "cmu"}[fmt])
    files = sorted(glob.glob(str(folder / "*.bvh")))
    if not files:
        pytest.skip(f"real data {folder} not present (see ../shared/data/README.md)")
    return files


@functools.lru_cache(maxsize=None)
def loaded(path):
    joints, layout, fps = load_bvh(path)
    k17, fps17 = load_bvh_h36m17(path)
    assert fps17 == fps
    return joints, layout, fps, k17


@pytest.mark.parametrize("fmt,fps", [("bandai22", 30), ("cmu31", 120)])
def test_real_clips_load_with_constant_bones(fmt, fps):
    for f in bvh_files(fmt):
        joints, layout, f_fps, k17 = loaded(f)
        assert layout is BVH_FORMATS[fmt].layout and round(f_fps) == fps
        assert joints.shape[1:] == (layout.n_joints, 3) and k17.shape == (len(joints), 17, 3)
        assert np.isfinite(k17).all()
        edges = [(p, c) for p, c in layout.edges if layout.names[p] != "root"]  # Bandai's root is a ground node
        bones = np.linalg.norm(joints[:, [c for _, c in edges]] - joints[:, [p for p, _ in edges]], axis=-1)
        assert bones.std(0).max() < 1e-3
        limbs = [(H[f"{s}_{a}"], H[f"{s}_{b}"]) for s in "lr" for a, b in
                 (("hip", "knee"), ("knee", "ankle"), ("shoulder", "elbow"), ("elbow", "wrist"))]
        limbs += [(H["neck"], H["head"])]
        b17 = np.linalg.norm(k17[:, [a for a, _ in limbs]] - k17[:, [b for _, b in limbs]], axis=-1)
        assert b17.std(0).max() < 1e-3
        assert np.all((0.03 < b17.mean(0)) & (b17.mean(0) < 0.6))


@pytest.mark.parametrize("fmt", ["bandai22", "cmu31"])
def test_real_clips_heights_floor_and_sides(fmt):
    """Standing height (head top z - lowest ankle z, the clip's highest frame): Bandai ~1.47 m, CMU 131 ~1.36 m
    (its conversion gives the thorax segment zero length; the head top is 1.43-1.52 m above the floor). Feet on
    the floor z = 0; the person's left on the left of up x forward (forward = ankle -> toe)."""
    heights = []
    for f in bvh_files(fmt):
        joints, layout, _, k17 = loaded(f)
        ankle_z = np.minimum(k17[:, H["l_ankle"], 2], k17[:, H["r_ankle"], 2])
        heights.append(np.max(k17[:, H["head"], 2] - ankle_z))
        toes = [i for i, n in enumerate(layout.names) if "_toe" in n]
        floor = joints[:, toes, 2].min()
        assert -0.02 < floor < 0.08 and 0.03 < ankle_z.min() < 0.15
        assert 1.4 < k17[:, H["head"], 2].max() - floor < 2.0
        assert 0.75 < np.median(k17[:, H["pelvis"], 2]) < 1.1
        fwd = joints[:, toes].mean(1) - (k17[:, H["l_ankle"]] + k17[:, H["r_ankle"]]) / 2
        left = np.cross([0.0, 0.0, 1.0], fwd)
        for a in ("hip", "shoulder"):
            assert np.median(np.sum((k17[:, H["l_" + a]] - k17[:, H["r_" + a]]) * left, -1)) > 0
    assert 1.3 < np.median(heights) < 2.0 and min(heights) > 1.2


def test_real_clip_projects_upright_through_h36m_cameras():
    """The evaluation protocol: pelvis at the world origin in x, y; through the S9/S11 cameras the person is
    upright (head top above the ankles) and inside the 1000 px images."""
    from common.camera import load_h36m_cameras
    cams = load_h36m_cameras(shared("h36m", "cameras.pkl")) if shared("h36m", "cameras.pkl").exists() else {}
    if not cams:
        pytest.skip("real data h36m/cameras.pkl not present")
    for fmt in ("bandai22", "cmu31"):
        k17 = loaded(bvh_files(fmt)[0])[3]
        k17 = k17 - k17[:, :1] * np.array([1.0, 1.0, 0.0])
        for (subject, _), cam in cams.items():
            if subject in ("S9", "S11"):
                uv = cam.project_world(k17)
                assert np.all(uv[:, H["head"], 1] < uv[:, H["l_ankle"], 1])
                assert np.all((uv > 0) & (uv < [cam.width, cam.height]))
