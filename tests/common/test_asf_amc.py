"""ASF/AMC reader: known answers on tiny files, the real HDM05 take checked against its own optical markers."""
import struct

import numpy as np
import pytest

from common import asf_amc
from common.asf_amc import euler_matrix, find_asf, fps_from_name, load_asf_amc, read_amc, read_asf
from common.errors import InputError
from common.rig import RigMotion
from tests.real_data import need

HDM = ("mocap", "hdm05")
TAKE = "HDM_dg_06-03_03_120"

# ---------------------------------------------------------------------------------------------- tiny files

ASF_TINY = """# a two-bone chain along +y, then a bone with a rotated local frame
:version 1.10
:name tiny
:units
  mass 1.0
  length 0.0254
  angle {angle}
:documentation
  1 unit = 1 m
:root
   order TX TY TZ RX RY RZ
   axis XYZ
   position 0 0 0
   orientation 0 0 0
:bonedata
  begin
     id 1
     name a
     direction 0 1 0
     length 1
     axis 0 0 0 XYZ
    dof rx ry rz
    limits (-180 180)
           (-180 180)
           (-180 180)
  end
  begin
     id 2
     name b
     direction 0 2 0
     length 1
     axis 0 0 0 XYZ
    dof rz
  end
  begin
     id 3
     name c
     direction 1 0 0
     length 2
     axis 0 0 {c_axis} XYZ
    dof rx
  end
:hierarchy
  begin
    root a c
    a b
  end
"""


def tiny(tmp_path, frames, angle="deg", c_axis=90, header=":FULLY-SPECIFIED\n:DEGREES\n", name="t"):
    """Write ``name.asf`` and ``name.amc`` (frames: list of {bone: values}); return their paths."""
    asf = tmp_path / f"{name}.asf"
    asf.write_text(ASF_TINY.format(angle=angle, c_axis=c_axis))
    lines = [header.rstrip("\n")] if header else []
    for i, fr in enumerate(frames, 1):
        lines.append(str(i))
        lines += [f"{bone} {' '.join(str(v) for v in vals)}" for bone, vals in fr.items()]
    amc = tmp_path / f"{name}.amc"
    amc.write_text("\n".join(lines) + "\n")
    return asf, amc


def frame(root=(0, 0, 0, 0, 0, 0), a=(0, 0, 0), b=(0,), c=(0,)):
    return {"root": root, "a": a, "b": b, "c": c}


def test_read_asf_fields(tmp_path):
    asf_path, _ = tiny(tmp_path, [frame()])
    asf = read_asf(asf_path)
    assert asf.names == ("root", "a", "b", "c") and asf.parents == (-1, 0, 1, 0)
    assert asf.unit == pytest.approx(1.0) and asf.length == pytest.approx(0.0254) and asf.angle == "deg"
    assert asf.root.order == ("tx", "ty", "tz", "rx", "ry", "rz") and asf.root.axis == "XYZ"
    b = asf.bones[asf.index("b")]
    np.testing.assert_allclose(b.direction, [0, 1, 0])  # normalised
    assert b.dof == ("rz",) and b.axis_order == "XYZ"
    np.testing.assert_allclose(asf.bones[asf.index("c")].axis, [0, 0, 90])
    assert asf.hierarchy == {"root": ("a", "c"), "a": ("b",)}


def test_euler_order_first_letter_applied_first():
    v = np.array([0.0, 1, 0])
    # Rx(90) takes +y to +z, then Ry(90) takes +z to +x: R = Ry Rx
    np.testing.assert_allclose(euler_matrix("XYZ", [90, 90, 0]) @ v, [1, 0, 0], atol=1e-12)
    np.testing.assert_allclose(euler_matrix("YXZ", [90, 90, 0]) @ v, [0, 0, 1], atol=1e-12)
    R = euler_matrix("XYZ", np.random.default_rng(0).uniform(-180, 180, (5, 3)))
    np.testing.assert_allclose(R @ np.swapaxes(R, -1, -2), np.broadcast_to(np.eye(3), (5, 3, 3)), atol=1e-12)


