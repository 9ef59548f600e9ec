"""The lifters' shared augmentation: bone-length scaling and rotation about the root."""
import math

import torch

from common.augment import scale_bones, turn_vertical
from common.skeleton import get_layout

L = get_layout("h36m17")


def _lengths(j3):
    return torch.stack([(j3[:, c] - j3[:, p]).norm(dim=-1) for c, p in enumerate(L.parents) if p >= 0], dim=1)


def test_scale_bones_stretches_each_bone_by_its_factor_left_and_right_alike():
    g = torch.Generator().manual_seed(0)
    j3 = torch.randn(5, 17, 3, generator=g) * 0.3 + torch.tensor([0.0, 0.0, 4.0])
    f = torch.exp(torch.randn(5, 17, generator=g) * 0.2)
    out = scale_bones(j3, L, f)
    assert torch.equal(out[:, 0], j3[:, 0])  # the root stays put
    child = [c for c, p in enumerate(L.parents) if p >= 0]
    perm = L.flip_permutation
    used = f[:, [min(c, perm[c]) for c in child]]
    assert torch.allclose(_lengths(out), _lengths(j3) * used, atol=1e-5)
    for a, b in ((L["l_knee"], L["r_knee"]), (L["l_wrist"], L["r_wrist"])):
        assert torch.allclose(used[:, child.index(a)], used[:, child.index(b)])
    # bone directions are kept
    d_in = torch.stack([j3[:, c] - j3[:, p] for c, p in enumerate(L.parents) if p >= 0], 1)
    d_out = torch.stack([out[:, c] - out[:, p] for c, p in enumerate(L.parents) if p >= 0], 1)
    assert torch.allclose(torch.nn.functional.cosine_similarity(d_in, d_out, dim=-1), torch.ones(5, 16), atol=1e-5)
    assert torch.allclose(scale_bones(j3, L, torch.ones(5, 17)), j3)


def test_rotation_about_the_root_keeps_the_root_and_bone_lengths():
    j3 = torch.randn(3, 17, 3) + torch.tensor([0.0, 0.0, 5.0])
    out = turn_vertical(j3, torch.full((3,), math.pi / 2), j3[:, :1])
    assert torch.allclose(out[:, 0], j3[:, 0]) and torch.allclose(_lengths(out), _lengths(j3), atol=1e-5)
    d = j3[:, 1] - j3[:, 0]
    assert torch.allclose(out[:, 1] - out[:, 0], torch.stack([d[:, 2], d[:, 1], -d[:, 0]], -1), atol=1e-5)
