"""A real Mendel web server for benchmarks (``mendel.processes``: uvicorn in a subprocess,
ready when healthy), the breeder they start from, and how they report."""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

from mendel import processes


def percentile(values, q: float):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q / 100 * (len(values) - 1))))]


@contextmanager
def server(env: dict[str, str], timeout: float = 60, workers: int = 1):
    """Yield the base URL of a uvicorn serving mendel.asgi with ``env`` (``workers``
    processes); stop it after."""
    port = processes.free_port()
    proc = processes.start(processes.web_args(port, "127.0.0.1", "--no-access-log",
                                              "--workers", str(workers)), env)
    base = f"http://127.0.0.1:{port}"
    _serving[base] = proc.pid
    try:
        try:
            processes.wait_ready({"the server": (proc, f"{base}/healthz")}, timeout)
        except processes.NotReady as failed:
            raise SystemExit(f"the server did not start: {failed}") from None
        yield base
    finally:
        processes.stop(proc, timeout=10)
        _serving.pop(base, None)


_serving: dict[str, int] = {}  # base URL -> the server's process id


def server_cpu_s(base: str) -> float:
    """CPU seconds the server at ``base`` (its processes) has used so far."""
    import psutil

    main = psutil.Process(_serving[base])
    return sum(sum(p.cpu_times()[:2]) for p in [main, *main.children(recursive=True)])


def bench_breeder():
    """Django set up on the configured database (migrated), the benchmark's breeder, their
    API token and the space: what the API benchmarks start from."""
    import os

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mendel.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from django.contrib.auth import get_user_model
    from rest_framework.authtoken.models import Token

    from breeding import actions

    user, _ = get_user_model().objects.get_or_create(username="bench-breeder")
    token, _ = Token.objects.get_or_create(user=user)
    return user, token.key, actions.sync_spaces()[0]


def latency_report(title: str, rows: list[tuple[str, str, list[float]]], as_json: bool,
                   extra: dict | None = None) -> None:
    """Print latencies (seconds) as a p50/p95 table, or one JSON object with ``--json``.

    ``rows`` are (label, JSON key prefix, samples); the object gets ``<prefix>_p50_ms`` and
    ``<prefix>_p95_ms`` for each row, plus ``extra``.
    """
    import json
    import statistics

    result = {}
    for _, key, samples in rows:
        result[f"{key}_p50_ms"] = round(statistics.median(samples) * 1000, 1)
        result[f"{key}_p95_ms"] = round(percentile(samples, 95) * 1000, 1)
    result.update(extra or {})
    if as_json:
        print(json.dumps(result))
        return
    width = max(len(label) for label, _, _ in rows) + 2
    print(title)
    print(f"{'':<{width}} {'p50 ms':>8} {'p95 ms':>8}")
    for label, key, _ in rows:
        print(f"{label:<{width}} {result[key + '_p50_ms']:>8} {result[key + '_p95_ms']:>8}")


def cpu_model() -> str:
    """The CPU's model name, to print beside every figure."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    import platform

    return platform.processor() or platform.machine()
