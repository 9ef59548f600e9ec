"""``torchrun --nproc_per_node=2`` on the CPU (gloo): a detector, a lifter and a classifier trained data-parallel
over two processes (``common/distributed.py``) reach the metrics of one process within noise; rank 0 alone writes
the checkpoints and the report."""
import json
import os
import subprocess
import sys

import pytest
import yaml
from test_resume import PIPELINE
from tiny_mmpose import TINY_CONFIG

from common.paths import REPO_ROOT

pytestmark = pytest.mark.e2e


def _run(tmp_path, name, procs):
    env = {**os.environ, "HAR_CACHE_DIR": str(tmp_path / f"cache_{name}"), "OMP_NUM_THREADS": "1"}
    launch = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={procs}"] \
        if procs > 1 else [sys.executable]
    r = subprocess.run(launch + ["pipelines/run.py", str(tmp_path / "p.yaml"), "--work-dir", str(tmp_path / name)],
                       cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stderr[-3000:]
    return r, json.loads((tmp_path / name / "report.json").read_text())


def test_two_processes_train_as_one(tmp_path):
    (tmp_path / "det.py").write_text(TINY_CONFIG)
    detector = {"type": "mmpose_topdown", "config": str(tmp_path / "det.py"), "epochs": 2, "frames_per_epoch": 64,
                "val_frames": 16}
    (tmp_path / "p.yaml").write_text(yaml.safe_dump({**PIPELINE, "stages": {"stage1_2d": detector,
                                                                            **PIPELINE["stages"]}}))
    _, one = _run(tmp_path, "one", 1)
    r, two = _run(tmp_path, "two", 2)
    assert "training on 2 processes (torchrun)" in r.stdout
    for stage in ("stage1_2d", "stage2_lift", "stage3_action"):  # the gradients were averaged: one model, not two
        assert f"{stage}: weights identical on the 2 processes" in r.stdout
    assert r.stdout.count("report: ") == 1 and r.stdout.count("trained in") == 3  # rank 0 alone logs and writes
    # the detector's loss (RTMCC: a sum over the crops) is the batch's, not half of it: each process scales its own
    loss1, loss2 = (rep["train"]["stage1_2d"]["loss"] for rep in (one, two))
    assert loss2 == pytest.approx(loss1, rel=0.05)
    for stage in ("stage1_2d", "stage2_lift", "stage3_action"):
        assert len(list((tmp_path / "cache_two" / "checkpoints" / stage).glob("*.pt"))) == 1
        assert not list((tmp_path / "cache_two" / "checkpoints" / stage).glob("*.resume"))
    # the same global batches; each process's batch-norm statistics see half of them, and sums run in another
    # order: the same training within noise (at this size the 12-clip top-1 is noise: the losses are compared)
    assert two["stage2_lift"]["mpjpe_mm"] == pytest.approx(one["stage2_lift"]["mpjpe_mm"], rel=0.05)
    for stage in ("stage2_lift", "stage3_action"):
        loss1, loss2 = (rep["train"][stage]["loss"] for rep in (one, two))
        assert loss2[-1] < 0.8 * loss2[0] and loss2[-1] == pytest.approx(loss1[-1], rel=0.25), stage


def test_architecture_search_on_two_processes(tmp_path):
    """``pipelines/search_arch.py`` under torchrun: both processes take the same shared-weight steps and controller
    updates (their shared weights end identical), rank 0 alone writes the architecture and the report, and the
    retraining of the searched and random architectures runs on the same two processes."""
    from test_search_arch import PIPELINE as SEARCH

    (tmp_path / "s.yaml").write_text(yaml.safe_dump(SEARCH))
    env = {**os.environ, "HAR_CACHE_DIR": str(tmp_path / "cache"), "OMP_NUM_THREADS": "1"}
    out, work = tmp_path / "arch.json", tmp_path / "work"
    r = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
                        "pipelines/search_arch.py", str(tmp_path / "s.yaml"), "--space", "macro", "--size", "3",
                        "--filters", "8", "--epochs", "2", "--ctrl-steps", "2", "--ctrl-samples", "2",
                        "--retrain-seeds", "1", "--out", str(out), "--work-dir", str(work)],
                       cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stderr[-3000:]
    logs = r.stdout + r.stderr
    assert "searching on 2 processes (torchrun)" in logs
    assert "shared weights identical on the 2 processes" in logs
    assert logs.count("architecture -> ") == 1  # rank 0 alone reports
    assert "stage3_action: weights identical on the 2 processes" in logs  # the retraining is data-parallel too
    rep = json.loads((work / "search_report.json").read_text())
    assert [row["arm"] for row in rep["retrain"]] == ["searched", "random"]
    assert json.loads(out.read_text())["meta"]["processes"] == 2
