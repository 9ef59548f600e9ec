"""Pipeline files: loading, resolution against the registered defaults, and type-checked ``--set`` overrides.

The rules are those of ``docs/interfaces.md`` ("Command line", "Pipeline files"):

- each stage resolves to its registered type's ``defaults`` plus the file's values; an unknown option is an
  error listing the known ones;
- ``--set a.b=c`` changes any resolved key; values parse with ``yaml.safe_load`` except that a number written
  like ``1e-3`` is a float; the new value must have the type of the resolved one (an int may become a float,
  ``null`` is accepted anywhere);
- changing a stage's ``type`` re-resolves that stage from the new type's defaults, keeping the options the new
  type also has and dropping, with a warning, the others.
"""
from __future__ import annotations

import copy
import re
import warnings
from pathlib import Path
from typing import Any, Callable, Dict, Iterable, List, Tuple

import yaml

from common.errors import InputError
from common.registry import lookup

from .data import EVAL_DATA_KEYS, data_defaults

STAGE_KINDS = {"stage1_2d": "detector2d", "stage2_lift": "lifter", "stage3_action": "action"}
TOP_LEVEL = ("device", "seed", "data", "stages", "joint", "sweep", "video")
#: how ``--input`` is read: every ``stride``-th frame, at most ``max_frames`` of them (null: all)
VIDEO_DEFAULTS = {"stride": 1, "max_frames": None}
#: a stage option any stage may have: a data section of its own to train on (a lifter trained on motion capture
#: in a pipeline that evaluates on 2D-only videos, say); absent = the pipeline's data section
STAGE_TRAIN_DATA = "train_data"
#: options every stage has that choose how its trained networks run, not what they learn (never in a checkpoint's
#: key): ``torch``, or ``onnx`` - the networks that ``pipelines/export.py`` wrote to ``export_dir``, run by
#: onnxruntime (``common/onnx_backend.py``)
STAGE_BACKEND = {"backend": "torch", "export_dir": None}
BACKENDS = ("torch", "onnx")
#: option names holding file or folder paths: relative values given on the command line (``--set``,
#: ``--overrides``) are made absolute against the current directory; relative values in pipeline files stay
#: relative and resolve against the repository root (``common.paths.repo_path``)
PATH_KEYS = ("config", "checkpoint", "arch", "path", "file")
PATH_SUFFIXES = ("_dir", "_dirs", "_json", "_path", "_file")
_FLOAT_RE = re.compile(r"^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)$")


def parse_value(text: str) -> Any:
    """``yaml.safe_load``, except that ``1e-3`` (which YAML 1.1 reads as a string) is a float."""
    if _FLOAT_RE.match(text.strip()):
        return float(text)
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as e:
        raise InputError(f"--set: cannot parse value {text!r} ({e.problem})") from None


def load_yaml(path) -> dict:
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: pipeline file not found")
    try:
        data = yaml.safe_load(path.read_text())
    except yaml.YAMLError as e:
        raise InputError(f"{path}: not valid YAML ({str(e).splitlines()[0]})") from None
    if not isinstance(data, dict):
        raise InputError(f"{path}: expected a mapping of sections, got {type(data).__name__}")
    return data


def _type_name(v: Any) -> str:
    return {bool: "bool", int: "int", float: "float", str: "str", list: "list", dict: "mapping"}.get(
        type(v), type(v).__name__)


def check_type(key: str, old: Any, new: Any) -> Any:
    """The new value if it may replace ``old``; an int may become a float; ``null`` is accepted anywhere."""
    if new is None or old is None:
        return new
    if isinstance(old, bool) or isinstance(new, bool):
        if isinstance(old, bool) and isinstance(new, bool):
            return new
    elif isinstance(old, float) and isinstance(new, (int, float)):
        return float(new)
    elif isinstance(old, int) and isinstance(new, int):
        return new
    elif isinstance(old, type(new)) or isinstance(new, type(old)):
        return new
    raise InputError(f"{key}: expected {_type_name(old)} like {old!r}, got {_type_name(new)} {new!r}")


