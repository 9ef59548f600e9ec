"""The optuna sweep driver: ``python pipelines/run.py FILE.yaml`` runs a study instead of a single run when the
pipeline file has a top-level ``sweep:`` section (``docs/interfaces.md``, "Pipeline files").

Section format (dotted pipeline keys mapped to optuna distributions sit directly under ``sweep``; every other
key is a setting)::

    sweep:
      n_trials: 12                 # COMPLETE + PRUNED trials wanted in the study (default 20); a rerun only
                                   # adds the missing ones
      metric: stage3_action.top1   # required: SECTION.KEY of the report (a stage of the pipeline or end_to_end),
                                   # measured on the dataset's VALIDATION split (never the test split)
      direction: maximize          # maximize | minimize; default: minimize for errors (*_mm), else maximize
      storage: null                # see "Storage" below
      study_name: null             # default: the pipeline file's stem
      pruner: {n_startup_trials: 2, n_warmup_steps: 2}   # optuna MedianPruner options (default: optuna's);
                                   # null or false: no pruning
      sampler: {}                  # extra optuna TPESampler options (n_startup_trials, multivariate, ...)
      stages.stage3_action.lr: {float: [1.0e-4, 1.0e-2], log: true}      # also: step
      stages.stage3_action.width: {int: [8, 32], step: 8}                 # also: log
      stages.stage3_action.encoder: {categorical: [pose_image, enhanced_spmf]}

Every sampled value is applied like ``--set KEY=VALUE`` after the command line's ``--overrides`` / ``--set``
(same checks; a bad key, a value of the wrong type - each choice and both bounds are tried - or a malformed
distribution is a one-line ``InputError`` before anything trains). Settings the file sets may be changed from
the command line too: ``--set sweep.n_trials=30`` (the Resolver knows only the keys the file has).

Each trial builds the chain, prepares it (trains what has no cached checkpoint; checkpoints are cached as in a
single run), evaluates it on the ``val`` split and returns ``metric``. While the stage the metric belongs to
trains (the last stage for ``end_to_end``), every epoch's validation value is reported to the trial (through
``common.training.epoch_reporter``; negated for ``minimize``, since ``validate`` is "higher is better", so a
lifter's ``-MPJPE`` is reported as the MPJPE) and the pruner may stop it (``optuna.TrialPruned``; a pruned
trial saves no checkpoint). The TPE sampler is seeded from the pipeline's ``seed`` and the trial number, so a
single process is reproducible and concurrent processes do not draw the same parameters. The dataset is built
once per process (again only when a sampled ``data.*`` key changes the data section).

Storage (``sweep.storage``):

- ``null`` (default): ``sqlite:///<work-dir>/study.db``;
- ``journal:PATH``: optuna's ``JournalStorage`` with a file backend (several processes on one machine;
  a relative PATH resolves against the repository root);
- any SQLAlchemy URL (``postgresql://user:pass@host/db``, ``mysql+pymysql://...``, ``sqlite:///...``): several
  machines can share a study.

Resuming and several processes: the study is opened with ``load_if_exists``, so running the same command again
(or several copies of it at once, on one machine or, with a database server, on several) continues the same
study until it holds ``n_trials`` COMPLETE + PRUNED trials (trials running in live processes on this machine
count too, so parallel processes do not overshoot; trials running on other machines do not). Each trial records
its owner (``host:pid:start-time``) as the user attribute ``owner``. At start and before each trial a RUNNING
trial whose owner process on this machine is gone (killed) is marked FAIL and re-queued once with the same
parameters. With a database (sqlite or a server) optuna's heartbeat (every 30 s, stale after 120 s) does the
same for trials whose process died on another machine. FAIL trials never count towards ``n_trials``.

``--workers N`` starts N - 1 more processes of the same command on the same study (their logs in
``<work-dir>/worker<i>.log``), each with ``cpu_count / N`` threads unless ``OMP_NUM_THREADS`` is set, and waits for
them: with the default sqlite file or a journal on one machine, with a database server on several.

Outputs in the work dir (rewritten atomically after every trial; the figure at most every 30 s):
``best_overrides.yaml`` (the command line's overrides and the best trial's parameters as flat dotted keys, plus
``sweep: null``, so that
``run.py FILE.yaml --overrides best_overrides.yaml`` runs that trial on the test split instead of sweeping),
``sweep.json`` (every trial: number, state, params, value, per-epoch intermediate values, validation report),
``report.json`` (a ``sweep`` section), ``config.yaml`` (the resolved pipeline) and ``sweep.png``.
Watch a study live with ``optuna-dashboard <storage>`` (``pip install optuna-dashboard``).

This module holds the objective, the loop and the outputs; the section is parsed in ``pipelines/sweep_spec.py``,
the storage and the trials' owners are handled in ``pipelines/sweep_storage.py``.
"""
from __future__ import annotations

