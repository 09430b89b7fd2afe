"""Exhibitions live: N WebSocket viewers on one or more server processes, a curator moving the tour.

    .venv/bin/python bench/exhibition.py [--viewers 100 1000] [--layers memory redis]
        [--events 50] [--rate 5] [--processes 1] [--json]
    .venv/bin/python bench/exhibition.py --processes 4 --viewers 10000 --rate 1 --events 60 \
        --layers redis --json                  # issue #30: 10,000 viewers on four processes

Baseline: the goal of issue #11: every event delivered, p95 broadcast latency at most
250 ms with 1,000 viewers, on this machine.

One uvicorn process (``--processes`` of them, on Redis, each on its own port as behind a
load balancer) serves ``mendel.asgi`` on a database of the embedded PostgreSQL
(``mendel_bench_exhibitions``, made on first use); the viewers are spread over them evenly
and the curator talks to the first. For each layer and each number of
viewers, a fresh open exhibition of four public works; the viewers (anonymous, as most
visitors are) connect to ``/ws/exhibitions/<slug>/`` with a client library (aiohttp, from
``--clients`` processes of their own, 500 sockets each by default) and keep every event's
seq and the time it arrived. When all have their snapshot, the curator (an API token)
moves the guided tour ``--events`` times, ``--rate`` a second (``--rate 0``: as fast as the
server answers, a burst), with ``POST /api/exhibitions/<slug>/tour/``; the answer's seq
names the event.

- delivered: events received / (events sent × viewers); a socket that misses one event
  counts it, whatever the reason (a layer dropping it, a socket closed);
- latency: from the moment the curator sends the request to the moment a viewer's client
  reads the event (one clock, ``time.monotonic``, shared by every process of the machine),
  p50 and p95 over every (event, viewer);
- CPU: seconds of the server processes, and of the client processes, while the events flow
  (the clients must not be what is measured: keep theirs well below a core);
- memory: the server processes' resident memory with every viewer connected and idle, less
  what they held before the first connected, per thousand viewers.

Every viewer comes from 127.0.0.1, so the servers allow that many sockets per viewer
(``EXHIBITION_SOCKETS_PER_VIEWER``); their open-file limit is raised by
``mendel.processes.start`` as for every server the project starts.

Layers (``--layers``): ``memory`` and ``redis`` are Mendel's own settings without and with
``REDIS_URL`` (``--redis``, a database of its own, flushed before and after);
``memory-default``, ``redis-default`` and ``pubsub`` are the libraries' defaults
(``InMemoryChannelLayer``, ``channels_redis.core.RedisChannelLayer``,
``channels_redis.pubsub.RedisPubSubChannelLayer``), through ``bench/layer_settings.py``.
A Redis layer's drops at ``group_send`` (channels-redis logs "channels over capacity") are
counted from the server's log (``layer_full_logged``); with ``--source here`` they happen in
this process, and show as missing events.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import os
import secrets
import statistics
import sys
import tempfile
import time
from contextlib import contextmanager, nullcontext
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import logging  # noqa: E402

from bench._server import cpu_model, percentile  # noqa: E402
from mendel import processes  # noqa: E402
from mendel.processes import free_port  # noqa: E402

logging.getLogger("httpx").setLevel(logging.WARNING)

BENCH_DB = "mendel_bench_exhibitions"
REDIS_URL = "redis://127.0.0.1:6379/14"
SOCKETS_PER_CLIENT = 500
GRACE_S = 15.0  # after the last event is sent, how long viewers may take to get it
HEADLINE = 1000
LAYERS = {
    "memory": None,
    "redis": None,
    "memory-default": {"BACKEND": "channels.layers.InMemoryChannelLayer"},
    "redis-default": {"BACKEND": "channels_redis.core.RedisChannelLayer"},
    "pubsub": {"BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer"},
}


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# -- the server's side ----------------------------------------------------------------


def setup_django() -> str:
    """Point Django at the bench database of the embedded server; returns its URL."""
    from mendel import embedded

    url = embedded.database_url(ROOT)
    server = embedded._server
    if "(1 row)" not in server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{BENCH_DB}';"):
        server.psql(f"CREATE DATABASE {BENCH_DB};")
    bench_url = url.replace("/mendel?", f"/{BENCH_DB}?")
    os.environ["DATABASE_URL"] = bench_url
    os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(40))
    os.environ["DJANGO_SETTINGS_MODULE"] = "mendel.settings"
    os.environ.pop("REDIS_URL", None)  # this process broadcasts nothing anyone hears
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    return bench_url


def curator_and_works() -> tuple[str, list[str]]:
    """The bench curator's API token and four public works (made once, kept after)."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Permission
    from rest_framework.authtoken.models import Token

    from breeding import actions
    from breeding.models import Creation, Visibility

    user, _ = get_user_model().objects.get_or_create(username="bench-curator")
    user.user_permissions.add(Permission.objects.get(codename="curate", content_type__app_label="gallery"))
    token, _ = Token.objects.get_or_create(user=user)
    works = list(Creation.objects.public().filter(owner=user).values_list("public_id", flat=True)[:4])
    if len(works) < 4:
        space = actions.sync_spaces()[0]
        for i, work in enumerate(actions.do_random(user, space, 4, seed=7)):
            actions.do_update(work, title=f"Bench {i}", visibility=Visibility.PUBLIC)
        works = list(Creation.objects.public().filter(owner=user).values_list("public_id", flat=True)[:4])
    return token.key, works


