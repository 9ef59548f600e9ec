"""The 2D detector speed benchmark at tiny sizes (the full run is ``python benchmarks/detector_fps.py``)."""
import importlib.util
import json
import math

import pytest

from benchmarks import detector_fps as DF

BATCHES = (1, 2)
TINY = ["--batches", *map(str, BATCHES), "--threads", "1", "--repeats", "1", "--min-time", "0.01"]


def positive(v):
    return isinstance(v, (int, float)) and math.isfinite(v) and v > 0


def has_module(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


def check_rows(rows, expected):
    assert [(r["detector"], r["variant"]) for r in rows] == expected
    for r in rows:
        assert "error" not in r, r
        assert sorted(r["batches"]) == sorted(map(str, BATCHES))
        for b in BATCHES:
            t = r["batches"][str(b)]
            assert t["batch"] == b and positive(t["frames_per_s"]) and positive(t["ms_per_frame"]), (r, b)
            assert t["frames_per_s_min"] <= t["frames_per_s"] <= t["frames_per_s_max"]
            assert math.isclose(t["frames_per_s"] * t["ms_per_frame"], 1000.0)


@pytest.mark.skipif(not has_module("mediapipe"), reason="mediapipe is not installed (pip install mediapipe==0.10.21)")
def test_main_precomputed_and_mediapipe(tmp_path):
    out = tmp_path / "detector_fps.md"
    DF.main(["--detectors", "precomputed", "mediapipe", *TINY, "--out", str(out)])
    md, rep = out.read_text(), json.loads(out.with_suffix(".json").read_text())
    check_rows(rep["results"], [("precomputed", "npz: read + predict"),
                                ("precomputed", "npz: predict (file already read)"),
                                ("mediapipe", "video mode, no flip"), ("mediapipe", "video mode, flip test")])
    h = rep["header"]
    assert h["batches"] == list(BATCHES) and h["threads"] == 1 and h["detectors"] == ["precomputed", "mediapipe"]
    assert h["versions"]["mediapipe"] != "not installed" and len(h["load_before"]) == 3
    assert "640x480" in h["frames"]
    rows = [ln for ln in md.splitlines() if ln.startswith("| precomputed ") or ln.startswith("| mediapipe ")]
    assert len(rows) == 4 * len(BATCHES)
    assert "| detector | variant | batch | frames/s (median) | ms/frame |" in md


@pytest.mark.skipif(not has_module("mmcv.ops") or not has_module("mmpose"),
                    reason="mmpose with mmcv's compiled ops (mmcv.ops) is not installed")
def test_rtmpose_t_builds_from_the_shipped_config_without_downloading(tmp_path):
    out = tmp_path / "rtm.md"
    DF.main(["--detectors", "rtmpose_t", "--batches", "1", "--threads", "1", "--repeats", "1", "--min-time",
             "0.01", "--out", str(out)])
    rows = json.loads(out.with_suffix(".json").read_text())["results"]
    assert [r["variant"] for r in rows] == ["infer_crops 192x256, no flip",
                                            "network only (extract_feat + head.forward) 3x256x192"]
    for r in rows:
        assert "error" not in r, r
        assert r["config"].endswith("rtmpose-t_8xb256-420e_coco-256x192.py") and r["input_size"] == [192, 256]
        assert positive(r["batches"]["1"]["frames_per_s"])