import math
import os
import sys
import time
import warnings
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

import yaml

from common.errors import InputError
from common.io import atomic_path, write_json, write_text
from common.logs import get_logger

from .sweep_spec import SweepSpec, resolve_params
from .sweep_storage import MAX_RETRY, OWNER_ATTR, count_trials, fail_dead_trials, open_storage, owner_id

MAX_FAILS_IN_A_ROW = 3        # trials failing on bad input in a row stop the sweep
FIGURE_EVERY_S = 30.0         # sweep.png is redrawn after a trial at most this often (and always at the end)
_last_figure = {"t": -math.inf}


_log = get_logger("sweep").info


class _Abort(Exception):
    """A problem no other trial can avoid (a metric the report lacks): fails the trial and stops the sweep."""


# ---------------------------------------------------------------------------------------------- trials
def make_epoch_reporter(trial, maximize: bool, watching=lambda: True):
    """An ``epoch_reporter`` function: reports each epoch's validation value to ``trial`` (negated when
    minimizing) while ``watching()`` is true, and raises ``optuna.TrialPruned`` when the pruner says so."""
    import optuna

    def report(epoch: int, value: float) -> None:
        if not watching():
            return
        v = float(value) if maximize else -float(value)
        if not math.isfinite(v):
            return
        trial.report(v, epoch)
        if trial.should_prune():
            raise optuna.TrialPruned(f"pruned after epoch {epoch + 1} (validation {value:.4g})")

    return report


def _scalars(report: dict) -> Dict[str, float]:
    """``section.key -> number`` of a report (lists, matrices and per-file tables left out)."""
    out = {}
    for sec, vals in report.items():
        if isinstance(vals, dict):
            for k, v in vals.items():
                if isinstance(v, (int, float)) and not isinstance(v, bool):
                    out[f"{sec}.{k}"] = float(v)
    return out


