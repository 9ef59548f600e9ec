#!/usr/bin/env bash
# Optional: the PostgreSQL server for sweeps on a database shared by several machines, and for the tests that
# start a throw-away server (tests/pipelines/postgres_server.py). Installs Debian's postgresql package when
# initdb is missing (needs root and the package mirrors), and the psycopg2 driver into .venv (make setup does too).
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v initdb >/dev/null 2>&1 && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "setup-postgres: initdb not found; run as root (or: sudo apt-get install -y postgresql)" >&2
    exit 1
  fi
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql
fi
.venv/bin/python -m pip install --quiet --constraint scripts/constraints.txt "numpy<2" psycopg2-binary
echo "setup-postgres: $(ls /usr/lib/postgresql/*/bin/initdb 2>/dev/null || command -v initdb), $(.venv/bin/python -c 'import psycopg2; print("psycopg2", psycopg2.__version__)')"
