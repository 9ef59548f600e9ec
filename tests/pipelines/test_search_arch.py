"""``pipelines/search_arch.py`` end to end on a tiny synthetic pose world: the search writes a valid architecture
JSON with its provenance and curve, and retrains it beside a random architecture of the same space."""
import json
import os
import subprocess
import sys

import pytest
import yaml

from common.paths import REPO_ROOT
from stage3_action.nas_space import load_arch

pytestmark = pytest.mark.e2e

PIPELINE = {"device": "cpu", "seed": 0,
            "data": {"dataset": "synthetic", "render": False, "frames": 16,
                     "subjects": {"train": 3, "val": 1, "test": 1}, "per_class": {"train": 3, "val": 2, "test": 1}},
            "stages": {"stage3_action": {"type": "searched_cnn", "input": "3d", "epochs": 2, "clip_len": 16,
                                         "batch_size": 16, "filters": 8}}}


def run(tmp_path, *args):
    env = {**os.environ, "HAR_CACHE_DIR": str(tmp_path / "cache"), "OMP_NUM_THREADS": "1"}
    return subprocess.run([sys.executable, "pipelines/search_arch.py", *map(str, args)], cwd=REPO_ROOT, env=env,
                          capture_output=True, text=True, timeout=600)


def test_search_writes_an_architecture_and_compares_it_with_a_random_one(tmp_path):
    pipe = tmp_path / "tiny.yaml"
    pipe.write_text(yaml.safe_dump(PIPELINE))
    out, work = tmp_path / "arch.json", tmp_path / "work"
    r = run(tmp_path, pipe, "--space", "macro", "--n", 3, "--filters", 8, "--epochs", 2, "--ctrl-steps", 2,
            "--ctrl-samples", 2, "--retrain-seeds", 1, "--out", out, "--work-dir", work)
    assert r.returncode == 0, r.stderr[-3000:]
    doc = load_arch(out)
    assert doc["space"] == "macro" and doc["n_layers"] == 3
    meta = doc["meta"]
    assert len(meta["history"]) == 2 and meta["search_seconds"] > 0 and 0 <= meta["val_acc_shared"] <= 1
    assert "search_arch.py" in meta["command"] and meta["input"] == "3d"
    rep = json.loads((work / "search_report.json").read_text())
    assert [row["arm"] for row in rep["retrain"]] == ["searched", "random"]
    assert all(0 <= row["top1"] <= 1 for row in rep["retrain"])
    assert load_arch(work / "random_arch_0.json")["space"] == "macro"  # the baseline comes from the same space
    assert (work / "search_reward.png").stat().st_size > 0


def test_search_needs_a_classifier_stage(tmp_path):
    pipe = tmp_path / "no_stage3.yaml"
    pipe.write_text(yaml.safe_dump({**PIPELINE, "stages": {"stage2_lift": {"type": "oracle"}}}))
    r = run(tmp_path, pipe, "--out", tmp_path / "a.json")
    assert r.returncode == 2 and "stage3_action" in r.stderr and not (tmp_path / "a.json").exists()
    ens = {"type": "ensemble", "input": "2d", "members": {"a": {"type": "pose_cnn"}}}
    pipe.write_text(yaml.safe_dump({**PIPELINE, "stages": {"stage3_action": ens}}))
    r = run(tmp_path, pipe, "--out", tmp_path / "a.json")
    assert r.returncode == 2 and "not an ensemble" in r.stderr and not (tmp_path / "a.json").exists()
