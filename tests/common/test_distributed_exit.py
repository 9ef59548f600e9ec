"""``common.distributed.exit_process``: a ``torchrun`` process other than rank 0 ends without the interpreter's
finalisation (where gloo's worker threads could abort it), after flushing what it printed; rank 0 and a
single process end normally."""
import subprocess
import sys

import pytest

from common.paths import REPO_ROOT

SCRIPT = """
import atexit, sys
from common.distributed import exit_process
atexit.register(lambda: print("finalised"))
print("output", end="")
sys.stderr.write("diagnostics")
exit_process(3)
"""


@pytest.mark.parametrize("rank, world, finalised", [("1", "2", False), ("0", "2", True)])
def test_exit_process_skips_finalisation_on_the_other_ranks(rank, world, finalised):
    env = {"RANK": rank, "WORLD_SIZE": world, "PYTHONPATH": str(REPO_ROOT)}
    r = subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, timeout=120)
    assert r.returncode == 3
    assert r.stdout.startswith("output") and r.stderr == "diagnostics"  # flushed, although piped
    assert ("finalised" in r.stdout) == finalised
