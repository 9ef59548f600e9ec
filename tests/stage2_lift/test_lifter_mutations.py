"""Mutation-proof check of the lifters' test-time flip (``flip_test``): with untrained (random) weights, so that
no symmetry comes from training, and a mirror image built here by hand (h36m17 left/right swapped from the
joint names, pixel x -> image width - x), never with the lifter's own mirroring or the layout's
``flip_permutation``:

1. the flip-averaged output is the mean of the plain output and the hand-mirrored plain output of the
   hand-mirrored input: the mirroring inside the lifter is exactly the hand-built one;
2. the flip-averaged output of the mirrored input is the mirrored flip-averaged output of the input;
3. with ``flip_test`` off the same lifter is not mirror-symmetric, so (2) can fail.

``check_flip_symmetric`` in ``lifter_checks.py`` checks (2) only, on trained lifters.
"""
import numpy as np
import pytest

import stage2_lift  # noqa: F401
from common.handoff import Pose2DSeq
from common.registry import build, known, lookup
from pipelines.chain import gt_pose2d

#: slot i of the mirror image holds joint MIRROR[i]: r_hip (1) <-> l_hip (4), r_knee (2) <-> l_knee (5),
#: r_ankle (3) <-> l_ankle (6), l_shoulder (11) <-> r_shoulder (14), l_elbow (12) <-> r_elbow (15), l_wrist (13)
#: <-> r_wrist (16); pelvis (0), spine (7), thorax (8), neck (9), head (10) stay
MIRROR = [0, 4, 5, 6, 1, 2, 3, 7, 8, 9, 10, 14, 15, 16, 11, 12, 13]

#: small networks; options that would act after the network (stereo_lifter's geometric search) are off
OPTIONS = {
    "martinez_mlp": {"width": 32},
    "two_stream_mlp": {"width": 32},
    "temporal_conv": {"channels": 16, "filter_widths": [3, 3]},
    "stereo_lifter": {"width": 32, "geometric_search": False},
    "mmpose_simplebaseline3d": {"width": 32, "dropout": 0.1},
}
LIFTERS = [n for n in known("lifter") if "flip_test" in lookup("lifter", n).defaults]


def test_every_flip_test_lifter_is_covered():
    assert set(LIFTERS) <= set(OPTIONS), set(LIFTERS) - set(OPTIONS)


def mirror2d(p: Pose2DSeq) -> Pose2DSeq:
    w = p.image_size[0]
    kp = np.stack([w - p.keypoints[:, :, MIRROR, 0], p.keypoints[:, :, MIRROR, 1]], axis=-1)
    return Pose2DSeq(kp, p.scores[:, :, MIRROR], p.image_size, p.fps, p.layout)


def mirror3d(j: np.ndarray) -> np.ndarray:
    return np.stack([-j[:, :, MIRROR, 0], j[:, :, MIRROR, 1], j[:, :, MIRROR, 2]], axis=-1)


@pytest.mark.parametrize("name", LIFTERS)
def test_flip_test_mirrors_exactly_like_the_hand_built_mirror(name, tiny_poses):
    if name == "mmpose_simplebaseline3d":
        pytest.importorskip("mmpose")
    lifter = build("lifter", {"type": name, **OPTIONS[name], "flip_test": True}, seed=3)
    lifter.prepare(tiny_poses)  # normalisation statistics and a freshly initialised (random) network
    lifter.model.eval()
    s = tiny_poses.test[0]
    x, xm = gt_pose2d(s), mirror2d(gt_pose2d(s))

    lifter.cfg["flip_test"] = False
    off, off_m = lifter.predict(x, s).joints, lifter.predict(xm, s).joints
    lifter.cfg["flip_test"] = True
    on, on_m = lifter.predict(x, s).joints, lifter.predict(xm, s).joints

    # 3. random weights are not mirror-symmetric: the checks below can fail
    assert np.abs(off_m - mirror3d(off)).max() > 1e-2
    # 1. flip averaging = the plain output and the mirrored plain output of the mirrored input, averaged
    np.testing.assert_allclose(on, (off + mirror3d(off_m)) / 2, atol=2e-5)
    np.testing.assert_allclose(on_m, (off_m + mirror3d(off)) / 2, atol=2e-5)
    # 2. hence the mirrored input gives the mirrored output
    np.testing.assert_allclose(on_m, mirror3d(on), atol=2e-5)
