"""Two web processes share one Redis channel layer: a broadcast reaches both."""

from __future__ import annotations

import asyncio
import json

import pytest
from channels_redis.core import RedisChannelLayer
from websockets.asyncio.client import connect

from breeding.events import studio_group
from tests.conftest import free_port
from tests.servers import child_env, start_asgi, stop, wait_healthy

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_group_broadcast_reaches_sockets_on_two_server_processes(client, alice, redis_url):
    client.force_login(alice)
    cookie = f"sessionid={client.cookies['sessionid'].value}"
    env = child_env(REDIS_URL=redis_url)
    ports = [free_port(), free_port()]
    servers = [start_asgi(port, env) for port in ports]
    try:
        for port, proc in zip(ports, servers, strict=True):
            wait_healthy(f"http://127.0.0.1:{port}", proc)
        received = asyncio.run(_broadcast_across(ports, cookie, redis_url, alice.pk))
    finally:
        logs = [stop(proc) for proc in servers]
    assert received == [{"type": "progress", "job": 42, "done": 1.0}] * 2, logs


async def _broadcast_across(ports, cookie, redis_url, user_id):
    sockets = []
    for port in ports:
        ws = await connect(
            f"ws://127.0.0.1:{port}/ws/studio/",
            origin=f"http://127.0.0.1:{port}",
            additional_headers={"Cookie": cookie},
        )
        assert json.loads(await asyncio.wait_for(ws.recv(), 5)) == {"type": "hello", "user": "alice"}
        sockets.append(ws)

    # A third process (this test) publishes; each server relays to its own socket.
    layer = RedisChannelLayer(hosts=[redis_url])
    await layer.group_send(
        studio_group(user_id),
        {"type": "studio.event", "payload": {"type": "progress", "job": 42, "done": 1.0}},
    )
    received = [json.loads(await asyncio.wait_for(ws.recv(), 5)) for ws in sockets]
    for ws in sockets:
        await ws.close()
    await layer.flush()
    return received
