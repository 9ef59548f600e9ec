"""Mutation-proof checks of the classifiers' left/right mirror (``EncodedClassifier.mirror``, used by the
``aug_flip`` augmentation and by ``flip_test``): the expected arrays are built by hand from the h36m17 joint
names, never with the function under test or the layout's own ``flip_permutation``."""
import numpy as np
import pytest

import stage3_action  # noqa: F401
from common.registry import build, known, lookup
from common.skeleton import H36M17
from stage3_action.classifier import EncodedClassifier

#: h36m17, written out (common/skeleton.py): the order the hand-built permutation below refers to
NAMES = ("pelvis", "r_hip", "r_knee", "r_ankle", "l_hip", "l_knee", "l_ankle", "spine", "thorax", "neck",
         "head", "l_shoulder", "l_elbow", "l_wrist", "r_shoulder", "r_elbow", "r_wrist")
#: the sided joints and their twins
PAIRS = (("l_hip", "r_hip"), ("l_knee", "r_knee"), ("l_ankle", "r_ankle"),
         ("l_shoulder", "r_shoulder"), ("l_elbow", "r_elbow"), ("l_wrist", "r_wrist"))
#: slot i of the mirror image holds joint MIRROR[i] of the original: r_hip (1) <-> l_hip (4), r_knee (2) <->
#: l_knee (5), r_ankle (3) <-> l_ankle (6), l_shoulder (11) <-> r_shoulder (14), l_elbow (12) <-> r_elbow (15),
#: l_wrist (13) <-> r_wrist (16); pelvis, spine, thorax, neck and head stay
MIRROR = [0, 4, 5, 6, 1, 2, 3, 7, 8, 9, 10, 14, 15, 16, 11, 12, 13]

CLASSIFIERS = [n for n in known("action") if issubclass(lookup("action", n), EncodedClassifier)]


def test_hand_permutation_matches_the_joint_names():
    assert H36M17.names == NAMES
    for a, b in PAIRS:
        ia, ib = NAMES.index(a), NAMES.index(b)
        assert MIRROR[ia] == ib and MIRROR[ib] == ia
    sided = {n for p in PAIRS for n in p}
    for i, n in enumerate(NAMES):
        if n not in sided:
            assert MIRROR[i] == i, n


def _sequence(dim):
    """Two frames, every coordinate distinct: joint j of frame t is (j + 1 + 0.5 t, 10 (j + 1), 100 (j + 1) + t)
    (2D: the first two); its score (j + 1) / 100 + t / 1000."""
    x = np.array([[[j + 1 + 0.5 * t, 10.0 * (j + 1), 100.0 * (j + 1) + t][:dim] for j in range(17)]
                  for t in range(2)], np.float32)
    sc = np.array([[(j + 1) / 100 + t / 1000 for j in range(17)] for t in range(2)], np.float32)
    return x, sc


@pytest.mark.parametrize("dim", [3, 2])
@pytest.mark.parametrize("name", CLASSIFIERS)
def test_mirror_swaps_left_and_right_and_negates_x(name, dim):
    cls = build("action", {"type": name, "input": f"{dim}d"})
    x, sc = _sequence(dim)
    x0, sc0 = x.copy(), sc.copy()
    xm, scm = cls.mirror(x, sc)

    expected = np.array([[[-(MIRROR[i] + 1 + 0.5 * t), 10.0 * (MIRROR[i] + 1), 100.0 * (MIRROR[i] + 1) + t][:dim]
                          for i in range(17)] for t in range(2)], np.float32)
    expected_sc = np.array([[(MIRROR[i] + 1) / 100 + t / 1000 for i in range(17)] for t in range(2)], np.float32)
    assert xm.shape == x.shape and scm.shape == sc.shape
    np.testing.assert_array_equal(xm, expected)
    np.testing.assert_array_equal(scm, expected_sc)
    # spot checks written out: frame 1, the r_hip slot holds l_hip (joint 4) mirrored, the l_wrist slot r_wrist
    # (joint 16), the head (joint 10) stays where it is with x negated
    assert xm[1, NAMES.index("r_hip")].tolist() == [-5.5, 50.0, 501.0][:dim]
    assert xm[1, NAMES.index("l_wrist")].tolist() == [-17.5, 170.0, 1701.0][:dim]
    assert xm[0, NAMES.index("head")].tolist() == [-11.0, 110.0, 1100.0][:dim]
    assert scm[1, NAMES.index("r_ankle")] == pytest.approx(0.07 + 0.001)  # l_ankle's score (joint 6)
    # the input is left as it was
    np.testing.assert_array_equal(x, x0)
    np.testing.assert_array_equal(sc, sc0)
