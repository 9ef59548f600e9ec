"""``pipelines/joint_multitask.yaml`` end to end with tiny sizes: training, the per-block report, the cache, the
ablation switches, bad input and a two-process torchrun (DDP on gloo)."""
import json
import os
import subprocess
import sys

import pytest
from pipeline_run import run_pipeline

from common.paths import REPO_ROOT

pytestmark = pytest.mark.e2e

PIPE = "pipelines/joint_multitask.yaml"
TINY = ["data.frames=12", "data.image_size=128", "data.subjects.train=1", "data.subjects.val=1",
        "data.subjects.test=1", "data.per_class.train=1", "data.per_class.val=1", "data.per_class.test=1",
        "joint.input_size=64", "joint.levels=3", "joint.features=16", "joint.growth=8", "joint.width=0.25",
        "joint.n_pose_features=16", "joint.n_app_features=16", "joint.train.pose_steps=3",
        "joint.train.action_steps=2", "joint.train.joint_steps=4", "joint.train.pose_batch=4",
        "joint.train.clips_per_batch=2", "joint.train.clip_len=4", "joint.speed_repeats=1"]
KEYS = {"pck", "mpjpe_mm", "p_mpjpe_mm", "top1", "fps"}


def _report(tmp_path, work="out"):
    return json.loads((tmp_path / work / "report.json").read_text())


def test_joint_pipeline_trains_reports_per_block_and_caches(tmp_path):
    r = run_pipeline(tmp_path, PIPE, *TINY)
    assert "training on 12 sequences" in r.stdout and "decoupled at step 2" in r.stdout
    rep = _report(tmp_path)
    j = rep["joint"]
    assert KEYS <= set(j) and 0 <= j["pck"] <= 1 and 0 <= j["top1"] <= 1 and j["mpjpe_mm"] > 0 and j["fps"] > 0
    assert len(j["per_block"]) == 4 == j["n_blocks"]                       # P x (L - 1)
    for b, rec in enumerate(j["per_block"], 1):
        assert KEYS <= set(rec) and rec["block"] == b and rec["fps"] > 0 and rec["fps_action"] > 0
    assert j["top1"] == j["per_block"][-1]["top1"] and j["pck"] == j["per_block"][-1]["pck"]
    assert j["n_clips"] == 12 and len(j["confusion_matrix"]) == 12
    assert rep["train"]["joint"]["cached"] is False and rep["environment"]["seed"] == 0
    assert set(rep["train"]["joint"]["phases"]) == {"pose", "action", "joint"}
    for f in ("per_block.png", "confusion_joint.png", "skeleton3d.png", "train_joint.png", "report.md",
              "config.yaml"):
        assert (tmp_path / "out" / f).is_file(), f
    assert "| block | pyramid | level |" in (tmp_path / "out" / "report.md").read_text()
    # evaluation-only options reuse the checkpoint; a switch of the ablations trains a new one
    r = run_pipeline(tmp_path, PIPE, *TINY, "joint.test_stride=2", work="again")
    assert "loaded from" in r.stdout and _report(tmp_path, "again")["train"]["joint"]["cached"] is True
    for switch in ("joint.supervise=last", "joint.action_features=pose", "joint.decoupled_poses=false",
                   "joint.entry_flow=vgg16", "joint.entry_flow=resnet"):
        r = run_pipeline(tmp_path, PIPE, *TINY, switch, work="ablation")
        assert "no checkpoint" in r.stdout, switch
        assert len(_report(tmp_path, "ablation")["joint"]["per_block"]) == 4


@pytest.mark.parametrize("sets, message", [
    (["joint.supervise=some"], "joint.supervise: expected one of all, last"),
    (["joint.action_features=rgb"], "joint.action_features: expected one of pose, appearance, combined"),
    (["joint.entry_flow=alexnet"], "joint.entry_flow: expected one of"),
    (["joint.input_size=100"], "joint.input_size: 100 must be a multiple of 64"),
    (["joint.action_pyramids=[3]"], "action_pyramids within 1..pyramids"),
    (["joint.train.optimizer=sgd"], "joint.train.optimizer: expected one of rmsprop, adam"),
    (["data.render=false", *TINY], "has no frames with 3D labels"),
])
def test_joint_bad_input_is_one_clear_line(tmp_path, sets, message):
    r = run_pipeline(tmp_path, PIPE, *sets, check=False)
    assert r.returncode == 2 and message in r.stderr, r.stderr[-2000:]
    assert "Traceback" not in r.stderr


