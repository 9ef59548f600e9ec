"""The optuna sweep driver (``pipelines/sweep.py``): the per-epoch hook and pruning, the sweep section's checks,
the study's outputs, continuing a study (also after a killed process) with sqlite and journal storages, and one
real tiny sweep end to end."""
import json
import math
import os
import subprocess
import sys

import pytest
import yaml

optuna = pytest.importorskip("optuna")

from common.paths import REPO_ROOT
from common.training import epoch_reporter, train_epochs
from pipelines import sweep
from pipelines.run import main, parse_args, resolve_pipeline

LR, WIDTH = "stages.stage3_action.lr", "stages.stage3_action.width"
#: poses only (no frames), 12 classes x 2 subjects x 2 clips to train on, one pose_cnn of width 4-12
TINY = {
    "device": "cpu", "seed": 0,
    "data": {"dataset": "synthetic", "render": False, "frames": 16, "workers": 1,
             "subjects": {"train": 2, "val": 1, "test": 1}, "per_class": {"train": 2, "val": 1, "test": 1}},
    "stages": {"stage3_action": {"type": "pose_cnn", "epochs": 4, "width": 8}},
    "sweep": {"n_trials": 2, "metric": "stage3_action.top1", "pruner": {"n_startup_trials": 2, "n_warmup_steps": 1},
              LR: {"float": [1.0e-4, 1.0e-2], "log": True}, WIDTH: {"int": [4, 12], "step": 4}},
}


def write_pipeline(tmp_path, name="tiny_sweep", **sweep_changes):
    cfg = json.loads(json.dumps(TINY))
    cfg["sweep"].update(sweep_changes)
    cfg["sweep"] = {k: v for k, v in cfg["sweep"].items() if v != "DROP"}
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(cfg, sort_keys=False))
    return path


def run_main(capsys, *argv):
    rc = main([str(a) for a in argv])
    cap = capsys.readouterr()
    return rc, cap.out, cap.err.strip().splitlines()


def dead_pid() -> int:
    p = subprocess.Popen([sys.executable, "-c", ""])
    p.wait()
    return p.pid


def leave_running_trial(storage, study_name):
    """What a process killed mid-trial leaves: a RUNNING trial, with sampled parameters, owned by a dead pid."""
    study = optuna.load_study(study_name=study_name, storage=storage)
    t = study.ask()
    t.set_user_attr(sweep.OWNER_ATTR, sweep.owner_id(dead_pid()))
    t.suggest_float(LR, 1e-4, 1e-2, log=True)
    t.suggest_int(WIDTH, 4, 12, step=4)
    return t.number


# ------------------------------------------------------------------------------------------ the hook, pruning
def test_epoch_reporter_is_called_stacks_restores_and_propagates():
    outer, inner = [], []
    vals = iter([0.1, 0.2, 0.3])
    with epoch_reporter(lambda e, v: outer.append((e, v))):
        with epoch_reporter(lambda e, v: inner.append((e, v))):
            train_epochs(lambda b: 1.0, 2, 3, "t", validate=lambda: next(vals))
        train_epochs(lambda b: 1.0, 1, 2, "t", validate=lambda: 0.5)   # the outer one again
        train_epochs(lambda b: 1.0, 1, 2, "t")                          # no validation: nothing reported
    hist = train_epochs(lambda b: 1.0, 1, 2, "t", validate=lambda: 0.7)  # nobody watching: unchanged
    assert inner == [(0, 0.1), (1, 0.2), (2, 0.3)]
    assert outer == [(0, 0.5), (1, 0.5)]
    assert hist["val"] == [0.7, 0.7] and len(hist["loss"]) == 2

    class Stop(Exception):
        pass

    def stop_after_second(epoch, value):
        if epoch == 1:
            raise Stop

    steps = []
    with pytest.raises(Stop), epoch_reporter(stop_after_second):
        train_epochs(lambda b: steps.append(b) or 0.0, 1, 5, "t", validate=lambda: 0.0)
    assert len(steps) == 2


