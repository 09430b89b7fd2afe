"""Exhibitions across web processes: two real uvicorn servers share one Redis channel layer.

A curator changes the exhibition through server B's REST API; a visitor whose socket is on
server A sees every change, in order, with consecutive seqs; a visitor who comes back on
server B with ``?since=`` gets exactly what it missed.
"""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest
import redis
from django.core.management import call_command
from websockets.asyncio.client import connect

from breeding import actions
from breeding.models import Visibility
from gallery import exhibitions
from gallery.models import ExhibitionStatus
from mendel.processes import free_port, stop
from tests.servers import child_env, start_asgi, wait_healthy

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "gallery lights 7"
WAIT_S = 10


@pytest.fixture
def flushed_redis(redis_url):
    """The test Redis database, empty before and after."""
    client = redis.Redis.from_url(redis_url)
    client.flushdb()
    yield redis_url
    client.flushdb()
    client.close()


@pytest.fixture
def show(django_user_model, space):
    """Cleo, a curator (given the permission as an operator would), and her open exhibition
    with three public works to hang."""
    cleo = django_user_model.objects.create_user("cleo", "cleo@example.org", PASSWORD)
    call_command("curator", "cleo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    works = actions.do_random(cleo, space, 3, seed=11)
    for i, work in enumerate(works):
        actions.do_update(work, title=f"Shoal {i}", visibility=Visibility.PUBLIC)
    exhibition = exhibitions.do_create(cleo, "Shoals", "Fish, bred.", status=ExhibitionStatus.OPEN)
    return exhibition, [w.public_id for w in works]


@pytest.fixture
def two_servers(flushed_redis):
    env = child_env(REDIS_URL=flushed_redis)
    ports = [free_port(), free_port()]
    procs = [start_asgi(port, env) for port in ports]
    try:
        for port, proc in zip(ports, procs, strict=True):
            wait_healthy(f"http://127.0.0.1:{port}", proc)
        yield ports
    finally:
        logs = [stop(proc) for proc in procs]
        for log in logs:
            assert "Traceback" not in log, log


def socket(port: int, slug: str, since: int | None = None):
    query = f"?since={since}" if since is not None else ""
    return connect(f"ws://127.0.0.1:{port}/ws/exhibitions/{slug}/{query}",
                   origin=f"http://127.0.0.1:{port}")


async def logged(ws, n: int) -> list[dict]:
    """The next ``n`` messages that are not momentary (presence, reactions)."""
    out = []
    while len(out) < n:
        message = json.loads(await asyncio.wait_for(ws.recv(), WAIT_S))
        if message["type"] not in ("presence", "reaction"):
            out.append(message)
    return out


def test_a_curators_changes_on_one_server_reach_viewers_on_another_in_order(show, two_servers):
    exhibition, works = show
    asyncio.run(_across(two_servers, exhibition.slug, works))


async def _across(ports, slug, works):
    a, b = ports
    api = f"http://127.0.0.1:{b}/api/exhibitions/{slug}"
    async with httpx.AsyncClient(timeout=WAIT_S) as http:
        # The curator logs in on server B over HTTP (an API token) ...
        answer = await http.post(f"http://127.0.0.1:{b}/api/token/",
                                 json={"username": "cleo", "password": PASSWORD})
        assert answer.status_code == 200, answer.text
        http.headers["Authorization"] = f"Token {answer.json()['token']}"

        # ... while a visitor (anonymous: the exhibition is open) follows it on server A.
        async with socket(a, slug) as viewer:
            first = json.loads(await asyncio.wait_for(viewer.recv(), WAIT_S))
            assert first["type"] == "snapshot" and first["you"] == {"curator": False}
            start = first["seq"]
            assert first["exhibition"]["items"] == []

            items = []
            for work in works[:2]:
                answer = await http.post(f"{api}/items/", json={"work": work, "wall_text": "wet"})
                assert answer.status_code == 201, answer.text
                items.append(answer.json()["exhibition"]["items"][-1]["id"])
            assert (await http.post(f"{api}/tour/", json={"item": items[1]})).status_code == 200
            answer = await http.patch(f"{api}/items/{items[1]}/", json={"position": 0})
            assert answer.status_code == 200, answer.text

            seen = await logged(viewer, 4)
        assert [m["seq"] for m in seen] == list(range(start + 1, start + 5))
        assert [m["type"] for m in seen] == ["item.added", "item.added", "tour", "item.moved"]
        assert [m["item"]["work"]["id"] for m in seen[:2]] == works[:2]
        assert seen[2]["item"] == items[1]
        assert (seen[3]["item"], seen[3]["position"]) == (items[1], 0)
        last = seen[-1]["seq"]

        # The visitor is away while three more things happen; a second visitor on A sees them
        # live, and the first, back on server B with the last seq it saw, gets exactly those.
        async with socket(a, slug) as other:
            assert json.loads(await asyncio.wait_for(other.recv(), WAIT_S))["seq"] == last
            assert (await http.post(f"{api}/items/", json={"work": works[2]})).status_code == 201
            assert (await http.post(f"{api}/tour/", json={"item": None})).status_code == 200
            assert (await http.delete(f"{api}/items/{items[0]}/")).status_code == 200
            live = await logged(other, 3)
        assert [m["seq"] for m in live] == [last + 1, last + 2, last + 3]

        async with socket(b, slug, since=last) as back:
            missed = await logged(back, 4)
            assert missed[:3] == live
            assert missed[3] == {"type": "caught-up", "seq": last + 3, "you": {"curator": False}}

            # Caught up, it follows on B what the curator does next, through B's own layer.
            assert (await http.post(f"{api}/tour/", json={"item": items[1]})).status_code == 200
            assert await logged(back, 1) == [{"type": "tour", "seq": last + 4, "item": items[1]}]

        # Nothing missed and nothing twice: a reconnection with the newest seq is told so.
        async with socket(a, slug, since=last + 4) as again:
            assert await logged(again, 1) == [{"type": "caught-up", "seq": last + 4,
                                               "you": {"curator": False}}]


def test_idle_visitors_stay_and_do_not_hold_a_redis_connection_each(two_servers, show, flushed_redis):
    """A socket's context lives as long as the visit: its presence counts go through the
    process's one cache client, not a client (and a Redis connection) of its own. Before,
    10,000 visitors over four processes reached Redis's limit of 10,000 clients.

    And a visitor who only watches keeps the socket: the layer's 5 s blocking reads outlast
    no read timeout of the Redis client (LAYER_READ_TIMEOUT_S); before, they raced redis-py's
    default of 5 s and sockets were closed with 1011 and a traceback."""
    exhibition, _ = show
    client = redis.Redis.from_url(flushed_redis)
    db = client.connection_pool.connection_kwargs.get("db", 0)

    def held() -> int:
        return sum(1 for c in client.client_list() if int(c["db"]) == db)

    async def visit() -> int:
        sockets = [await socket(two_servers[0], exhibition.slug) for _ in range(60)]
        for ws in sockets:
            assert json.loads(await asyncio.wait_for(ws.recv(), WAIT_S))["type"] == "snapshot"
        await asyncio.sleep(12)  # idle: more than two of the layer's blocking reads
        during = held()
        for ws in sockets:
            await asyncio.wait_for(ws.ping(), WAIT_S)  # still open: a closed one raises
        for ws in sockets:
            await ws.close()
        return during

    before = held()
    during = asyncio.run(visit())
    client.close()
    assert during - before < 20, (before, during)
