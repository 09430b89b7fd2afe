"""Exhibitions: curators' actions and their event log, the live socket (snapshot, events,
replay after a reconnect, presence, reactions), breeding rounds and votes, and bad input."""

from __future__ import annotations

import json

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.contrib.auth.models import Permission
from django.core.management import call_command

from breeding import actions
from breeding.models import Creation, Visibility
from gallery import consumers, exhibitions
from gallery.models import Exhibition, ExhibitionStatus, RoundStatus, Vote
from mendel.asgi import application

ORIGIN = (b"origin", b"http://127.0.0.1:8000")
HOST = (b"host", b"127.0.0.1:8000")


@pytest.fixture
def curator(alice):
    call_command("curator", "alice", stdout=open("/dev/null", "w"))  # noqa: SIM115
    return type(alice).objects.get(pk=alice.pk)  # permissions are cached per instance


@pytest.fixture
def works(alice, space):
    made = actions.do_random(alice, space, 4, seed=11)
    for i, work in enumerate(made):
        actions.do_update(work, title=f"Work {i}", visibility=Visibility.PUBLIC)
    return made


@pytest.fixture
def show(curator, works):
    exhibition = exhibitions.do_create(curator, "First Light", "Four works.")
    exhibitions.do_update(exhibition, status=ExhibitionStatus.OPEN)
    exhibitions.do_add(exhibition, works[0].public_id, "The first.")
    exhibitions.do_add(exhibition, works[1].public_id, "The second.")
    return exhibition


def ids(exhibition) -> list[str]:
    return [i["work"]["id"] for i in exhibitions.snapshot(exhibition)["exhibition"]["items"]]


async def connect(client, slug: str, user=None, since: int | None = None, headers=()):
    headers = [ORIGIN, HOST, *headers]
    if user is not None:
        await sync_to_async(client.force_login)(user)
    if "sessionid" in client.cookies:
        headers.append((b"cookie", f"sessionid={client.cookies['sessionid'].value}".encode()))
    path = f"/ws/exhibitions/{slug}/" + (f"?since={since}" if since is not None else "")
    ws = WebsocketCommunicator(application, path, headers=headers)
    connected, _ = await ws.connect()
    assert connected
    return ws


# -- actions and the log ---------------------------------------------------------------


@pytest.mark.django_db
def test_every_change_is_an_event_with_the_next_seq(show, works):
    head = Exhibition.objects.get(pk=show.pk).seq
    item = exhibitions.do_add(show, works[2].public_id, "Third.", position=0)["item"]
    exhibitions.do_move(show, item["id"], 2)
    exhibitions.do_edit_item(show, item["id"], "Third, moved.")
    exhibitions.do_tour(show, item["id"])
    exhibitions.do_remove(show, item["id"])
    events = exhibitions.events_since(show, head)
    assert [(e["type"], e["seq"]) for e in events] == [
        ("item.added", head + 1), ("item.moved", head + 2), ("item.edited", head + 3),
        ("tour", head + 4), ("item.removed", head + 5)]
    assert ids(show) == [works[0].public_id, works[1].public_id]
    assert exhibitions.events_since(show, head + 5) == []
    assert exhibitions.events_since(show, head + 6) is None  # ahead of the log: start again


@pytest.mark.django_db
def test_only_public_works_hang_and_a_hidden_one_leaves_the_walls(show, works, alice, space):
    private = actions.do_random(alice, space, 1)[0]
    actions.do_update(private, visibility=Visibility.PRIVATE)
    draft = actions.do_random(alice, space, 1)[0]
    for hidden in (private, draft):
        with pytest.raises(exhibitions.Refused, match="only public works can hang"):
            exhibitions.do_add(show, hidden.public_id)
    with pytest.raises(exhibitions.Refused, match="hangs here already"):
        exhibitions.do_add(show, works[0].public_id)
    actions.do_update(works[0], visibility=Visibility.PRIVATE)
    assert ids(show) == [works[1].public_id]