@pytest.mark.parametrize("direction", ["maximize", "minimize"])
def test_pruner_stops_a_trial_far_below_the_median(direction):
    """Through the hook: a training whose validation is far worse than the median at the same epoch is pruned
    after the warm-up; a better one trains to the end. ``validate`` is "higher is better" (a lifter returns
    -MPJPE), so a minimizing study sees the negated value."""
    maximize = direction == "maximize"
    study = optuna.create_study(direction=direction,
                                pruner=optuna.pruners.MedianPruner(n_startup_trials=2, n_warmup_steps=1))

    def fit(trial, val):  # 6 epochs, a constant validation value
        with epoch_reporter(sweep.make_epoch_reporter(trial, maximize)):
            hist = train_epochs(lambda b: 0.0, 1, 6, "t", validate=lambda: val)
        return len(hist["val"])

    good = (0.8, 0.9, 0.88) if maximize else (-50.0, -60.0, -52.0)  # top1, or -MPJPE in mm
    for v in good[:2]:
        t = study.ask()
        assert fit(t, v) == 6
        study.tell(t, v if maximize else -v)
    t = study.ask()
    assert fit(t, good[2]) == 6  # better than the median: not pruned
    study.tell(t, 0.0)
    bad = study.ask()
    with pytest.raises(optuna.TrialPruned):
        fit(bad, 0.1 if maximize else -500.0)
    study.tell(bad, state=optuna.trial.TrialState.PRUNED)
    assert study.trials[-1].intermediate_values == ({0: 0.1, 1: 0.1} if maximize else {0: 500.0, 1: 500.0})
    assert study.trials[0].intermediate_values[5] == (0.8 if maximize else 50.0)


# ------------------------------------------------------------------------------------------ the section's checks
BAD = [
    ({"n_trails": 3}, "sweep: unknown setting 'n_trails'"),
    ({"stages.stage3_action.lrr": {"float": [0.1, 1.0]}}, "unknown key 'lrr' in stages.stage3_action"),
    ({"stages.stage9.lr": {"float": [0.1, 1.0]}}, "unknown key 'stage9' in stages"),
    ({LR: {"float": [0.1]}}, "float expects [low, high]"),
    ({LR: {"uniform": [0.1, 1.0]}}, "expected a distribution"),
    ({LR: {"float": [0.1, 1.0], "lg": True}}, "unknown option(s) lg for a float distribution"),
    ({LR: {"float": [1.0, 0.1]}}, "`low <= high` must hold"),
    ({LR: {"categorical": []}}, "categorical expects a non-empty list"),
    ({WIDTH: {"float": [4, 12]}}, "stages.stage3_action.width: expected int"),
    ({"stages.stage3_action.multi_clip": {"categorical": [True, "yes"]}}, "multi_clip: expected bool"),
    ({"metric": "stage2_lift.mpjpe_mm"}, "sweep.metric: unknown report section 'stage2_lift'"),
    ({"metric": "DROP"}, "sweep.metric: expected SECTION.KEY"),
    ({"direction": "up"}, "sweep.direction: expected maximize or minimize"),
    ({"n_trials": 0}, "sweep.n_trials: expected a positive int"),
    ({"storage": "study.db"}, "sweep.storage: expected null, journal:PATH or a database URL"),
    ({"pruner": {"patience": 2}}, "sweep.pruner: expected null or a mapping of MedianPruner options"),
    ({"sampler": {"n_startup": 2}}, "sweep.sampler:"),
    ({LR: "DROP", WIDTH: "DROP"}, "sweep: no search space"),
]


@pytest.mark.parametrize("change,message", BAD, ids=[m for _, m in BAD])
def test_bad_sweep_section_is_a_one_line_error(capsys, tmp_path, change, message):
    out = tmp_path / "out"
    rc, _, err = run_main(capsys, write_pipeline(tmp_path, **change), "--work-dir", out)
    errors = [e for e in err if e.startswith("error:")]
    assert rc == 2 and len(errors) == 1, err
    assert message in errors[0], errors[0]
    assert not out.exists()  # nothing trained, no study created