class Objective:
    """One trial: sample, resolve, build, prepare (train or load), evaluate on ``val``, return the metric."""

    def __init__(self, spec: SweepSpec, raw: dict, base_overrides: List[Tuple[str, Any]], resolver, seed: int):
        self.spec, self.raw, self.base, self.resolver, self.seed = spec, raw, base_overrides, resolver, seed
        self.datasets: Dict[str, Any] = {}
        self.last: Dict[str, Any] = {}

    def resolve(self, params: Dict[str, Any]) -> dict:
        return resolve_params(self.resolver, self.raw, self.base, params)

    def dataset(self, data_cfg: dict):
        from common.cache import config_hash

        from .data import build_dataset

        key = config_hash(data_cfg)
        if key not in self.datasets:
            self.datasets.clear()  # one at a time: a new data section replaces the old one
            self.datasets[key] = build_dataset(data_cfg)
        return self.datasets[key]

    def __call__(self, trial) -> float:
        self.last = {"number": trial.number, "trained": [], "t0": time.perf_counter()}
        try:
            trial.set_user_attr(OWNER_ATTR, owner_id())
            # a stream per trial number: reproducible, and concurrent processes draw different values
            trial.study.sampler = self.spec.make_sampler((self.seed * 1_000_003 + trial.number) % 2**32)
            flat = self.measure(trial, self.spec.sample(trial))
            trial.set_user_attr("val_report", flat)
            if self.spec.metric not in flat:
                raise _Abort(f"sweep.metric: the report has no {self.spec.metric!r}; known: "
                             f"{', '.join(sorted(flat))}")
            return flat[self.spec.metric]
        except (InputError, _Abort) as e:
            trial.set_user_attr("error", str(e))
            raise

    def measure(self, trial, params: Dict[str, Any]) -> Dict[str, float]:
        """Train (what is not cached) and evaluate the pipeline with ``params`` applied, reporting the
        watched stage's epochs to ``trial``; returns the validation report as ``section.key -> number``."""
        from common.training import epoch_reporter, resolve_device

        from .chain import Chain
        from .evaluate import evaluate

        cfg = self.resolve(params)
        chain = Chain(cfg, resolve_device(cfg["device"]), log=lambda m: None)
        watched = self.spec.watched_stage(cfg)
        current = {"stage": None}
        for name, part in chain.parts.items():
            part.fit = _tag_fit(part.fit, name, current, self.last["trained"])
        report_epoch = make_epoch_reporter(trial, self.spec.maximize, lambda: current["stage"] == watched)
        with epoch_reporter(report_epoch):
            chain.prepare(lambda: self.dataset(cfg["data"]))
        ds = self.dataset(cfg["data"])
        if not ds.val:
            raise _Abort("sweep: the dataset's validation split is empty; a sweep measures on it")
        report = evaluate(chain, ds.val, ds.action_names)
        report.pop("_examples", None)
        report.pop("_sheet", None)
        return _scalars(report)


def _tag_fit(fit, name: str, current: dict, trained: list):
    """``part.fit`` that records which stage is training (so only the watched one reports its epochs)."""
    def tagged(*a, **kw):
        current["stage"] = name
        trained.append(name)
        try:
            return fit(*a, **kw)
        finally:
            current["stage"] = None
    return tagged


# ---------------------------------------------------------------------------------------------- outputs
def _trial_json(t) -> dict:
    d = {"number": t.number, "state": t.state.name, "params": t.params, "value": t.value,
         "intermediate_values": {int(k): v for k, v in sorted(t.intermediate_values.items())},
         "datetime_start": t.datetime_start.isoformat() if t.datetime_start else None,
         "duration_s": t.duration.total_seconds() if t.duration else None,
         "val_report": t.user_attrs.get("val_report")}
    if "error" in t.user_attrs:
        d["error"] = t.user_attrs["error"]
    if "retry_history" in t.system_attrs:
        d["retry_of"] = t.system_attrs["retry_history"][-1]
    return d


def _best(study):
    """The COMPLETE trial with the best value (the earliest among equals), or None."""
    from optuna.trial import TrialState

    done = [t for t in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
            if t.value is not None and math.isfinite(t.value)]
    if not done:
        return None
    sign = -1.0 if study.direction.name == "MAXIMIZE" else 1.0
    return min(done, key=lambda t: (sign * t.value, t.number))


