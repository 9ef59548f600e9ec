"""A tiny registry per kind of swappable part: ``detector2d``, ``lifter``, ``action``, ``encoder``.

Each package fills its registries by explicit imports in its ``__init__.py``; ``build(kind, cfg)`` pops
``type`` and passes the rest of the options to the registered class.
"""
from __future__ import annotations

from typing import Callable, Dict, Optional

from .errors import InputError

KINDS = ("detector2d", "lifter", "action", "encoder")
_REGISTRY: Dict[str, Dict[str, type]] = {k: {} for k in KINDS}


def register(kind: str, name: str) -> Callable[[type], type]:
    """Class decorator: ``@register("lifter", "martinez_mlp")``."""
    if kind not in _REGISTRY:
        raise KeyError(f"unknown registry kind {kind!r}; known: {', '.join(KINDS)}")

    def deco(cls: type) -> type:
        if name in _REGISTRY[kind] and _REGISTRY[kind][name] is not cls:
            raise KeyError(f"{kind} {name!r} is registered twice")
        _REGISTRY[kind][name] = cls
        cls.registered_name = name
        return cls

    return deco


def known(kind: str) -> list:
    return sorted(_REGISTRY[kind])


def lookup(kind: str, name: str, where: str = "type") -> type:
    """The class registered as ``name``; an unknown name is an :class:`InputError` listing the known ones."""
    try:
        return _REGISTRY[kind][name]
    except KeyError:
        raise InputError(f"{where}: unknown {kind} type {name!r}; known: {', '.join(known(kind)) or 'none'}") from None


def build(kind: str, cfg: dict, **kwargs):
    """Build a registered part from a config dict holding ``type`` plus options."""
    cfg = dict(cfg)
    name = cfg.pop("type", None)
    if name is None:
        raise InputError(f"{kind} config has no 'type'; known: {', '.join(known(kind))}")
    return lookup(kind, name)(cfg, **kwargs)


def with_defaults(what: str, cfg: Optional[dict], defaults: dict) -> dict:
    """``cfg`` over ``defaults``; an option ``defaults`` does not name is an error naming ``what`` (a part, say
    ``"pose_image encoder"``) and the known options."""
    cfg = dict(cfg or {})
    unknown = sorted(set(cfg) - set(defaults))
    if unknown:
        raise InputError(f"{what}: unknown option(s) {', '.join(unknown)}; known: {', '.join(defaults)}")
    return {**defaults, **cfg}