class Resolver:
    """Resolves a raw pipeline dict; ``data_defaults(raw_data)`` gives the data section's defaults."""

    def __init__(self, data_defaults: Callable[[dict], dict] = data_defaults):
        self.data_defaults = data_defaults

    # ------------------------------------------------------------------ sections
    def _stage(self, name: str, raw: dict) -> dict:
        if name not in STAGE_KINDS:
            raise InputError(f"stages.{name}: unknown stage; known: {', '.join(STAGE_KINDS)}")
        if not isinstance(raw, dict) or "type" not in raw:
            raise InputError(f"stages.{name}: expected a mapping with a 'type'")
        cls = lookup(STAGE_KINDS[name], raw["type"], where=f"stages.{name}.type")
        unknown = sorted(set(raw) - set(cls.defaults) - {"type", STAGE_TRAIN_DATA, *STAGE_BACKEND})
        if unknown:
            raise InputError(f"stages.{name}: unknown option(s) {', '.join(unknown)} for type {raw['type']}; "
                             f"known: {', '.join(sorted(cls.defaults))}")
        out = {"type": raw["type"], **copy.deepcopy(cls.defaults)}
        for k, v in raw.items():
            if k == STAGE_TRAIN_DATA:
                if not isinstance(v, dict):
                    raise InputError(f"stages.{name}.{k}: expected a data section (a mapping with 'dataset')")
                out[k] = self._data(v)
            elif k in STAGE_BACKEND:  # written only when given: a torch stage's resolved options stay its own
                out[k] = check_type(f"stages.{name}.{k}", STAGE_BACKEND[k], v)
            elif k != "type":
                out[k] = _merge(f"stages.{name}.{k}", out[k], v)
        _check_backend(f"stages.{name}", out)
        return out

    def _data(self, raw: dict) -> dict:
        raw = dict(raw or {})
        defaults = {**self.data_defaults(raw), **{k: None for k in EVAL_DATA_KEYS}}
        unknown = sorted(set(raw) - set(defaults))
        if unknown:
            raise InputError(f"data: unknown key(s) {', '.join(unknown)}; known: {', '.join(sorted(defaults))}")
        return _merge("data", defaults, raw)

    def resolve(self, raw: dict) -> dict:
        unknown = sorted(set(raw) - set(TOP_LEVEL))
        if unknown:
            raise InputError(f"pipeline: unknown section(s) {', '.join(unknown)}; known: {', '.join(TOP_LEVEL)}")
        if ("stages" in raw) == ("joint" in raw):
            raise InputError("pipeline: needs exactly one of 'stages' or 'joint'")
        out = {"device": raw.get("device", "auto"), "seed": raw.get("seed", 0)}
        if out["device"] not in ("auto", "cpu", "cuda"):
            raise InputError(f"device: expected auto, cpu or cuda, got {out['device']!r}")
        if not isinstance(out["seed"], int) or isinstance(out["seed"], bool):
            raise InputError(f"seed: expected int, got {out['seed']!r}")
        out["data"] = self._data(raw.get("data"))
        out["video"] = _merge("video", dict(VIDEO_DEFAULTS), raw.get("video") or {})
        if int(out["video"]["stride"]) < 1 or (out["video"]["max_frames"] is not None
                                                and int(out["video"]["max_frames"]) < 1):
            raise InputError(f"video: stride and max_frames must be >= 1, got {out['video']}")
        if "stages" in raw:
            stages = raw["stages"]
            if not isinstance(stages, dict) or not stages:
                raise InputError("stages: expected a non-empty mapping of stage1_2d / stage2_lift / stage3_action")
            order = [s for s in STAGE_KINDS if s in stages]
            if list(stages) != order and set(stages) <= set(STAGE_KINDS):
                raise InputError(f"stages: must be in the order {', '.join(STAGE_KINDS)}")
            out["stages"] = settle_auto({name: self._stage(name, cfg) for name, cfg in stages.items()})
        else:
            out["joint"] = resolve_joint(raw["joint"])
        if "sweep" in raw:
            out["sweep"] = copy.deepcopy(raw["sweep"])
        return out

    # ------------------------------------------------------------------ overrides
    def apply(self, raw: dict, overrides: Iterable[Tuple[str, Any]]) -> Tuple[dict, dict]:
        """Apply ``(dotted key, value)`` pairs left to right; returns (raw, resolved)."""
        raw = copy.deepcopy(raw)
        resolved = self.resolve(raw)
        for key, value in overrides:
            parts = key.split(".")
            node = resolved
            for i, p in enumerate(parts):
                if i == 2 and parts[0] == "stages" and p in STAGE_BACKEND and isinstance(node, dict):
                    node = {**STAGE_BACKEND, **node}  # resolved only when given, settable always
                if not isinstance(node, dict) or p not in node:
                    where = ".".join(parts[:i]) or "pipeline"
                    known = ", ".join(sorted(node)) if isinstance(node, dict) else f"(a {_type_name(node)})"
                    raise InputError(f"--set {key}: unknown key {p!r} in {where}; known: {known}")
                if i < len(parts) - 1:
                    node = node[p]
            value = check_type(key, node[parts[-1]], value)
            if is_path_key(parts[-1]):
                value = _absolute(value)
            # write into the raw file values, creating the path
            rnode = raw
            for p in parts[:-1]:
                rnode = rnode.setdefault(p, {})
            if len(parts) == 3 and parts[0] == "stages" and parts[2] == "type" and value != rnode.get("type"):
                cls = lookup(STAGE_KINDS[parts[1]], value, where=key)
                dropped = sorted(k for k in rnode if k not in ("type", STAGE_TRAIN_DATA, *STAGE_BACKEND)
                                 and k not in cls.defaults)
                if dropped:
                    warnings.warn(f"{key}={value}: dropping option(s) {', '.join(dropped)} that {value} does not have",
                                      stacklevel=2)
                for k in dropped:
                    del rnode[k]
            rnode[parts[-1]] = value
            resolved = self.resolve(raw)
        return raw, resolved


