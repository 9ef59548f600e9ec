"""The body frame: the same motion seen from any camera gives the same sequence."""
import numpy as np
from real_data import need
from scipy.spatial.transform import Rotation

from common.skeleton import H36M17
from common.utd_mhad import utd_sample
from common.view import body_frame, to_body_frame


def _walk():
    f = need("utd_mhad", "a23_s1_t1_skeleton.mat")
    j = utd_sample(f).joints3d
    return (j - j[:, :1]).astype(np.float64)


def test_any_rotation_gives_the_same_body_frame_sequence():
    x = _walk()
    ref = to_body_frame(x)
    for seed in range(5):
        R = Rotation.random(random_state=seed).as_matrix()
        np.testing.assert_allclose(to_body_frame(x @ R.T), ref, atol=1e-6)


def test_the_axes_are_the_persons():
    y = to_body_frame(_walk())
    assert np.all(y[:, H36M17["l_shoulder"], 0] > y[:, H36M17["r_shoulder"], 0])  # left is +x
    assert np.all(y[:, H36M17["head"], 1] < y[:, H36M17["pelvis"], 1])  # up is -y
    # a person facing the Kinect is already in this frame, up to a small tilt
    R = body_frame(_walk())
    assert np.degrees(np.arccos(np.clip((np.trace(R) - 1) / 2, -1, 1))) < 20
    assert abs(np.linalg.det(R) - 1) < 1e-9


def test_degenerate_sequences_keep_their_coordinates():
    assert np.array_equal(body_frame(np.zeros((4, 17, 3))), np.eye(3))
