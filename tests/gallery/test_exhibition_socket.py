"""The exhibition socket within one process: however many visitors, one hall in the group."""

from __future__ import annotations

import pytest
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator

from breeding import actions
from breeding.models import Visibility
from gallery import consumers, exhibitions
from gallery.consumers import Hall
from gallery.models import ExhibitionStatus
from gallery.routing import websocket_urlpatterns

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def show(alice, space):
    works = actions.do_random(alice, space, 2, seed=3)
    for work in works:
        actions.do_update(work, title="Reef", visibility=Visibility.PUBLIC)
    exhibition = exhibitions.do_create(alice, "Reefs", status=ExhibitionStatus.OPEN)
    items = [exhibitions.do_add(exhibition, w.public_id)["item"]["id"] for w in works]
    return exhibition, items


async def logged(ws) -> dict:
    while True:
        message = await ws.receive_json_from(timeout=5)
        if message["type"] != "presence":
            return message


async def test_visitors_of_one_process_share_one_group_member_and_each_gets_every_event(show):
    exhibition, items = show
    app = URLRouter(websocket_urlpatterns)
    viewers = [WebsocketCommunicator(app, f"/ws/exhibitions/{exhibition.slug}/") for _ in range(3)]
    for ws in viewers:
        assert (await ws.connect())[0]
        assert (await ws.receive_json_from(timeout=5))["type"] == "snapshot"
    layer = get_channel_layer()
    group = exhibitions.group(exhibition.pk)
    assert len(layer.groups[group]) == 1  # the hall, not a channel per socket

    for item in items:
        await database_sync_to_async(exhibitions.do_tour)(exhibition, item)
    for ws in viewers:
        got = [await logged(ws), await logged(ws)]
        assert [(m["type"], m["item"]) for m in got] == [("tour", items[0]), ("tour", items[1])]
        assert got[1]["seq"] == got[0]["seq"] + 1

    for ws in viewers:
        await ws.disconnect()
    assert group not in layer.groups and not Hall.halls  # the last one out closes the hall


def at(address: str):
    """The socket application as a client at ``address`` reaches it."""
    app = URLRouter(websocket_urlpatterns)

    async def application(scope, receive, send):
        return await app({**scope, "client": [address, 50000]}, receive, send)

    return application


@pytest.mark.parametrize("since", ["²", "1" * 5000, "-1", "1&since=2"])
async def test_a_bad_since_is_refused_with_a_sentence_and_leaves_nothing_behind(show, since):
    exhibition, items = show
    layer = get_channel_layer()
    group = exhibitions.group(exhibition.pk)
    ws = WebsocketCommunicator(URLRouter(websocket_urlpatterns),
                               f"/ws/exhibitions/{exhibition.slug}/?since={since}")
    assert (await ws.connect())[0]
    assert await ws.receive_json_from(timeout=5) == {
        "type": "error", "message": '"since" must be the seq of an event: a whole number in digits 0-9.'}
    assert (await ws.receive_output(timeout=5)) == {"type": "websocket.close", "code": consumers.CLOSE_BAD_REQUEST}
    await ws.wait()
    assert group not in layer.groups and not Hall.halls

    # A live visitor's hall holds that visitor only, and a reaction reaches no one else.
    live = WebsocketCommunicator(URLRouter(websocket_urlpatterns), f"/ws/exhibitions/{exhibition.slug}/")
    assert (await live.connect())[0]
    await logged(live)
    dead = WebsocketCommunicator(URLRouter(websocket_urlpatterns),
                                 f"/ws/exhibitions/{exhibition.slug}/?since={since}")
    assert (await dead.connect())[0]
    assert (await dead.receive_json_from(timeout=5))["type"] == "error"
    await dead.wait()
    (hall,) = Hall.halls.values()
    assert len(hall.viewers) == 1 and len(layer.groups[group]) == 1
    await layer.group_send(group, {"type": "exhibition.event", "event": {"type": "reaction", "emoji": "👏"}})
    assert await live.receive_json_from(timeout=5) == {"type": "reaction", "emoji": "👏"}
    assert all(q.empty() for q in layer.channels.values())  # queued for no dead channel
    await live.disconnect()
    assert group not in layer.groups and not Hall.halls


