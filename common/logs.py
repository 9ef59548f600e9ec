"""The toolkit's diagnostics (what is loaded, trained, written) through the standard :mod:`logging` module:
one logger per part of the command line (``run``, ``sweep``, ``search``), each line prefixed ``[name]`` and
written to the current ``sys.stdout`` (a terminal, a redirected file, pytest's capture). Users silence or
redirect them as any logging output, e.g. ``logging.getLogger("rgb3d").setLevel(logging.WARNING)``. Progress
bars are not log lines: :mod:`common.progress` draws them."""
from __future__ import annotations

import logging
import sys


class _CurrentStdout(logging.StreamHandler):
    """A stream handler bound to whatever ``sys.stdout`` is when a line is written."""

    def __init__(self):
        super().__init__(sys.stdout)

    @property
    def stream(self):
        return sys.stdout

    @stream.setter
    def stream(self, value):  # StreamHandler.__init__ assigns it; the current sys.stdout is always used
        pass


def get_logger(name: str) -> logging.Logger:
    """The logger ``rgb3d.<name>`` (INFO and above, ``[name] message`` on the current stdout)."""
    log = logging.getLogger(f"rgb3d.{name}")
    if not log.handlers:
        handler = _CurrentStdout()
        handler.setFormatter(logging.Formatter(f"[{name}] %(message)s"))
        log.addHandler(handler)
        log.setLevel(logging.INFO)
        log.propagate = False
    return log
