"""Notices: someone liked Alice's work, bred from it, hung it, commented on it, followed her.

Each kind is made once (a like-unlike loop, a burst of children, a second hanging: one
notice), never to the person who did it; the list and the unread count leave out, when they
are read, every notice about a work Alice may no longer see, and no notice ever names or
links a work of someone else that is not listed for her (her column of the privacy matrix);
read and unread, settings that mute a kind, the socket that brings them live, the page, and
the benchmark at a small size.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.utils import timezone

from breeding import actions
from breeding.models import Visibility
from gallery import actions as gallery_actions
from gallery import comments, exhibitions, follows, notices
from gallery.models import ExhibitionStatus, Notice, NoticeKind

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def carol(django_user_model):
    return django_user_model.objects.create_user("carol", "carol@example.org", "tide pools 3",
                                                 is_staff=True)


@pytest.fixture
def no_renders(monkeypatch):
    """Bred works are never looked at here: their pictures need not be rendered."""
    from breeding import images

    monkeypatch.setattr(images, "request", lambda *args, **kwargs: None)


def published(owner, space, seed, title):
    return actions.do_update(actions.do_random(owner, space, 1, seed=seed)[0], title=title,
                             visibility=Visibility.PUBLIC)


@pytest.fixture
def tide(alice, space, no_renders):
    return published(alice, space, 1, "Tide")


def listed(client) -> list[dict]:
    response = client.get("/api/notices/")
    assert response.status_code == 200, response.content
    return response.json()["results"]


def unread(client) -> int:
    return client.get("/api/notices/").json()["unread"]


# -- each kind, once, never to oneself -------------------------------------------------------


@pytest.mark.django_db
def test_a_like_tells_the_owner_once_however_often_it_is_undone_and_redone(as_alice, as_bob, tide):
    for _ in range(3):
        assert as_bob.put(f"/api/creations/{tide.public_id}/like/").status_code == 200
        assert as_bob.delete(f"/api/creations/{tide.public_id}/like/").status_code == 200
    as_bob.put(f"/api/creations/{tide.public_id}/like/")
    [notice] = listed(as_alice)
    assert notice["kind"] == "liked" and notice["actor"] == "bob" and not notice["read"]
    assert notice["text"] == "bob liked your work “Tide”"
    assert notice["link"] == f"/w/{tide.public_id}/"
    assert notice["work"]["id"] == tide.public_id and notice["child"] is None
    # Unliking leaves it: it told of something that happened.
    as_bob.delete(f"/api/creations/{tide.public_id}/like/")
    assert len(listed(as_alice)) == 1
    # Alice's own like tells nobody.
    as_alice.put(f"/api/creations/{tide.public_id}/like/")
    assert Notice.objects.count() == 1 and listed(as_bob) == []


@pytest.mark.django_db
def test_a_burst_of_children_and_crosses_is_one_notice_per_breeder_and_work_a_day(
        alice, bob, carol, space, tide, as_alice):
    ember = published(alice, space, 2, "Ember")
    mine = published(bob, space, 3, "Bob's own")
    for _ in range(5):  # fifty children
        actions.do_children(bob, tide, 10, 0.3)
    actions.do_cross(bob, [actions.ParentWeight(tide, 0.5, 0.5), actions.ParentWeight(mine, 0.5, 0.5)])
    actions.do_copy(bob, tide)  # "breed from this"
    actions.do_children(bob, mine, 3, 0.3)  # his own work: nobody to tell
    actions.do_children(alice, tide, 3, 0.3)  # hers: nor here
    assert Notice.objects.filter(kind=NoticeKind.BRED).count() == 1
    # A cross of two of her works tells her of each; another breeder is another notice.
    actions.do_cross(bob, [actions.ParentWeight(tide, 0.5, 0.5), actions.ParentWeight(ember, 0.5, 0.5)])
    actions.do_children(carol, tide, 2, 0.3)
    texts = sorted(n["text"] for n in listed(as_alice))
    assert texts == ["bob bred from your work “Ember”", "bob bred from your work “Tide”",
                     "carol bred from your work “Tide”"]
    # The next day, the next burst is news again.
    Notice.objects.update(day=timezone.now().date() - timedelta(days=1))
    actions.do_children(bob, tide, 2, 0.3)
    assert Notice.objects.filter(kind=NoticeKind.BRED, actor=bob, work=tide).count() == 2


@pytest.mark.django_db
def test_hanging_tells_the_owner_once_when_the_show_is_theirs_to_see(alice, bob, carol, space, tide,
                                                                     as_alice):
    carols = published(carol, space, 4, "Carol's own")
    show = exhibitions.do_create(carol, "Shores", status=ExhibitionStatus.OPEN)
    exhibitions.do_add(show, tide.public_id)
    exhibitions.do_add(show, carols.public_id)  # the curator hung her own work herself
    [notice] = listed(as_alice)
    assert notice["text"] == "Your work “Tide” hangs in the exhibition “Shores”"
    assert notice["link"] == f"/exhibitions/{show.slug}/" and notice["actor"] is None
    assert not Notice.objects.filter(recipient=carol).exists()
    # Taken down and hung again: she knows already.
    item = show.items.get(creation=tide).pk
    exhibitions.do_remove(show, item)
    exhibitions.do_add(show, tide.public_id)
    assert len(listed(as_alice)) == 1

    # A draft show is its curators' alone: Alice hears of it when it opens, and only then.
    draft = exhibitions.do_create(carol, "Dunes")
    exhibitions.do_add(draft, tide.public_id)
    assert len(listed(as_alice)) == 1
    exhibitions.do_update(draft, status=ExhibitionStatus.OPEN)
    assert [n["exhibition"]["slug"] for n in listed(as_alice)] == [draft.slug, show.slug]
    exhibitions.do_update(draft, status=ExhibitionStatus.CLOSED)
    exhibitions.do_update(draft, status=ExhibitionStatus.OPEN)
    assert len(listed(as_alice)) == 2
    # Back to a draft: the notice names a show she may not see, so it leaves her list.
    exhibitions.do_update(draft, status=ExhibitionStatus.DRAFT)
    assert [n["exhibition"]["slug"] for n in listed(as_alice)] == [show.slug]


@pytest.mark.django_db
def test_a_comment_tells_the_owner_once_a_day_per_commenter(alice, bob, tide, as_alice):
    bob.date_joined = timezone.now() - timedelta(days=2)
    bob.save()
    alice.date_joined = bob.date_joined
    alice.save()
    comments.do_comment(bob, tide, "Lovely tide.", "10.0.0.1")
    comments.do_comment(bob, tide, "Really.", "10.0.0.1")
    comments.do_comment(alice, tide, "Thanks!", "10.0.0.2")
    [notice] = listed(as_alice)
    assert notice["text"] == "bob commented on your work “Tide”"
    assert notice["link"] == f"/w/{tide.public_id}/#comments"


@pytest.mark.django_db
def test_a_follow_tells_the_artist_once_a_day(alice, bob, as_alice, as_bob):
    for _ in range(2):
        follows.do_follow(bob, alice)
        follows.do_unfollow(bob, alice)
    follows.do_follow(bob, alice)
    [notice] = listed(as_alice)
    assert notice["text"] == "bob started following you"
    assert notice["link"] == "/u/bob/" and notice["work"] is None
    assert listed(as_bob) == []


# -- what a notice may name: Alice's column of the privacy matrix ------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("kind", ["draft", "private", "unlisted", "removed"])
def test_a_child_alice_may_not_find_is_never_named_or_linked(alice, bob, space, tide, as_alice, kind):
    child = actions.do_children(bob, tide, 1, 0.3)[0]
    actions.do_update(child, title="Bob's secret",
                      visibility=Visibility.PUBLIC if kind == "removed" else kind)
    if kind == "removed":
        actions.do_remove(child)
    response = as_alice.get("/api/notices/")
    page = as_alice.get("/notices/").content.decode()
    for body in (response.content.decode(), page):
        for secret in (child.public_id, child.latent_sha, "Bob&#x27;s secret", "Bob's secret"):
            assert secret not in body
    [notice] = response.json()["results"]
    assert notice["text"] == "bob bred from your work “Tide”"
    assert notice["link"] == f"/w/{tide.public_id}/" and notice["child"] is None

    # Once it is public, it is named and linked (it would be in her gallery anyway)...
    actions.do_restore(child)
    actions.do_update(child, visibility=Visibility.PUBLIC)
    [notice] = listed(as_alice)
    assert notice["text"] == "bob bred “Bob's secret” from your work “Tide”"
    assert notice["link"] == f"/w/{child.public_id}/" and notice["child"]["id"] == child.public_id
    # ...and hidden again, it is not.
    actions.do_update(child, visibility=Visibility.PRIVATE)
    assert child.public_id not in as_alice.get("/api/notices/").content.decode()


@pytest.mark.django_db
def test_notices_about_a_work_she_may_no_longer_see_leave_the_list_and_the_count(alice, bob, space,
                                                                                  tide, as_alice, as_bob):
    ember = published(alice, space, 2, "Ember")
    for work in (tide, ember):
        as_bob.put(f"/api/creations/{work.public_id}/like/")
    follows.do_follow(bob, alice)
    assert unread(as_alice) == 3
    actions.do_remove(tide)
    assert unread(as_alice) == 2
    assert all(n["work"] is None or n["work"]["id"] == ember.public_id for n in listed(as_alice))
    assert tide.public_id not in as_alice.get("/notices/").content.decode()
    # Her own work made private is still hers to see: its notice stays.
    actions.do_update(ember, visibility=Visibility.PRIVATE)
    assert unread(as_alice) == 2
    actions.do_restore(tide)
    assert unread(as_alice) == 3


@pytest.mark.django_db
def test_notices_are_their_recipients_alone(alice, bob, tide, as_alice, as_bob, api):
    as_bob.put(f"/api/creations/{tide.public_id}/like/")
    assert listed(as_bob) == [] and unread(as_bob) == 0
    assert api.get("/api/notices/").status_code == 403
    [notice] = listed(as_alice)
    assert as_bob.post("/api/notices/read/", {"ids": [notice["id"]]}, format="json").json() == {"unread": 0}
    assert unread(as_alice) == 1  # Bob's request passed over Alice's notice


# -- read and unread ------------------------------------------------------------------------


@pytest.mark.django_db
def test_marking_read_one_at_a_time_and_all_at_once(alice, bob, space, tide, as_alice, as_bob):
    works = [tide, *(published(alice, space, 10 + i, f"Work {i}") for i in range(3))]
    for work in works:
        as_bob.put(f"/api/creations/{work.public_id}/like/")
    first, second, *_ = listed(as_alice)
    answer = as_alice.post("/api/notices/read/", {"ids": [first["id"], second["id"]]}, format="json")
    assert answer.status_code == 200 and answer.json() == {"unread": 2}
    assert [n["read"] for n in listed(as_alice)] == [True, True, False, False]
    assert as_alice.post("/api/notices/read/", {"all": True}, format="json").json() == {"unread": 0}
    assert all(n["read"] for n in listed(as_alice))


@pytest.mark.django_db
@pytest.mark.parametrize("body", [{}, {"all": True, "ids": [1]}, {"all": False}])
def test_marking_read_says_which(as_alice, body):
    response = as_alice.post("/api/notices/read/", body, format="json")
    assert response.status_code == 400
    assert response.json()["error"] == 'Say which notices to mark read: {"all": true}, or {"ids": [...]}.'


@pytest.mark.django_db
def test_the_list_pages_by_cursor_newest_first(alice, bob, space, as_alice, as_bob, no_renders):
    for i in range(5):
        notices.notify(NoticeKind.LIKED, alice.pk, actor=bob,
                       work=published(alice, space, 20 + i, f"Work {i}"))
    first = as_alice.get("/api/notices/?limit=2").json()
    assert [n["work"]["title"] for n in first["results"]] == ["Work 4", "Work 3"]
    assert first["unread"] == 5 and first["previous"] is None
    second = as_alice.get(first["next"]).json()
    assert [n["work"]["title"] for n in second["results"]] == ["Work 2", "Work 1"]
    back = as_alice.get(second["previous"]).json()
    assert [n["work"]["title"] for n in back["results"]] == ["Work 4", "Work 3"]
    assert back["previous"] is None and back["next"]
    third = as_alice.get(second["next"]).json()
    assert [n["work"]["title"] for n in third["results"]] == ["Work 0"] and third["next"] is None
    assert as_alice.get("/api/notices/?cursor=cD1uYW4%3D").status_code == 404  # p=nan
    # A cursor is a position, not a key: someone else's shows them only their own notices,
    # and one made by hand past either end is an empty page.
    assert as_bob.get(first["next"]).json()["results"] == []
    for hand_made in ("r=1&p=999999999999999999", "p=0", "r=1"):
        cursor = base64.b64encode(hand_made.encode()).decode()
        page = as_alice.get("/api/notices/", {"cursor": cursor})
        assert page.status_code == 200
        expected = ["Work 4", "Work 3", "Work 2", "Work 1", "Work 0"] if hand_made == "r=1" else []
        assert [n["work"]["title"] for n in page.json()["results"]] == expected
    assert as_alice.get("/api/notices/?limit=0").status_code == 400


@pytest.mark.django_db
def test_the_count_stops_at_its_cap(alice, bob, space):
    works = actions.do_random(alice, space, 3, seed=40)
    Notice.objects.bulk_create(
        Notice(recipient=alice, kind=NoticeKind.LIKED, actor=bob, work=works[i % 3],
               day=timezone.now().date() - timedelta(days=i))
        for i in range(notices.UNREAD_MAX + 5))
    assert notices.unread_count(alice) == notices.UNREAD_MAX
    assert notices.unread_label(notices.UNREAD_MAX) == "99+" and notices.unread_label(7) == "7"


# -- settings ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_muted_kind_makes_no_notice_and_the_others_still_do(alice, bob, tide, as_alice, as_bob):
    everything = {"liked": True, "bred": True, "hung": True, "commented": True, "followed": True}
    assert as_alice.get("/api/notices/settings/").json() == everything
    answer = as_alice.put("/api/notices/settings/", {"liked": False}, format="json")
    assert answer.status_code == 200 and answer.json() == {**everything, "liked": False}
    as_bob.put(f"/api/creations/{tide.public_id}/like/")
    follows.do_follow(bob, alice)
    assert [n["kind"] for n in listed(as_alice)] == ["followed"]
    assert as_alice.put("/api/notices/settings/", {"liked": True}, format="json").json() == everything


@pytest.mark.django_db
@pytest.mark.parametrize("body,error", [
    ({"likes": False}, "There is no kind of notice called “likes”: the kinds are liked, bred, hung, "
                       "commented, followed."),
    ({"liked": "no"}, "Say true or false for “liked”."),
    ([1, 2], "Send an object of kinds, each true or false."),
])
def test_bad_settings_are_refused_with_a_sentence(as_alice, body, error):
    response = as_alice.put("/api/notices/settings/", body, format="json")
    assert response.status_code == 400 and response.json()["error"] == error


# -- the page and the header ------------------------------------------------------------------


@pytest.mark.django_db
def test_the_page_lists_them_with_links_and_marks_them_read_and_keeps_settings(client, alice, bob, tide):
    gallery_actions.do_like(bob, tide)
    follows.do_follow(bob, alice)
    client.force_login(alice)
    home = client.get("/").content.decode()  # (the count comes with the socket's hello)
    assert 'href="/notices/"' in home and "data-unread-badge hidden" in home
    page = client.get("/notices/").content.decode()
    assert "data-unread>2</span>" in page
    assert f'href="/w/{tide.public_id}/"' in page and 'href="/u/bob/"' in page
    assert page.count('class="notice unread"') == 2
    assert "bob liked your work “Tide”" in page
    client.post("/notices/", {"action": "read-all"})
    page = client.get("/notices/").content.decode()
    assert 'class="notice unread"' not in page and "data-unread-badge hidden" in page
    client.post("/notices/", {"action": "settings", "kinds": ["bred", "hung", "commented"]})
    assert notices.wanted(alice) == {"liked": False, "bred": True, "hung": True, "commented": True,
                                     "followed": False}
    assert client.get("/notices/?before=x").status_code == 400
    assert client.get("/notices/?before=1").status_code == 200


# -- live -------------------------------------------------------------------------------------

ORIGIN = (b"origin", b"http://127.0.0.1:8000")
HOST = (b"host", b"127.0.0.1:8000")


async def socket_of(client, user=None) -> WebsocketCommunicator:
    from mendel.asgi import application

    headers = [ORIGIN, HOST]
    if user is not None:
        await sync_to_async(client.force_login)(user)
        headers.append((b"cookie", f"sessionid={client.cookies['sessionid'].value}".encode()))
    ws = WebsocketCommunicator(application, "/ws/notices/", headers=headers)
    connected, _ = await ws.connect()
    assert connected
    return ws


@pytest.mark.django_db(transaction=True)
async def test_the_socket_brings_a_notice_live_to_its_recipient_alone(alice, bob, space, no_renders):
    from django.test import Client

    tide = await sync_to_async(published)(alice, space, 1, "Tide")
    alices, bobs = await socket_of(Client(), alice), await socket_of(Client(), bob)
    assert await alices.receive_json_from(timeout=5) == {"type": "hello", "unread": 0}
    assert await bobs.receive_json_from(timeout=5) == {"type": "hello", "unread": 0}

    await sync_to_async(gallery_actions.do_like)(bob, tide)
    got = await alices.receive_json_from(timeout=5)
    assert got["type"] == "notice" and got["unread"] == 1
    assert got["notice"]["text"] == "bob liked your work “Tide”" and got["notice"]["link"] == f"/w/{tide.public_id}/"
    # The burst after it is the same notice: nothing more is sent.
    await sync_to_async(gallery_actions.do_unlike)(bob, tide)
    await sync_to_async(gallery_actions.do_like)(bob, tide)
    await sync_to_async(actions.do_children)(bob, tide, 3, 0.3)
    got = await alices.receive_json_from(timeout=5)
    assert (got["notice"]["kind"], got["unread"]) == ("bred", 2)
    assert got["notice"]["child"] is None  # a draft: not hers to see
    # Read elsewhere: every tab hears the new count.
    await sync_to_async(notices.mark_read)(alice)
    assert await alices.receive_json_from(timeout=5) == {"type": "unread", "unread": 0}
    # Bob heard nothing of it: the next thing his socket says is the answer to his ping.
    await bobs.send_json_to({"type": "ping", "id": 1})
    assert await bobs.receive_json_from(timeout=5) == {"type": "pong", "id": 1}
    await alices.send_to(text_data="{not json")
    assert await alices.receive_json_from(timeout=5) == {"type": "error", "message": "Messages must be valid JSON."}
    await alices.send_json_to({"type": "dance"})
    assert (await alices.receive_json_from(timeout=5))["type"] == "error"
    for ws in (alices, bobs):
        await ws.disconnect()

    from channels.layers import get_channel_layer

    assert not get_channel_layer().groups.get(notices.group(alice.pk))


@pytest.mark.django_db(transaction=True)
async def test_a_visitor_without_an_account_is_told_to_log_in():
    from django.test import Client

    ws = await socket_of(Client())
    assert await ws.receive_json_from(timeout=5) == {"type": "error",
                                                     "message": "Log in to hear of your notices."}
    assert (await ws.receive_output(timeout=5))["code"] == 4401


@pytest.mark.django_db(transaction=True)
async def test_a_page_elsewhere_may_not_open_a_breeders_notice_socket(alice):
    from django.test import Client

    from mendel.asgi import application

    client = Client()
    await sync_to_async(client.force_login)(alice)
    headers = [(b"origin", b"http://127.0.0.1:8001"), HOST,
               (b"cookie", f"sessionid={client.cookies['sessionid'].value}".encode())]
    connected, _ = await WebsocketCommunicator(application, "/ws/notices/", headers=headers).connect()
    assert not connected


@pytest.mark.django_db(transaction=True)
async def test_logging_out_closes_the_sessions_notice_sockets(alice):
    from django.test import Client

    client = Client()
    ws = await socket_of(client, alice)
    await ws.receive_json_from(timeout=5)
    await sync_to_async(client.post)("/accounts/logout/")
    assert await ws.receive_json_from(timeout=5) == {"type": "error", "message": "You have logged out."}
    assert (await ws.receive_output(timeout=5))["code"] == 4401


# -- the benchmark ------------------------------------------------------------------------------


def test_the_notices_benchmark_runs_at_a_small_size():
    database = f"mendel_bench_notices_test_{os.getpid()}"
    out = subprocess.run(
        [sys.executable, "bench/notices.py", "--notices", "3000", "--works", "200", "--others", "50",
         "--site-works", "2000", "--requests", "30", "--database", database, "--drop", "--json"],
        cwd=ROOT, capture_output=True, text=True, timeout=280)
    assert out.returncode == 0, out.stderr[-3000:]
    result = json.loads(out.stdout)
    assert result["unread_p95_ms"] >= result["unread_p50_ms"] > 0
    assert result["list_p95_ms"] >= result["list_p50_ms"] > 0
    assert result["notices"] == 3000 and result["requests"] == 30 and result["cpu"]
    for plan in result["plans"].values():
        assert plan[-1].startswith("Execution Time")
