"""Real mocap as lifting samples: the evaluation protocol of docs/interfaces.md on the shared BVH files."""
import numpy as np
import pytest

from common.errors import InputError
from common.mocap import (
    EVAL_SUBJECTS,
    TRAIN_SUBJECTS,
    cap_frames,
    centre_on_origin,
    h36m_cameras,
    mocap_samples,
    resample,
)
from common.motion import motion_files
from common.paths import shared

CMU = shared("mocap", "cmu")
BANDAI = shared("mocap", "bandai")
pytestmark = pytest.mark.skipif(not (CMU.is_dir() and shared("h36m", "cameras.pkl").is_file()),
                                reason="needs ../shared/data/mocap and h36m/cameras.pkl")


def test_evaluation_and_training_cameras_are_the_real_disjoint_h36m_ones():
    ev, tr = h36m_cameras(EVAL_SUBJECTS), h36m_cameras(TRAIN_SUBJECTS)
    assert len(ev) == 8 and len(tr) == 20
    assert {n.split("_")[0] for n, _ in ev} == {"S9", "S11"}
    assert not {n for n, _ in ev} & {n for n, _ in tr}
    assert all(c.width == 1000 and 1000 <= c.height <= 1002 and c.fx > 1000 for _, c in ev)


def test_one_sample_per_file_and_view_with_consistent_2d_and_3d():
    f = motion_files(CMU)[0]
    cams = h36m_cameras(EVAL_SUBJECTS)
    samples = mocap_samples([f], cams)
    assert len(samples) == 8 and {s.source for s in samples} == {f.name}
    s = samples[0]
    assert s.joints3d.shape == (s.n_frames, 17, 3) and s.joints2d.shape == (s.n_frames, 17, 2)
    assert np.allclose(s.camera.project(s.joints3d), s.joints2d, atol=1e-2)  # 2D is the real (distorted) projection
    world = s.camera.camera_to_world(s.joints3d.reshape(-1, 3)).reshape(s.joints3d.shape)
    assert np.abs(world[:, 0, :2]).max() < 1e-3  # pelvis at the origin in x, y every frame
    assert 0.7 < world[:, 0, 2].mean() < 1.2  # height kept (pelvis about a metre up)
    inside = (s.joints2d >= 0).all() and (s.joints2d[..., 0] < s.image_size[0]).all()
    assert inside and (s.joints3d[..., 2] > 2.0).all()  # in view, metres in front of the camera


def test_centre_and_resample():
    x = np.random.default_rng(0).normal(size=(12, 17, 3))
    c = centre_on_origin(x)
    assert np.allclose(c[:, 0, :2], 0) and np.allclose(c[..., 2], x[..., 2])
    assert np.allclose(c[:, 1:, :2] - c[:, :1, :2], x[:, 1:, :2] - x[:, :1, :2])
    y, fps = resample(x, 120.0, 30.0)
    assert fps == 30.0 and len(y) == 3 and np.array_equal(y[1], x[4])
    assert resample(x, 30.0, None)[0] is x and resample(x, 30.0, 60.0)[1] == 30.0


def test_folder_errors(tmp_path):
    with pytest.raises(InputError, match="not found"):
        motion_files(tmp_path / "missing")
    (tmp_path / "README.md").write_text("not motion")
    (tmp_path / "notes.txt").write_text("plain text, not a DeepMimic motion")
    with pytest.raises(InputError, match="no motion files"):
        motion_files(tmp_path)
    (tmp_path / "a.bvh").write_text("HIERARCHY\nROOT broken\n")
    assert motion_files(tmp_path) == [tmp_path / "a.bvh"]
    with pytest.raises(InputError):
        mocap_samples(motion_files(tmp_path), h36m_cameras(EVAL_SUBJECTS))


def test_long_clips_are_capped_evenly():
    x = np.arange(100)[:, None, None] * np.ones((1, 17, 3))
    y = cap_frames(x, 10.0, 3.0)
    assert len(y) == 30 and y[0, 0, 0] == 0 and y[-1, 0, 0] == 99 and np.all(np.diff(y[:, 0, 0]) > 0)
    assert cap_frames(x, 10.0, 20.0) is x and cap_frames(x, 10.0, None) is x