@pytest.mark.django_db
def test_drafts_are_seen_by_their_curators_only(as_alice, as_bob, api, curator, works):
    draft = exhibitions.do_create(curator, "Not Yet")
    for client in (as_bob, api):
        assert client.get(f"/api/exhibitions/{draft.slug}/").status_code == 404
        assert draft.slug not in [e["slug"] for e in client.get("/api/exhibitions/").json()]
    assert as_alice.get(f"/api/exhibitions/{draft.slug}/").status_code == 200
    # Others may not change it, nor make exhibitions of their own.
    assert as_bob.patch(f"/api/exhibitions/{draft.slug}/", {"title": "Mine"}, format="json").status_code == 404
    assert as_bob.post("/api/exhibitions/", {"title": "Mine"}, format="json").status_code == 403
    made = as_alice.post("/api/exhibitions/", {"title": "Second Show", "status": "open"}, format="json")
    assert made.status_code == 201 and made.json()["exhibition"]["status"] == "open"
    slug = made.json()["exhibition"]["slug"]
    assert as_bob.patch(f"/api/exhibitions/{slug}/", {"title": "Mine"}, format="json").status_code == 403
    added = as_alice.post(f"/api/exhibitions/{slug}/items/", {"work": works[0].public_id}, format="json")
    assert added.status_code == 201 and len(added.json()["exhibition"]["items"]) == 1
    refused = as_alice.post(f"/api/exhibitions/{slug}/items/", {"work": "nothing"}, format="json")
    assert refused.status_code == 400
    assert refused.json()["error"] == "No public work with id 'nothing': only public works can hang in an exhibition."


# -- the socket ------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
async def test_a_visitor_gets_a_snapshot_then_every_change_live(client, show, works, curator):
    viewer = await connect(client, show.slug)
    state = await viewer.receive_json_from()
    assert state["type"] == "snapshot" and state["you"] == {"curator": False}
    assert [i["work"]["id"] for i in state["exhibition"]["items"]] == [works[0].public_id, works[1].public_id]
    assert [i["wall_text"] for i in state["exhibition"]["items"]] == ["The first.", "The second."]

    from django.test import Client

    cur = await connect(Client(), show.slug, curator)
    assert (await cur.receive_json_from())["you"] == {"curator": True}
    await cur.send_json_to({"type": "add", "work": works[2].public_id, "wall_text": "New.", "ref": "a1"})
    # The curator hears the answer and the event itself, in either order.
    heard = [await cur.receive_json_from() for _ in range(2)]
    assert {"type": "ok", "ref": "a1"} in heard and {h["type"] for h in heard} == {"ok", "item.added"}
    added = await viewer.receive_json_from()
    assert added["type"] == "item.added" and added["seq"] == state["seq"] + 1
    assert added["item"]["work"]["id"] == works[2].public_id and added["item"]["position"] == 2
    await cur.send_json_to({"type": "tour", "item": added["item"]["id"]})
    tour = await viewer.receive_json_from()
    assert tour == {"type": "tour", "seq": state["seq"] + 2, "item": added["item"]["id"]}
    for ws in (viewer, cur):
        await ws.disconnect()


@pytest.mark.django_db(transaction=True)
async def test_a_reconnecting_visitor_gets_exactly_what_it_missed(client, show, works, monkeypatch):
    viewer = await connect(client, show.slug)
    seen = (await viewer.receive_json_from())["seq"]
    await viewer.disconnect()
    item = (await sync_to_async(exhibitions.do_add)(show, works[2].public_id))["item"]
    await sync_to_async(exhibitions.do_tour)(show, item["id"])

    back = await connect(client, show.slug, since=seen)
    assert (await back.receive_json_from())["type"] == "item.added"
    assert (await back.receive_json_from())["type"] == "tour"
    assert await back.receive_json_from() == {"type": "caught-up", "seq": seen + 2, "you": {"curator": False}}
    assert await back.receive_nothing(timeout=0.2)
    await back.disconnect()

    # Too far behind: a fresh snapshot instead.
    monkeypatch.setattr(exhibitions, "REPLAY_MAX", 1)
    late = await connect(client, show.slug, since=seen)
    state = await late.receive_json_from()
    assert state["type"] == "snapshot" and state["seq"] == seen + 2
    assert len(state["exhibition"]["items"]) == 3
    await late.disconnect()


