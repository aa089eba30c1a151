"""A throwaway PostgreSQL server on loopback for tests (Debian's postgresql-15 binaries).

initdb refuses to run as root, so as root the server runs as ``nobody`` in a temp dir it owns.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

PG_BIN = Path("/usr/lib/postgresql/15/bin")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _as_user(cmd: list[str]) -> list[str]:
    if os.geteuid() == 0:
        return ["runuser", "-u", "nobody", "--", *cmd]
    return cmd


def unavailable_reason() -> str | None:
    """Why no server can be started here, or ``None``."""
    if not (PG_BIN / "initdb").exists():
        return f"PostgreSQL 15 binaries not found in {PG_BIN}"
    if os.geteuid() == 0 and shutil.which("runuser") is None:
        return "running as root without runuser to drop privileges for initdb"
    try:
        import psycopg2  # noqa: F401
    except ImportError:
        return "psycopg2 is not installed (pip install -e '.[dev]')"
    return None


@contextmanager
def postgres_server(tmp: Path) -> Iterator[str]:
    """Start a server on 127.0.0.1, yield its URL (with a dummy password), always stop it."""
    data, sock = tmp / "pgdata", tmp / "pgsock"
    for d in (tmp, data, sock):
        d.mkdir(exist_ok=True)
        if os.geteuid() == 0:
            shutil.chown(d, "nobody", "nogroup")
    port = _free_port()
    subprocess.run(_as_user([str(PG_BIN / "initdb"), "-D", str(data), "-U", "postgres",
                             "--auth=trust", "-E", "UTF8"]),
                   check=True, capture_output=True, timeout=120)
    log = tmp / "pg.log"
    if os.geteuid() == 0:
        log.touch()
        shutil.chown(log, "nobody", "nogroup")
    opts = f"-p {port} -k {sock} -h 127.0.0.1 -c max_connections=100 -c fsync=off"
    subprocess.run(_as_user([str(PG_BIN / "pg_ctl"), "-D", str(data), "-l", str(log), "-o", opts,
                             "-w", "-t", "60", "start"]), check=True, capture_output=True,
                   timeout=90)
    try:
        deadline = time.time() + 30
        while time.time() < deadline:
            ready = subprocess.run([str(PG_BIN / "pg_isready"), "-h", "127.0.0.1", "-p", str(port)],
                                   capture_output=True)
            if ready.returncode == 0:
                break
            time.sleep(0.3)
        yield f"postgresql+psycopg2://postgres:s3cret-pw@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(_as_user([str(PG_BIN / "pg_ctl"), "-D", str(data), "-m", "immediate",
                                 "-w", "-t", "60", "stop"]), capture_output=True, timeout=90)
