"""The privacy matrix beyond URL routes: what an exhibition shows of a work.

Alice curates an open exhibition. One of her works is on its walls, its cover, a round's
parent or a round's winner; then she removes it, makes it private, or turns it back into a
draft. For Bob and for a visitor the work must vanish from everything the exhibition
serves: the snapshot (what its pages and sockets start from), the pages themselves, the
list of exhibitions, a replay from any earlier seq, and, live, the sockets that were
following the show when it happened (a ``works.changed`` event with the state as it is
now). Nothing starts a new round from it.
"""

from __future__ import annotations

import json

import pytest
from asgiref.sync import sync_to_async
from django.contrib.auth.models import User
from django.test import Client

from breeding import actions
from breeding.models import Creation, Visibility
from gallery import exhibitions
from gallery.models import ExhibitionStatus
from tests.gallery.test_exhibitions import connect, curator, works  # noqa: F401

ROLES = ("wall", "cover", "parent", "winner")
HIDINGS = ("removed", "private", "draft")
TITLE = "Secret Orchard"


def hide(work: Creation, how: str) -> None:
    if how == "removed":
        actions.do_remove(work)
    elif how == "private":
        actions.do_update(work, visibility=Visibility.PRIVATE)
    else:
        actions.do_update(work, visibility=Visibility.DRAFT)


def staged(curator, works, role: str) -> tuple:  # noqa: F811
    """An open exhibition showing one of Alice's works in ``role``: (exhibition, work)."""
    show = exhibitions.do_create(curator, "Orchard Show", "Works of the season.")
    exhibitions.do_update(show, status=ExhibitionStatus.OPEN)
    exhibitions.do_add(show, works[1].public_id, "Always here.")
    work = works[0]
    if role == "wall":
        exhibitions.do_add(show, work.public_id, "The orchard.")
    elif role == "cover":
        exhibitions.do_update(show, cover=work.public_id)
    elif role == "parent":
        exhibitions.do_start_round(show, curator, work.public_id, n=2, seconds=60)
    else:
        exhibitions.do_start_round(show, curator, works[1].public_id, n=2, seconds=60)
        exhibitions.do_end_round(show)
        work = show.rounds.get().winner
    actions.do_update(work, title=TITLE)
    show.refresh_from_db()
    return show, Creation.objects.get(pk=work.pk)


def mentions(anything, work: Creation) -> bool:
    text = json.dumps(anything, ensure_ascii=False) if not isinstance(anything, str) else anything
    return work.public_id in text or TITLE in text


def pages(show, viewer: Client) -> str:
    return "".join(viewer.get(path).content.decode() for path in (
        f"/exhibitions/{show.slug}/", f"/exhibitions/{show.slug}/walk/", "/exhibitions/", "/"))


def viewers(bob) -> dict[str, Client]:
    as_bob = Client()
    as_bob.force_login(bob)
    return {"bob": as_bob, "visitor": Client()}


@pytest.mark.django_db
@pytest.mark.parametrize("how", HIDINGS)
@pytest.mark.parametrize("role", ROLES)
def test_a_hidden_work_leaves_snapshots_pages_and_replays(role, how, curator, works, bob):  # noqa: F811
    show, work = staged(curator, works, role)
    clients = viewers(bob)
    # Shown before: the test would prove nothing otherwise.
    assert mentions(exhibitions.snapshot(show), work)
    assert mentions(exhibitions.events_since(show, 0), work)
    assert mentions(pages(show, clients["visitor"]), work)

    hide(work, how)

    assert not mentions(exhibitions.snapshot(show), work)
    for seq in range(0, show.seq + 1):
        assert not mentions(exhibitions.events_since(show, seq) or [], work), seq
    for name, viewer in clients.items():
        assert not mentions(pages(show, viewer), work), name


