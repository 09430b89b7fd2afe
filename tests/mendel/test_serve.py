"""`make run` on a fresh database: serves, runs jobs in-process, stops cleanly on Ctrl-C."""

from __future__ import annotations

import os
import queue
import shutil
import signal
import subprocess
import sys
import threading
import time
import uuid

import httpx
import psycopg
import pytest

from tests.conftest import free_port
from tests.servers import ROOT

STARTUP_TIMEOUT_S = 120


@pytest.fixture
def fresh_pgdata():
    # Inside the project (not /tmp/pytest-of-root, which the postgres user cannot enter).
    path = ROOT / "var" / f"test-pgdata-{uuid.uuid4().hex[:8]}"
    yield path
    shutil.rmtree(path, ignore_errors=True)


def _lines(stream, out: queue.Queue) -> None:
    for line in stream:
        out.put(line)


def test_serve_starts_a_fresh_embedded_database_and_stops_it_on_ctrl_c(fresh_pgdata, tmp_path):
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "INPROCESS_WORKER")}
    env.update(MENDEL_PGDATA=str(fresh_pgdata), PORT=str(port), PYTHONUNBUFFERED="1",
               MEDIA_ROOT=str(tmp_path / "media"))
    proc = subprocess.Popen(
        [sys.executable, "-m", "mendel.serve"], cwd=ROOT, env=env,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    lines: queue.Queue = queue.Queue()
    threading.Thread(target=_lines, args=(proc.stdout, lines), daemon=True).start()
    log: list[str] = []
    try:
        address = f"http://127.0.0.1:{port}/"
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while not any(f"Mendel is running at {address}" in line for line in log):
            assert time.monotonic() < deadline, "".join(log)
            assert proc.poll() is None, "".join(log)
            try:
                log.append(lines.get(timeout=1))
            except queue.Empty:
                pass
        _wait_for(lambda: httpx.get(address + "healthz").status_code == 200, "healthz", log)
        assert httpx.get(address).status_code == 200

        # The in-process worker runs jobs: defer one through the database, see it succeed.
        conninfo = f"postgresql://postgres@/mendel?host={fresh_pgdata}"
        job_id = _defer(conninfo, "mendel.tasks.retry_stalled_jobs", {"timestamp": 0})
        _wait_for(lambda: _status(conninfo, job_id) == "succeeded", "the job", log)

        proc.send_signal(signal.SIGINT)
        assert proc.wait(30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert not (fresh_pgdata / "postmaster.pid").exists(), "the embedded database must stop"


def _wait_for(condition, what: str, log: list[str], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if condition():
                return
        except (httpx.HTTPError, psycopg.Error):
            pass
        time.sleep(0.2)
    raise AssertionError(f"{what} did not happen in {timeout} s:\n{''.join(log)}")


def _defer(conninfo: str, task_name: str, args: dict) -> int:
    import procrastinate
    from procrastinate.sync_psycopg_connector import SyncPsycopgConnector

    app = procrastinate.App(connector=SyncPsycopgConnector(conninfo=conninfo))
    with app.open():
        return app.configure_task(task_name).defer(**args)


def _status(conninfo: str, job_id: int) -> str:
    with psycopg.connect(conninfo, autocommit=True) as conn:
        return conn.execute("SELECT status FROM procrastinate_jobs WHERE id = %s", [job_id]).fetchone()[0]
