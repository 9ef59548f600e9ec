"""The toolkit's diagnostics (what is loaded, trained, written) through the standard :mod:`logging` module:
one logger per part of the command line (``run``, ``sweep``, ``search``), each line prefixed ``[name]`` and
written to the current ``sys.stdout`` (a terminal, a redirected file, pytest's capture). Users silence or
redirect them as any logging output, e.g. ``logging.getLogger("rgb3d").setLevel(logging.WARNING)``. Progress
bars are not log lines: :mod:`common.progress` draws them."""
from __future__ import annotations

import logging
import sys


class _CurrentStdout:
    """A stream that writes to whatever ``sys.stdout`` is when a line is written."""

    def write(self, text: str) -> None:
        sys.stdout.write(text)

    def flush(self) -> None:
        sys.stdout.flush()


def get_logger(name: str) -> logging.Logger:
    """The logger ``rgb3d.<name>`` (INFO and above, ``[name] message`` on the current stdout)."""
    log = logging.getLogger(f"rgb3d.{name}")
    if not log.handlers:
        handler = logging.StreamHandler(_CurrentStdout())
        handler.setFormatter(logging.Formatter(f"[{name}] %(message)s"))
        log.addHandler(handler)
        log.setLevel(logging.INFO)
        log.propagate = False
    return log
