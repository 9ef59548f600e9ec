"""Progress of long work, for people: a one-line ``tqdm`` bar in a terminal, a few summary lines in a log.

A bar redrawn with carriage returns turns a log file or a CI log into hundreds of kilobytes of half-lines.
:func:`progress_bar` therefore gives ``tqdm`` (on standard error) only when standard error is a terminal;
otherwise a :class:`LogProgress` that writes to standard output, beside the run's other log lines, one line
when a quarter, a half and three quarters of the known total are done and one summary line at the end
(count, seconds, rate and the last ``set_postfix`` values), and nothing at all for work shorter than
:data:`QUIET_SECONDS`; standard error keeps only warnings and errors. Both take the same calls: iteration, ``with``,
``update``, ``set_postfix``, ``set_description``, ``close``.
"""
from __future__ import annotations

import sys
import time
from typing import Iterable, Optional

from tqdm import tqdm

#: work that ends sooner than this writes no lines to a log
QUIET_SECONDS = 2.0
#: fractions of the total at which a log gets a line
MILESTONES = (0.25, 0.5, 0.75)


def is_terminal(stream=None) -> bool:
    stream = sys.stderr if stream is None else stream
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


def progress_bar(iterable: Optional[Iterable] = None, *, desc: str = "", unit: str = "it", total: Optional[int] = None,
             initial: int = 0, disable: bool = False, leave: bool = False, stream=None, dynamic_ncols: bool = True):
    """A progress bar over ``iterable`` (or ``total`` steps, advanced with ``update``): ``tqdm`` on a terminal,
    :class:`LogProgress` otherwise (module docstring)."""
    if is_terminal(stream):
        return tqdm(iterable, desc=desc, unit=unit, total=total, initial=initial, disable=disable, leave=leave,
                    dynamic_ncols=True, file=stream)
    return LogProgress(iterable, desc=desc, unit=unit, total=total, initial=initial, disable=disable, stream=stream)


def write(text: str, stream=None) -> None:
    """A line of its own beside a progress bar (above it on a terminal)."""
    if is_terminal(stream):
        tqdm.write(text, file=stream)
    else:
        stream = sys.stdout if stream is None else stream
        stream.write(text + "\n")
        stream.flush()


class LogProgress:
    """The log form of a progress bar: a line at each of :data:`MILESTONES` of the total and a summary at the
    end, when the work took at least :data:`QUIET_SECONDS`."""

    def __init__(self, iterable=None, desc: str = "", unit: str = "it", total: Optional[int] = None, initial: int = 0,
                 disable: bool = False, stream=None, clock=time.perf_counter):
        self.iterable = iterable
        if total is None and iterable is not None and hasattr(iterable, "__len__"):
            total = len(iterable)
        self.desc, self.unit, self.total, self.n = desc, unit, total, int(initial)
        self.disable, self.stream, self.clock = disable, stream, clock
        self.start = clock()
        self.postfix = ""
        self.next_milestone = 0
        self.closed = False

    # ------------------------------------------------------------------ the tqdm calls
    def __iter__(self):
        try:
            for x in self.iterable:
                yield x
                self.update(1)
        finally:
            self.close()

    def __len__(self):
        return 0 if self.total is None else int(self.total)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def update(self, n: int = 1) -> None:
        self.n += int(n)
        if self.disable or not self.total:
            return
        while (self.next_milestone < len(MILESTONES) and
               self.n >= MILESTONES[self.next_milestone] * self.total and self.n < self.total):
            self.next_milestone += 1
            if self.clock() - self.start >= QUIET_SECONDS:
                self._write(f"{self.n}/{self.total} {self.unit}")

    def set_postfix(self, ordered_dict=None, refresh: bool = True, **kwargs) -> None:
        items = {**(ordered_dict or {}), **kwargs}
        self.postfix = ", ".join(f"{k}={v}" for k, v in items.items())

    def set_postfix_str(self, s: str = "", refresh: bool = True) -> None:
        self.postfix = str(s)

    def set_description(self, desc: str = "", refresh: bool = True) -> None:
        self.desc = desc

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        seconds = self.clock() - self.start
        if self.disable or seconds < QUIET_SECONDS:
            return
        done = f"{self.n}/{self.total}" if self.total else f"{self.n}"
        rate = self.n / seconds if seconds > 0 else 0.0
        self._write(f"{done} {self.unit} in {seconds:.0f} s ({rate:.3g} {self.unit}/s)")

    # ------------------------------------------------------------------ output
    def _write(self, text: str) -> None:
        stream = sys.stdout if self.stream is None else self.stream
        tail = f"; {self.postfix}" if self.postfix else ""
        stream.write(f"{self.desc}: {text}{tail}\n" if self.desc else f"{text}{tail}\n")
        stream.flush()