def test_chain_known_answer(tmp_path):
    frames = [frame(a=(0, 0, 90)),  # a turns +y -> -x; b follows
              frame(a=(0, 0, 90), b=(90,)),  # b turns another 90 degrees: -y
              frame(root=(1, 2, 3, 90, 90, 0))]  # root moved; rotated Ry(90) Rx(90): +y -> +x
    asf_path, amc_path = tiny(tmp_path, frames)
    asf = read_asf(asf_path)
    amc = read_amc(amc_path, asf)
    assert amc.n_frames == 3 and list(amc.frames) == [1, 2, 3]
    starts, ends = asf_amc.forward_kinematics(asf, amc)
    a, b = asf.index("a"), asf.index("b")
    np.testing.assert_allclose(ends[0, a], [-1, 0, 0], atol=1e-12)
    np.testing.assert_allclose(ends[0, b], [-2, 0, 0], atol=1e-12)
    np.testing.assert_allclose(starts[1, b], [-1, 0, 0], atol=1e-12)
    np.testing.assert_allclose(ends[1, b], [-1, -1, 0], atol=1e-12)
    np.testing.assert_allclose(starts[2, a], [1, 2, 3], atol=1e-12)
    np.testing.assert_allclose(ends[2, b], [3, 2, 3], atol=1e-12)
    # world: metres, (x, y, z)_world = (-x, z, y)_file; bone starts are the joints
    rig = load_asf_amc(amc_path)
    assert isinstance(rig, RigMotion) and rig.names == asf.names and rig.parents == asf.parents
    assert rig.head_top is None and rig.fps == 120.0 and rig.joints.shape == (3, 4, 3)
    np.testing.assert_allclose(rig.joints[0, b], [1, 0, -0.0], atol=1e-12)
    np.testing.assert_allclose(rig.joints[2, 0], [-1, 3, 2], atol=1e-12)


def test_axis_frame_conjugates_the_dof_rotation(tmp_path):
    # c: axis (0, 0, 90) -> C = Rz(90), so rx turns about C x = +y: Ry(90) (1, 0, 0) = (0, 0, -1), length 2
    asf_path, amc_path = tiny(tmp_path, [frame(c=(90,)), frame(c=(0,))])
    asf = read_asf(asf_path)
    starts, ends = asf_amc.forward_kinematics(asf, read_amc(amc_path, asf))
    c = asf.index("c")
    np.testing.assert_allclose(ends[0, c], [0, 0, -2], atol=1e-12)
    np.testing.assert_allclose(ends[1, c], [2, 0, 0], atol=1e-12)  # zero dofs: the rest direction
    # the same with a zero axis would leave the bone (a rotation about itself) where it was
    asf_path, amc_path = tiny(tmp_path, [frame(c=(90,))], c_axis=0, name="u")
    asf = read_asf(asf_path)
    np.testing.assert_allclose(asf_amc.forward_kinematics(asf, read_amc(amc_path, asf))[1][0, c], [2, 0, 0],
                               atol=1e-12)


def test_radians(tmp_path):
    asf_path, amc_path = tiny(tmp_path, [frame(a=(0, 0, np.pi / 2), c=(np.pi / 2,))], angle="rad", c_axis=np.pi / 2,
                              header=":FULLY-SPECIFIED\n")
    asf = read_asf(asf_path)
    np.testing.assert_allclose(asf.bones[asf.index("c")].axis, [0, 0, 90])
    amc = read_amc(amc_path, asf)
    np.testing.assert_allclose(amc.values["a"][0], [0, 0, 90])
    ends = asf_amc.forward_kinematics(asf, amc)[1]
    np.testing.assert_allclose(ends[0, asf.index("b")], [-2, 0, 0], atol=1e-12)
    np.testing.assert_allclose(ends[0, asf.index("c")], [0, 0, -2], atol=1e-12)