@pytest.mark.django_db
@pytest.mark.parametrize("how", HIDINGS)
def test_no_round_breeds_from_a_winner_since_hidden(how, curator, works):  # noqa: F811
    show, winner = staged(curator, works, "winner")
    hide(winner, how)
    with pytest.raises(exhibitions.Refused, match="Choose the work the first round breeds from"):
        exhibitions.do_start_round(show, curator, n=2, seconds=30)
    with pytest.raises(exhibitions.Refused, match="No public work"):
        exhibitions.do_start_round(show, curator, winner.public_id, n=2, seconds=30)


@pytest.mark.django_db
def test_the_tour_cannot_go_to_a_hidden_work_and_leaves_one_hidden_under_it(curator, works):  # noqa: F811
    show, work = staged(curator, works, "wall")
    item = show.items.get(creation=work)
    exhibitions.do_tour(show, item.pk)
    hide(work, "private")
    assert exhibitions.snapshot(show)["exhibition"]["tour"] is None
    with pytest.raises(exhibitions.Refused, match="no longer shown"):
        exhibitions.do_tour(show, item.pk)


async def drain_until(ws, kind: str) -> dict:
    while True:
        message = await ws.receive_json_from(timeout=5)
        if message["type"] == kind:
            return message


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("how", HIDINGS)
@pytest.mark.parametrize("role", ROLES)
async def test_sockets_following_the_show_are_told_and_forget_it(role, how, curator, works, bob):  # noqa: F811
    show, work = await sync_to_async(staged)(curator, works, role)
    sockets = {"bob": await connect(Client(), show.slug, bob), "visitor": await connect(Client(), show.slug)}
    seen = {}
    for name, ws in sockets.items():
        state = await ws.receive_json_from()
        assert state["type"] == "snapshot" and mentions(state, work)
        seen[name] = state["seq"]

    await sync_to_async(hide)(work, how)

    for name, ws in sockets.items():
        changed = await drain_until(ws, "works.changed")
        assert changed["seq"] == seen[name] + 1
        assert not mentions(changed, work), name
        assert changed["exhibition"]["items"], "the rest of the show stays"
        await ws.disconnect()
    # A socket that comes back from before the change hears nothing of it.
    for since in range(0, seen["visitor"] + 2):
        back = await connect(Client(), show.slug, since=since)
        heard = [await back.receive_json_from()]
        while heard[-1]["type"] not in ("snapshot", "caught-up"):
            heard.append(await back.receive_json_from())
        assert not mentions(heard, work), since
        await back.disconnect()


@pytest.mark.django_db(transaction=True)
async def test_a_work_made_public_again_comes_back_live(curator, works):  # noqa: F811
    show, work = await sync_to_async(staged)(curator, works, "wall")
    ws = await connect(Client(), show.slug)
    await ws.receive_json_from()
    await sync_to_async(hide)(work, "private")
    assert not mentions(await drain_until(ws, "works.changed"), work)
    await sync_to_async(actions.do_update)(work, visibility=Visibility.PUBLIC)
    back = await drain_until(ws, "works.changed")
    assert work.public_id in [i["work"]["id"] for i in back["exhibition"]["items"]]
    await ws.disconnect()


@pytest.mark.django_db(transaction=True)
async def test_a_deleted_account_leaves_every_show_live(works, curator):  # noqa: F811
    carol = await sync_to_async(User.objects.create_user)("carol", "carol@example.org", "pw 3 pw 3")
    show, _ = await sync_to_async(staged)(curator, works, "wall")
    theirs = (await sync_to_async(actions.do_random)(carol, works[0].space, 1, seed=3))[0]
    await sync_to_async(actions.do_update)(theirs, title="Carol's Pond", visibility=Visibility.PUBLIC)
    await sync_to_async(exhibitions.do_add)(show, theirs.public_id)
    ws = await connect(Client(), show.slug)
    assert "Carol's Pond" in json.dumps(await ws.receive_json_from())
    await sync_to_async(carol.delete)()
    changed = await drain_until(ws, "works.changed")
    assert "Carol's Pond" not in json.dumps(changed) and changed["exhibition"]["items"]
    await ws.disconnect()
