"""Sweeps with several worker processes on one study: ``--workers 2`` on a journal file and on a real PostgreSQL
server, and a worker killed with ``kill -9`` mid-trial on PostgreSQL, after which the same command finishes the
study and runs the dead trial's parameters again."""
import json
import os
import signal
import subprocess
import sys
import time

import pytest
from postgres_server import postgres_url  # noqa: F401  (fixture)
from test_sweep import write_pipeline

from common.paths import REPO_ROOT

optuna = pytest.importorskip("optuna")
pytestmark = pytest.mark.e2e


def _cmd(pipe, out, *extra):
    return [sys.executable, "pipelines/run.py", str(pipe), "--work-dir", str(out), *extra]


def _env(tmp_path):
    return {**os.environ, "HAR_CACHE_DIR": str(tmp_path / "cache"), "OMP_NUM_THREADS": "1"}


def _study(storage):
    if storage.startswith("journal:"):
        from optuna.storages.journal import JournalFileBackend, JournalStorage
        storage = JournalStorage(JournalFileBackend(storage[len("journal:"):]))
    return optuna.load_study(study_name="tiny_sweep", storage=storage)


def _check_two_workers(tmp_path, storage):
    pipe, out = write_pipeline(tmp_path, storage=storage, n_trials=4), tmp_path / "out"
    r = subprocess.run(_cmd(pipe, out, "--workers", "2"), cwd=REPO_ROOT, env=_env(tmp_path), capture_output=True,
                       text=True, timeout=900)
    assert r.returncode == 0, r.stderr[-3000:]
    assert "1 more worker process(es) on the study" in r.stdout
    assert (out / "worker1.log").read_text().count("[sweep] trial ") >= 1
    trials = _study(storage).trials
    states = [t.state.name for t in trials]
    assert "RUNNING" not in states and sum(s in ("COMPLETE", "PRUNED") for s in states) >= 4
    owners = {t.user_attrs["owner"].rsplit(":", 2)[1] for t in trials}
    assert len(owners) == 2  # both processes ran trials
    assert len({json.dumps(t.params, sort_keys=True) for t in trials}) == len(trials)  # no trial drawn twice


def test_two_workers_on_a_journal(tmp_path):
    _check_two_workers(tmp_path, f"journal:{tmp_path / 'study.journal'}")


def test_two_workers_on_postgresql(tmp_path, postgres_url):  # noqa: F811
    _check_two_workers(tmp_path, postgres_url)


def test_a_worker_killed_mid_trial_on_postgresql(tmp_path, postgres_url):  # noqa: F811
    url = postgres_url
    pipe = write_pipeline(tmp_path, storage=url, n_trials=4, study_name="killed")
    env = _env(tmp_path)
    victim = subprocess.Popen(_cmd(pipe, tmp_path / "a"), cwd=REPO_ROOT, env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    other = subprocess.Popen(_cmd(pipe, tmp_path / "b"), cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
    study, killed = None, None
    deadline = time.time() + 300
    while time.time() < deadline and victim.poll() is None and killed is None:
        time.sleep(0.2)
        try:
            study = optuna.load_study(study_name="killed", storage=url)
        except KeyError:  # not created yet
            continue
        for t in study.get_trials(deepcopy=False):
            owner = t.user_attrs.get("owner", "::").rsplit(":", 2)
            if t.state.name == "RUNNING" and owner[1] == str(victim.pid) and t.params:
                killed = t.number
    assert killed is not None, "the victim never ran a trial"
    os.kill(victim.pid, signal.SIGKILL)
    victim.wait()
    _, err = other.communicate(timeout=900)
    assert other.returncode == 0, err[-3000:]
    # the live worker failed the dead trial and queued its parameters again; the same command finishes the study
    r = subprocess.run(_cmd(pipe, tmp_path / "a"), cwd=REPO_ROOT, env=env, capture_output=True, text=True,
                       timeout=900)
    assert r.returncode == 0, r.stderr[-3000:]
    trials = optuna.load_study(study_name="killed", storage=url).trials
    by_number = {t.number: t for t in trials}
    assert by_number[killed].state.name == "FAIL"
    retry = [t for t in trials if killed in t.system_attrs.get("retry_history", [])]
    assert len(retry) == 1 and retry[0].params == by_number[killed].params
    assert "RUNNING" not in [t.state.name for t in trials]
    assert sum(t.state.name in ("COMPLETE", "PRUNED") for t in trials) >= 4
