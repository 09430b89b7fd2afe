"""The exhibition socket within one process: however many visitors, one hall in the group."""

from __future__ import annotations

import pytest
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator

from breeding import actions
from breeding.models import Visibility
from gallery import exhibitions
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
