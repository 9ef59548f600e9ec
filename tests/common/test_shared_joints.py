"""common/skeleton.py shared_joints: the joints a layout and h36m17 both have, by name, for comparing a
detector's h36m17 output with annotations of another layout."""
import numpy as np
import pytest

from common.errors import InputError
from common.skeleton import H36M17, get_layout, shared_joints, to_h36m17

LIMBS = {"l_shoulder", "r_shoulder", "l_elbow", "r_elbow", "l_wrist", "r_wrist",
         "l_hip", "r_hip", "l_knee", "r_knee", "l_ankle", "r_ankle"}
EXPECTED = {"coco17": LIMBS, "mpii16": LIMBS | {"pelvis", "thorax"}, "ntu25": LIMBS,
            "h36m17": set(H36M17.names)}


@pytest.mark.parametrize("layout", sorted(EXPECTED))
def test_shared_joint_sets(layout):
    L = get_layout(layout)
    h_idx, s_idx = shared_joints(layout)
    assert len(h_idx) == len(s_idx) == len(EXPECTED[layout])
    assert len(set(h_idx)) == len(h_idx) and len(set(s_idx)) == len(s_idx)  # no joint twice
    assert {H36M17.names[i] for i in h_idx} == EXPECTED[layout]
    for h, s in zip(h_idx, s_idx):  # each pair names the same joint in both layouts
        assert H36M17.names[h] == L.names[s]
    assert shared_joints(L) == (h_idx, s_idx)  # a Layout object works like its name


def test_h36m17_is_the_identity():
    assert shared_joints("h36m17") == (list(range(17)), list(range(17)))


@pytest.mark.parametrize("layout", ["coco17", "mpii16", "ntu25"])
def test_shared_joints_are_copied_by_the_conversion(layout):
    """On the shared joints, to_h36m17 copies the layout's joint unchanged (and on no other joint the
    conversion is a plain copy of the same-named joint)."""
    L = get_layout(layout)
    rng = np.random.default_rng(0)
    kps = rng.uniform(0, 500, (3, L.n_joints, 2))
    out, _ = to_h36m17(kps, layout)
    h_idx, s_idx = shared_joints(layout)
    np.testing.assert_allclose(out[:, h_idx], kps[:, s_idx])
    for h, name in enumerate(H36M17.names):
        if h not in h_idx and name in L.index:  # e.g. ntu25 'neck' is not h36m17's 'neck'
            assert not np.allclose(out[:, h], kps[:, L[name]])


def test_unknown_layout():
    with pytest.raises(InputError, match="unknown skeleton layout"):
        shared_joints("coco18")
