"""Real server processes for tests that cross process boundaries, on the test database
(started, waited on and stopped by ``mendel.processes``)."""

from __future__ import annotations

import os
import subprocess

from mendel import processes


def database_url_for_children() -> str:
    """A URL for the test database that another process can use."""
    from django.db import connection

    db = connection.settings_dict
    if db["HOST"].startswith("/"):
        return f"postgresql://{db['USER']}:{db['PASSWORD']}@/{db['NAME']}?host={db['HOST']}"
    return f"postgresql://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"


def child_env(**extra: str) -> dict[str, str]:
    from django.conf import settings

    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "INPROCESS_WORKER")}
    env.update(
        DATABASE_URL=database_url_for_children(),
        SECRET_KEY=settings.SECRET_KEY,
        MEDIA_ROOT=str(settings.MEDIA_ROOT),
        JOB_SCRATCH_DIR=str(settings.JOB_SCRATCH_DIR),
        TRAINING_DIR=str(settings.TRAINING_DIR),
        PYTHONUNBUFFERED="1",
    )
    env.update(extra)
    return env


def start_asgi(port: int, env: dict[str, str], log=subprocess.PIPE) -> subprocess.Popen:
    """Serve mendel.asgi on 127.0.0.1:port with uvicorn, as a production web node would.

    Its output goes to a pipe that ``stop`` reads, or to ``log`` (an open file): a server
    that logs more than a pipe holds (a warning per 4xx, many requests) must not block.
    """
    # A test's browser may leave a socket open: the server closes it after 2 s when it stops
    # instead of waiting for it until ``stop`` kills it (15 s a test).
    return processes.start(processes.web_args(port, "127.0.0.1", "--timeout-graceful-shutdown", "2"),
                           env, log)


def wait_healthy(base_url: str, proc: subprocess.Popen, timeout: float = 60) -> None:
    processes.wait_ready({"server": (proc, f"{base_url}/healthz")}, timeout)


def start_inference(port: int, *options: str, log=subprocess.PIPE) -> subprocess.Popen:
    """An inference service replica (``python -m inference serve``) on 127.0.0.1:port, its
    torch on two threads like this suite's."""
    return processes.start(
        [processes.PYTHON, "-m", "inference", "serve", "--spaces", "abstract", "--threads", "2",
         "--port", str(port), *options],
        {**os.environ, "PYTHONUNBUFFERED": "1"}, log)


def wait_ready(base_url: str, proc: subprocess.Popen, timeout: float = 60) -> dict:
    """Wait for a replica's /readyz to answer 200; its state."""
    answers = processes.wait_ready({"inference replica": (proc, f"{base_url}/readyz")}, timeout)
    return answers["inference replica"].json()


def job_status(row) -> str:
    """The status of the procrastinate job that runs a job row (an upload, a video, a
    training), read from its arguments."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT status FROM procrastinate_jobs WHERE args->>%s = %s",
                       [row.TASK_ARG, str(row.pk)])
        (status,) = cursor.fetchone()
    return status


def put_back_stalled(row):
    """A condition to wait on: the stalled jobs (those of killed workers) are put back, until
    the one that runs ``row`` waits again. Other stalled jobs may be there too: a killed
    worker may have been running a periodic task."""
    from asgiref.sync import async_to_sync
    from procrastinate.contrib.django import app

    from mendel.tasks import retry_stalled

    def condition() -> bool:
        async_to_sync(retry_stalled)(app.job_manager, 1)
        return job_status(row) == "todo"

    return condition
