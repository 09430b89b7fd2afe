"""Two web processes share one Redis channel layer: a broadcast reaches both."""

from __future__ import annotations

import asyncio
import json

import pytest
from channels.db import database_sync_to_async
from channels.layers import channel_layers, get_channel_layer
from django.db import transaction
from websockets.asyncio.client import connect

from breeding.events import send_to_user
from mendel.processes import free_port, stop
from mendel.settings import redis_channel_layer
from tests.servers import child_env, start_asgi, wait_healthy

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_group_broadcast_reaches_sockets_on_two_server_processes(client, alice, redis_url, settings):
    # This process publishes through the same Redis layer as the two servers.
    settings.CHANNEL_LAYERS = {"default": redis_channel_layer(redis_url)}  # as the site's
    channel_layers.backends.clear()
    client.force_login(alice)
    cookie = f"sessionid={client.cookies['sessionid'].value}"
    env = child_env(REDIS_URL=redis_url)
    ports = [free_port(), free_port()]
    servers = [start_asgi(port, env) for port in ports]
    try:
        for port, proc in zip(ports, servers, strict=True):
            wait_healthy(f"http://127.0.0.1:{port}", proc)
        received = asyncio.run(_broadcast_across(ports, cookie, alice.pk))
    finally:
        logs = [stop(proc) for proc in servers]
    assert received == [{"type": "progress", "job": 42, "done": 1.0}] * 2, logs


async def _broadcast_across(ports, cookie, user_id):
    sockets = []
    for port in ports:
        ws = await connect(
            f"ws://127.0.0.1:{port}/ws/studio/",
            origin=f"http://127.0.0.1:{port}",
            additional_headers={"Cookie": cookie},
        )
        assert json.loads(await asyncio.wait_for(ws.recv(), 5)) == {"type": "hello", "user": "alice"}
        sockets.append(ws)

    # A third process (this test) publishes with Mendel's own sender, after a commit;
    # each server relays to its own socket.
    @database_sync_to_async  # closes its connection after, as a consumer's helper does
    def emit():
        with transaction.atomic():
            send_to_user(user_id, {"type": "progress", "job": 42, "done": 1.0})

    await emit()
    received = [json.loads(await asyncio.wait_for(ws.recv(), 5)) for ws in sockets]
    for ws in sockets:
        await ws.close()
    await get_channel_layer().flush()
    return received