@pytest.mark.django_db(transaction=True)
async def test_a_draft_exhibition_is_not_there_for_visitors(client, curator):
    draft = await sync_to_async(exhibitions.do_create)(curator, "Not Yet")
    ws = await connect(client, draft.slug)
    assert await ws.receive_json_from() == {"type": "error", "message": "There is no exhibition here by that name."}
    assert (await ws.receive_output())["code"] == consumers.CLOSE_NOT_FOUND
    missing = await connect(client, "no-such-show")
    assert (await missing.receive_json_from())["type"] == "error"


@pytest.mark.django_db(transaction=True)
async def test_bad_messages_get_a_sentence_and_the_socket_survives(client, show, works):
    ws = await connect(client, show.slug)
    await ws.receive_json_from()
    bad = [
        ("not json", "Messages must be valid JSON."),
        ("[1, 2]", 'Messages must be JSON objects with a "type".'),
        ('{"type": "dance"}', "Unknown message type 'dance'."),
        ('{"type": "react", "emoji": "x"}', '"emoji" must be one of ' + " ".join(consumers.REACTIONS) + "."),
        ('{"type": "vote", "round": "1", "candidate": 0}', '"round" must be a whole number from 1 to 2147483648.'),
        ('{"type": "vote", "round": NaN, "candidate": 0}', "Messages must be valid JSON."),
        ('{"type": "ping", "id": 1, "extra": true}', "A ping message has no 'extra'."),
        ('{"type": "add", "work": "' + works[2].public_id + '"}', "Only this exhibition's curators can do that."),
        ('{"type": "tour", "item": 1}', "Only this exhibition's curators can do that."),
        ("[" * 100000 + "]" * 100000, "Message too large (limit 64 KB)."),
        ('{"type": "ping", "id": "' + "x" * 70000 + '"}', "Message too large (limit 64 KB)."),
        ("[" * 5000 + "]" * 5000, "Messages may not be nested this deeply."),
    ]
    for message, said in bad:
        await ws.send_to(text_data=message)
        answer = await ws.receive_json_from()
        assert answer == {"type": "error", "message": said}, message[:40]
    await ws.send_to(bytes_data=b"\x00\x01")
    assert (await ws.receive_json_from())["message"] == "Messages must be JSON text, not binary."
    await ws.send_json_to({"type": "ping", "id": "still here"})
    assert await ws.receive_json_from() == {"type": "pong", "id": "still here"}
    await ws.disconnect()


@pytest.mark.django_db(transaction=True)
async def test_sockets_from_other_sites_are_refused(client, show):
    ws = WebsocketCommunicator(application, f"/ws/exhibitions/{show.slug}/",
                               headers=[(b"origin", b"http://evil.example"), HOST])
    connected, _ = await ws.connect()
    assert not connected


@pytest.mark.django_db(transaction=True)
async def test_presence_is_counted_and_announced(client, show, monkeypatch):
    monkeypatch.setattr(consumers, "PRESENCE_EVERY_S", 0.2)
    from django.test import Client

    first = await connect(client, show.slug)
    second = await connect(Client(), show.slug)
    for ws in (first, second):
        await ws.receive_json_from()
    assert await first.receive_json_from(timeout=3) == {"type": "presence", "viewers": 2}
    await second.disconnect()
    assert await first.receive_json_from(timeout=3) == {"type": "presence", "viewers": 1}
    await first.disconnect()


@pytest.mark.django_db(transaction=True)
async def test_reactions_reach_everyone_and_are_rate_limited(client, show):
    from django.test import Client

    sender, other = await connect(client, show.slug), await connect(Client(), show.slug)
    for ws in (sender, other):
        await ws.receive_json_from()
    answers = []
    for _ in range(6):
        await sender.send_json_to({"type": "react", "emoji": "👏"})
    while len(answers) < 6:
        message = await sender.receive_json_from()
        if message["type"] in ("ok", "error"):
            answers.append(message)
    assert [a["type"] for a in answers] == ["ok"] * 5 + ["error"]
    assert answers[-1]["message"] == "One reaction a second is plenty. Wait a moment."
    seen = [await other.receive_json_from() for _ in range(5)]
    assert {json.dumps(m) for m in seen if m["type"] == "reaction"} == {'{"type": "reaction", "emoji": "\\ud83d\\udc4f"}'}
    for ws in (sender, other):
        await ws.disconnect()