def write_outputs(study, spec: SweepSpec, work_dir: Path, storage_url: str, pipeline: Path,
                  figure: bool = True, base: List[Tuple[str, Any]] = ()) -> dict:
    """Rewrite the outputs; ``base`` = the command line's overrides, which ``best_overrides.yaml`` repeats (all
    but ``sweep.*``) so that it reproduces the best trial's configuration on its own."""
    trials = study.get_trials(deepcopy=False)
    c = count_trials(study)
    best = _best(study)
    sec = {"metric": spec.metric, "direction": spec.settings["direction"], "split": "val",
           "best_value": best.value if best else None, "best_params": best.params if best else None,
           "best_trial": best.number if best else None, "n_trials": spec.settings["n_trials"],
           "n_complete": c["complete"], "n_pruned": c["pruned"], "n_failed": c["failed"],
           "n_running": c["running"], "storage": storage_url, "study_name": study.study_name,
           "best_val_report": best.user_attrs.get("val_report") if best else None}
    write_json(work_dir / "sweep.json", {**{k: sec[k] for k in ("study_name", "storage", "metric", "direction",
                                                                 "split", "n_trials")},
                                        "search_space": {k: repr(d) for k, d in spec.space.items()},
                                        "trials": [_trial_json(t) for t in trials]})
    write_json(work_dir / "report.json", {"sweep": sec})
    if best is not None:
        head = (f"# best trial #{best.number} of study {study.study_name!r}: {spec.metric} = {best.value:.6g} "
                f"(validation split)\n# python pipelines/run.py {pipeline} --overrides "
                f"{work_dir / 'best_overrides.yaml'}\n")
        write_text(work_dir / "best_overrides.yaml",
                   head + yaml.safe_dump({**{k: v for k, v in base if not k.startswith("sweep.")}, **best.params,
                                          "sweep": None}, sort_keys=False))
    if not figure and time.monotonic() - _last_figure["t"] < FIGURE_EVERY_S:
        return sec
    _last_figure["t"] = time.monotonic()
    try:
        plot_sweep(trials, spec, work_dir / "sweep.png", title=f"{study.study_name}: {spec.metric} (val)")
    except Exception as e:
        _log(f"sweep.png not written ({type(e).__name__}: {e})")
    return sec


def plot_sweep(trials, spec: SweepSpec, path: Path, title: str = "") -> Path:
    """Left: the metric per trial (pruned trials at their last reported value, marked x) and the best so far;
    right: the reported validation value per epoch of every trial (pruned dashed)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator
    from optuna.trial import TrialState

    fig = Figure(figsize=(11, 4))
    FigureCanvasAgg(fig)
    ax, ax2 = fig.add_subplot(1, 2, 1), fig.add_subplot(1, 2, 2)
    done = [t for t in trials if t.state == TrialState.COMPLETE and t.value is not None]
    pruned = [t for t in trials if t.state == TrialState.PRUNED and t.intermediate_values]
    sign = 1.0 if spec.maximize else -1.0  # intermediate values are in the study's orientation already
    if done:
        ax.plot([t.number for t in done], [t.value for t in done], "o", color="tab:blue", label="complete")
        best, xs, ys = None, [], []
        for t in sorted(done, key=lambda t: t.number):
            if best is None or (t.value > best if spec.maximize else t.value < best):
                best = t.value
            xs.append(t.number)
            ys.append(best)
        ax.step(xs, ys, where="post", color="tab:green", label="best so far")
    if pruned:
        ax.plot([t.number for t in pruned], [t.intermediate_values[max(t.intermediate_values)] for t in pruned],
                "x", color="tab:red", markersize=8, label="pruned (last epoch's validation)")
    n_failed = sum(t.state == TrialState.FAIL for t in trials)
    ax.set_xlabel("trial")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylabel(f"{spec.metric} ({spec.settings['direction']})")
    ax.set_title(f"{title}  [{len(done)} complete, {len(pruned)} pruned, {n_failed} failed]", fontsize=9)
    ax.grid(alpha=0.3)
    if done or pruned:
        ax.legend(fontsize=8)
    for t in trials:
        if t.intermediate_values:
            steps = sorted(t.intermediate_values)
            ax2.plot([s + 1 for s in steps], [t.intermediate_values[s] for s in steps],
                     "--" if t.state == TrialState.PRUNED else "-",
                     color="tab:red" if t.state == TrialState.PRUNED else "tab:blue", alpha=0.6, lw=1)
    ax2.set_xlabel("epoch")
    ax2.set_ylabel("validation value reported" + ("" if sign > 0 else " (negated)"))
    ax2.set_title("per-epoch validation of the watched stage (pruned dashed)", fontsize=9)
    ax2.grid(alpha=0.3)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=100, bbox_inches="tight")
    return Path(path)


# ---------------------------------------------------------------------------------------------- driver
def main(args, cfg: dict, work_dir: Path) -> dict:
    """``pipelines/run.py``'s entry for a pipeline file with a ``sweep`` section (``args`` its arguments)."""
    from .config import load_overrides, parse_set_tokens

    if getattr(args, "input", None) is not None:
        raise InputError("--input: not available for a sweep; run the best trial with --overrides "
                         "<work-dir>/best_overrides.yaml")
    overrides = [kv for f in args.overrides for kv in load_overrides(f)] + parse_set_tokens(args.sets)
    workers = int(getattr(args, "workers", 1) or 1)
    if workers < 1:
        raise InputError(f"--workers: expected a positive number of processes, got {workers}")
    children = spawn_workers(args, work_dir, workers) if workers > 1 else []
    try:
        sec = run_sweep(args.pipeline, overrides, cfg, work_dir)
    finally:
        failed = [i for i, c in enumerate(children, 1) if c.wait() != 0]
    if failed:
        raise InputError(f"--workers: worker(s) {', '.join(map(str, failed))} failed; see "
                         + ", ".join(str(work_dir / f"worker{i}.log") for i in failed))
    return sec