@pytest.mark.e2e
def test_bad_sweep_section_exit_status_through_the_script(tmp_path):
    r = subprocess.run([sys.executable, "pipelines/run.py", str(write_pipeline(tmp_path, n_trails=3)),
                        "--work-dir", str(tmp_path / "out")], cwd=REPO_ROOT, capture_output=True, text=True,
                       timeout=300, env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert r.returncode == 2
    assert r.stderr.strip().splitlines()[-1].startswith("error: sweep: unknown setting 'n_trails'")


def test_input_video_is_refused_with_a_sweep(capsys, tmp_path):
    video = tmp_path / "v.avi"
    video.write_bytes(b"x")
    rc, _, err = run_main(capsys, write_pipeline(tmp_path), "--input", video, "--work-dir", tmp_path / "out")
    assert rc == 2 and "--input: not available for a sweep" in err[-1]


# ------------------------------------------------------------------------------------------ the driver (no training)
def fake_measure(self, trial, params):
    """Stands in for training + evaluation: a smooth function of the parameters, 3 reported epochs."""
    value = 1 - abs(math.log10(params[LR]) + 2.5) / 3 + params[WIDTH] / 100
    report = sweep.make_epoch_reporter(trial, self.spec.maximize)
    for ep in range(3):
        report(ep, value * (ep + 1) / 3)
    return {"stage3_action.top1": value, "end_to_end.top1": value / 2}


def open_storage(kind, out, journal):
    if kind == "journal":
        from optuna.storages.journal import JournalFileBackend, JournalStorage
        return JournalStorage(JournalFileBackend(str(journal)))
    return f"sqlite:///{out / 'study.db'}"


@pytest.mark.parametrize("kind", ["sqlite", "journal"])
def test_study_continues_and_recovers_a_killed_trial(capsys, tmp_path, monkeypatch, kind):
    monkeypatch.setattr(sweep.Objective, "measure", fake_measure)
    journal = tmp_path / "journal" / "study.log"
    storage = f"journal:{journal}" if kind == "journal" else None  # None: sqlite:///<work-dir>/study.db
    pipe, out = write_pipeline(tmp_path, storage=storage, pruner=None), tmp_path / "out"
    rc, stdout, err = run_main(capsys, pipe, "--work-dir", out, "--set", "sweep.n_trials=3",
                               "stages.stage3_action.dropout=0.25")
    assert rc == 0, err
    url = str(journal) if kind == "journal" else f"sqlite:///{out / 'study.db'}"
    assert stdout.count("[sweep] trial ") == 3 and f"optuna-dashboard {url}" in stdout
    first = json.loads((out / "sweep.json").read_text())["trials"]
    assert [t["state"] for t in first] == ["COMPLETE"] * 3
    assert all(sorted(t["intermediate_values"]) == ["0", "1", "2"] for t in first)

    # the outputs: the best trial's parameters, as overrides run.py accepts
    rep = json.loads((out / "report.json").read_text())["sweep"]
    best = max(first, key=lambda t: t["value"])
    assert rep["best_value"] == best["value"] and rep["best_params"] == best["params"]
    assert (rep["n_complete"], rep["n_pruned"], rep["n_failed"]) == (3, 0, 0)
    assert rep["storage"] == url and rep["study_name"] == "tiny_sweep" and rep["metric"] == "stage3_action.top1"
    overrides = yaml.safe_load((out / "best_overrides.yaml").read_text())
    # the command line's overrides (not sweep.*) are repeated, so the file alone reproduces the best trial
    assert overrides == {"stages.stage3_action.dropout": 0.25, **best["params"], "sweep": None}
    cfg = resolve_pipeline(parse_args([str(pipe), "--overrides", str(out / "best_overrides.yaml")]))
    assert cfg["sweep"] is None and cfg["stages"]["stage3_action"]["width"] == best["params"][WIDTH]
    assert cfg["stages"]["stage3_action"]["lr"] == pytest.approx(best["params"][LR])
    assert (out / "sweep.png").stat().st_size > 0 and (out / "config.yaml").is_file()

    # a process killed mid-trial, then the same command with more trials
    killed = leave_running_trial(open_storage(kind, out, journal), "tiny_sweep")
    rc, stdout, err = run_main(capsys, pipe, "--work-dir", out, "--set", "sweep.n_trials=5")
    assert rc == 0, err
    assert "left RUNNING by a process that died" in stdout
    trials = json.loads((out / "sweep.json").read_text())["trials"]
    assert trials[:3] == first  # the same study, earlier trials kept
    states = [t["state"] for t in trials]
    assert states[killed] == "FAIL" and states.count("COMPLETE") == 5 and "RUNNING" not in states
    retry = [t for t in trials if t.get("retry_of") == killed]
    assert len(retry) == 1 and retry[0]["params"] == trials[killed]["params"]  # run again, same parameters

    # already complete: a rerun adds nothing
    rc, stdout, _ = run_main(capsys, pipe, "--work-dir", out, "--set", "sweep.n_trials=5")
    assert rc == 0 and "[sweep] trial " not in stdout
    assert len(json.loads((out / "sweep.json").read_text())["trials"]) == len(trials)


def test_metric_missing_from_the_report_stops_the_sweep(capsys, tmp_path, monkeypatch):
    monkeypatch.setattr(sweep.Objective, "measure", fake_measure)
    pipe = write_pipeline(tmp_path, metric="stage3_action.top5", pruner=None)
    rc, _, err = run_main(capsys, pipe, "--work-dir", tmp_path / "o")
    assert rc == 2 and "sweep.metric: the report has no 'stage3_action.top5'; known: end_to_end.top1" in err[-1]


def test_trials_failing_in_a_row_stop_the_sweep(capsys, tmp_path, monkeypatch):
    def broken(self, trial, params):
        raise sweep.InputError("stages.stage3_action.encoder: unknown encoder type 'nope'")

    monkeypatch.setattr(sweep.Objective, "measure", broken)
    out = tmp_path / "out"
    rc, stdout, err = run_main(capsys, write_pipeline(tmp_path, n_trials=10), "--work-dir", out)
    assert rc == 2 and err[-1] == ("error: sweep: 3 trials in a row failed; last: "
                                   "stages.stage3_action.encoder: unknown encoder type 'nope'")
    assert stdout.count("FAIL: failed: stages.stage3_action.encoder") == 3
    assert [t["state"] for t in json.loads((out / "sweep.json").read_text())["trials"]] == ["FAIL"] * 3


@pytest.mark.e2e
def test_a_study_measuring_another_metric_is_not_mixed_in(capsys, tmp_path, monkeypatch):
    monkeypatch.setattr(sweep.Objective, "measure", fake_measure)
    pipe, out = write_pipeline(tmp_path, n_trials=1, pruner=None), tmp_path / "out"
    assert run_main(capsys, pipe, "--work-dir", out)[0] == 0
    rc, _, err = run_main(capsys, pipe, "--work-dir", out, "--set", "sweep.metric=end_to_end.top1")
    assert rc == 2 and "measures stage3_action.top1, not end_to_end.top1" in err[-1]


# ------------------------------------------------------------------------------------------ a real tiny sweep
def run_script(tmp_path, pipe, *extra):
    env = {**os.environ, "HAR_CACHE_DIR": str(tmp_path / "cache"), "OMP_NUM_THREADS": "1"}
    r = subprocess.run([sys.executable, "pipelines/run.py", str(pipe), "--work-dir", str(tmp_path / "out"), *extra],
                       cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    return r


@pytest.mark.e2e
def test_real_sweep_resumes_a_killed_sqlite_study(tmp_path):
    """pose_cnn trained for real on ground-truth 2D, measured on the val split, with the default sqlite storage
    in the work dir, where an earlier process finished one trial and was killed during the next."""
    from optuna.distributions import FloatDistribution, IntDistribution

    pipe, out = write_pipeline(tmp_path, n_trials=3), tmp_path / "out"
    out.mkdir()
    url = f"sqlite:///{out / 'study.db'}"
    study = optuna.create_study(study_name="tiny_sweep", storage=url, direction="maximize")
    study.add_trial(optuna.trial.create_trial(
        value=-1.0, params={LR: 1e-3, WIDTH: 8},
        distributions={LR: FloatDistribution(1e-4, 1e-2, log=True), WIDTH: IntDistribution(4, 12, step=4)}))
    killed = leave_running_trial(url, "tiny_sweep")

    r = run_script(tmp_path, pipe)
    assert r.stdout.count("[sweep] trial ") == 2 and "optuna-dashboard " + url in r.stdout
    trials = json.loads((out / "sweep.json").read_text())["trials"]
    states = [t["state"] for t in trials]
    assert trials[0]["value"] == -1.0 and states[killed] == "FAIL" and "RUNNING" not in states
    assert len(trials) == 4 and sum(s in ("COMPLETE", "PRUNED") for s in states) == 3
    assert trials[2]["retry_of"] == killed and trials[2]["params"] == trials[killed]["params"]
    for t in trials[2:]:  # every epoch of the classifier reported (a pruned one stops early), val top-1
        assert t["state"] in ("COMPLETE", "PRUNED") and 1 <= len(t["intermediate_values"]) <= 4
        assert len(t["intermediate_values"]) == 4 or t["state"] == "PRUNED"
        if t["state"] == "COMPLETE":
            assert 0 <= t["value"] == t["val_report"]["stage3_action.top1"] <= 1
    study = optuna.load_study(study_name="tiny_sweep", storage=url)
    assert study.best_trial.number >= 2
    assert yaml.safe_load((out / "best_overrides.yaml").read_text()) == {**study.best_trial.params, "sweep": None}
    rep = json.loads((out / "report.json").read_text())["sweep"]
    assert rep["best_value"] == study.best_value and rep["storage"] == url and rep["n_failed"] == 1


@pytest.mark.e2e
@pytest.mark.slow
def test_real_sweep_journal_then_run_the_best(tmp_path):
    """Journal storage with real training, then run.py on the test split with the best trial's overrides (its
    checkpoint is reused from the cache)."""
    journal = tmp_path / "study.journal"
    pipe, out = write_pipeline(tmp_path, storage=f"journal:{journal}", n_trials=3), tmp_path / "out"
    run_script(tmp_path, pipe)
    study = optuna.load_study(study_name="tiny_sweep", storage=optuna.storages.journal.JournalStorage(
        optuna.storages.journal.JournalFileBackend(str(journal))))
    assert len(study.trials) == 3
    env = {**os.environ, "HAR_CACHE_DIR": str(tmp_path / "cache"), "OMP_NUM_THREADS": "1"}
    r = subprocess.run([sys.executable, "pipelines/run.py", str(pipe), "--work-dir", str(tmp_path / "best"),
                        "--overrides", str(out / "best_overrides.yaml")],
                       cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    rep = json.loads((tmp_path / "best" / "report.json").read_text())
    assert 0 <= rep["stage3_action"]["top1"] <= 1
    assert "stage3_action: pose_cnn loaded from" in r.stdout  # the best trial's checkpoint, reused
