"""``--deterministic``: two runs of a small pipeline, each training from scratch in its own cache, write the same
``report.json`` values (timings aside), and the report records the versions, threads and seed."""
import json
import os
import subprocess
import sys

import pytest
import yaml
from test_resume import PIPELINE

from common.paths import REPO_ROOT

pytestmark = pytest.mark.e2e

TIMING = ("fps", "seconds", "time", "_s")


def _values(d, prefix=""):
    """Every number and string of a report, by dotted key, timings left out."""
    if isinstance(d, dict):
        out = {}
        for k, v in d.items():
            if k in ("environment", "checkpoint", "figures") or any(t in k for t in TIMING):
                continue
            out.update(_values(v, f"{prefix}.{k}"))
        return out
    if isinstance(d, list) and any(isinstance(x, (dict, list)) for x in d):
        out = {}
        for i, x in enumerate(d):
            out.update(_values(x, f"{prefix}[{i}]"))
        return out
    return {prefix: d}


def _run(tmp_path, name):
    env = {**os.environ, "HAR_CACHE_DIR": str(tmp_path / f"cache_{name}"), "OMP_NUM_THREADS": "1"}
    r = subprocess.run([sys.executable, "pipelines/run.py", str(tmp_path / "p.yaml"), "--deterministic",
                        "--work-dir", str(tmp_path / name)], cwd=REPO_ROOT, env=env, capture_output=True,
                       text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    assert r.stdout.count("training") == 2  # each run trains both stages itself
    return json.loads((tmp_path / name / "report.json").read_text())


def test_two_deterministic_runs_write_the_same_report(tmp_path):
    (tmp_path / "p.yaml").write_text(yaml.safe_dump({**PIPELINE, "seed": 3}))
    a, b = _run(tmp_path, "a"), _run(tmp_path, "b")
    va, vb = _values(a), _values(b)
    assert va.keys() == vb.keys() and len(va) > 20
    assert va == vb, {k: (va[k], vb[k]) for k in va if va[k] != vb[k]}
    env = a["environment"]
    assert env["deterministic"] is True and env["seed"] == 3 and env["torch_threads"] == 1
    assert env["omp_num_threads"] == "1" and {"torch", "numpy", "python"} <= set(env["versions"])
    assert env["cpu"] and env["cpu_capability"]  # the processor and the kernels torch picked for it