def new_exhibition(works: list[str]) -> tuple[str, list[int]]:
    from django.contrib.auth import get_user_model

    from gallery import exhibitions
    from gallery.models import ExhibitionStatus

    user = get_user_model().objects.get(username="bench-curator")
    exhibition = exhibitions.do_create(user, f"Bench {secrets.token_hex(3)}", status=ExhibitionStatus.OPEN)
    items = [exhibitions.do_add(exhibition, work)["item"]["id"] for work in works]
    return exhibition.slug, items


def flush_redis(url: str) -> None:
    import redis

    client = redis.Redis.from_url(url)
    client.flushdb()
    client.close()


@contextmanager
def serving(db_url: str, layer: str, redis_url: str, log_dir: Path, count: int = 1):
    """``count`` uvicorn processes serving mendel.asgi with ``layer``; yields their (base
    URL, pid) pairs."""
    if count > 1 and layer in ("memory", "memory-default"):
        raise SystemExit("several processes need a Redis layer: the in-memory one is a process's own")
    env = {**os.environ, "DATABASE_URL": db_url, "INPROCESS_WORKER": "0", "OMP_NUM_THREADS": "1",
           "DJANGO_SETTINGS_MODULE": "mendel.settings", "EXHIBITION_SOCKETS_PER_VIEWER": "100000"}
    env.pop("REDIS_URL", None)
    if layer != "memory":
        env["REDIS_URL"] = redis_url
        flush_redis(redis_url)
    if LAYERS[layer] is not None:
        env["DJANGO_SETTINGS_MODULE"] = "bench.layer_settings"
        env["BENCH_CHANNEL_LAYER"] = json.dumps(LAYERS[layer])
    servers = []
    for k in range(count):
        port = free_port()
        with open(log_dir / f"server-{k}.log", "w") as out:
            proc = processes.start(processes.web_args(port, "127.0.0.1", "--no-access-log"), env, out)
        servers.append((f"http://127.0.0.1:{port}", proc))
    try:
        try:
            processes.wait_ready({f"server {k}": (proc, f"{base}/healthz")
                                  for k, (base, proc) in enumerate(servers)}, 90)
        except processes.NotReady as failed:
            logs = "\n".join(path.read_text() for path in sorted(log_dir.glob("server-*.log")))
            raise SystemExit(f"{failed}:\n{logs}") from None
        yield [(base, proc.pid) for base, proc in servers]
    finally:
        processes.stop(*(proc for _, proc in servers), timeout=30)
        if layer != "memory":
            flush_redis(redis_url)


