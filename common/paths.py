"""Where things are: the repository root, the git-ignored cache, the shared real data beside the checkout."""
from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
#: trained checkpoints and generated data; override with $HAR_CACHE_DIR
CACHE_DIR = Path(os.environ.get("HAR_CACHE_DIR", REPO_ROOT / ".cache"))
#: the real recorded data (``../shared/data`` next to the checkout); override with $HAR_SHARED_DATA
SHARED_DATA = Path(os.environ.get("HAR_SHARED_DATA", REPO_ROOT.parent / "shared" / "data"))


def shared(*parts: str) -> Path:
    return SHARED_DATA.joinpath(*parts)


def repo_path(p) -> Path:
    """A path from a pipeline file or a default: absolute as given, otherwise relative to the repository root;
    ``../shared/data/...`` (how pipeline files name the shared data) follows ``$HAR_SHARED_DATA`` when set."""
    p = Path(p).expanduser()
    if p.is_absolute():
        return p
    if p.parts[:3] == ("..", "shared", "data"):
        return SHARED_DATA.joinpath(*p.parts[3:])
    return REPO_ROOT / p


def files_under(folder, suffix: str, what: str) -> list:
    """Every file ending in ``suffix`` (any case) under ``folder``, recursively, sorted; a one-line
    :class:`InputError` naming ``what`` when the folder is missing or holds none."""
    from .errors import InputError

    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(f"{folder}: {what} folder not found")
    files = sorted(p for p in folder.rglob("*") if p.suffix.lower() == suffix and p.is_file())
    if not files:
        raise InputError(f"{folder}: no {suffix} files found ({what})")
    return files
