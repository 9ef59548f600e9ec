"""The lifter speed benchmark's pieces at tiny sizes (the full run is ``python benchmarks/lifter_speed.py``)."""
import math

import pytest

from benchmarks import lifter_speed as LS

NAMES = ("martinez_mlp", "mmpose_simplebaseline3d")
BATCHES = (1, 256)


def positive(v):
    return isinstance(v, (int, float)) and math.isfinite(v) and v > 0


@pytest.fixture(scope="module")
def prepared(tiny_poses):
    return {n: LS.prepare(n, {"width": 128}, tiny_poses) for n in NAMES}


def test_rows_skip_oracle_and_add_equal_width_rows():
    rows = LS.rows_to_measure(width=1024)
    labels = [r["label"] for r in rows]
    assert not any(r["name"] == "oracle" for r in rows)
    assert "martinez_mlp (width 1024)" in labels and "martinez_mlp (width 512)" in labels
    # mmpose's default width is already 1024: no duplicate row
    assert labels.count("mmpose_simplebaseline3d (width 1024)") == 1
    only = LS.rows_to_measure(only=["martinez_mlp"], width=0, sets=["martinez_mlp.blocks=1"])
    assert [r["options"] for r in only] == [{}, {"blocks": 1}]


@pytest.mark.parametrize("name", NAMES)
def test_measure_in_process(prepared, name):
    p = prepared[name]
    assert p["init"] == "identity stats"
    res = LS.measure(p, BATCHES, repeats=2, min_time=0.01, memory=False)
    assert res["model_skipped"] is None
    assert positive(res["params"])
    for kind in ("model", "predict"):
        for b in BATCHES:
            t = res[kind][str(b)]
            assert positive(t["poses_per_s"]) and positive(t["median_s"]) and t["min_s"] <= t["max_s"]


@pytest.mark.e2e
def test_measure_in_fresh_process_with_memory(prepared):
    results = [LS.run_in_subprocess(prepared[n], BATCHES, repeats=1, min_time=0.01, threads=1) for n in NAMES]
    for res in results:
        assert positive(res["params"]) and res["threads"] == 1
        assert positive(res["model_peak_mb"]) and positive(res["predict_peak_mb"]), res
        assert all(positive(res[k][str(b)]["poses_per_s"]) for k in ("model", "predict") for b in BATCHES)
    for r in results:
        r["label"] = r["name"]
    header = {"date": "now", "machine": "x", "cpu_count": 2, "torch": "t", "threads": 1, "batches": list(BATCHES),
              "repeats": 1, "min_time": 0.01, "load_before": [0], "load_after": [0], "command": "c",
              "memory_method": results[0]["memory_method"]}
    md = LS.markdown(results, header)
    assert "| martinez_mlp |" in md and "| mmpose_simplebaseline3d |" in md
    assert "width 128: model B=1:" in md   # the equal-width comparison line