@pytest.mark.django_db(transaction=True)
async def test_a_reaction_over_the_crowds_limit_is_answered_not_dropped(client, show, monkeypatch):
    from django.test import Client

    monkeypatch.setattr(consumers, "REACTIONS_PER_S", 0)  # the whole exhibition's share is spent
    sender, other = await connect(client, show.slug), await connect(Client(), show.slug)
    for ws in (sender, other):
        await ws.receive_json_from()
    await sender.send_json_to({"type": "react", "emoji": "🔥", "ref": "r"})
    assert await sender.receive_json_from() == {
        "type": "error", "ref": "r",
        "message": "So many people are reacting just now that yours was not shown. Try again in a moment."}
    assert await other.receive_nothing(timeout=0.3)
    for ws in (sender, other):
        await ws.disconnect()


@pytest.mark.django_db
def test_a_video_is_no_round_parent_and_is_refused_before_anything_is_spent(as_alice, curator, show, works):
    from breeding.models import Origin

    Creation.objects.filter(pk=works[1].pk).update(origin=Origin.VIDEO)
    response = as_alice.post(f"/api/exhibitions/{show.slug}/rounds/", {"work": works[1].public_id, "n": 2},
                             format="json")
    assert response.status_code == 400
    assert response.json()["error"] == ("“Work 1” is a video, and a round breeds children of a picture: "
                                         "choose one of the pictures instead.")
    assert not show.rounds.exists()
    with pytest.raises(exhibitions.Refused, match="is a video"):
        exhibitions.do_start_round(show, curator, works[1].public_id, n=2)


# -- breeding rounds ---------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
async def test_a_breeding_round_one_vote_each_and_the_winner_hangs(client, show, works, curator, bob):
    from django.test import Client

    cur = await connect(Client(), show.slug, curator)
    await cur.receive_json_from()
    voter = await connect(client, show.slug, bob)
    anonymous = await connect(Client(), show.slug)
    for ws in (voter, anonymous):
        await ws.receive_json_from()

    await cur.send_json_to({"type": "round.start", "work": works[0].public_id, "n": 3, "seconds": 60, "ref": "r"})
    started = await voter.receive_json_from()
    assert started["type"] == "round.started"
    rnd = started["round"]
    assert (rnd["number"], rnd["status"], len(rnd["candidates"])) == (1, "voting", 3)
    assert rnd["parent"]["id"] == works[0].public_id
    candidates = await sync_to_async(list)(Creation.objects.filter(
        public_id__in=[c["work"]["id"] for c in rnd["candidates"]]).values_list("visibility", flat=True))
    assert set(candidates) == {Visibility.UNLISTED}

    await voter.send_json_to({"type": "vote", "round": 1, "candidate": 2, "ref": "v"})
    assert await voter.receive_json_from() == {"type": "ok", "ref": "v"}
    await voter.send_json_to({"type": "vote", "round": 1, "candidate": 1, "ref": "v2"})
    assert await voter.receive_json_from() == {"type": "ok", "ref": "v2"}  # changed, not added
    # An anonymous visitor votes once per session: it has none without a page visit, so
    # it is told what it needs.
    assert (await anonymous.receive_json_from())["type"] == "round.started"
    await anonymous.send_json_to({"type": "vote", "round": 1, "candidate": 0})
    assert (await anonymous.receive_json_from())["message"] == "Your browser must keep cookies to vote."

    await cur.send_json_to({"type": "round.end"})
    events = [await voter.receive_json_from() for _ in range(2)]
    closed = next(e for e in events if e["type"] == "round.closed")
    assert closed["round"]["status"] == "closed" and closed["round"]["votes"] == [0, 1, 0]
    winner = rnd["candidates"][1]["work"]["id"]
    assert closed["round"]["winner"] == winner
    added = next(e for e in events if e["type"] == "item.added")
    assert added["item"]["work"]["id"] == winner
    assert added["item"]["wall_text"] == "Winner of round 1, chosen by the audience with 1 of 1 vote."
    assert (await sync_to_async(Creation.objects.get)(public_id=winner)).visibility == Visibility.PUBLIC

    await voter.send_json_to({"type": "vote", "round": 1, "candidate": 0})
    assert (await voter.receive_json_from())["message"] == "Voting in round 1 has closed."
    # The next round breeds from the winner.
    await cur.send_json_to({"type": "round.start", "n": 2, "seconds": 30})
    assert (await voter.receive_json_from())["round"]["parent"]["id"] == winner
    for ws in (cur, voter, anonymous):
        await ws.disconnect()


