"""The ``sweep:`` section of a pipeline file: its settings, the search space (dotted pipeline keys mapped to optuna
distributions) and applying sampled values as overrides. The format is described in ``pipelines/sweep.py``."""
from __future__ import annotations

import copy
import warnings
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Tuple

from common.errors import InputError

#: settings of the sweep section and their defaults (every other key is a dotted pipeline key to search)
SETTINGS: Dict[str, Any] = {"n_trials": 20, "metric": None, "direction": None, "storage": None,
                            "study_name": None, "pruner": {}, "sampler": {}}
DISTRIBUTIONS = {"float": ("log", "step"), "int": ("log", "step"), "categorical": ()}
PRUNER_OPTIONS = ("n_startup_trials", "n_warmup_steps", "interval_steps", "n_min_trials")


def _setting_error(key: str, what: str, value: Any) -> InputError:
    return InputError(f"sweep.{key}: expected {what}, got {value!r}")


def parse_distribution(key: str, spec: Any):
    """An optuna distribution from ``{float: [lo, hi], log: bool, step: x}``, ``{int: [lo, hi], ...}`` or
    ``{categorical: [a, b, ...]}``."""
    import optuna.distributions as D

    kinds = [k for k in DISTRIBUTIONS if isinstance(spec, dict) and k in spec]
    if len(kinds) != 1:
        raise InputError(f"sweep.{key}: expected a distribution such as {{float: [1.0e-4, 1.0e-2], log: true}}, "
                         f"{{int: [8, 32], step: 8}} or {{categorical: [a, b]}}, got {spec!r}")
    kind = kinds[0]
    extra = sorted(set(spec) - {kind} - set(DISTRIBUTIONS[kind]))
    if extra:
        raise InputError(f"sweep.{key}: unknown option(s) {', '.join(map(str, extra))} for a {kind} distribution; "
                         f"known: {', '.join(DISTRIBUTIONS[kind]) or 'none'}")
    arg = spec[kind]
    if kind == "categorical":
        ok = isinstance(arg, list) and arg and all(v is None or isinstance(v, (bool, int, float, str)) for v in arg)
        if not ok:
            raise InputError(f"sweep.{key}: categorical expects a non-empty list of scalars, got {arg!r}")
        return D.CategoricalDistribution(arg)
    num = int if kind == "int" else (int, float)
    if (not isinstance(arg, list) or len(arg) != 2
            or not all(isinstance(v, num) and not isinstance(v, bool) for v in arg)):
        raise InputError(f"sweep.{key}: {kind} expects [low, high] ({kind}s), got {arg!r}")
    log, step = spec.get("log", False), spec.get("step")
    if not isinstance(log, bool):
        raise InputError(f"sweep.{key}.log: expected true or false, got {log!r}")
    if step is not None and (isinstance(step, bool) or not isinstance(step, num) or step <= 0):
        raise InputError(f"sweep.{key}.step: expected a positive {kind}, got {step!r}")
    try:
        if kind == "int":
            return D.IntDistribution(arg[0], arg[1], log=log, step=1 if step is None else step)
        return D.FloatDistribution(float(arg[0]), float(arg[1]), log=log,
                                   step=None if step is None else float(step))
    except ValueError as e:
        raise InputError(f"sweep.{key}: {e}") from None


def _probe_values(dist) -> list:
    """The values of ``dist`` that are checked before anything trains: every choice, or both bounds."""
    from optuna.distributions import CategoricalDistribution, IntDistribution

    if isinstance(dist, CategoricalDistribution):
        return list(dist.choices)
    if isinstance(dist, IntDistribution):
        return [int(dist.low), int(dist.high)]
    return [float(dist.low), float(dist.high)]


def _suggest(trial, key: str, dist):
    from optuna.distributions import CategoricalDistribution, IntDistribution

    if isinstance(dist, CategoricalDistribution):
        return trial.suggest_categorical(key, list(dist.choices))
    if isinstance(dist, IntDistribution):
        return trial.suggest_int(key, dist.low, dist.high, step=dist.step, log=dist.log)
    return trial.suggest_float(key, dist.low, dist.high, step=dist.step, log=dist.log)


