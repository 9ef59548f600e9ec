"""The action speed benchmark at tiny sizes (the full run is ``python benchmarks/action_speed.py``)."""
import json
import math

import numpy as np
import pytest

from benchmarks import action_speed as AS
from stage3_action.nas_space import random_arc, save_arch

BATCHES = (1, 2)


def positive(v):
    return isinstance(v, (int, float)) and math.isfinite(v) and v > 0


@pytest.fixture(scope="module")
def arch_file(tmp_path_factory):
    """A small random micro architecture whose meta records a search time."""
    doc = {"space": "micro", "arc": random_arc("micro", np.random.default_rng(0), 3), "filters": 8,
           "n_cells": 1, "n_nodes": 3, "meta": {"search_seconds": 123.4, "device": "cuda", "search_epochs": 7}}
    return save_arch(tmp_path_factory.mktemp("arch") / "tiny_micro.json", doc)


def test_main_writes_all_rows(tmp_path, arch_file):
    out = tmp_path / "action_speed.md"
    AS.main(["--arch", str(arch_file), "--batches", *map(str, BATCHES), "--threads", "1", "--repeats", "1",
             "--min-time", "0.01", "--out", str(out)])
    md, rep = out.read_text(), json.loads(out.with_suffix(".json").read_text())
    results = rep["results"]
    # 2 inputs x (3 encoders x (pose_cnn + 1 searched_cnn) + the per-stream ensemble)
    assert len(results) == 14
    encoders = ("pose_image", "pose_image streams", "enhanced_spmf")
    assert {(r["dim"], r["encoder"], r["classifier"]) for r in results} == {
        (d, e, c) for d in ("2d", "3d") for e in encoders for c in ("pose_cnn", "searched_cnn")} | {
        (d, "joints+bones+motion", "ensemble") for d in ("2d", "3d")}
    for r in results:
        assert "error" not in r, r
        assert positive(r["params"])
        for kind in ("encode", "model", "total"):
            for b in BATCHES:
                assert positive(r[kind][str(b)]["clips_per_s"]), (r["label"], kind, b)
        # total = encode + model time of the batch
        assert r["total"]["2"]["clips_per_s"] < min(r["encode"]["2"]["clips_per_s"], r["model"]["2"]["clips_per_s"])
    shapes = {(r["dim"], r["encoder"]): tuple(r["image_shape"]) for r in results}
    assert shapes[("2d", "pose_image")] == (2, 32, 17) and shapes[("3d", "enhanced_spmf")] == (3, 32, 32)
    assert shapes[("2d", "pose_image streams")] == (6, 32, 17)
    assert shapes[("3d", "joints+bones+motion")] == (3, 3, 32, 17)
    # the ensemble holds three pose_cnn of one stream each: three times the parameters of one, slower than one
    one = next(r for r in results if (r["dim"], r["encoder"], r["classifier"]) == ("2d", "pose_image", "pose_cnn"))
    ens = next(r for r in results if (r["dim"], r["classifier"]) == ("2d", "ensemble"))
    assert ens["params"] == 3 * one["params"]
    rows = [ln for ln in md.splitlines() if ln.startswith("| 2d ") or ln.startswith("| 3d ")]
    assert len(rows) == 14 and sum("searched_cnn (tiny_micro, micro)" in ln for ln in rows) == 6
    assert sum("| 3 x 2x32x17 |" in ln for ln in rows) == 1
    assert "## Search wall time" in md and "| tiny_micro.json | micro | 123 s (2.1 min) | cuda | 7 |" in md
    assert rep["search"] == [{"arch": "tiny_micro.json", "space": "micro", "search_seconds": 123.4,
                              "device": "cuda", "search_epochs": 7}]
    assert rep["header"]["batches"] == list(BATCHES) and rep["header"]["threads"] == 1


def test_bad_arch_is_a_clean_error(tmp_path):
    out = tmp_path / "x.md"
    with pytest.raises(SystemExit) as e:
        AS.main(["--arch", str(tmp_path / "missing.json"), "--out", str(out)])
    assert "--arch" in str(e.value) and "missing.json" in str(e.value) and "not found" in str(e.value)
    bad = tmp_path / "bad.json"
    bad.write_text('{"space": "micro"}')
    with pytest.raises(SystemExit) as e:
        AS.main(["--arch", str(bad), "--out", str(out)])
    assert "bad.json" in str(e.value) and "arc" in str(e.value)
    assert not out.exists()


def test_no_architectures_measures_pose_cnn_only(tmp_path, monkeypatch):
    monkeypatch.setattr(AS, "ARCH_GLOB", "no/such/dir/*.json")
    assert AS.architectures() == []
    assert [r["name"] for r in AS.classifier_rows([])] == ["pose_cnn"]