def settle_auto(stages: dict) -> dict:
    """Options whose value depends on the chain, settled here once, before anything is built:
    ``stage3_action.input: auto`` becomes 3d after a lifter, else 2d."""
    s3 = stages.get("stage3_action")
    if s3 is not None and s3.get("input") == "auto":
        s3["input"] = "3d" if "stage2_lift" in stages else "2d"
    return stages


def resolve_joint(raw) -> dict:
    """The ``joint`` section: the defaults of ``joint.JOINT_DEFAULTS`` merged with the file's values, the
    switches checked."""
    from joint import JOINT_DEFAULTS, SUPERVISE
    from joint.action_block import FEATURES
    from joint.stems import STEMS
    from joint.trainer import OPTIMIZERS

    if raw is not None and not isinstance(raw, dict):
        raise InputError("joint: expected a mapping of options")
    raw = dict(raw or {})
    backend = {k: check_type(f"joint.{k}", STAGE_BACKEND[k], raw.pop(k)) for k in STAGE_BACKEND if k in raw}
    cfg = {**_merge("joint", copy.deepcopy(JOINT_DEFAULTS), raw), **backend}  # backend keys only when given
    _check_backend("joint", cfg)
    for key, allowed in (("entry_flow", tuple(STEMS)), ("supervise", SUPERVISE), ("action_features", FEATURES)):
        if cfg[key] not in allowed:
            raise InputError(f"joint.{key}: expected one of {', '.join(allowed)}, got {cfg[key]!r}")
    if cfg["train"]["optimizer"] not in OPTIMIZERS:
        raise InputError(f"joint.train.optimizer: expected one of {', '.join(OPTIMIZERS)}, "
                         f"got {cfg['train']['optimizer']!r}")
    bad = [p for p in cfg["action_pyramids"] if not isinstance(p, int) or not 1 <= p <= cfg["pyramids"]]
    if bad or cfg["pyramids"] < 1 or cfg["levels"] < 2:
        raise InputError(f"joint: needs pyramids >= 1, levels >= 2 and action_pyramids within 1..pyramids; got "
                         f"pyramids={cfg['pyramids']} levels={cfg['levels']} action_pyramids={cfg['action_pyramids']}")
    size, div = cfg["input_size"], 8 * 2 ** (cfg["levels"] - 1)
    if size % div:
        raise InputError(f"joint.input_size: {size} must be a multiple of {div} (8 x 2^(levels-1)) for "
                         f"levels={cfg['levels']}")
    return cfg


def _check_backend(where: str, section: dict) -> None:
    backend = section.get("backend", "torch")
    if backend not in BACKENDS:
        raise InputError(f"{where}.backend: expected {' or '.join(BACKENDS)}, got {backend!r}")
    if backend == "onnx" and not section.get("export_dir"):
        raise InputError(f"{where}.backend: onnx needs export_dir, the folder pipelines/export.py wrote")


def _merge(where: str, base: Any, new: Any) -> Any:
    """Recursive type-checked merge of file values into defaults (mappings merge; other values replace)."""
    if isinstance(base, dict) and isinstance(new, dict):
        out = copy.deepcopy(base)
        for k, v in new.items():
            if k not in base:
                if not base:  # an empty default mapping takes any keys
                    out[k] = v
                    continue
                raise InputError(f"{where}: unknown key {k!r}; known: {', '.join(sorted(base))}")
            out[k] = _merge(f"{where}.{k}", base[k], v)
        return out
    return check_type(where, base, new)


def _absolute(value: Any) -> Any:
    """A relative path (or each of a list of paths) given on the command line, made absolute against the
    current directory (``package::path`` names, such as mmpose's shipped configs, stay as they are)."""
    if isinstance(value, list):
        return [_absolute(v) for v in value]
    if isinstance(value, str) and value and "::" not in value and not Path(value).is_absolute():
        return str(Path.cwd() / value)
    return value


def is_path_key(name: str) -> bool:
    return name in PATH_KEYS or name.endswith(PATH_SUFFIXES)


def parse_set_tokens(tokens: List[str]) -> List[Tuple[str, Any]]:
    out = []
    for t in tokens:
        if "=" not in t:
            raise InputError(f"--set {t}: expected KEY=VALUE")
        k, v = t.split("=", 1)
        out.append((k.strip(), parse_value(v)))
    return out


def flatten(d: dict, prefix: str = "") -> Dict[str, Any]:
    """``{'a': {'b': 1}}`` -> ``{'a.b': 1}`` (what an overrides file holds)."""
    out = {}
    for k, v in d.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict) and v:
            out.update(flatten(v, key + "."))
        else:
            out[key] = v
    return out


def load_overrides(path) -> List[Tuple[str, Any]]:
    """An ``--overrides`` file: a YAML mapping of dotted keys (nested mappings are flattened)."""
    data = load_yaml(path)
    return list(flatten(data).items())
