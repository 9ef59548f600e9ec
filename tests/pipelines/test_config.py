"""Pipeline resolution and ``--set`` overrides, as docs/interfaces.md fixes them."""
import warnings

import pytest

import pipelines.chain  # noqa: F401  (registries)
from common.errors import InputError
from pipelines.config import Resolver, flatten, parse_set_tokens, parse_value

DATA_DEFAULTS = {"seed": 0, "frames": 32, "per_class": {"train": 4, "test": 2}}
RAW = {"device": "cpu", "seed": 1, "data": {"frames": 16},
       "stages": {"stage1_2d": {"type": "oracle"}, "stage2_lift": {"type": "martinez_mlp", "epochs": 3},
                  "stage3_action": {"type": "pose_cnn"}}}


def resolver():
    return Resolver(lambda raw: dict(DATA_DEFAULTS))


def test_resolution_fills_defaults_and_keeps_file_values():
    cfg = resolver().resolve(RAW)
    lift = cfg["stages"]["stage2_lift"]
    assert lift["epochs"] == 3 and lift["width"] == 512 and lift["type"] == "martinez_mlp"
    assert cfg["data"]["frames"] == 16 and cfg["data"]["per_class"] == {"train": 4, "test": 2}
    assert cfg["data"]["bvh_dir"] is None  # evaluation-only keys always exist
    assert list(cfg["stages"]) == ["stage1_2d", "stage2_lift", "stage3_action"]


def test_parse_value_rules():
    assert parse_value("1e-3") == 0.001 and isinstance(parse_value("1e-3"), float)
    assert parse_value("3") == 3 and parse_value("null") is None and parse_value("[1, 2]") == [1, 2]
    assert parse_value("true") is True and parse_value("oracle") == "oracle"
    assert parse_set_tokens(["a.b=1", "c=x=y"]) == [("a.b", 1), ("c", "x=y")]
    with pytest.raises(InputError, match="KEY=VALUE"):
        parse_set_tokens(["novalue"])


def test_set_is_type_checked():
    r = resolver()
    _, cfg = r.apply(RAW, [("stages.stage2_lift.lr", 1), ("stages.stage2_lift.dropout", None),
                           ("data.per_class.train", 8)])
    assert cfg["stages"]["stage2_lift"]["lr"] == 1.0 and isinstance(cfg["stages"]["stage2_lift"]["lr"], float)
    assert cfg["stages"]["stage2_lift"]["dropout"] is None
    assert cfg["data"]["per_class"]["train"] == 8
    with pytest.raises(InputError, match="expected int"):
        r.apply(RAW, [("stages.stage2_lift.epochs", "many")])
    with pytest.raises(InputError, match="expected bool"):
        r.apply(RAW, [("stages.stage2_lift.flip", 1)])
    with pytest.raises(InputError, match="expected int"):
        r.apply(RAW, [("stages.stage2_lift.epochs", 2.5)])  # a float never becomes an int


def test_unknown_keys_are_errors_listing_the_known_ones():
    r = resolver()
    with pytest.raises(InputError, match="unknown key 'widht'.*known: .*width"):
        r.apply(RAW, [("stages.stage2_lift.widht", 3)])
    with pytest.raises(InputError, match="unknown key 'nope' in data"):
        r.apply(RAW, [("data.nope", 3)])
    with pytest.raises(InputError, match="unknown option"):
        r.resolve({**RAW, "stages": {"stage2_lift": {"type": "martinez_mlp", "foo": 1}}})
    with pytest.raises(InputError, match="unknown section"):
        r.resolve({**RAW, "extra": 1})
    with pytest.raises(InputError, match="unknown lifter type 'nope'; known: .*martinez_mlp.*oracle"):
        r.apply(RAW, [("stages.stage2_lift.type", "nope")])
    with pytest.raises(InputError, match="exactly one of"):
        r.resolve({"data": {}})


def test_changing_type_re_resolves_and_warns_about_dropped_options():
    r = resolver()
    with pytest.warns(UserWarning, match="dropping option.*epochs"):
        raw, cfg = r.apply(RAW, [("stages.stage2_lift.type", "oracle")])
    assert cfg["stages"]["stage2_lift"] == {"type": "oracle"}
    # and back: martinez_mlp's defaults again (the dropped file value is gone)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _, cfg = r.apply(raw, [("stages.stage2_lift.type", "martinez_mlp")])
    assert cfg["stages"]["stage2_lift"]["epochs"] == 30


