import pytest

import stage1_2d  # noqa: F401
import stage2_lift  # noqa: F401
import stage3_action  # noqa: F401
from common.errors import InputError
from common.registry import build, known, lookup, register


def test_registered_names_of_the_contract():
    assert {"oracle", "mmpose_topdown"} <= set(known("detector2d"))
    assert {"oracle", "martinez_mlp"} <= set(known("lifter"))
    assert "pose_image" in known("encoder")
    assert "pose_cnn" in known("action")


def test_unknown_name_lists_known_ones():
    with pytest.raises(InputError, match="unknown lifter type 'nope'; known: .*martinez_mlp"):
        lookup("lifter", "nope")
    with pytest.raises(InputError, match="no 'type'"):
        build("lifter", {})


def test_build_rejects_unknown_options_and_double_registration():
    with pytest.raises(InputError, match="unknown option"):
        build("lifter", {"type": "martinez_mlp", "widht": 3})
    part = build("lifter", {"type": "martinez_mlp", "width": 64})
    assert part.cfg["width"] == 64 and part.cfg["blocks"] == 2
    with pytest.raises(KeyError):
        register("lifter", "martinez_mlp")(type("Other", (), {}))


def test_with_defaults_rejects_unknown_options():
    from common.registry import with_defaults

    assert with_defaults("x encoder", {"a": 2}, {"a": 1, "b": 3}) == {"a": 2, "b": 3}
    assert with_defaults("x encoder", None, {"a": 1}) == {"a": 1}
    with pytest.raises(InputError, match=r"x encoder: unknown option\(s\) c, d; known: a, b"):
        with_defaults("x encoder", {"d": 0, "c": 1}, {"a": 1, "b": 3})