def cpu_seconds(pids: list[int]) -> float:
    import psutil

    return sum(sum(psutil.Process(pid).cpu_times()[:2]) for pid in pids)


def resident_mb(pids: list[int]) -> float:
    import psutil

    return sum(psutil.Process(pid).memory_info().rss for pid in pids) / 2**20


# -- the viewers ----------------------------------------------------------------------


def viewers_main(url: str, origin: str, n: int, ready, last, results, connecting: int) -> None:
    """A client process: ``n`` viewers, at most ``connecting`` of them opening at once;
    reports (cpu seconds, [[(seq, t), ...] per socket])."""
    processes.more_files()
    results.put(asyncio.run(_viewers(url, origin, n, ready, last, connecting)))


async def _viewers(url: str, origin: str, n: int, ready, last, connecting: int):
    import aiohttp

    got: list[list[tuple[int, float]]] = [[] for _ in range(n)]
    closed_early = 0
    gate = asyncio.Semaphore(connecting)
    sockets = []

    async def viewer(http, k: int) -> None:
        nonlocal closed_early
        async with gate:
            ws = await http.ws_connect(url, origin=origin, autoping=True, max_msg_size=0)
            sockets.append(ws)
            first = await ws.receive_json(timeout=120)
            assert first["type"] == "snapshot", first
        with ready.get_lock():
            ready.value += 1
        mine = got[k]
        async for message in ws:
            if message.type != aiohttp.WSMsgType.TEXT:
                break
            now = time.monotonic()
            seq = json.loads(message.data).get("seq")
            if seq is not None:
                mine.append((seq, now))
        if not stopping:
            closed_early += 1

    stopping = False
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as http:
        tasks = [asyncio.create_task(viewer(http, k)) for k in range(n)]
        cpu = finished = None
        while True:
            await asyncio.sleep(0.05)
            failed = next((t.exception() for t in tasks if t.done() and t.exception()), None)
            if failed is not None:
                raise failed
            if cpu is None and last.value != 0:  # the events start
                cpu = time.process_time()
            if last.value > 0:  # all sent: wait for the last, for GRACE_S at most
                finished = finished or time.monotonic()
                if all(g and g[-1][0] >= last.value for g in got) or time.monotonic() - finished > GRACE_S:
                    break
        cpu = time.process_time() - (cpu or time.process_time())
        stopping = True
        for ws in sockets:
            await ws.close()
        await asyncio.gather(*tasks, return_exceptions=True)
    return cpu, got, closed_early


# -- the curator and the figures ------------------------------------------------------


async def curate(base: str, token: str, slug: str, items: list[int], events: int, rate: float):
    """Move the tour ``events`` times; returns {seq: when the request was sent}."""
    import aiohttp

    sent = {}
    headers = {"Authorization": f"Token {token}"}
    started = time.monotonic()
    async with aiohttp.ClientSession(headers=headers) as http:
        for i in range(events):
            if rate:
                await asyncio.sleep(max(0.0, started + i / rate - time.monotonic()))
            t = time.monotonic()
            async with http.post(f"{base}/api/exhibitions/{slug}/tour/",
                                 json={"item": items[i % len(items)]}) as answer:
                body = await answer.json()
                assert answer.status == 200, body
            sent[body["seq"]] = t
    return sent, time.monotonic() - started