@pytest.mark.django_db
def test_anonymous_sessions_vote_once_and_a_round_closes_once(show, works, curator, no_jobs_queued):
    exhibitions.do_start_round(show, curator, works[0].public_id, n=2, seconds=30)
    rnd = show.rounds.get()
    from django.db import connection

    with connection.cursor() as cursor:  # a job closes it when its time is up
        cursor.execute("SELECT scheduled_at, args FROM procrastinate_jobs WHERE task_name = 'gallery.tasks.close_round'")
        ((scheduled_at, args),) = cursor.fetchall()
    assert json.loads(args) == {"round_id": rnd.pk} and abs((scheduled_at - rnd.ends_at).total_seconds()) < 1
    assert exhibitions.do_vote(show, 1, 0, session_key="s1")
    assert exhibitions.do_vote(show, 1, 1, session_key="s2")
    assert not exhibitions.do_vote(show, 1, 1, session_key="s1")  # changed its mind: counted once
    with pytest.raises(exhibitions.Refused, match="no picture 5"):
        exhibitions.do_vote(show, 1, 4, session_key="s3")
    assert exhibitions.do_close_round(rnd.pk)["round"]["votes"] == [0, 2]
    assert exhibitions.do_close_round(rnd.pk) is None  # the scheduled job, after an early end
    rnd.refresh_from_db()
    assert rnd.status == RoundStatus.CLOSED and Vote.objects.count() == 2
    assert len(ids(show)) == 3

    # A round whose time is up closes when the next one starts, if its job has not run.
    exhibitions.do_start_round(show, curator, n=2, seconds=30)
    second = show.rounds.get(number=2)
    with pytest.raises(exhibitions.Refused, match="Round 2 is still being voted on"):
        exhibitions.do_start_round(show, curator, n=2, seconds=30)
    type(second).objects.filter(pk=second.pk).update(ends_at=second.started)
    with pytest.raises(exhibitions.Refused, match="Voting in round 2 has closed"):
        exhibitions.do_vote(show, 2, 0, session_key="s1")
    exhibitions.do_start_round(show, curator, n=2, seconds=30)
    second.refresh_from_db()
    assert second.status == RoundStatus.CLOSED and show.rounds.get(number=3).parent == second.winner


@pytest.mark.django_db
def test_rounds_need_an_open_exhibition_and_sane_settings(curator, works):
    draft = exhibitions.do_create(curator, "Closed Doors")
    with pytest.raises(exhibitions.Refused, match="Open the exhibition"):
        exhibitions.do_start_round(draft, curator, works[0].public_id)
    exhibitions.do_update(draft, status=ExhibitionStatus.OPEN)
    with pytest.raises(exhibitions.Refused, match="2 to 8 children"):
        exhibitions.do_start_round(draft, curator, works[0].public_id, n=20)
    with pytest.raises(exhibitions.Refused, match="Choose the work the first round breeds from"):
        exhibitions.do_start_round(draft, curator)