def test_find_asf_and_fps(tmp_path):
    for n in ("13.asf", "131.asf", "131_01.amc", "HDM_dg.asf", "HDM_dg_06-03_03_120.amc"):
        (tmp_path / n).write_text("")
    assert find_asf(tmp_path / "131_01.amc").name == "131.asf"
    assert find_asf(tmp_path / "HDM_dg_06-03_03_120.amc").name == "HDM_dg.asf"
    with pytest.raises(InputError, match="no matching .asf"):
        find_asf(tmp_path / "07_01.amc")
    other = tmp_path / "x"
    other.mkdir()
    (other / "skel.asf").write_text("")
    assert find_asf(other / "take.amc").name == "skel.asf"  # the only one
    assert fps_from_name("HDM_dg_06-03_03_120.amc") == 120.0
    assert fps_from_name("a_b_60.amc") == 60.0
    assert fps_from_name("131_01.amc") == 120.0 and fps_from_name("a_b_01.amc") == 120.0
    assert fps_from_name("a_b_5.amc") == 120.0 and fps_from_name("take.amc") == 120.0


# ------------------------------------------------------------------------------------------------ errors

def test_errors(tmp_path):
    asf_path, amc_path = tiny(tmp_path, [frame()])
    asf = read_asf(asf_path)
    with pytest.raises(InputError, match="not found"):
        read_asf(tmp_path / "none.asf")
    with pytest.raises(InputError, match="not found"):
        load_asf_amc(tmp_path / "none.amc")
    (tmp_path / "other.asf").write_text("")
    (tmp_path / "z.amc").write_text(amc_path.read_text())
    with pytest.raises(InputError, match="no matching .asf"):
        load_asf_amc(tmp_path / "z.amc")

    def bad_asf(text, match):
        p = tmp_path / "bad.asf"
        p.write_text(text)
        with pytest.raises(InputError, match=match) as e:
            read_asf(p)
        assert "bad.asf" in str(e.value) and "\n" not in str(e.value)

    bad_asf(ASF_TINY.format(angle="deg", c_axis=0).replace("root a c", "root a c d"), "'d' has no bonedata")
    bad_asf(ASF_TINY.format(angle="deg", c_axis=0).replace("    a b\n", ""), "'b' has bonedata but is not in")
    bad_asf(ASF_TINY.format(angle="deg", c_axis=0).replace("dof rz", "dof rz qq"), "dof")
    bad_asf(ASF_TINY.format(angle="deg", c_axis=0).replace("length 2", "length two"), "non-numeric")
    bad_asf(ASF_TINY.format(angle="deg", c_axis=0).replace(":hierarchy", ":hierarchx"), "no :hierarchy")

    def bad_amc(frames_text, match):
        p = tmp_path / "bad.amc"
        p.write_text(":FULLY-SPECIFIED\n:DEGREES\n" + frames_text)
        with pytest.raises(InputError, match=match) as e:
            read_amc(p, asf)
        assert "bad.amc" in str(e.value) and "\n" not in str(e.value)

    ok = "root 0 0 0 0 0 0\na 0 0 0\nb 0\nc 0\n"
    bad_amc("1\n" + ok + "2\n" + ok.replace("b 0\n", ""), "frame 2: no values for bone 'b'")
    bad_amc("1\n" + ok.replace("b 0", "b 0 1"), "2 values, expected 1")
    bad_amc("1\n" + ok.replace("a 0 0 0", "a 0 0"), "2 values, expected 3")
    bad_amc("1\n" + ok.replace("b 0", "b nan"), "non-finite")
    bad_amc("1\n" + ok.replace("b 0", "b inf"), "non-finite")
    bad_amc("1\n" + ok.replace("b 0", "b x"), "non-numeric")
    bad_amc("1\n" + ok + "zz 1\n", "'zz' is not in the ASF")
    bad_amc("1\n" + ok + "3\n" + ok, "consecutive")
    bad_amc("1\n" + ok + "c 0\n", "given twice")
    bad_amc("", "no frames")
    bad_amc(ok, "before the first frame")


