"""Penn Action and NTU RGB+D as samples, on the real shared files: layout conversion, splits, errors."""
import shutil

import numpy as np
import pytest
from real_data import need

from common.errors import InputError
from common.ntu import ntu_sample, ntu_samples, read_label_map
from common.penn_action import PENN_ACTIONS, carve, penn_sample, penn_samples
from common.readers import read_penn_mat
from common.skeleton import get_layout

H36M = get_layout("h36m17")


def test_penn_sample_conversion_on_real_file():
    f = sorted(need("penn_action/train").glob("*.mat"))[0]
    m, s = read_penn_mat(f), penn_sample(f)
    assert s.layout == "h36m17" and s.joints3d is None and s.joints2d.shape == (m["nframes"], 17, 2)
    assert PENN_ACTIONS[s.action] == m["action"] and s.image_size == (m["dimensions"][1], m["dimensions"][0])
    # limbs copied, pelvis = mid-hips, scores from the annotated visibility
    assert np.allclose(s.joints2d[:, H36M["r_wrist"]], m["keypoints"][:, 5])
    assert np.allclose(s.joints2d[:, H36M["pelvis"]], m["keypoints"][:, 7:9].mean(1))
    assert np.array_equal(s.scores[:, H36M["l_knee"]], m["visibility"][:, 10])
    assert np.array_equal(s.visible[:, H36M["l_knee"]], m["visibility"][:, 10] > 0)
    assert (penn_sample(f, visibility_scores=False).scores == 1).all()


def test_carve_is_stratified_deterministic_and_disjoint():
    samples = penn_samples(need("penn_action/train"), progress=False)[:300]
    a = carve(samples, (0.1, 0.2), seed=0)
    b = carve(samples, (0.1, 0.2), seed=0)
    assert [[s.name for s in p] for p in a] == [[s.name for s in p] for p in b]
    names = [s.name for p in a for s in p]
    assert len(names) == len(set(names)) == len(samples)
    assert abs(len(a[2]) - 0.2 * len(samples)) < 15
    assert {s.action for s in a[1]} == {s.action for s in samples}  # every class in validation
    assert [s.name for s in carve(samples, (0.1, 0.2), seed=1)[1]] != [s.name for s in a[1]]
    with pytest.raises(InputError, match="sum to less than 1"):
        carve(samples, (0.6, 0.5), 0)


def test_penn_errors(tmp_path):
    with pytest.raises(InputError, match="no .mat files found"):
        penn_samples(tmp_path)
    (tmp_path / "0001.mat").write_bytes(b"not a mat file")
    with pytest.raises(InputError, match="0001.mat"):
        penn_samples(tmp_path)


def test_ntu_sample_is_a_consistent_unmirrored_person():
    s = ntu_samples(need("ntu"))[0]
    assert s.action == 0 and s.subject == 1 and s.n_frames == 103
    assert read_label_map(need("ntu/label_map_ntu60.txt"))[s.action] == "drink water"
    X, x = s.joints3d.reshape(-1, 3), s.joints2d.reshape(-1, 2)
    for ax in (0, 1):  # 2D = a pinhole projection of 3D with a positive focal length on both axes
        A = np.c_[X[:, ax] / X[:, 2], np.ones(len(X))]
        (f, c), res, *_ = np.linalg.lstsq(A, x[:, ax], rcond=None)
        assert 900 < f < 1200 and np.sqrt(res[0] / len(X)) < 15
    # facing the camera: the person's left shoulder is on the image's right; the head is above the pelvis
    assert (s.joints2d[:, H36M["l_shoulder"], 0] > s.joints2d[:, H36M["r_shoulder"], 0]).mean() > 0.9
    assert (s.joints3d[:, H36M["head"], 1] < s.joints3d[:, H36M["pelvis"], 1]).all()


def test_ntu_errors(tmp_path):
    src = need("ntu/S001C001P001R001A001.skeleton")
    shutil.copy(src, tmp_path / "clip.skeleton")
    with pytest.raises(InputError, match="SsssCcccPpppRrrrAaaa"):
        ntu_sample(tmp_path / "clip.skeleton")
    shutil.copy(src, tmp_path / "S001C001P001R001A061.skeleton")
    with pytest.raises(InputError, match="outside the 60 classes"):
        ntu_sample(tmp_path / "S001C001P001R001A061.skeleton")
