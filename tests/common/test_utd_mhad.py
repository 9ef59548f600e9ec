"""UTD-MHAD: the utd20 layout and its h36m17 rule checked on the real Kinect files, the reader's errors, the
dataset's cross-subject splits."""
import numpy as np
import pytest
from real_data import need
from scipy.io import savemat

from common.errors import InputError
from common.readers import read_utd_skeleton
from common.skeleton import H36M17, UTD20, from_h36m17, to_h36m17
from common.utd_mhad import KINECT_CAMERA, UTD_ACTIONS, parse_name, utd_sample, utd_samples

#: UTD-MHAD's right-arm actions (the dataset's descriptions): swipe left/right, wave, throw, draw x / circles /
#: triangle, knock, catch
RIGHT_ARM = ("a1", "a2", "a3", "a5", "a8", "a9", "a10", "a11", "a19")


def _files(prefix):
    return sorted(need("utd_mhad").glob(f"{prefix}_s*_t*_skeleton.mat"))


def test_class_names_and_file_names():
    assert len(UTD_ACTIONS) == 27 and UTD_ACTIONS[0] == "swipe_left" and UTD_ACTIONS[-1] == "squat"
    assert UTD_ACTIONS[6] == "basketball_shoot" and UTD_ACTIONS[22] == "walk"
    assert parse_name("a27_s8_t4_skeleton.mat") == (26, 8, 4)
    for bad in ("a28_s1_t1_skeleton.mat", "a0_s1_t1_skeleton.mat", "walk.mat"):
        with pytest.raises(InputError):
            parse_name(bad)


def test_right_arm_actions_move_the_right_wrist():
    """Sides are the person's: in every right-arm action the r_wrist row travels further than the l_wrist."""
    for prefix in RIGHT_ARM:
        for f in _files(prefix):
            s = utd_sample(f)
            path = lambda j, s=s: np.linalg.norm(np.diff(s.joints3d[:, j], axis=0), axis=-1).sum()  # noqa: E731
            assert path(H36M17["r_wrist"]) > 2 * path(H36M17["l_wrist"]), f.name


def test_camera_frame_and_body_geometry_on_real_files():
    """Facing the Kinect, the person's left shoulder is on the image's right (x > 0 side), the head above the
    pelvis (smaller y: y points down), depth 1.5-5 m; the projection lands in the 640 x 480 image; the mid-hip
    pelvis stays within 12 cm of Kinect's hip_center."""
    for f in _files("a1")[:4] + _files("a27")[:4]:
        s = utd_sample(f)
        j = s.joints3d
        assert np.mean(j[:, H36M17["l_shoulder"], 0] > j[:, H36M17["r_shoulder"], 0]) > 0.9
        assert np.all(j[:, H36M17["head"], 1] < j[:, H36M17["pelvis"], 1])
        assert np.all((j[..., 2] > 1.5) & (j[..., 2] < 5))
        assert np.all((s.joints2d >= 0) & (s.joints2d < [640, 480]))
        np.testing.assert_allclose(s.joints2d, KINECT_CAMERA.project(j), atol=1e-3)
        raw = read_utd_skeleton(f) * [-1, -1, 1]
        assert np.linalg.norm(j[:, 0] - raw[:, UTD20["hip_center"]], axis=-1).max() < 0.12
        # the head top is above the head centre, which is above the thorax
        assert np.all(j[:, H36M17["head"], 1] < j[:, H36M17["neck"], 1])
        assert np.all(j[:, H36M17["neck"], 1] < j[:, H36M17["thorax"], 1])


def test_conversion_round_trip():
    rng = np.random.default_rng(0)
    k = rng.normal(size=(5, 20, 3))
    k17, sc = to_h36m17(k, "utd20")
    assert sc.min() == 1
    back, bsc = from_h36m17(k17, "utd20")
    for n in ("l_wrist", "r_knee", "spine", "shoulder_center"):
        np.testing.assert_allclose(back[:, UTD20[n]], k[:, UTD20[n]])
    np.testing.assert_allclose(back[:, UTD20["head"]], k[:, UTD20["head"]])
    assert bsc[:, UTD20["l_hand"]].max() == 0  # hands and feet have no h36m17 joint


def _write(path, **arrays):
    savemat(str(path), arrays)
    return path


@pytest.mark.parametrize("arrays, message", [
    ({"skel": np.zeros((20, 3, 5))}, "missing field 'd_skel'"),
    ({"d_skel": np.zeros((25, 3, 5))}, "expected shape (20, 3, None)"),
    ({"d_skel": np.full((20, 3, 5), np.nan)}, "NaN"),
    ({"d_skel": np.zeros((20, 3, 0))}, "no frames"),
])
def test_reader_errors(tmp_path, arrays, message):
    f = _write(tmp_path / "a1_s2_t1_skeleton.mat", **arrays)
    with pytest.raises(InputError, match=message.replace("(", r"\(").replace(")", r"\)")):
        read_utd_skeleton(f)


def test_not_a_mat_file_and_empty_folder(tmp_path):
    (tmp_path / "a1_s2_t1_skeleton.mat").write_text("not matlab")
    with pytest.raises(InputError, match="not a readable MATLAB"):
        read_utd_skeleton(tmp_path / "a1_s2_t1_skeleton.mat")
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="no .mat files"):
        utd_samples(tmp_path / "empty")


def test_reads_any_folder_recursively(tmp_path):
    src = _files("a23")[:2]
    (tmp_path / "sub").mkdir()
    for i, f in enumerate(src):
        (tmp_path / ("sub" if i else "") / f.name).symlink_to(f)
    got = utd_samples(tmp_path, progress=False)
    assert sorted(s.source for s in got) == sorted(f.name for f in src)
    assert all(s.action == 22 and s.fps == 30 and s.layout == "h36m17" for s in got)