# ------------------------------------------------------------------------------------------ real HDM05 take

def read_c3d_points(path):
    """Marker positions (T, P, 3), NaN where missing, of a C3D file with float point data (Intel byte order).

    C3D: 512-byte blocks; header block: word 1 = parameter block number and 0x50, int16 words 2 (points), 3 (analog
    values per frame), 4-5 (first and last frame), float32 at bytes 12-15 the scale (negative: float data),
    int16 word 9 the first data block; byte 3 of the parameter section is the processor (84 = Intel). Point data:
    per frame and point x, y, z, residual (negative: missing), then the frame's analog values.
    """
    raw = path.read_bytes()
    if raw[1] != 0x50 or raw[(raw[0] - 1) * 512 + 3] != 84:
        pytest.skip(f"{path}: not an Intel C3D")
    n_points, n_analog, first, last = struct.unpack_from("<4h", raw, 2)
    scale = struct.unpack_from("<f", raw, 12)[0]
    data_block = struct.unpack_from("<h", raw, 16)[0]
    if scale >= 0:
        pytest.skip(f"{path}: integer C3D point data")
    T = last - first + 1
    per_frame = n_points * 4 + n_analog
    data = np.frombuffer(raw, "<f4", count=T * per_frame, offset=(data_block - 1) * 512).reshape(T, per_frame)
    pts = data[:, : n_points * 4].reshape(T, n_points, 4).astype(np.float64)
    xyz = pts[..., :3].copy()
    xyz[(pts[..., 3] < 0) | (np.abs(pts[..., :3]).sum(-1) == 0)] = np.nan
    return xyz


@pytest.fixture(scope="module")
def hdm():
    amc = need(*HDM, TAKE + ".amc")
    asf = read_asf(need(*HDM, "HDM_dg.asf"))
    return asf, read_amc(amc, asf), load_asf_amc(amc)


def test_hdm05_take(hdm):
    asf, amc, rig = hdm
    i = asf.index
    assert amc.n_frames == 202 and rig.joints.shape == (202, 31, 3) and rig.fps == 120.0
    assert rig.names[0] == "root" and all(p < j for j, p in enumerate(rig.parents))
    assert np.isfinite(rig.joints).all() and rig.head_top.shape == (202, 3)
    # FK keeps every bone at its ASF length times the unit
    starts, ends = asf_amc.forward_kinematics(asf, amc)
    lengths = np.linalg.norm(asf_amc.to_world(ends - starts, asf.unit), axis=-1)
    np.testing.assert_allclose(lengths, np.broadcast_to([b.length * asf.unit for b in asf.bones], lengths.shape),
                               atol=1e-9)
    J = rig.joints
    for side in "lr":
        leg = (asf.bones[i(side + "femur")].length + asf.bones[i(side + "tibia")].length) * asf.unit
        assert 0.7 < leg < 1.0
        hip_ankle = np.linalg.norm(J[:, i(side + "femur")] - J[:, i(side + "foot")], axis=-1)
        assert hip_ankle.max() <= leg + 1e-9 and hip_ankle.max() > 0.7
    ends_w = asf_amc.to_world(ends, asf.unit)
    feet = [i(n) for n in ("lfoot", "ltoes", "rfoot", "rtoes")]
    lowest = np.minimum(J[:, feet, 2].min(1), ends_w[:, feet, 2].min(1))
    assert -0.03 < lowest.min() and lowest.max() < 0.15  # the floor of the file is z = 0
    # the most upright frame: the largest of the smaller knee angle
    knee = []
    for side in "lr":
        u = J[:, i(side + "femur")] - J[:, i(side + "tibia")]
        v = J[:, i(side + "foot")] - J[:, i(side + "tibia")]
        knee.append(np.degrees(np.arccos((u * v).sum(-1) / np.linalg.norm(u, axis=-1) / np.linalg.norm(v, axis=-1))))
    t = int(np.argmax(np.min(knee, 0)))
    assert 1.5 < rig.head_top[t, 2] - lowest[t] < 2.0
    np.testing.assert_allclose(rig.head_top, ends_w[:, i("head")])
    # left joints on the person's left: left = up x forward, forward = where the toes point
    forward = sum(ends_w[:, i(s + "toes")] - J[:, i(s + "foot")] for s in "lr")
    forward[:, 2] = 0
    left = np.cross([0.0, 0, 1], forward)
    left /= np.linalg.norm(left, axis=-1, keepdims=True)
    for lj, rj in (("lfemur", "rfemur"), ("lhumerus", "rhumerus"), ("ltibia", "rtibia")):
        assert ((J[:, i(lj)] - J[:, i(rj)]) * left).sum(-1).min() > 0.03
    # knees bend forward: the knee is ahead of the hip-ankle midpoint in every frame
    for side in "lr":
        mid = (J[:, i(side + "femur")] + J[:, i(side + "foot")]) / 2
        assert (((J[:, i(side + "tibia")] - mid) * forward).sum(-1) > 0).all()