def spawn_workers(args, work_dir: Path, workers: int) -> list:
    """``workers - 1`` more processes of this sweep's command on the same study, logging to
    ``<work-dir>/worker<i>.log``; this process and each of them get ``cpu_count // workers`` threads unless
    ``OMP_NUM_THREADS`` says otherwise."""
    import subprocess

    import torch

    threads = os.environ.get("OMP_NUM_THREADS") or str(max(1, (os.cpu_count() or 1) // workers))
    torch.set_num_threads(int(threads))
    cmd = [sys.executable, str(Path(__file__).with_name("run.py")), str(args.pipeline), "--work-dir", str(work_dir)]
    cmd += ["--overrides", *map(str, args.overrides)] if args.overrides else []
    cmd += ["--set", *args.sets] if args.sets else []
    work_dir.mkdir(parents=True, exist_ok=True)
    children = []
    for i in range(1, workers):
        with open(work_dir / f"worker{i}.log", "w") as log:
            children.append(subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT,
                                             env={**os.environ, "OMP_NUM_THREADS": threads}))
    _log(f"{workers - 1} more worker process(es) on the study (pids {', '.join(str(c.pid) for c in children)}), "
         f"{threads} thread(s) each; their logs: {work_dir}/worker<i>.log")
    return children


def run_sweep(pipeline, overrides: List[Tuple[str, Any]], cfg: dict, work_dir: Path) -> dict:
    """Run (or continue) the study of the pipeline file ``pipeline`` whose resolved config is ``cfg``;
    ``overrides`` are the command line's (``--overrides`` then ``--set``) pairs. Returns the report section."""
    import optuna
    from optuna.trial import TrialState

    from .config import Resolver, load_yaml

    pipeline, work_dir = Path(pipeline), Path(work_dir)
    if "joint" in cfg:
        raise InputError("sweep: the joint mode is not available in this version; use a 'stages' pipeline")
    spec = SweepSpec(cfg["sweep"], cfg, pipeline)
    raw = load_yaml(pipeline)
    objective = Objective(spec, raw, overrides, Resolver(), cfg["seed"])
    spec.check_space(objective.resolve)  # before anything is written or trained

    work_dir.mkdir(parents=True, exist_ok=True)
    write_text(work_dir / "config.yaml", yaml.safe_dump(cfg, sort_keys=False))
    optuna.logging.set_verbosity(optuna.logging.ERROR)  # one line per trial below instead
    storage, url = open_storage(spec.settings["storage"], work_dir)
    name, direction = spec.settings["study_name"], spec.settings["direction"]
    study = optuna.create_study(study_name=name, storage=storage, load_if_exists=True, direction=direction,
                                pruner=spec.make_pruner(), sampler=spec.make_sampler(cfg["seed"]))
    if study.direction.name.lower() != direction:
        raise InputError(f"sweep: study {name!r} in {url} was created to {study.direction.name.lower()}, not to "
                         f"{direction}; set sweep.study_name to start another study")
    made_for = study.user_attrs.get("metric")
    if made_for is None:
        study.set_user_attr("metric", spec.metric)
    elif made_for != spec.metric:
        raise InputError(f"sweep: study {name!r} in {url} measures {made_for}, not {spec.metric}; "
                         "set sweep.study_name to start another study")
    n_target = spec.settings["n_trials"]
    c = count_trials(study)
    _log(f"study {name!r} in {url}: {c['complete']} complete, {c['pruned']} pruned, {c['failed']} failed "
         f"so far; target {n_target} complete + pruned; metric {spec.metric} on the val split ({direction})")
    fails_in_a_row = 0
    _last_figure["t"] = time.monotonic()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        while True:
            failed = fail_dead_trials(study)
            if failed:
                _log(f"trial(s) {', '.join(map(str, failed))} were left RUNNING by a process that died: marked "
                     "FAIL" + (" and queued again" if MAX_RETRY else ""))
            c = count_trials(study)
            if c["complete"] + c["pruned"] + c["running_here"] >= n_target:
                break
            objective.last = {}
            try:
                study.optimize(objective, n_trials=1, catch=(InputError,), gc_after_trial=False)
            except _Abort as e:
                write_outputs(study, spec, work_dir, url, pipeline, base=overrides)
                raise InputError(str(e)) from None
            number = objective.last.get("number")
            t = next((t for t in study.get_trials(deepcopy=False) if t.number == number), None)
            if t is None:
                continue
            fails_in_a_row = fails_in_a_row + 1 if t.state == TrialState.FAIL else 0
            stop = fails_in_a_row >= MAX_FAILS_IN_A_ROW
            sec = write_outputs(study, spec, work_dir, url, pipeline, figure=stop, base=overrides)
            _log_trial(t, objective.last, sec, spec)
            if stop:
                raise InputError(f"sweep: {fails_in_a_row} trials in a row failed; last: "
                                 f"{t.user_attrs.get('error', '')}")
    sec = write_outputs(study, spec, work_dir, url, pipeline, base=overrides)
    _log(f"study {name!r}: {sec['n_complete']} complete, {sec['n_pruned']} pruned, {sec['n_failed']} failed; "
         + (f"best {spec.metric} = {sec['best_value']:.4g} (trial #{sec['best_trial']}, "
            f"{_fmt_params(sec['best_params'])})" if sec["best_trial"] is not None else "no complete trial yet"))
    if sec["best_trial"] is not None:
        _log(f"best overrides: {work_dir / 'best_overrides.yaml'}; run the best trial on the test split with: "
             f"python pipelines/run.py {pipeline} --overrides {work_dir / 'best_overrides.yaml'}")
    _log(f"report: {work_dir / 'report.json'}, all trials: {work_dir / 'sweep.json'}, figure: {work_dir / 'sweep.png'}")
    _log(f"watch the study: optuna-dashboard {url}   (pip install optuna-dashboard)")
    return sec


def _fmt_params(params: Optional[dict]) -> str:
    def f(v):
        return f"{v:.4g}" if isinstance(v, float) else str(v)
    return " ".join(f"{k.rsplit('.', 1)[-1]}={f(v)}" for k, v in (params or {}).items())


def _log_trial(t, last: dict, sec: dict, spec: SweepSpec) -> None:
    secs = time.perf_counter() - last.get("t0", time.perf_counter())
    what = {"COMPLETE": f"{spec.metric}={t.value:.4g}" if t.value is not None else "",
            "PRUNED": f"pruned at epoch {max(t.intermediate_values) + 1}" if t.intermediate_values else "pruned",
            "FAIL": f"failed: {t.user_attrs.get('error', '')}"}.get(t.state.name, t.state.name)
    trained = "" if t.state.name == "FAIL" else " | trained " + (
        ",".join(dict.fromkeys(last.get("trained", []))) or "nothing (cached)")
    best = (f"best {sec['best_value']:.4g} (#{sec['best_trial']})" if sec["best_trial"] is not None else "no best yet")
    _log(f"trial {t.number} {t.state.name}: {what} | {_fmt_params(t.params)}{trained} | "
         f"{secs:.1f} s | {sec['n_complete'] + sec['n_pruned']}/{sec['n_trials']} done, {best}")