class SweepSpec:
    """The validated ``sweep`` section: ``settings`` (with defaults) and ``space`` (dotted key -> distribution)."""

    def __init__(self, section: Any, cfg: dict, pipeline: Path):
        if not isinstance(section, dict):
            raise InputError(f"sweep: expected a mapping of settings and dotted keys, got {section!r}")
        self.space: Dict[str, Any] = {}
        s = copy.deepcopy(SETTINGS)
        for key, value in section.items():
            key = str(key)
            if "." not in key:
                if key not in SETTINGS:
                    raise InputError(f"sweep: unknown setting {key!r}; known: {', '.join(SETTINGS)} (the search "
                                     "space is dotted pipeline keys such as stages.stage3_action.lr)")
                s[key] = value
            elif key.split(".")[0] == "sweep":
                raise InputError(f"sweep.{key}: the sweep section itself cannot be searched")
            else:
                self.space[key] = parse_distribution(key, value)
        if not self.space:
            raise InputError("sweep: no search space; add dotted pipeline keys mapped to distributions, e.g. "
                             "stages.stage3_action.lr: {float: [1.0e-4, 1.0e-2], log: true}")
        n = s["n_trials"]
        if not isinstance(n, int) or isinstance(n, bool) or n < 1:
            raise _setting_error("n_trials", "a positive int", n)
        m = s["metric"]
        sections = list(cfg.get("stages", {})) + ["end_to_end"]
        if not isinstance(m, str) or m.count(".") != 1:
            raise InputError(f"sweep.metric: expected SECTION.KEY of the report (e.g. stage3_action.top1, "
                             f"stage2_lift.mpjpe_mm), got {m!r}")
        if m.split(".")[0] not in sections:
            raise InputError(f"sweep.metric: unknown report section {m.split('.')[0]!r}; "
                             f"known: {', '.join(sections)}")
        if s["direction"] is None:
            s["direction"] = "minimize" if m.endswith("_mm") else "maximize"
        if s["direction"] not in ("maximize", "minimize"):
            raise _setting_error("direction", "maximize or minimize", s["direction"])
        st = s["storage"]
        if st is not None and not (isinstance(st, str) and (st.startswith("journal:") and st != "journal:"
                                                            or "://" in st)):
            raise _setting_error("storage", "null, journal:PATH or a database URL such as sqlite:///study.db", st)
        if s["study_name"] is None:
            s["study_name"] = Path(pipeline).stem
        if not isinstance(s["study_name"], str) or not s["study_name"]:
            raise _setting_error("study_name", "a non-empty string", s["study_name"])
        p = s["pruner"]
        if p is False or p is None:
            s["pruner"] = None
        elif not isinstance(p, dict) or set(p) - set(PRUNER_OPTIONS):
            raise _setting_error("pruner", f"null or a mapping of MedianPruner options "
                                           f"({', '.join(PRUNER_OPTIONS)})", p)
        if s["sampler"] is None:
            s["sampler"] = {}
        if not isinstance(s["sampler"], dict) or "seed" in s["sampler"]:
            raise _setting_error("sampler", "a mapping of TPESampler options (the seed is the pipeline's)",
                                 s["sampler"])
        self.settings = s
        self.make_pruner()  # bad pruner / sampler options fail here, before anything trains
        self.make_sampler(0)

    @property
    def metric(self) -> str:
        return self.settings["metric"]

    @property
    def maximize(self) -> bool:
        return self.settings["direction"] == "maximize"

    def watched_stage(self, cfg: dict) -> Optional[str]:
        """The stage whose training learns the metric's value (the last stage for ``end_to_end``)."""
        section = self.metric.split(".")[0]
        stages = list(cfg.get("stages", {}))
        return section if section in stages else (stages[-1] if stages else None)

    def make_pruner(self):
        import optuna

        if self.settings["pruner"] is None:
            return optuna.pruners.NopPruner()
        try:
            return optuna.pruners.MedianPruner(**self.settings["pruner"])
        except (TypeError, ValueError) as e:
            raise InputError(f"sweep.pruner: {e}") from None

    def make_sampler(self, seed: int):
        import optuna

        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
                return optuna.samplers.TPESampler(seed=seed, **self.settings["sampler"])
        except (TypeError, ValueError) as e:
            raise InputError(f"sweep.sampler: {e}") from None

    def sample(self, trial) -> Dict[str, Any]:
        """A value of every key of the search space, drawn by ``trial``."""
        return {key: _suggest(trial, key, dist) for key, dist in self.space.items()}

    def check_space(self, resolve: Callable[[Dict[str, Any]], Any]) -> None:
        """Every key, every choice and both bounds of each range must pass ``resolve`` (``resolve_params``);
        then one value of every key together."""
        for key, dist in self.space.items():
            for v in _probe_values(dist):
                resolve({key: v})
        resolve({k: _probe_values(d)[0] for k, d in self.space.items()})


def resolve_params(resolver, raw: dict, overrides: List[Tuple[str, Any]], params: Dict[str, Any]) -> dict:
    """The pipeline file ``raw`` resolved with ``params`` applied like ``--set KEY=VALUE`` after ``overrides``
    (the command line's), with the same checks; an error is reported as ``sweep: ...``."""
    try:
        _, cfg = resolver.apply(raw, list(overrides) + list(params.items()))
    except InputError as e:
        raise InputError(f"sweep: {str(e).removeprefix('--set ')}") from None
    return cfg
