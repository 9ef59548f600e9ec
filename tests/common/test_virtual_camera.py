"""Random virtual cameras: where they stand, what they see, and that the motion itself is unchanged."""
import numpy as np
import pytest

from common.dataset import Sample
from common.virtual_camera import VIEW_RANGES, look_at_camera, virtual_views


def _sample(T=6):
    rng = np.random.default_rng(1)
    j3 = rng.normal(0, 0.3, (T, 17, 3)) + [0.2, -0.1, 3.0]
    return Sample(name="s", action=0, subject=1, fps=30.0, joints2d=np.zeros((T, 17, 2), np.float32),
                  visible=np.ones((T, 17), bool), joints3d=j3.astype(np.float32), camera=None, image_size=(640, 480))


def test_look_at_puts_the_target_at_the_image_centre():
    cam = look_at_camera(np.array([3.0, -1.0, 0.5]), np.array([0.0, 0.2, 4.0]), 800.0, (1280, 720))
    np.testing.assert_allclose(cam.project_world(np.array([0.0, 0.2, 4.0])), [640, 360], atol=1e-6)
    np.testing.assert_allclose(cam.R @ cam.R.T, np.eye(3), atol=1e-9)
    assert np.linalg.det(cam.R) == pytest.approx(1.0)  # a rotation, not a mirror
    assert abs(cam.R[0, 1]) < 1e-9  # level: the image's x axis has no vertical component
    # not upside down or mirrored: a point below the target (+y) is lower in the image
    below = cam.project_world(np.array([0.0, 0.7, 4.0]))
    assert below[1] > 360 and abs(below[0] - 640) < 1e-6
    # a viewer at x = -5 looking along +x (upright, head towards -y) has -z on the right-hand side
    side = look_at_camera(np.array([-5.0, 0.0, 5.0]), np.array([0.0, 0.0, 5.0]), 800.0, (1280, 720))
    assert side.project_world(np.array([0.0, 0.0, 4.0]))[0] > 640
    assert side.project_world(np.array([0.0, 0.0, 6.0]))[0] < 640


def test_identity_view_and_elevation():
    """Azimuth 0, elevation 0 at the recording camera's place reproduces it; positive elevation is above."""
    from common.virtual_camera import random_camera
    ranges = {"azimuth_deg": (0.0, 0.0), "elevation_deg": (0.0, 0.0), "distance_m": (3.0, 3.0),
              "focal_ratio": (1.0, 1.0), "aim_jitter_m": 0.0, "image_size": (640, 480)}
    cam = random_camera(np.array([0.0, 0.0, 3.0]), np.random.default_rng(0), ranges)
    np.testing.assert_allclose(cam.R, np.eye(3), atol=1e-9)
    np.testing.assert_allclose(cam.center, [0, 0, 0], atol=1e-9)
    up = random_camera(np.array([0.0, 0.0, 3.0]), np.random.default_rng(0), {**ranges, "elevation_deg": (30.0, 30.0)})
    assert up.center[1] < -1.0  # y points down: the camera stands above the person


def test_views_preserve_the_motion_and_respect_the_ranges():
    s = _sample()
    views = virtual_views(s, 20, np.random.default_rng(0))
    assert len({v.name for v in views}) == 20
    rel = s.joints3d - s.joints3d[:, :1]
    dist = np.linalg.norm(rel[:, 1:] - rel[:, :1], axis=-1)
    azimuths = []
    for v in views:
        r = v.joints3d - v.joints3d[:, :1]
        np.testing.assert_allclose(np.linalg.norm(r[:, 1:] - r[:, :1], axis=-1), dist, atol=1e-4)
        np.testing.assert_allclose(v.joints2d, v.camera.project(v.joints3d), atol=1e-2)
        d = np.linalg.norm(v.camera.center - s.joints3d[:, 0].mean(0))
        assert VIEW_RANGES["distance_m"][0] - 0.01 <= d <= VIEW_RANGES["distance_m"][1] + 0.01
        assert v.image_size == VIEW_RANGES["image_size"] and np.all(v.joints3d[..., 2] > 0)
        c = v.camera.center - s.joints3d[:, 0].mean(0)
        azimuths.append(np.degrees(np.arctan2(c[0], -c[2])))
    assert np.ptp(azimuths) > 180  # views from all round the person, not one side
