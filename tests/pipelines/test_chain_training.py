"""Training through the chain on data without frames: virtual cameras, the simulated detector, the lifter's
output as the classifier's training input."""
import numpy as np
import pytest

from common.registry import register
from common.stage import Detector2D
from pipelines.chain import Chain


@register("detector2d", "_frames_only_test")
class _FramesOnly(Detector2D):
    """A frame-based detector that must never be called on data without frames."""
    defaults = {}
    trainable = False

    def predict(self, frames, fps=25.0, sample=None):
        raise AssertionError("a frame-based detector was run on a sample without frames")


def _chain(**s3):
    cfg = {"seed": 0, "stages": {
        "stage1_2d": {"type": "_frames_only_test"},
        "stage2_lift": {"type": "oracle"},
        "stage3_action": {"type": "pose_cnn", "input": "3d", "train_on": "chain", "chain_views": 3,
                          "chain_noise_px": 0.0, "chain_drop_rate": 0.0, **s3}}}
    return Chain(cfg, "cpu", log=lambda m: None)


def test_virtual_views_reach_the_classifier(tiny_poses):
    data = _chain().chain_dataset(tiny_poses, "stage3_action")
    assert len(data.train) == 3 * len(tiny_poses.train) and len(data.val) == len(tiny_poses.val)
    assert data.test == []
    by_name = {s.name: s for s in tiny_poses.train}
    for v in data.train[:9]:
        base = by_name[v.name.split("@v")[0]]
        assert v.camera.name == "virtual" and v.image_size == (1280, 720)
        # the oracle lifter returns the view's root-relative 3D: the same motion, rotated into the new camera
        rel = np.asarray(base.joints3d) - np.asarray(base.joints3d)[:, :1]
        bones = lambda j: np.linalg.norm(j[:, 1:] - j[:, :1], axis=-1)  # noqa: E731
        np.testing.assert_allclose(bones(v.joints3d), bones(rel), atol=1e-4)
        assert np.abs(v.joints3d - rel).max() > 1e-3  # ... seen from elsewhere
    # validation: each sample's own camera, not virtual ones
    assert all("@v" not in s.name for s in data.val)


def test_simulated_detector_noise_and_both(tiny_poses):
    noisy = _chain(chain_noise_px=6.0, chain_drop_rate=0.2, train_on="both").chain_dataset(tiny_poses,
                                                                                           "stage3_action")
    assert len(noisy.train) == 4 * len(tiny_poses.train)  # 3 views each + the ground truth
    views = [s for s in noisy.train if "@v" in s.name]
    drop = np.mean([np.mean(s.scores == 0) for s in views])
    assert 0.12 < drop < 0.28  # 20 % of the joints dropped (the root never)
    clean = _chain().chain_dataset(tiny_poses, "stage3_action")
    d = np.concatenate([(a.joints2d - b.joints2d)[a.scores > 0].ravel() for a, b in zip(views, clean.train)])
    assert np.std(d) == pytest.approx(6.0, rel=0.15)
    # deterministic: the same seed gives the same views and noise
    again = _chain(chain_noise_px=6.0, chain_drop_rate=0.2, train_on="both").chain_dataset(tiny_poses,
                                                                                           "stage3_action")
    np.testing.assert_array_equal(again.train[0].joints2d, noisy.train[0].joints2d)
