"""The studio socket: a round trip, a group broadcast, and bad input (in-memory layer)."""

from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from django.db import transaction

from breeding.events import send_to_user, studio_group
from mendel.asgi import application

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]

ORIGIN = (b"origin", b"http://127.0.0.1:8000")
HOST = (b"host", b"127.0.0.1:8000")  # a browser's handshake names both


async def connect(client, user=None) -> WebsocketCommunicator:
    headers = [ORIGIN, HOST]
    if user is not None:
        await sync_to_async(client.force_login)(user)
        cookie = f"sessionid={client.cookies['sessionid'].value}"
        headers.append((b"cookie", cookie.encode()))
    communicator = WebsocketCommunicator(application, "/ws/studio/", headers=headers)
    connected, _ = await communicator.connect()
    assert connected
    return communicator


@sync_to_async
def send_committed(user_id: int, payload: dict) -> None:
    with transaction.atomic():
        send_to_user(user_id, payload)


async def test_it_greets_a_breeder_and_answers_a_ping(client, alice):
    ws = await connect(client, alice)
    assert await ws.receive_json_from() == {"type": "hello", "user": "alice"}
    await ws.send_json_to({"type": "ping", "id": 7})
    assert await ws.receive_json_from() == {"type": "pong", "id": 7}
    await ws.disconnect()


async def test_it_delivers_events_to_every_tab_of_the_user_after_commit(client, alice, bob):
    tab1 = await connect(client, alice)
    tab2 = await connect(client, alice)
    other = await connect(client, bob)
    for ws in (tab1, tab2, other):
        await ws.receive_json_from()  # hello

    await send_committed(alice.pk, {"type": "progress", "job": 1, "done": 0.5})
    for ws in (tab1, tab2):
        assert await ws.receive_json_from() == {"type": "progress", "job": 1, "done": 0.5}
    # Events reach a socket in the order they were sent: Bob's next message is the marker
    # sent after Alice's event, so Alice's event never reached him.
    marker = {"type": "progress", "job": 2, "done": 0.0}
    await send_committed(bob.pk, marker)
    assert await other.receive_json_from() == marker
    for ws in (tab1, tab2, other):
        await ws.disconnect()

    layer = get_channel_layer()
    assert not layer.groups.get(studio_group(alice.pk)), "disconnected sockets leave their group"


async def test_an_event_in_a_rolled_back_transaction_is_never_sent(client, alice):
    ws = await connect(client, alice)
    await ws.receive_json_from()

    @sync_to_async
    def emit_and_fail():
        with pytest.raises(RuntimeError), transaction.atomic():
            send_to_user(alice.pk, {"type": "progress"})
            raise RuntimeError("the work failed")

    await emit_and_fail()
    # The next event Alice's socket sees is one sent after the rollback.
    marker = {"type": "progress", "job": 2, "done": 0.0}
    await send_committed(alice.pk, marker)
    assert await ws.receive_json_from() == marker
    await ws.disconnect()


@pytest.mark.parametrize(
    "frame,message",
    [
        ("{not json", "Messages must be valid JSON."),
        ("[1, 2]", 'Messages must be JSON objects with a "type".'),
        ('{"type": "dance"}', "Unknown message type 'dance'."),
        ('{"type": "ping", "id": {"deep": 1}}', '"id" must be a number or a string of at most 64 characters.'),
        ("x" * 20000, "Message too large (limit 16384 bytes)."),
        ('{"type": "ping", "id": ' + "9" * 5000 + "}", "Messages must be valid JSON."),
        ('{"type": "ping", "id": NaN}', "Messages must be valid JSON."),
        ('{"type": "ping", "id": Infinity}', "Messages must be valid JSON."),
        ('{"type": "ping", "id": 1e999}', '"id" must be a number or a string of at most 64 characters.'),
        ('{"type": "ping", "id": ' + "9" * 20 + "}", '"id" must be a number or a string of at most 64 characters.'),
    ],
)
async def test_bad_messages_get_an_error_and_the_socket_stays_open(client, alice, frame, message):
    ws = await connect(client, alice)
    await ws.receive_json_from()
    await ws.send_to(text_data=frame)
    assert await ws.receive_json_from() == {"type": "error", "message": message}
    await ws.send_json_to({"type": "ping", "id": "still-here"})
    assert await ws.receive_json_from() == {"type": "pong", "id": "still-here"}
    await ws.disconnect()


async def test_binary_frames_are_refused_politely(client, alice):
    ws = await connect(client, alice)
    await ws.receive_json_from()
    await ws.send_to(bytes_data=b"\x00\x01")
    assert (await ws.receive_json_from())["type"] == "error"
    await ws.disconnect()


async def test_anonymous_visitors_are_told_to_log_in(client):
    ws = await connect(client)
    assert await ws.receive_json_from() == {"type": "error", "message": "Log in to use the studio."}
    output = await ws.receive_output()
    assert output == {"type": "websocket.close", "code": 4401}


async def test_a_foreign_origin_is_refused():
    ws = WebsocketCommunicator(application, "/ws/studio/", headers=[(b"origin", b"http://evil.example")])
    connected, _ = await ws.connect()
    assert not connected


async def test_gene_discovery_reports_progress_and_completion_to_every_studio(client, alice, bob):
    from breeding import actions, tasks

    await sync_to_async(actions.sync_spaces)()
    tabs = [await connect(client, alice), await connect(client, bob)]
    for ws in tabs:
        await ws.receive_json_from()  # hello
    count = await sync_to_async(tasks.discover_genes)("abstract", samples=64, held_out=4)
    for ws in tabs:
        events = []
        while True:
            event = await ws.receive_json_from(timeout=5)
            events.append(event)
            if event["type"] == "done":
                break
        progress = [e for e in events if e["type"] == "progress"]
        assert progress and all(e["task"] == "genes" and e["space"] == "abstract" for e in progress)
        fractions = [e["fraction"] for e in progress]
        assert fractions == sorted(fractions) and fractions[-1] == 1.0
        assert events[-1] == {"type": "done", "task": "genes", "space": "abstract", "genes": count}
        await ws.disconnect()


async def test_logging_out_closes_the_sockets_of_that_session_only(client, alice):
    from django.test import AsyncClient

    ws = await connect(client, alice)
    await ws.receive_json_from()  # hello
    elsewhere = AsyncClient()  # the same breeder, logged in on another device
    other = await connect(elsewhere, alice)
    await other.receive_json_from()

    await sync_to_async(client.post)("/accounts/logout/")

    assert await ws.receive_json_from() == {"type": "error", "message": "You have logged out."}
    assert (await ws.receive_output())["code"] == 4401
    await other.send_json_to({"type": "ping", "id": 1})
    assert await other.receive_json_from() == {"type": "pong", "id": 1}
    await other.disconnect()


async def test_a_socket_that_fails_while_connecting_leaves_its_groups(client, alice, monkeypatch):
    from breeding.consumers import StudioConsumer
    from breeding.events import ALL_STUDIOS

    async def gone(self, content, close=False):  # the connection drops before the greeting
        raise ConnectionResetError("gone")

    monkeypatch.setattr(StudioConsumer, "send_json", gone)
    ws = await connect(client, alice)
    with pytest.raises(ConnectionResetError):
        await ws.receive_output(timeout=5)
    layer = get_channel_layer()
    assert studio_group(alice.pk) not in layer.groups and ALL_STUDIOS not in layer.groups
