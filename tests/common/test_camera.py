import numpy as np
import pytest

from common.camera import Camera, load_h36m_cameras, normalize_screen, unnormalize_screen
from common.errors import InputError
from common.paths import shared

H36M = shared("h36m")
needs_h36m = pytest.mark.skipif(not (H36M / "cameras.pkl").is_file(), reason="../shared/data/h36m not present")


@needs_h36m
def test_projection_reproduces_annotated_h36m_frames():
    cams = load_h36m_cameras(H36M / "cameras.pkl")
    assert len(cams) == 44
    z = np.load(H36M / "test_h36m_body3d.npz")
    for name, S, part in zip(z["imgname"], z["S"], z["part"]):
        subject, cam_id = name.split("/")[0], name.split(".")[1].split("/")[0]
        uv = cams[(subject, cam_id)].project(S[:, :3])
        assert np.abs(uv - part[:, :2]).max() < 2.0  # within a few pixels (in fact < 1e-3)
        # and without distortion the error is larger: distortion is modelled, not ignored
        assert np.abs(cams[(subject, cam_id)].project(S[:, :3], distort=False) - part[:, :2]).max() > 0.5


@needs_h36m
def test_h36m_extrinsics_look_at_people_near_the_origin():
    for cam in load_h36m_cameras(H36M / "cameras.pkl").values():
        centre = cam.world_to_camera(np.array([0.0, 0.0, 1.0]))
        assert centre[2] > 2.0  # in front of the camera
        assert 0 < cam.project(centre)[0] < cam.width
        assert 0.5 < cam.center[2] < 2.5  # cameras are mounted 0.5-2.5 m high


def test_world_camera_round_trip_and_stereo():
    rng = np.random.default_rng(0)
    a = rng.normal(size=3)
    R, _ = np.linalg.qr(rng.normal(size=(3, 3)))
    cam = Camera(500, 500, 128, 128, 256, 256, R=R, t=a)
    X = rng.normal(size=(10, 3))
    assert np.allclose(cam.camera_to_world(cam.world_to_camera(X)), X)
    right = cam.stereo_right(0.3)
    Xc = cam.world_to_camera(X)
    assert np.allclose(right.world_to_camera(X), Xc - [0.3, 0, 0])
    assert np.allclose(cam.center - right.center, -0.3 * R[0])  # moved along the camera's x axis


def test_unproject_and_screen_normalisation():
    cam = Camera(400, 410, 120, 130, 256, 200)
    X = np.array([[0.2, -0.1, 3.0], [0.0, 0.0, 5.0]])
    uv = cam.project(X)
    assert np.allclose(cam.unproject(uv, X[:, 2]), X)
    xy = normalize_screen(uv, 256, 200)
    assert np.allclose(unnormalize_screen(xy, 256, 200), uv)
    assert np.allclose(normalize_screen([[0, 0], [256, 200]], 256, 200), [[-1, -200 / 256], [1, 200 / 256]])


def test_bad_camera_file(tmp_path):
    with pytest.raises(InputError, match="not found"):
        load_h36m_cameras(tmp_path / "missing.pkl")
    bad = tmp_path / "bad.pkl"
    bad.write_bytes(b"not a pickle")
    with pytest.raises(InputError, match="cameras.pkl"):
        load_h36m_cameras(bad)