def test_overrides_apply_left_to_right():
    _, cfg = resolver().apply(RAW, [("seed", 2), ("seed", 3)])
    assert cfg["seed"] == 3
    assert flatten({"a": {"b": 1, "c": {"d": 2}}, "e": 3}) == {"a.b": 1, "a.c.d": 2, "e": 3}


def test_command_line_paths_resolve_against_the_current_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    raw = {**RAW, "data": {"frames": 16}}
    r = Resolver(lambda raw: {**DATA_DEFAULTS})
    _, cfg = r.apply(raw, [("data.bvh_dir", "clips"), ("data.coco_json", "/abs/a.json")])
    assert cfg["data"]["bvh_dir"] == str(tmp_path / "clips")
    assert cfg["data"]["coco_json"] == "/abs/a.json"


def test_command_line_path_lists_and_package_paths(tmp_path, monkeypatch):
    """Each entry of a list of folders (``*_dirs``) resolves like a path; ``package::path`` stays as given."""
    monkeypatch.chdir(tmp_path)
    r = Resolver(lambda raw: {**DATA_DEFAULTS, "mocap_dirs": ["a"]})
    raw = {**RAW, "stages": {"stage2_lift": {"type": "mmpose_simplebaseline3d"}}}
    _, cfg = r.apply(raw, [("data.mocap_dirs", ["x", "/abs/y"]),
                           ("stages.stage2_lift.config", "mmpose::body_3d_keypoint/some.py")])
    assert cfg["data"]["mocap_dirs"] == [str(tmp_path / "x"), "/abs/y"]
    assert cfg["stages"]["stage2_lift"]["config"] == "mmpose::body_3d_keypoint/some.py"


def test_video_section_defaults_and_checks():
    r = resolver()
    raw = {"stages": {"stage2_lift": {"type": "oracle"}}}
    assert r.resolve(raw)["video"] == {"stride": 1, "max_frames": None}
    _, cfg = r.apply(raw, parse_set_tokens(["video.stride=3", "video.max_frames=10"]))
    assert cfg["video"] == {"stride": 3, "max_frames": 10}
    with pytest.raises(InputError, match="video: unknown key 'fps'"):
        r.resolve({**raw, "video": {"fps": 2}})
    with pytest.raises(InputError, match="stride and max_frames must be >= 1"):
        r.apply(raw, parse_set_tokens(["video.stride=0"]))


@pytest.mark.parametrize("section", ["stages", "joint"])
def test_backend_keys_are_checked_and_stay_out_of_the_options(section, tmp_path):
    """``backend``/``export_dir`` on a stage or on the joint section: checked, written only when given."""
    def raw(**backend):
        if section == "stages":
            return {**RAW, "stages": {"stage2_lift": {"type": "martinez_mlp", **backend}}}
        return {"device": "cpu", "seed": 0, "data": {}, "joint": backend}

    where = "stages.stage2_lift" if section == "stages" else "joint"
    with pytest.raises(InputError, match=f"{where}.backend: expected torch or onnx, got 'tensorrt'"):
        resolver().resolve(raw(backend="tensorrt"))
    with pytest.raises(InputError, match=f"{where}.backend: onnx needs export_dir"):
        resolver().resolve(raw(backend="onnx"))
    plain = resolver().resolve(raw())
    options = plain["stages"]["stage2_lift"] if section == "stages" else plain["joint"]
    assert "backend" not in options and "export_dir" not in options  # the torch options (checkpoint key) unchanged
    given = resolver().resolve(raw(backend="onnx", export_dir=str(tmp_path)))
    options = given["stages"]["stage2_lift"] if section == "stages" else given["joint"]
    assert options["backend"] == "onnx" and options["export_dir"] == str(tmp_path)


def test_exported_joint_needs_a_joint_export(tmp_path):
    from pipelines.exported import ExportedJoint

    with pytest.raises(InputError, match="has no manifest.json"):
        ExportedJoint(tmp_path)
    (tmp_path / "manifest.json").write_text('{"stages": {}}')
    with pytest.raises(InputError, match="holds exported stages, not a joint-mode network"):
        ExportedJoint(tmp_path)