def curate_here(layer: str, redis_url: str, slug: str, items: list[int], events: int, rate: float):
    """As ``curate``, but the events are made in this process (``gallery.exhibitions``,
    broadcast through the same Redis as the server's), as another web node or a job worker
    would: a burst is then as fast as the database commits, not slowed by the server."""
    from channels.layers import channel_layers
    from django.conf import settings

    from gallery import exhibitions
    from gallery.models import Exhibition
    from mendel.settings import redis_channel_layer

    if layer in ("memory", "memory-default"):
        raise SystemExit("--source here needs a Redis layer: the in-memory one is the server's alone")
    config = json.loads(json.dumps(LAYERS[layer] or redis_channel_layer(redis_url)))
    config.setdefault("CONFIG", {})["hosts"] = redis_channel_layer(redis_url)["CONFIG"]["hosts"]
    settings.CHANNEL_LAYERS = {"default": config}
    channel_layers.backends.clear()
    exhibition = Exhibition.objects.get(slug=slug)
    sent = {}
    started = time.monotonic()
    for i in range(events):
        if rate:
            time.sleep(max(0.0, started + i / rate - time.monotonic()))
        t = time.monotonic()
        sent[exhibitions.do_tour(exhibition, items[i % len(items)])["seq"]] = t
    return sent, time.monotonic() - started