async def test_a_socket_that_fails_after_joining_leaves_the_hall(show, monkeypatch):
    exhibition, items = show
    app = URLRouter(websocket_urlpatterns)
    live = WebsocketCommunicator(app, f"/ws/exhibitions/{exhibition.slug}/")
    assert (await live.connect())[0]
    await logged(live)

    async def broken(self, since):  # the connection drops while the state is being sent
        raise ConnectionResetError("gone")

    monkeypatch.setattr(consumers.ExhibitionConsumer, "send_state", broken)
    failing = WebsocketCommunicator(app, f"/ws/exhibitions/{exhibition.slug}/")
    assert (await failing.connect())[0]
    with pytest.raises(ConnectionResetError):
        await failing.receive_output(timeout=5)
    (hall,) = Hall.halls.values()
    assert len(hall.viewers) == 1
    await live.disconnect()
    assert not Hall.halls and exhibitions.group(exhibition.pk) not in get_channel_layer().groups


async def test_presence_counts_people_not_sockets_and_caps_one_viewers_sockets(show, monkeypatch, settings):
    monkeypatch.setattr(consumers, "PRESENCE_EVERY_S", 0.1)
    settings.EXHIBITION_SOCKETS_PER_VIEWER = 5
    exhibition, items = show
    path = f"/ws/exhibitions/{exhibition.slug}/"
    same = [WebsocketCommunicator(at("203.0.113.9"), path) for _ in range(5)]
    # One IPv6 client holds a whole /64: its addresses are one viewer.
    same += [WebsocketCommunicator(at(f"2001:db8:1:2::{i}"), path) for i in range(1, 4)]
    other = WebsocketCommunicator(at("198.51.100.1"), path)
    for ws in [*same, other]:
        assert (await ws.connect())[0]
        await logged(ws)
    while (message := await other.receive_json_from(timeout=5))["viewers"] != 3:
        pass
    assert message == {"type": "presence", "viewers": 3}

    sixth = WebsocketCommunicator(at("203.0.113.9"), path)
    assert (await sixth.connect())[0]
    assert await sixth.receive_json_from(timeout=5) == {
        "type": "error",
        "message": "You have this exhibition open in too many places at once: close some of them first."}
    assert (await sixth.receive_output(timeout=5))["code"] == consumers.CLOSE_TOO_MANY
    for ws in same[:5]:
        await ws.disconnect()
    while (message := await other.receive_json_from(timeout=5))["viewers"] != 2:
        pass
    for ws in [*same[5:], other]:
        await ws.disconnect()


def test_a_frame_over_the_limit_is_refused_before_it_is_read(show, tmp_path):
    """A real server: a frame announcing 1 MB is answered with close 1009 after its first
    kilobyte, the rest never sent (the consumer's own 64 KB check came after reading 16 MB)."""
    import base64
    import os
    import socket
    import struct

    from mendel.processes import free_port, stop
    from tests.servers import child_env, start_asgi, wait_healthy

    exhibition, items = show
    port = free_port()
    proc = start_asgi(port, child_env(MEDIA_ROOT=str(tmp_path)))
    try:
        wait_healthy(f"http://127.0.0.1:{port}", proc)
        with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
            key = base64.b64encode(os.urandom(16)).decode()
            conn.sendall((f"GET /ws/exhibitions/{exhibition.slug}/ HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
                          f"Origin: http://127.0.0.1:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                          f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n").encode())
            answer = b""
            while b"\r\n\r\n" not in answer:
                answer += conn.recv(4096)
            assert answer.startswith(b"HTTP/1.1 101")
            # A masked text frame announcing 1 MB, and only its first kilobyte.
            mask = os.urandom(4)
            conn.sendall(bytes([0x81, 0x80 | 127]) + struct.pack("!Q", 2**20) + mask + b"x" * 1024)
            received = answer.split(b"\r\n\r\n", 1)[1]
            close = None
            while close is None:
                chunk = conn.recv(65536)
                assert chunk, "the server hung up without a close frame"
                received += chunk
                while len(received) >= 2:  # server frames: unmasked, short here
                    length = received[1] & 0x7F
                    head = 2 + (2 if length == 126 else 8 if length == 127 else 0)
                    if length >= 126:
                        length = int.from_bytes(received[2:head], "big")
                    if len(received) < head + length:
                        break
                    opcode, payload = received[0] & 0x0F, received[head:head + length]
                    received = received[head + length:]
                    if opcode == 0x8:
                        close = struct.unpack("!H", payload[:2])[0]
            assert close == 1009  # "message too big", from the protocol layer
    finally:
        log = stop(proc)
    assert "Traceback" not in log, log
