"""Bad input gets a one-line error naming the problem, exit status 2, and nothing half-written."""
import subprocess
import sys

import cv2
import numpy as np
import pytest

from common.paths import REPO_ROOT
from pipelines.run import main

PIPE = str(REPO_ROOT / "pipelines" / "rgb_to_action.yaml")


def run_main(capsys, *argv):
    rc = main(list(argv))
    err = capsys.readouterr().err.strip().splitlines()
    return rc, err


@pytest.fixture
def out(tmp_path):
    return tmp_path / "out"


def assert_one_line_error(rc, err, match, out):
    assert rc == 2
    errors = [e for e in err if e.startswith("error:")]
    assert len(errors) == 1, err
    assert match in errors[0], errors[0]
    assert not (out / "report.json").exists()


def test_missing_pipeline_file(capsys, out):
    rc, err = run_main(capsys, "nope.yaml", "--work-dir", str(out))
    assert_one_line_error(rc, err, "nope.yaml: pipeline file not found", out)


def test_corrupt_pipeline_file(capsys, out, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("stages: [unclosed\n")
    rc, err = run_main(capsys, str(bad), "--work-dir", str(out))
    assert_one_line_error(rc, err, "not valid YAML", out)


def test_unknown_stage_type_lists_known(capsys, out):
    rc, err = run_main(capsys, PIPE, "--set", "stages.stage2_lift.type=transformer", "--work-dir", str(out))
    assert_one_line_error(rc, err, "unknown lifter type 'transformer'; known: martinez_mlp", out)


def test_unknown_key(capsys, out):
    rc, err = run_main(capsys, PIPE, "--set", "stages.stage3_action.lrr=0.1", "--work-dir", str(out))
    assert_one_line_error(rc, err, "unknown key 'lrr'", out)


def test_wrong_value_type(capsys, out):
    rc, err = run_main(capsys, PIPE, "--set", "stages.stage3_action.epochs=ten", "--work-dir", str(out))
    assert_one_line_error(rc, err, "stages.stage3_action.epochs: expected int", out)


def test_missing_video(capsys, out):
    rc, err = run_main(capsys, PIPE, "--input", "missing.mp4", "--work-dir", str(out))
    assert_one_line_error(rc, err, "missing.mp4: file or folder not found", out)


def test_unreadable_video(capsys, out, tmp_path):
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"this is not a video" * 100)
    rc, err = run_main(capsys, PIPE, "--input", str(bad), "--work-dir", str(out))
    assert_one_line_error(rc, err, "not a decodable video", out)


def test_empty_video(capsys, out, tmp_path):
    empty = tmp_path / "empty.avi"
    w = cv2.VideoWriter(str(empty), cv2.VideoWriter_fourcc(*"MJPG"), 25, (64, 64))
    w.release()
    rc, err = run_main(capsys, PIPE, "--input", str(empty), "--work-dir", str(out))
    assert_one_line_error(rc, err, "no frames", out)


def test_oracle_cannot_run_on_a_video(capsys, out, tmp_path):
    video = tmp_path / "v.avi"
    w = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*"MJPG"), 25, (64, 64))
    for _ in range(3):
        w.write(np.zeros((64, 64, 3), np.uint8))
    w.release()
    rc, err = run_main(capsys, PIPE, "--set", "stages.stage1_2d.type=oracle", "--input", str(video),
                       "--work-dir", str(out))
    assert_one_line_error(rc, err, "needs ground truth", out)


@pytest.mark.e2e
def test_command_line_exit_status():
    r = subprocess.run([sys.executable, "pipelines/run.py", PIPE, "--set", "stages.stage1_2d.type=nope"],
                       cwd=REPO_ROOT, capture_output=True, text=True, timeout=120)
    assert r.returncode == 2
    assert r.stderr.strip().splitlines()[-1].startswith("error: stages.stage1_2d.type: unknown detector2d type")
