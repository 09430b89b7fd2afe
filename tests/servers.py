"""Real server processes for tests that cross process boundaries."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]


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
        PYTHONUNBUFFERED="1",
    )
    env.update(extra)
    return env


def start_asgi(port: int, env: dict[str, str], log=subprocess.PIPE) -> subprocess.Popen:
    """Serve mendel.asgi on 127.0.0.1:port with uvicorn, as a production web node would.

    Its output goes to a pipe that ``stop`` reads, or to ``log`` (an open file): a server
    that logs more than a pipe holds (a warning per 4xx, many requests) must not block.
    """
    return subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "mendel.asgi:application", "--host", "127.0.0.1",
         "--port", str(port), "--lifespan", "on", "--log-level", "warning"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, text=True,
    )


def wait_healthy(base_url: str, proc: subprocess.Popen, timeout: float = 60) -> None:
    _wait_for(f"{base_url}/healthz", proc, timeout, "server")


def _wait_for(url: str, proc: subprocess.Popen, timeout: float, what: str) -> httpx.Response:
    """Poll ``url`` until it answers 200 (that answer), failing if ``proc`` exits first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            said = proc.stdout.read() if proc.stdout else "(see its log)"
            raise RuntimeError(f"{what} exited early:\n{said}")
        try:
            response = httpx.get(url, timeout=2)
            if response.status_code == 200:
                return response
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise TimeoutError(f"{url} did not answer 200 in {timeout} s")


def stop(proc: subprocess.Popen) -> str:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    return proc.stdout.read() if proc.stdout else ""


def start_inference(port: int, *options: str, log=subprocess.PIPE) -> subprocess.Popen:
    """An inference service replica (``python -m inference serve``) on 127.0.0.1:port, its
    torch on two threads like this suite's."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen(
        [sys.executable, "-m", "inference", "serve", "--spaces", "abstract", "--threads", "2",
         "--port", str(port), *options],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, text=True,
    )


def wait_ready(base_url: str, proc: subprocess.Popen, timeout: float = 60) -> dict:
    """Wait for a replica's /readyz to answer 200; its state."""
    return _wait_for(f"{base_url}/readyz", proc, timeout, "inference replica").json()
