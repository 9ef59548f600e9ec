"""common/progress.py: a tqdm bar on a terminal, a few summary lines in a log."""
import io

from tqdm import tqdm

from common.progress import LogProgress, progress_bar, write


class Clock:
    """A fake clock, moved on by the test."""

    def __init__(self):
        self.t = 0.0

    def __call__(self):
        return self.t


class Terminal(io.StringIO):
    def isatty(self):
        return True


def test_log_gets_quarter_lines_and_a_summary():
    out = io.StringIO()
    clock = Clock()
    bar = LogProgress(range(100), desc="train", unit="epoch", stream=out, clock=clock)
    for i in bar:
        clock.t += 0.1
        bar.set_postfix(loss=f"{1 / (i + 1):.2f}")
    lines = out.getvalue().splitlines()
    assert [ln.split(";")[0] for ln in lines[:3]] == ["train: 25/100 epoch", "train: 50/100 epoch",
                                                     "train: 75/100 epoch"]
    assert len(lines) == 4 and lines[3].startswith("train: 100/100 epoch in ") and lines[3].endswith("loss=0.01")
    assert "\r" not in out.getvalue()


def test_short_work_and_disabled_bars_write_nothing():
    out, clock = io.StringIO(), Clock()
    for _ in LogProgress(range(10), desc="quick", stream=out, clock=clock):
        clock.t += 0.01
    with LogProgress(total=50, desc="off", disable=True, stream=out, clock=clock) as bar:
        clock.t += 100
        bar.update(50)
    assert out.getvalue() == ""


def test_unknown_total_gets_the_summary_only():
    out = io.StringIO()
    clock = Clock()
    bar = LogProgress(desc="enas 1/3", unit="step", stream=out, clock=clock)
    for _ in range(7):
        clock.t += 1 / 7
        bar.update()
    clock.t += 2
    bar.set_postfix(reward="0.5")
    bar.close()
    bar.close()  # closing twice writes once
    assert out.getvalue().splitlines() == ["enas 1/3: 7 step in 3 s (2.33 step/s); reward=0.5"]


def test_terminal_or_log():
    assert isinstance(progress_bar(range(3), desc="x", stream=Terminal()), tqdm)
    assert isinstance(progress_bar(range(3), desc="x", stream=io.StringIO()), LogProgress)
    log = io.StringIO()
    write("epoch 1: loss 0.5", stream=log)
    assert log.getvalue() == "epoch 1: loss 0.5\n"
