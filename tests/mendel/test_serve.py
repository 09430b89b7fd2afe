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

from mendel.processes import ROOT, free_port


@pytest.fixture
def fresh_pgdata():
    # Inside the project (not /tmp/pytest-of-root, which the postgres user cannot enter).
    path = ROOT / "var" / f"test-pgdata-{uuid.uuid4().hex[:8]}"
    yield path
    shutil.rmtree(path, ignore_errors=True)


class Output:
    """The server's output, read line by line as it comes; ``None`` marks its end."""

    def __init__(self, proc: subprocess.Popen) -> None:
        self.proc = proc
        self.lines: queue.Queue[str | None] = queue.Queue()
        self.log: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            self.lines.put(line)
        self.lines.put(None)

    def wait_for(self, text: str) -> None:
        """Block until a line containing ``text`` is printed; fail if the server exits first."""
        while True:
            line = self.lines.get()
            assert line is not None, f"the server exited before printing {text!r}:\n{self.text}"
            self.log.append(line)
            if text in line:
                return

    @property
    def text(self) -> str:
        """Everything printed so far (for failure messages)."""
        while True:
            try:
                line = self.lines.get_nowait()
            except queue.Empty:
                break
            if line is None:
                self.lines.put(None)  # the end stays marked for wait_for
                break
            self.log.append(line)
        return "".join(self.log)


# Start-up migrates a fresh database and the job runs on a shared machine: a hang ends here,
# and no step below is held to a time of its own.
@pytest.mark.timeout(300)
def test_serve_starts_a_fresh_embedded_database_and_stops_it_on_ctrl_c(fresh_pgdata, tmp_path):
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "INPROCESS_WORKER")}
    env.update(MENDEL_PGDATA=str(fresh_pgdata), PORT=str(port), PYTHONUNBUFFERED="1",
               MEDIA_ROOT=str(tmp_path / "media"))
    proc = subprocess.Popen(
        [sys.executable, "-m", "mendel.serve"], cwd=ROOT, env=env,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    output = Output(proc)
    try:
        address = f"http://127.0.0.1:{port}/"
        output.wait_for(f"Mendel is running at {address}")
        output.wait_for(f"Uvicorn running on {address[:-1]}")  # listening from here on
        assert httpx.get(address + "healthz").status_code == 200, output.text
        assert httpx.get(address).status_code == 200

        # The in-process worker runs jobs: defer one through the database, see it succeed.
        conninfo = f"postgresql://postgres@/mendel?host={fresh_pgdata}"
        job_id = _defer(conninfo, "mendel.tasks.retry_stalled_jobs", {"timestamp": 0})
        while (status := _status(conninfo, job_id)) in ("todo", "doing"):
            assert proc.poll() is None, output.text
            time.sleep(0.2)
        assert status == "succeeded", output.text

        proc.send_signal(signal.SIGINT)
        output.wait_for("Mendel stopped.")
        assert proc.wait() == 0, output.text
    finally:
        if proc.poll() is None:  # a failure above: stop it as Ctrl-C would, so the database stops too
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
    assert not (fresh_pgdata / "postmaster.pid").exists(), "the embedded database must stop"


def _defer(conninfo: str, task_name: str, args: dict) -> int:
    import procrastinate
    from procrastinate.sync_psycopg_connector import SyncPsycopgConnector

    app = procrastinate.App(connector=SyncPsycopgConnector(conninfo=conninfo))
    with app.open():
        return app.configure_task(task_name).defer(**args)


def _status(conninfo: str, job_id: int) -> str:
    with psycopg.connect(conninfo, autocommit=True) as conn:
        return conn.execute("SELECT status FROM procrastinate_jobs WHERE id = %s", [job_id]).fetchone()[0]
