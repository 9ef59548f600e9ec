"""A throw-away PostgreSQL server for the sweep tests: ``initdb`` + ``pg_ctl`` in a temporary folder, as a
non-root user (``postgres`` through ``runuser`` when the tests run as root), on a free local port. The tests that
use it are skipped, with the reason, where the server binaries (Debian's ``postgresql``; ``make setup-postgres``)
or the ``psycopg2`` driver are missing."""
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import pytest


def _binaries():
    initdb = shutil.which("initdb") or next(iter(sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))), None)
    if initdb is None:
        return None
    pg_ctl = os.path.join(os.path.dirname(os.path.realpath(initdb)), "pg_ctl")
    return os.path.realpath(initdb), pg_ctl if os.path.exists(pg_ctl) else shutil.which("pg_ctl")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def postgres_url():
    """``postgresql+psycopg2://har@127.0.0.1:PORT/optuna`` of a fresh server, stopped after the module."""
    pytest.importorskip("psycopg2", reason="the PostgreSQL driver psycopg2 is not installed (make setup)")
    bins = _binaries()
    if bins is None or bins[1] is None:
        pytest.skip("PostgreSQL server binaries (initdb, pg_ctl) not found; install them with make setup-postgres")
    initdb, pg_ctl = bins
    prefix = []
    if os.geteuid() == 0:  # initdb refuses root
        try:
            user = pwd.getpwnam("postgres")
        except KeyError:
            pytest.skip("running as root and there is no 'postgres' user to start the server as")
        if shutil.which("runuser") is None:
            pytest.skip("running as root without runuser to start the server as 'postgres'")
        prefix = ["runuser", "-u", "postgres", "--"]
    # not under pytest's temporary root, which only its owner may enter
    folder = Path(tempfile.mkdtemp(prefix="har-postgres-"))
    if prefix:
        os.chmod(folder, 0o755)
        os.chown(folder, user.pw_uid, user.pw_gid)
    data, port = folder / "data", _free_port()
    r = subprocess.run(prefix + [initdb, "-D", str(data), "-A", "trust", "-U", "har"], capture_output=True,
                       text=True, cwd=folder)
    if r.returncode != 0:
        shutil.rmtree(folder, ignore_errors=True)
        pytest.skip(f"initdb failed: {r.stderr.strip()[-300:]}")
    r = subprocess.run(prefix + [pg_ctl, "-D", str(data), "-l", str(folder / "server.log"), "-w", "-o",
                                 f"-p {port} -k {folder} -c listen_addresses=127.0.0.1", "start"],
                       capture_output=True, text=True, cwd=folder)
    if r.returncode != 0:
        shutil.rmtree(folder, ignore_errors=True)
        pytest.skip(f"the PostgreSQL server did not start: {r.stderr.strip()[-300:]}")
    try:
        import psycopg2
        con = psycopg2.connect(host="127.0.0.1", port=port, user="har", dbname="postgres")
        con.autocommit = True
        con.cursor().execute("CREATE DATABASE optuna")
        con.close()
        yield f"postgresql+psycopg2://har@127.0.0.1:{port}/optuna"
    finally:
        subprocess.run(prefix + [pg_ctl, "-D", str(data), "-m", "fast", "stop"], capture_output=True, cwd=folder)
        shutil.rmtree(folder, ignore_errors=True)