def run_case(db_url: str, layer: str, viewers: int, args, token: str, works: list[str]) -> dict:
    slug, items = new_exhibition(works)
    ctx = mp.get_context("spawn")
    clients = max(args.clients or -(-viewers // SOCKETS_PER_CLIENT), args.processes)
    keep = Path(args.logs, f"{layer}-{viewers}-{secrets.token_hex(3)}") if args.logs else None
    if keep:
        keep.mkdir(parents=True)
    with (nullcontext(str(keep)) if keep else tempfile.TemporaryDirectory()) as tmp, \
            serving(db_url, layer, args.redis, Path(tmp), args.processes) as servers:
        base, pids = servers[0][0], [pid for _, pid in servers]
        ready, last, results = ctx.Value("i", 0), ctx.Value("i", 0), ctx.Queue()
        shares = [viewers // clients + (1 if k < viewers % clients else 0) for k in range(clients)]
        procs = []
        for k, share in enumerate(shares):  # client k on server k mod N: even shares
            home = servers[k % len(servers)][0]
            url = home.replace("http", "ws", 1) + f"/ws/exhibitions/{slug}/"
            procs.append(ctx.Process(target=viewers_main, args=(url, home, share, ready, last, results,
                                                                max(1, args.connecting // clients))))
        rss_before = resident_mb(pids)
        for proc in procs:
            proc.start()
        connecting = time.monotonic()
        while ready.value < viewers:
            if time.monotonic() - connecting > 300 or not all(p.is_alive() for p in procs):
                raise SystemExit(f"only {ready.value} of {viewers} viewers connected")
            time.sleep(0.1)
        connect_s = time.monotonic() - connecting
        time.sleep(PRESENCE_SETTLE_S)  # the last presence announcement goes out first
        rss_idle = resident_mb(pids)
        server_cpu = cpu_seconds(pids)
        last.value = -1
        if args.source == "here":
            sent, send_s = curate_here(layer, args.redis, slug, items, args.events, args.rate)
        else:
            sent, send_s = asyncio.run(curate(base, token, slug, items, args.events, args.rate))
        last.value = max(sent)
        reports = [results.get(timeout=GRACE_S + 120) for _ in procs]
        server_cpu = cpu_seconds(pids) - server_cpu
        for proc in procs:
            proc.join(30)
        server_log = "\n".join(path.read_text() for path in sorted(Path(tmp).glob("server-*.log")))
    latencies, received, out_of_order = [], 0, 0
    for _, got, _ in reports:
        for socket_got in got:
            seqs = [s for s, _ in socket_got if s in sent]
            out_of_order += sum(1 for a, b in zip(seqs, seqs[1:], strict=False) if b <= a)
            arrived = {s: t for s, t in socket_got if s in sent}
            received += len(arrived)
            latencies += [t - sent[s] for s, t in arrived.items()]
    expected = len(sent) * viewers
    return {
        "layer": layer,
        "viewers": viewers,
        "events": len(sent),
        "rate": args.rate,
        "source": args.source,
        "delivered_ratio": round(received / expected, 5),
        "missing": expected - received,
        "out_of_order": out_of_order,
        "closed_early": sum(r[2] for r in reports),
        "latency_p50_ms": round(statistics.median(latencies) * 1000, 1) if latencies else None,
        "latency_p95_ms": round(percentile(latencies, 95) * 1000, 1) if latencies else None,
        "latency_max_ms": round(max(latencies) * 1000, 1) if latencies else None,
        "send_s": round(send_s, 2),
        "connect_s": round(connect_s, 1),
        "server_cpu_s": round(server_cpu, 2),
        "client_cpu_s": round(sum(r[0] for r in reports), 2),
        "client_processes": clients,
        "server_processes": len(pids),
        "server_rss_mb_idle": round(rss_idle, 1),
        "server_rss_mb_per_1000_idle_viewers": round((rss_idle - rss_before) / viewers * 1000, 1),
        "layer_full_logged": server_log.count("over capacity"),
        "server_errors": server_log.count("Traceback"),
    }


PRESENCE_SETTLE_S = 2.5



def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--viewers", type=int, nargs="+", default=[100, HEADLINE])
    parser.add_argument("--layers", nargs="+", choices=list(LAYERS), default=["memory", "redis"])
    parser.add_argument("--events", type=int, default=50)
    parser.add_argument("--rate", type=float, default=5.0, help="events a second (0: a burst)")
    parser.add_argument("--clients", type=int, default=0, help="client processes (default: one per 500 viewers)")
    parser.add_argument("--connecting", type=int, default=1000,
                        help="viewers opening their socket at once, over all client processes: an "
                             "audience arrives over minutes, not all in the same second")
    parser.add_argument("--processes", type=int, default=1,
                        help="web processes, on Redis when more than one; viewers spread evenly")
    parser.add_argument("--redis", default=REDIS_URL)
    parser.add_argument("--logs", default=None, help="keep the servers' logs in a folder under this one")
    parser.add_argument("--source", choices=["api", "here"], default="api",
                        help="the curator: the server's REST API, or this process through Redis")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    fds = processes.more_files()
    if fds < max(args.viewers) // max(1, args.clients or 1) + 100:
        raise SystemExit(f"{fds} open files allowed: too few for {max(args.viewers)} viewers")
    db_url = setup_django()
    token, works = curator_and_works()
    cases = []
    for layer in args.layers:
        for viewers in args.viewers:
            log(f"{layer}, {viewers} viewers ...")
            case = run_case(db_url, layer, viewers, args, token, works)
            log(f"  {case}")
            cases.append(case)
    # The headline: the worst layer at 1,000 viewers (fewest delivered, then slowest).
    at_headline = [c for c in cases if c["viewers"] == HEADLINE] or cases
    headline = min(at_headline, key=lambda c: (c["delivered_ratio"], -(c["latency_p95_ms"] or 0)))
    if args.json:
        print(json.dumps({"viewers": headline["viewers"], "layer": headline["layer"],
                          "delivered_ratio": headline["delivered_ratio"],
                          "latency_p95_ms": headline["latency_p95_ms"],
                          "latency_p50_ms": headline["latency_p50_ms"],
                          "server_processes": headline["server_processes"],
                          "server_rss_mb_per_1000_idle_viewers":
                              headline["server_rss_mb_per_1000_idle_viewers"],
                          "cpu": cpu_model(), "cases": cases}))
        return 0
    pace = f"{args.rate:g}/s" if args.rate else "a burst"
    where = "one server process" if args.processes == 1 else f"{args.processes} server processes"
    print(f"{args.events} tour moves ({pace}) to N viewers on {where}; {cpu_model()}")
    print(f"{'layer':<15} {'viewers':>7} {'delivered':>10} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} "
          f"{'server cpu s':>12} {'client cpu s':>12} {'MB/1000 idle':>12}")
    for c in cases:
        print(f"{c['layer']:<15} {c['viewers']:>7} {c['delivered_ratio']:>10.4f} {c['latency_p50_ms']:>8} "
              f"{c['latency_p95_ms']:>8} {c['latency_max_ms']:>8} {c['server_cpu_s']:>12} {c['client_cpu_s']:>12} "
              f"{c['server_rss_mb_per_1000_idle_viewers']:>12}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
