"""The request path: what Django's ASGI handling costs a request, before any view's work.

    .venv/bin/python bench/handler.py [--requests 300] [--json]

Against a database of its own (made afresh on the embedded PostgreSQL, or on the server of
``DATABASE_URL``, dropped after): one public work, then each of these asked ``--requests``
times through two ASGI applications in this process, request by request in turn:

- **baseline**: Django's own ``ASGIHandler``, each middleware an async step that moves the
  request to its thread and back;
- **now**: ``mendel.asgi.OneTripHandler``, the middleware as one synchronous chain in the
  request's thread (what the site serves with).

Asked: ``/healthz`` (the middleware alone, a view that reads nothing), a work's API answer
(``GET /api/creations/<id>/``), its look-alikes (``/lookalikes/``) and its page
(``/w/<id>/``), anonymous. Per request: CPU time of this process (the client's share is
the same for both: httpx over an in-process ASGI transport) and wall time, p50 and p95, and
the trips to a thread (``sync_to_async`` calls) each request makes.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
logging.getLogger("httpx").setLevel(logging.WARNING)

from bench._database import drop_database, fresh_database, log, server_url, setup_django  # noqa: E402
from bench._server import cpu_model, percentile  # noqa: E402

DATABASE = "mendel_bench_handler"


def the_work():
    from django.contrib.auth import get_user_model

    from breeding import actions, images
    from breeding.models import Visibility

    user = get_user_model().objects.create_user("bench-handler")
    space = actions.sync_spaces()[0]
    work = actions.do_update(actions.do_random(user, space, 1, seed=7)[0], visibility=Visibility.PUBLIC)
    images.settle(60)
    return work


async def measure(apps: dict, paths: list[str], requests: int) -> dict:
    import httpx
    from asgiref.sync import SyncToAsync

    clients = {name: httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1")
               for name, app in apps.items()}
    trips = [0]
    crossing = SyncToAsync.__call__

    async def counted(self, *args, **kwargs):
        trips[0] += 1
        return await crossing(self, *args, **kwargs)

    results = {}
    for path in paths:
        for name, client in clients.items():  # warm up, and count the trips of one request
            for _ in range(10):
                answer = await client.get(path)
                if answer.status_code != 200:
                    raise SystemExit(f"{name} answered {path} with {answer.status_code}")
            SyncToAsync.__call__, trips[0] = counted, 0
            await client.get(path)
            SyncToAsync.__call__ = crossing
            results[(path, name)] = {"trips": trips[0], "cpu": [], "wall": []}
        for _ in range(requests):
            for name, client in clients.items():
                cpu, wall = time.process_time(), time.perf_counter()
                await client.get(path)
                results[(path, name)]["cpu"].append((time.process_time() - cpu) * 1000)
                results[(path, name)]["wall"].append((time.perf_counter() - wall) * 1000)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    os.environ.setdefault("OMP_NUM_THREADS", "2")
    server = server_url()
    setup_django(fresh_database(server, DATABASE))
    try:
        from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler
        from django.core.handlers.asgi import ASGIHandler

        from mendel.asgi import OneTripHandler

        work = the_work()
        paths = ["/healthz", f"/api/creations/{work.public_id}/",
                 f"/api/creations/{work.public_id}/lookalikes/", f"/w/{work.public_id}/"]
        apps = {"baseline": ASGIStaticFilesHandler(ASGIHandler()),
                "now": ASGIStaticFilesHandler(OneTripHandler())}
        log(f"{args.requests} requests of each of {len(paths)} paths through each handler")
        load = os.getloadavg()
        results = asyncio.run(measure(apps, paths, args.requests))
        load_after = os.getloadavg()
    finally:
        from django.db import connections

        connections.close_all()
        drop_database(server, DATABASE)

    rows = []
    for (path, name), r in results.items():
        rows.append({"path": path.replace(work.public_id, "<id>"), "handler": name, "trips": r["trips"],
                     "cpu_p50_ms": round(percentile(r["cpu"], 50), 2),
                     "cpu_p95_ms": round(percentile(r["cpu"], 95), 2),
                     "wall_p50_ms": round(percentile(r["wall"], 50), 2),
                     "wall_p95_ms": round(percentile(r["wall"], 95), 2)})
    report = {"cpu": cpu_model(), "requests": args.requests, "load_before": round(load[0], 2),
              "load_after": round(load_after[0], 2), "rows": rows}
    if args.json:
        print(json.dumps(report))
        return
    print(f"{cpu_model()}; load average {load[0]:.2f} before, {load_after[0]:.2f} after; "
          f"{args.requests} requests each, in turn")
    print("| path | handler | trips to a thread | CPU p50 / p95 ms | wall p50 / p95 ms |")
    print("| --- | --- | ---: | ---: | ---: |")
    for row in rows:
        print(f"| `{row['path']}` | {row['handler']} | {row['trips']} | {row['cpu_p50_ms']} / "
              f"{row['cpu_p95_ms']} | {row['wall_p50_ms']} / {row['wall_p95_ms']} |")


if __name__ == "__main__":
    main()