@pytest.mark.django_db
def test_the_curator_command_grants_and_takes_back(alice):
    assert not exhibitions.can_create(alice)
    call_command("curator", "alice", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert type(alice).objects.get(pk=alice.pk).has_perm("gallery.curate")
    call_command("curator", "alice", "--remove", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert not type(alice).objects.get(pk=alice.pk).user_permissions.filter(
        pk=Permission.objects.get(codename="curate").pk).exists()


@pytest.mark.django_db
def test_exhibitions_open_and_close_at_their_hours(curator):
    from datetime import timedelta

    from django.utils import timezone

    now = timezone.now()
    soon = exhibitions.do_create(curator, "Soon", opens_at=now + timedelta(hours=1),
                                 closes_at=now + timedelta(hours=3))
    unscheduled = exhibitions.do_create(curator, "Someday")
    assert exhibitions.do_scheduled(now) == []
    assert exhibitions.do_scheduled(now + timedelta(hours=1)) == [soon.slug]
    soon.refresh_from_db()
    assert soon.status == ExhibitionStatus.OPEN
    assert [e["type"] for e in exhibitions.events_since(soon, 0)] == ["open"]
    assert exhibitions.do_scheduled(now + timedelta(hours=2)) == []
    assert exhibitions.do_scheduled(now + timedelta(hours=3)) == [soon.slug]
    soon.refresh_from_db()
    assert soon.status == ExhibitionStatus.CLOSED
    unscheduled.refresh_from_db()
    assert unscheduled.status == ExhibitionStatus.DRAFT


@pytest.mark.django_db
def test_one_address_casts_a_few_anonymous_votes_per_round(show, works, curator, settings):
    settings.EXHIBITION_ANONYMOUS_VOTES_PER_ADDRESS = 3
    exhibitions.do_start_round(show, curator, works[0].public_id, n=2, seconds=30)
    for i in range(3):  # a household behind one address
        assert exhibitions.do_vote(show, 1, 0, session_key=f"home{i}", address="203.0.113.5")
    with pytest.raises(exhibitions.Refused, match="3 votes have come from your address in this round already"):
        exhibitions.do_vote(show, 1, 0, session_key="fresh", address="203.0.113.5")
    # Changing a vote is no new vote; another address and an account still vote.
    assert not exhibitions.do_vote(show, 1, 1, session_key="home0", address="203.0.113.5")
    assert exhibitions.do_vote(show, 1, 1, session_key="next door", address="203.0.113.6")
    assert exhibitions.do_vote(show, 1, 1, user=curator)
    assert Vote.objects.filter(address="").count() == 1  # only the account's
    assert "203.0.113.5" not in str(list(Vote.objects.values_list("address", flat=True)))
    settings.EXHIBITION_ANONYMOUS_VOTES_PER_ADDRESS = 0
    with pytest.raises(exhibitions.Refused, match="Log in to vote"):
        exhibitions.do_vote(show, 1, 0, session_key="anyone", address="198.51.100.1")


@pytest.mark.django_db
def test_a_tie_is_settled_by_a_rule_everyone_is_told(show, works, curator):
    started = exhibitions.do_start_round(show, curator, works[0].public_id, n=3, seconds=30)
    assert started["round"]["tie_rule"] == "A tie goes to the earliest of the tied pictures."
    exhibitions.do_vote(show, 1, 2, session_key="s1")
    exhibitions.do_vote(show, 1, 1, session_key="s2")
    closed = exhibitions.do_close_round(show.rounds.get().pk)["round"]
    assert closed["votes"] == [0, 1, 1] and closed["tie"] == [1, 2]
    assert closed["winner"] == closed["candidates"][1]["work"]["id"]
    wall = exhibitions.snapshot(show)["exhibition"]["items"][-1]["wall_text"]
    assert wall == ("Winner of round 1: pictures 2 and 3 tied with 1 vote each, and as the rule goes "
                    "the earliest of them goes on.")
    # No tie: an empty list, and the usual words.
    exhibitions.do_start_round(show, curator, n=2, seconds=30)
    exhibitions.do_vote(show, 2, 1, session_key="s1")
    closed = exhibitions.do_close_round(show.rounds.get(number=2).pk)["round"]
    assert closed["tie"] == [] and closed["votes"] == [0, 1]