def test_joint_under_torchrun_two_processes(tmp_path):
    """``torchrun --standalone --nproc_per_node=2``: two CPU processes train with DDP (gloo); rank 0 alone
    saves the checkpoint and writes the report."""
    env = {**os.environ, "HAR_CACHE_DIR": str(tmp_path / "cache"), "OMP_NUM_THREADS": "1"}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2", "pipelines/run.py",
           PIPE, "--work-dir", str(tmp_path / "ddp"), "--set", *TINY]
    r = subprocess.run(cmd, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    rep = _report(tmp_path, "ddp")
    assert rep["train"]["joint"]["world_size"] == 2 and len(rep["joint"]["per_block"]) == 4
    assert r.stdout.count("joint: trained in") == 1 and r.stdout.count("report: ") == 1
    assert len(list((tmp_path / "cache" / "checkpoints" / "joint").glob("*.pt"))) == 1


def test_joint_export_cut_at_a_block(tmp_path):
    """``export.py`` on the joint pipeline writes the network cut after ``--block`` as ONNX: poses on any number
    of crops, action logits on any number of clips when an action block lies at or before the cut."""
    pytest.importorskip("onnxruntime")
    import numpy as np
    import torch

    from common.onnx_backend import OnnxNetwork

    env = {**os.environ, "HAR_CACHE_DIR": str(tmp_path / "cache"), "OMP_NUM_THREADS": "1"}
    for block in (3, 0):
        out = tmp_path / f"export{block}"
        r = subprocess.run([sys.executable, "pipelines/export.py", PIPE, "--out", str(out), "--block", str(block),
                            "--set", *TINY], cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=600)
        assert r.returncode == 0, r.stderr[-3000:]
        m = json.loads((out / "manifest.json").read_text())["joint"]
        assert m["block"] == block and m["n_blocks"] == 4 and len(m["actions"]) == 12
        for info in m["networks"].values():
            assert info["max_abs_diff"] < 1e-4
        poses = OnnxNetwork(out / "joint.poses.onnx")(torch.rand(3, 3, 64, 64))
        assert poses.shape == (3, 17, 4) and np.isfinite(poses.numpy()).all()
        assert ("actions" in m["networks"]) == any(b <= block for b in m["action_blocks"])
        if block == 3:
            logits = OnnxNetwork(out / "joint.actions.onnx")(torch.rand(2 * 4, 3, 64, 64))
            assert logits.shape == (2, 12)
    assert r.stdout.count("training") == 0  # the second export reuses the checkpoint the first one trained

    # the exported pipeline evaluates the cut with onnxruntime: the torch network's metrics at that block
    reports = {}
    for name, pipe, sets in (("torch", PIPE, ["--set", *TINY]), ("onnx", str(tmp_path / "export3" / "pipeline.yaml"),
                                                                  [])):
        r = subprocess.run([sys.executable, "pipelines/run.py", pipe, "--work-dir", str(tmp_path / name), *sets],
                           cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=600)
        assert r.returncode == 0, r.stderr[-3000:]
        reports[name] = _report(tmp_path, name)
    torch_block, onnx = reports["torch"]["joint"]["per_block"][3], reports["onnx"]["joint"]
    assert onnx["n_blocks"] == 1 and reports["onnx"]["train"]["joint"]["backend"] == "onnx"
    assert onnx["per_block"][0]["block"] == torch_block["block"] == 4 and onnx["per_block"][0]["fps"] > 0
    for key in ("pck", "mpjpe_mm", "p_mpjpe_mm"):
        assert onnx[key] == pytest.approx(torch_block[key], rel=1e-3), key
    assert onnx["top1"] == pytest.approx(torch_block["top1"], abs=1 / 12 + 1e-9)  # at most one of 12 clips