def _euler_reversed(order, angles):
    """The other reading of the order letters: ``XYZ`` -> ``Rx Ry Rz`` (last letter applied first)."""
    angles = np.asarray(angles, dtype=np.float64)
    R = np.broadcast_to(np.eye(3), angles.shape[:-1] + (3, 3))
    for k, letter in enumerate(order.upper()):
        R = R @ asf_amc._axis_rotation(letter, angles[..., k])
    return R


def _marker_spread(asf, amc, markers, joints):
    """Per joint: (mean distance to the nearest marker, std over the take of the distance to the marker nearest
    on average), in mm, with the HDM05 lab frame ``(x, y, z)_c3d = (z, x, y)_amc * 25.4 / length`` mm."""
    starts, _ = asf_amc.forward_kinematics(asf, amc)
    pts = starts[:, [asf.index(n) for n in joints]][..., [2, 0, 1]] * 25.4 / asf.length
    d = np.linalg.norm(pts[:, :, None] - markers[:, None], axis=-1)  # (T, joints, markers)
    fixed = np.nanmean(d, 0).argmin(-1)
    spread = np.array([np.nanstd(d[:, j, m]) for j, m in enumerate(fixed)])
    return np.nanmin(d, -1).mean(0), spread


def test_hdm05_rotation_order_against_c3d_markers(hdm, monkeypatch):
    asf, amc, _ = hdm
    markers = read_c3d_points(need(*HDM, TAKE + ".c3d"))
    assert markers.shape[0] == amc.n_frames
    # the lab frame, independent of any rotation: the root translation follows the markers' centroid
    root = amc.values["root"][:, :3][:, [2, 0, 1]] * 25.4 / asf.length
    assert np.linalg.norm(root - np.nanmean(markers, 1), axis=-1).max() < 80
    joints = ("lradius", "rradius", "lwrist", "rwrist", "ltibia", "rtibia", "lfoot", "rfoot")
    near, spread = _marker_spread(asf, amc, markers, joints)
    # joint centres sit a few cm inside the skin markers, at a nearly fixed distance on a rigid segment
    assert (near < 110).all() and near.mean() < 70
    assert (spread < 20).all() and spread[-2:].max() < 1.0  # the ankles: rigid with a marker to < 1 mm
    monkeypatch.setattr(asf_amc, "euler_matrix", _euler_reversed)
    near_r, spread_r = _marker_spread(asf, amc, markers, joints)
    assert spread_r.mean() > 4 * spread.mean() and near_r.mean() > near.mean() + 20
