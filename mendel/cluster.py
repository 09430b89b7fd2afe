"""The multi-machine layout, on one machine, to try it: ``python -m mendel.cluster``.

Starts, as separate processes with the environment each would have on its own machine
(docs/deploy.md):

- PostgreSQL with pgvector: ``DATABASE_URL``, or the embedded server when it is unset;
- Redis: ``REDIS_URL`` (default ``redis://127.0.0.1:6379/0``), which must answer;
- ``--replicas`` inference replicas (``python -m inference serve``) from ``--inference-port``;
- ``--web`` web processes (uvicorn, ``mendel.asgi``) from ``--port``, rendering through the
  replicas (``INFERENCE_URL``), sharing Redis for sockets and cache;
- one job worker (``manage.py procrastinate worker``), rendering through the replicas too.

It migrates and runs the first-start set-up (``--skip-setup`` leaves the set-up out),
waits until every process answers, prints where they are, and stops them all on Ctrl-C
or SIGTERM, or as soon as one of them exits.
"""

from __future__ import annotations

import argparse
import os
import secrets
import signal
import subprocess
import sys
import time
from dataclasses import dataclass

from mendel.processes import PYTHON, ROOT, NotReady, start, stop, wait_ready, web_args


@dataclass
class Process:
    name: str
    args: list[str]
    env: dict[str, str]
    ready_url: str | None = None
    proc: subprocess.Popen | None = None


def layout(args, database_url: str, redis_url: str, secret_key: str) -> list[Process]:
    """Every process of the layout, with its own environment."""
    base = {k: v for k, v in os.environ.items()
            if k not in ("DATABASE_URL", "REDIS_URL", "INFERENCE_URL", "SECRET_KEY", "INPROCESS_WORKER")}
    base["PYTHONUNBUFFERED"] = "1"
    replicas = [f"http://127.0.0.1:{args.inference_port + i}" for i in range(args.replicas)]
    # What a web node and a worker need: the shared database, Redis, key and replicas.
    site = {**base, "DATABASE_URL": database_url, "REDIS_URL": redis_url, "SECRET_KEY": secret_key,
            "INFERENCE_URL": ",".join(replicas), "INPROCESS_WORKER": "0"}
    processes = [
        Process(f"inference-{i + 1}", [
            PYTHON, "-m", "inference", "--threads", str(args.threads), "serve",
            "--spaces", args.spaces, "--host", "127.0.0.1", "--port", str(args.inference_port + i)],
            {**base}, f"{url}/readyz")
        for i, url in enumerate(replicas)
    ]
    processes += [
        Process(f"web-{i + 1}", web_args(args.port + i, args.host, "--no-access-log"), site,
                f"http://127.0.0.1:{args.port + i}/healthz")
        for i in range(args.web)
    ]
    processes.append(Process("worker", [PYTHON, "manage.py", "procrastinate", "worker"], site))
    return processes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mendel.cluster", description=__doc__.split("\n")[0])
    parser.add_argument("--web", type=int, default=2, help="web processes")
    parser.add_argument("--replicas", type=int, default=2, help="inference replicas")
    parser.add_argument("--host", default="127.0.0.1", help="where the web processes listen")
    parser.add_argument("--port", type=int, default=8000, help="the first web process's port")
    parser.add_argument("--inference-port", type=int, default=8100)
    parser.add_argument("--spaces", default="abstract", help="the spaces the replicas serve")
    parser.add_argument("--threads", type=int, default=1, help="torch threads per replica")
    parser.add_argument("--skip-setup", action="store_true",
                        help="migrate only: no demo gallery, no gene discovery")
    parser.add_argument("--ready-timeout", type=float, default=120.0)
    args = parser.parse_args(argv)
    for name in ("web", "replicas"):
        if getattr(args, name) < 1:
            print(f"error: --{name} must be at least 1", file=sys.stderr)
            return 2

    redis_url = os.environ.get("REDIS_URL", "").strip() or "redis://127.0.0.1:6379/0"
    problem = _redis_problem(redis_url)
    if problem:
        print(f"error: Redis at {redis_url} {problem}: start one, or set REDIS_URL", file=sys.stderr)
        return 2
    from mendel import embedded

    database_url = os.environ.get("DATABASE_URL", "").strip() or embedded.database_url(ROOT)
    # Every web node must share one key; a key made here lasts for this run's sessions.
    secret_key = os.environ.get("SECRET_KEY", "").strip() or secrets.token_urlsafe(50)
    processes = layout(args, database_url, redis_url, secret_key)
    stopping = {"signal": None}

    def on_signal(signum, frame) -> None:
        stopping["signal"] = signum

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    try:
        site_env = processes[-1].env
        steps = [["migrate", "--no-input", "-v", "0"]] + ([] if args.skip_setup else [["setup_mendel"]])
        for step in steps:
            done = subprocess.run([PYTHON, "manage.py", *step], cwd=ROOT, env=site_env)
            if done.returncode != 0:
                print(f"error: manage.py {step[0]} failed", file=sys.stderr)
                return 1
        for p in processes:
            p.proc = start(p.args, p.env)
        try:
            wait_ready({p.name: (p.proc, p.ready_url) for p in processes}, args.ready_timeout,
                       lambda: stopping["signal"] is not None)
        except NotReady as failed:
            print(f"error: {failed}", file=sys.stderr)
            return 1
        print("\n  Mendel's layout is up:", flush=True)
        for p in processes:
            print(f"    {p.name:<12} pid {p.proc.pid:<8} {p.ready_url or ''}", flush=True)
        print("  Ctrl-C stops it.\n", flush=True)
        while stopping["signal"] is None:
            for p in processes:
                if p.proc.poll() is not None:
                    print(f"error: {p.name} exited ({p.proc.returncode}); stopping the rest",
                          file=sys.stderr)
                    return 1
            time.sleep(0.2)
        return 0
    finally:
        _stop_all(processes)
        embedded.stop()


def _redis_problem(url: str) -> str | None:
    import redis

    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1)
        client.ping()
        client.close()
    except Exception as exc:
        return f"does not answer ({type(exc).__name__})"
    return None


def _stop_all(processes: list[Process]) -> None:
    """Web processes and the worker first (they finish their requests and jobs), then the
    replicas they render with."""
    for group in ([p for p in processes if not p.name.startswith("inference")],
                  [p for p in processes if p.name.startswith("inference")]):
        stop(*(p.proc for p in group if p.proc is not None), timeout=30)


if __name__ == "__main__":
    sys.exit(main())
