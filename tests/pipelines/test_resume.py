"""A training killed with ``kill -9`` continues from its last finished epoch when the run starts again, and ends
with the checkpoint (same key, same weights) of a run that was never interrupted (``common/resume.py``)."""
import os
import signal
import subprocess
import sys
import time

import pytest
import torch
import yaml

from common.paths import REPO_ROOT

pytestmark = pytest.mark.e2e

PIPELINE = {
    "seed": 0,
    "data": {"dataset": "synthetic", "frames": 16, "image_size": 96, "subjects": {"train": 2, "val": 1, "test": 1},
             "per_class": {"train": 2, "val": 1, "test": 1}},
    "stages": {"stage2_lift": {"type": "martinez_mlp", "width": 256, "epochs": 12, "batch_size": 16},
               "stage3_action": {"type": "pose_cnn", "width": 16, "epochs": 12, "batch_size": 4}},
}


def _start(tmp_path, work: str) -> subprocess.Popen:
    env = {**os.environ, "HAR_CACHE_DIR": str(tmp_path / "cache"), "OMP_NUM_THREADS": "1"}
    return subprocess.Popen([sys.executable, "pipelines/run.py", str(tmp_path / "p.yaml"), "--work-dir",
                             str(tmp_path / work)], cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def _finish(proc) -> str:
    out, err = proc.communicate(timeout=600)
    assert proc.returncode == 0, err[-3000:]
    return out


def _checkpoints(tmp_path, stage):
    return sorted((tmp_path / "cache" / "checkpoints" / stage).glob("*.pt"))


def _kill_during(tmp_path, work: str, snapshot, epochs: int) -> tuple:
    """Start a run, ``kill -9`` it once ``snapshot`` holds at least 2 epochs; (the epoch it was cut at, stdout)."""
    proc = _start(tmp_path, work)
    deadline = time.time() + 300
    while time.time() < deadline and proc.poll() is None:
        if snapshot.is_file() and torch.load(snapshot, weights_only=False)["epoch"] >= 2:
            break
        time.sleep(0.05)
    assert proc.poll() is None, "the training ended before it could be killed"
    os.kill(proc.pid, signal.SIGKILL)
    out, _ = proc.communicate()
    cut = torch.load(snapshot, weights_only=False)["epoch"]
    assert 2 <= cut < epochs - 1  # killed in the middle
    return cut, out


def test_kill_9_then_resume_gives_the_uninterrupted_checkpoint(tmp_path):
    """Killed while the lifter trains, started again (it resumes the lifter), killed while the classifier trains,
    started again (it resumes the classifier): both checkpoints are those of the uninterrupted run."""
    (tmp_path / "p.yaml").write_text(yaml.safe_dump(PIPELINE))
    _finish(_start(tmp_path, "straight"))  # uninterrupted: the reference checkpoints (and the data, cached)
    reference = {s: _checkpoints(tmp_path, s) for s in ("stage2_lift", "stage3_action")}
    assert all(len(v) == 1 for v in reference.values())
    keep = {s: torch.load(p[0], weights_only=False) for s, p in reference.items()}
    for p in reference.values():  # the next run must train again
        p[0].unlink()

    snapshots = {s: p[0].with_suffix(".resume") / "loop0.pt" for s, p in reference.items()}
    epochs = {s: PIPELINE["stages"][s]["epochs"] for s in reference}
    cut2, _ = _kill_during(tmp_path, "killed_lift", snapshots["stage2_lift"], epochs["stage2_lift"])
    assert not _checkpoints(tmp_path, "stage2_lift")
    cut3, out = _kill_during(tmp_path, "killed_action", snapshots["stage3_action"], epochs["stage3_action"])
    assert "stage2_lift: resuming from the epochs saved" in out
    assert f"loop0.pt: epochs 1-{cut2 + 1} of {epochs['stage2_lift']} restored, continuing at epoch {cut2 + 2}" in out
    assert not snapshots["stage2_lift"].parent.exists()  # removed once the checkpoint is written
    assert not _checkpoints(tmp_path, "stage3_action")

    out = _finish(_start(tmp_path, "resumed"))
    assert "stage3_action: resuming from the epochs saved" in out and "stage2_lift: resuming" not in out
    n = epochs["stage3_action"]
    assert f"loop0.pt: epochs 1-{cut3 + 1} of {n} restored, continuing at epoch {cut3 + 2}" in out
    assert not snapshots["stage3_action"].parent.exists()
    for s, p in reference.items():
        assert _checkpoints(tmp_path, s) == p  # the same key
        got = torch.load(p[0], weights_only=False)
        want = keep[s]
        for k, v in want["state"]["model"].items():
            assert torch.equal(got["state"]["model"][k], v), (s, k)
        assert got["summary"]["loss"] == pytest.approx(want["summary"]["loss"], rel=1e-6)
