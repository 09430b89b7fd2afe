"""Mendel's own processes, started from Python: web servers (uvicorn serving ``mendel.asgi``)
and inference replicas, waited on until they answer and stopped. The one-machine cluster
(``mendel.cluster``), the tests that cross process boundaries and the benchmarks all start
them here."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx

from mendel.httpprotocol import SERVER_OPTIONS
from mendel.websocket import MAX_FRAME_BYTES

ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable


class NotReady(RuntimeError):
    """A process did not come up; the message says which and why."""


def free_port() -> int:
    """A TCP port nothing listens on now, on 127.0.0.1."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def web_args(port: int, host: str = "127.0.0.1", *extra: str) -> list[str]:
    """The command of a web node: uvicorn serving ``mendel.asgi`` on ``host:port``, its
    lifespan on (the in-process worker, the warm-up), WebSockets whose sends never wait for the
    socket (``websockets-sansio``: gallery.consumers.Hall writes a show's sockets in turn)
    and whose messages are bounded, a deadline
    for request headers and client addresses as Mendel reads them (``SERVER_OPTIONS``),
    warnings only; ``extra`` options after (``--no-access-log``, ``--workers 4``)."""
    return [PYTHON, "-m", "uvicorn", "mendel.asgi:application", "--host", host,
            "--port", str(port), "--lifespan", "on", "--ws", "websockets-sansio",
            "--ws-max-size", str(MAX_FRAME_BYTES),
            *SERVER_OPTIONS, "--log-level", "warning", *extra]


def more_files() -> int:
    """Let this process open as many files as the system allows it (the hard limit): every
    WebSocket a web node holds is an open file, and the usual soft limit, 1,024, would turn
    away an exhibition's thousandth visitor. Returns the limit now."""
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != hard:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        except (ValueError, OSError):  # a hard limit the system will not grant: keep the soft one
            pass
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def start(args: list[str], env: dict[str, str] | None = None, log=None) -> subprocess.Popen:
    """Run ``args`` from the project's root, allowed as many open files as the system
    allows (``more_files``). Its output goes where this process's goes, or to ``log``:
    ``subprocess.PIPE`` (read back by ``stop``, for processes that say little) or an open
    file (a process that logs more than a pipe holds must not block)."""
    return subprocess.Popen(args, cwd=ROOT, env=env, stdout=log, preexec_fn=more_files,
                            stderr=subprocess.STDOUT if log is not None else None, text=True)


def wait_ready(ready: dict[str, tuple[subprocess.Popen, str | None]], timeout: float = 60.0,
               stopping: Callable[[], bool] = lambda: False) -> dict[str, httpx.Response]:
    """Poll each named process's URL until it answers 200, and return those answers.

    A process whose URL is None is only watched. Raises ``NotReady`` if any of them exits
    first (with its output, when it goes to a pipe), when ``stopping()`` says so, or once
    ``timeout`` seconds have passed.
    """
    deadline = time.monotonic() + timeout
    answers: dict[str, httpx.Response] = {}
    waiting = {name: url for name, (_, url) in ready.items() if url}
    while waiting:
        if stopping():
            raise NotReady("stopped while starting")
        for name, (proc, _) in ready.items():
            if proc.poll() is not None:
                said = f":\n{proc.stdout.read()}" if proc.stdout else ""
                raise NotReady(f"{name} exited while starting ({proc.returncode}){said}")
        for name, url in list(waiting.items()):
            try:
                response = httpx.get(url, timeout=2)
            except httpx.HTTPError:
                continue
            if response.status_code == 200:
                answers[name] = response
                del waiting[name]
        if waiting and time.monotonic() > deadline:
            raise NotReady(f"not ready after {timeout:.0f} s: {', '.join(waiting)}")
        if waiting:
            time.sleep(0.2)
    return answers


def stop(*procs: subprocess.Popen, timeout: float = 15.0) -> str:
    """Ask each process to stop (SIGTERM, once: a second one makes uvicorn drop its
    requests), give each ``timeout`` seconds, kill those still running; their piped
    output."""
    running = [p for p in procs if p.poll() is None]
    for p in running:
        p.terminate()
    for p in running:
        try:
            p.wait(timeout)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
    return "".join(p.stdout.read() for p in procs if p.stdout)
