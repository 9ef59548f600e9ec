"""Shared by the end-to-end tests: ``pipelines/run.py`` in a subprocess, as a user runs it, with its own cache."""
import os
import subprocess
import sys

from common.paths import REPO_ROOT


def run_pipeline(tmp_path, pipeline: str, *sets: str, work: str = "out",
                 check: bool = True) -> subprocess.CompletedProcess:
    """``run.py PIPELINE --work-dir TMP/WORK --set SETS...`` with ``HAR_CACHE_DIR=TMP/cache`` (other options, such
    as ``--input FILE``, may follow the sets); with ``check`` a non-zero exit fails the test with the end of
    stderr."""
    env = {**os.environ, "HAR_CACHE_DIR": str(tmp_path / "cache")}
    cmd = [sys.executable, "pipelines/run.py", pipeline, "--work-dir", str(tmp_path / work), "--set", *sets]
    r = subprocess.run(cmd, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=600)
    if check:
        assert r.returncode == 0, r.stderr[-3000:]
    return r
