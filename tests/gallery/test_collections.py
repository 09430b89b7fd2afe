"""Collections: a breeder's named, ordered lists of works, public or private, with a cover
(``/api/collections/``, the page ``/c/<id>/``, a profile's "Collections").

Alice collects; Bob is another breeder whose works she collects, and who tries what he
should not; Carol curates exhibitions; visitors are not logged in. What anyone is shown of
a collection follows the one rule (``listed_for``), asked on every read.
"""

from __future__ import annotations

import re

import pytest
from django.core.management import call_command
from django.test import Client
from rest_framework.test import APIClient

from breeding import actions
from breeding.models import Creation, Visibility
from gallery import collections, exhibitions
from gallery.models import Collection, CollectionItem, Exhibition, ExhibitionStatus

pytestmark = pytest.mark.django_db

MISSING = "zzzzzzzzzz"


@pytest.fixture
def carol(django_user_model):
    user = django_user_model.objects.create_user("carol", "carol@example.org", "tide pools 3")
    call_command("curator", "carol", stdout=open("/dev/null", "w"))  # noqa: SIM115
    return django_user_model.objects.get(pk=user.pk)  # permissions are cached per instance


@pytest.fixture
def as_carol(carol):
    client = APIClient()
    client.force_login(carol)
    return client


def made(owner, space, seed, visibility=Visibility.PUBLIC, title=""):
    work = actions.do_random(owner, space, 1, seed=seed)[0]
    if visibility != Visibility.DRAFT:
        actions.do_update(work, title=title or f"Work {seed}", visibility=visibility)
    return Creation.objects.get(pk=work.pk)


def new(client, title="Tides", public=True, **more) -> str:
    response = client.post("/api/collections/", {"title": title, "public": public, **more}, format="json")
    assert response.status_code == 201, response.content
    return response.json()["id"]


def add(client, collection: str, work: Creation, **more):
    return client.post(f"/api/collections/{collection}/works/", {"work": work.public_id, **more},
                       format="json")


def shown(client, collection: str) -> list[str]:
    response = client.get(f"/api/collections/{collection}/works/")
    assert response.status_code == 200, response.content
    return [w["id"] for w in response.json()["results"]]


def about(client, collection: str) -> dict:
    response = client.get(f"/api/collections/{collection}/")
    assert response.status_code == 200, response.content
    return response.json()


def answer(client, method: str, url: str, the_id: str, body=None) -> tuple[int, dict]:
    """Status and body, with the id asked for written as ID (the one thing that differs
    between a hidden thing and a missing one)."""
    response = getattr(client, method)(url.format(id=the_id), body or {}, format="json")
    text = response.content.decode().replace(the_id, "ID")
    return response.status_code, text


@pytest.fixture
def works(alice, bob, space):
    """Alice's own works (public, private) and Bob's public ones."""
    return {
        "alice_public": made(alice, space, 1, title="Alice in light"),
        "alice_private": made(alice, space, 2, Visibility.PRIVATE, title="Alice alone"),
        "bob_1": made(bob, space, 3, title="Bob one"),
        "bob_2": made(bob, space, 4, title="Bob two"),
    }


# -- making and filling ------------------------------------------------------------------


def test_a_breeder_makes_a_collection_and_fills_it_in_order(as_alice, works):
    response = as_alice.post("/api/collections/", {"title": "  Tides ", "description": "Blue ones."},
                             format="json")
    assert response.status_code == 201
    made_one = response.json()
    assert made_one["title"] == "Tides" and made_one["public"] is False and made_one["count"] == 0
    assert made_one["cover"] is None and made_one["owner"] == "alice"
    cid = made_one["id"]
    for key in ("alice_public", "alice_private", "bob_1"):
        response = add(as_alice, cid, works[key])
        assert response.status_code == 201, response.content
    assert response.json()["count"] == 3
    # at a position among its works
    assert add(as_alice, cid, works["bob_2"], position=1).status_code == 201
    order = [works[k].public_id for k in ("alice_public", "bob_2", "alice_private", "bob_1")]
    assert shown(as_alice, cid) == order
    # the same work twice is there once, where it was
    again = add(as_alice, cid, works["bob_1"], position=0)
    assert again.status_code == 200 and again.json()["count"] == 4
    assert shown(as_alice, cid) == order
    # the first work is the cover until one is chosen
    assert about(as_alice, cid)["cover"]["id"] == works["alice_public"].public_id


def test_a_collection_reads_a_page_at_a_time(as_alice, alice, space):
    cid = new(as_alice)
    ids = []
    for seed in range(5):
        work = made(alice, space, 20 + seed)
        add(as_alice, cid, work)
        ids.append(work.public_id)
    first = as_alice.get(f"/api/collections/{cid}/works/?limit=2").json()
    assert [w["id"] for w in first["results"]] == ids[:2]
    second = as_alice.get(first["next"]).json()
    assert [w["id"] for w in second["results"]] == ids[2:4]
    assert as_alice.get(f"/api/collections/{cid}/works/?limit=0").status_code == 400


def test_names_are_checked(as_alice):
    response = as_alice.post("/api/collections/", {"title": "   "}, format="json")
    assert response.status_code == 400
    assert response.json()["error"] == "A collection needs a name."
    response = as_alice.post("/api/collections/", {"title": "x" * 121}, format="json")
    assert response.status_code == 400 and "title" in response.json()["fields"]
    assert not Collection.objects.exists()


def test_a_breeder_lists_their_collections_and_which_hold_a_work(as_alice, works):
    tides, embers = new(as_alice, "Tides"), new(as_alice, "Embers", public=False)
    add(as_alice, tides, works["bob_1"])
    listed = as_alice.get(f"/api/collections/?work={works['bob_1'].public_id}").json()
    assert {c["id"]: c["holds"] for c in listed} == {tides: True, embers: False}
    assert listed[0]["id"] == tides  # the most recently changed first
    assert APIClient().get("/api/collections/").status_code == 403  # whose? log in first


def test_renaming_sharing_and_deleting(as_alice):
    cid = new(as_alice, public=False)
    response = as_alice.patch(f"/api/collections/{cid}/", {"title": "Ebb", "public": True}, format="json")
    assert response.status_code == 200
    assert response.json()["title"] == "Ebb" and response.json()["public"] is True
    assert APIClient().get(f"/api/collections/{cid}/").status_code == 200
    assert as_alice.delete(f"/api/collections/{cid}/").status_code == 204
    assert as_alice.get(f"/api/collections/{cid}/").status_code == 404


def test_making_and_filling_collections_is_limited(as_alice, works, settings, one_minute):
    settings.COLLECTIONS_PER_HOUR = 2
    settings.COLLECTION_ADDS_PER_HOUR = 2
    cid = new(as_alice)
    new(as_alice)
    response = as_alice.post("/api/collections/", {"title": "Third"}, format="json")
    assert response.status_code == 429
    assert response.json()["retry_after"] > 0 and response["Retry-After"]
    assert add(as_alice, cid, works["bob_1"]).status_code == 201
    assert add(as_alice, cid, works["bob_2"]).status_code == 201
    refused = add(as_alice, cid, works["alice_public"])
    assert refused.status_code == 429 and "Try again in" in refused.json()["error"]
    assert Collection.objects.count() == 2 and CollectionItem.objects.count() == 2


# -- what may go in --------------------------------------------------------------------------


def test_a_work_you_may_not_see_answers_as_one_that_does_not_exist(as_alice, bob, space):
    cid = new(as_alice)
    removed = made(bob, space, 7)
    actions.do_remove(removed)
    hidden = [made(bob, space, 5, Visibility.PRIVATE), made(bob, space, 6, Visibility.DRAFT), removed]
    url = f"/api/collections/{cid}/works/"
    missing = answer(as_alice, "post", url, MISSING, {"work": MISSING})
    assert missing[0] == 404
    for work in hidden:
        assert answer(as_alice, "post", url, work.public_id, {"work": work.public_id}) == missing
    assert not CollectionItem.objects.exists()


def test_others_unlisted_works_and_ones_own_drafts_are_refused_with_the_reason(as_alice, alice, bob, space):
    cid = new(as_alice)
    response = add(as_alice, cid, made(bob, space, 8, Visibility.UNLISTED))
    assert response.status_code == 400
    assert "unlisted" in response.json()["error"]
    response = add(as_alice, cid, made(alice, space, 9, Visibility.DRAFT))
    assert response.status_code == 400 and "draft" in response.json()["error"]
    # her own unlisted work is hers to list
    assert add(as_alice, cid, made(alice, space, 10, Visibility.UNLISTED)).status_code == 201


# -- whose collection ----------------------------------------------------------------------


def test_a_private_collection_answers_as_one_that_does_not_exist(as_alice, as_bob, works):
    private = new(as_alice, public=False)
    add(as_alice, private, works["alice_public"])
    routes = [("get", "/api/collections/{id}/", None),
              ("patch", "/api/collections/{id}/", {"title": "Mine now"}),
              ("delete", "/api/collections/{id}/", None),
              ("get", "/api/collections/{id}/works/", None),
              ("post", "/api/collections/{id}/works/", {"work": works["bob_1"].public_id}),
              ("patch", f"/api/collections/{{id}}/works/{works['alice_public'].public_id}/", {"position": 0}),
              ("delete", f"/api/collections/{{id}}/works/{works['alice_public'].public_id}/", None),
              ("post", "/api/collections/{id}/exhibition/", None)]
    for client in (as_bob, APIClient()):
        for method, url, body in routes:
            seen = answer(client, method, url, private, body)
            assert seen == answer(client, method, url, MISSING, body), (method, url)
            assert seen[0] in (403, 404)  # 403: log in first
    assert answer(as_bob, "get", "/api/collections/{id}/", private)[0] == 404
    assert about(as_alice, private)["count"] == 1  # nothing was changed
    # nor listed: Bob and visitors see Alice's public collections only
    public = new(as_alice, "Open")
    assert [c["id"] for c in as_bob.get("/api/collections/?owner=alice").json()] == [public]
    assert [c["id"] for c in APIClient().get("/api/collections/?owner=alice").json()] == [public]
    assert {c["id"] for c in as_alice.get("/api/collections/?owner=alice").json()} == {public, private}
    # and the page is the missing page
    pages = [(Client().get(f"/c/{the_id}/"), the_id) for the_id in (private, MISSING)]
    assert [p.status_code for p, _ in pages] == [404, 404]
    bodies = [re.sub(r'name="csrf-token" content="[^"]+"|name="csrfmiddlewaretoken" value="[^"]+"', "",
                     p.content.decode().replace(i, "ID"))
              for p, i in pages]
    assert bodies[0] == bodies[1]


def test_only_its_owner_changes_a_public_collection(as_alice, as_bob, works):
    cid = new(as_alice)
    add(as_alice, cid, works["bob_1"])
    for method, url, body in [("patch", f"/api/collections/{cid}/", {"title": "Bob's"}),
                              ("delete", f"/api/collections/{cid}/", None),
                              ("post", f"/api/collections/{cid}/works/", {"work": works["bob_2"].public_id}),
                              ("delete", f"/api/collections/{cid}/works/{works['bob_1'].public_id}/", None)]:
        response = getattr(as_bob, method)(url, body or {}, format="json")
        assert response.status_code == 403, (method, url)
        assert response.json() == {"error": "Only its owner can change this collection."}
    assert about(as_bob, cid)["title"] == "Tides" and about(as_bob, cid)["count"] == 1


# -- works that become hidden -------------------------------------------------------------------


def test_a_work_hidden_later_vanishes_for_everyone_who_may_no_longer_see_it(as_alice, as_bob, works):
    cid = new(as_alice)
    x, y, z = works["bob_1"], works["bob_2"], works["alice_public"]
    for work in (x, y, z):
        add(as_alice, cid, work)
    assert as_alice.patch(f"/api/collections/{cid}/", {"cover": x.public_id}, format="json").status_code == 200
    visitor = APIClient()

    # Bob makes X private: it leaves Alice's collection for Alice and for visitors, cover
    # and count included; Bob, whose work it is, still finds it there.
    actions.do_update(x, visibility=Visibility.PRIVATE)
    for client in (as_alice, visitor):
        assert shown(client, cid) == [y.public_id, z.public_id]
        state = about(client, cid)
        assert state["count"] == 2 and state["cover"]["id"] == y.public_id
        listed = client.get("/api/collections/?owner=alice").json()[0]
        assert listed["count"] == 2 and listed["cover"]["id"] == y.public_id
        page = client.get(f"/c/{cid}/")
        assert x.public_id not in page.content.decode() and x.latent_sha not in page.content.decode()
        profile = client.get("/u/alice/").content.decode()
        assert x.latent_sha not in profile and y.latent_sha in profile
    assert shown(as_bob, cid) == [x.public_id, y.public_id, z.public_id]
    assert about(as_bob, cid)["cover"]["id"] == x.public_id
    assert as_alice.get(f"/api/collections/?work={x.public_id}").json()[0]["holds"] is False
    # Alice cannot name it there any more: it answers as a work that was never in it
    missing = answer(as_alice, "delete", f"/api/collections/{cid}/works/{{id}}/", MISSING)
    assert answer(as_alice, "delete", f"/api/collections/{cid}/works/{{id}}/", x.public_id) == missing
    assert answer(as_alice, "patch", f"/api/collections/{cid}/", x.public_id, {"cover": x.public_id})[0] == 404

    # Unlisted is not listed: a stranger with no link sees it no more than a private one.
    actions.do_update(x, visibility=Visibility.UNLISTED)
    assert shown(visitor, cid) == [y.public_id, z.public_id]
    assert about(visitor, cid)["cover"]["id"] == y.public_id

    # Bob removes Y: gone for everyone, Bob too.
    actions.do_remove(y)
    for client in (as_alice, as_bob, visitor):
        assert y.public_id not in shown(client, cid)

    # X public again: back in its place, and the cover it was.
    actions.do_update(x, visibility=Visibility.PUBLIC)
    assert shown(visitor, cid) == [x.public_id, z.public_id]
    assert about(visitor, cid)["cover"]["id"] == x.public_id


def test_a_cover_never_shows_a_hidden_work_even_when_nothing_else_is_there(as_alice, works):
    cid = new(as_alice)
    add(as_alice, cid, works["bob_1"])
    actions.do_update(works["bob_1"], visibility=Visibility.PRIVATE)
    visitor = APIClient()
    assert about(visitor, cid)["cover"] is None and about(visitor, cid)["count"] == 0
    assert visitor.get("/api/collections/?owner=alice").json()[0]["cover"] is None
    assert works["bob_1"].latent_sha not in Client().get("/u/alice/").content.decode()


def test_a_purged_work_leaves_every_collection(as_alice, works):
    cid = new(as_alice)
    add(as_alice, cid, works["bob_1"])
    as_alice.patch(f"/api/collections/{cid}/", {"cover": works["bob_1"].public_id}, format="json")
    Creation.objects.filter(pk=works["bob_1"].pk).delete()
    assert about(as_alice, cid)["count"] == 0 and about(as_alice, cid)["cover"] is None


# -- order and cover --------------------------------------------------------------------------


def test_moving_works_keeps_the_places_of_those_hidden_from_the_owner(as_alice, works):
    cid = new(as_alice)
    a, b, c, d = works["alice_public"], works["bob_1"], works["alice_private"], works["bob_2"]
    for work in (a, b, c, d):
        add(as_alice, cid, work)
    response = as_alice.patch(f"/api/collections/{cid}/works/{d.public_id}/", {"position": 0}, format="json")
    assert response.status_code == 200
    assert shown(as_alice, cid) == [d.public_id, a.public_id, b.public_id, c.public_id]
    # B hidden from Alice: moving the others around it leaves it where it is (third)
    actions.do_update(b, visibility=Visibility.PRIVATE)
    as_alice.patch(f"/api/collections/{cid}/works/{c.public_id}/", {"position": 0}, format="json")
    assert shown(as_alice, cid) == [c.public_id, d.public_id, a.public_id]
    actions.do_update(b, visibility=Visibility.PUBLIC)
    assert shown(as_alice, cid) == [c.public_id, d.public_id, b.public_id, a.public_id]
    positions = list(CollectionItem.objects.filter(collection__public_id=cid)
                     .order_by("position").values_list("position", flat=True))
    assert positions == [0, 1, 2, 3]


def test_the_cover_is_one_of_its_works(as_alice, works):
    cid = new(as_alice)
    add(as_alice, cid, works["alice_public"])
    add(as_alice, cid, works["bob_1"])
    response = as_alice.patch(f"/api/collections/{cid}/", {"cover": works["bob_2"].public_id}, format="json")
    assert response.status_code == 404
    assert response.json()["error"].endswith("in this collection.")
    chosen = as_alice.patch(f"/api/collections/{cid}/", {"cover": works["bob_1"].public_id}, format="json")
    assert chosen.json()["cover"]["id"] == works["bob_1"].public_id
    # taking the cover out takes the choice with it: the first work again
    gone = as_alice.delete(f"/api/collections/{cid}/works/{works['bob_1'].public_id}/")
    assert gone.status_code == 200 and gone.json()["cover"]["id"] == works["alice_public"].public_id
    assert Collection.objects.get(public_id=cid).cover is None
    add(as_alice, cid, works["bob_1"])
    as_alice.patch(f"/api/collections/{cid}/", {"cover": works["bob_1"].public_id}, format="json")
    cleared = as_alice.patch(f"/api/collections/{cid}/", {"cover": None}, format="json")
    assert cleared.json()["cover"]["id"] == works["alice_public"].public_id


# -- to an exhibition ---------------------------------------------------------------------------


def test_a_curator_makes_an_exhibition_draft_of_a_collection_in_one_step(as_alice, as_carol, carol, works):
    cid = new(as_alice, "Shoreline", description="Where the sea meets the land.")
    for key in ("bob_2", "alice_private", "alice_public", "bob_1"):
        add(as_alice, cid, works[key])
    as_alice.patch(f"/api/collections/{cid}/", {"cover": works["alice_public"].public_id}, format="json")
    response = as_carol.post(f"/api/collections/{cid}/exhibition/")
    assert response.status_code == 201, response.content
    made_one = response.json()
    # Carol is not shown Alice's private work: it is neither hung nor counted
    assert made_one["hung"] == 3 and made_one["left_out"] == 0
    exhibition = Exhibition.objects.get(slug=made_one["exhibition"])
    assert exhibition.status == ExhibitionStatus.DRAFT and exhibition.title == "Shoreline"
    assert exhibition.statement == "Where the sea meets the land."
    assert list(exhibition.curators.all()) == [carol]
    assert list(exhibition.items.order_by("position").values_list("creation__public_id", flat=True)) == [
        works["bob_2"].public_id, works["alice_public"].public_id, works["bob_1"].public_id]
    assert exhibition.cover_id == works["alice_public"].pk
    # what its sockets and pages show: the snapshot, after one event for all the works
    shown_there = exhibitions.snapshot(exhibition)["exhibition"]
    assert [i["work"]["id"] for i in shown_there["items"]] == [
        works["bob_2"].public_id, works["alice_public"].public_id, works["bob_1"].public_id]
    assert exhibition.events.filter(kind="works.changed").count() == 1
    # hanging again hangs nothing twice, and never a work that may not hang
    again = [works["bob_1"].public_id, works["alice_private"].public_id]
    assert exhibitions.do_hang(exhibition, again) == 0 and exhibition.items.count() == 3


def test_a_curators_own_works_that_may_not_hang_are_left_out_and_counted(as_carol, carol, works, space):
    cid = new(as_carol, "Mine", public=False)
    add(as_carol, cid, made(carol, space, 30, Visibility.PRIVATE))
    add(as_carol, cid, works["bob_1"])
    made_one = as_carol.post(f"/api/collections/{cid}/exhibition/").json()
    assert made_one["hung"] == 1 and made_one["left_out"] == 1
    # nothing that may hang: refused, and no empty draft
    only_private = new(as_carol, "Hidden")
    add(as_carol, only_private, made(carol, space, 31, Visibility.PRIVATE))
    before = Exhibition.objects.count()
    response = as_carol.post(f"/api/collections/{only_private}/exhibition/")
    assert response.status_code == 400 and "only public works" in response.json()["error"]
    assert Exhibition.objects.count() == before


def test_only_curators_make_exhibitions_of_collections(as_alice, as_bob, works):
    cid = new(as_alice)
    add(as_alice, cid, works["alice_public"])
    for client in (as_alice, as_bob):
        response = client.post(f"/api/collections/{cid}/exhibition/")
        assert response.status_code == 403
        assert response.json() == {"error": "Only curators can make exhibitions."}
    assert APIClient().post(f"/api/collections/{cid}/exhibition/").status_code == 403
    assert not Exhibition.objects.exists()


def test_the_page_makes_the_draft_and_opens_the_curators_page(as_alice, carol, works):
    cid = new(as_alice)
    add(as_alice, cid, works["alice_public"])
    curator = Client()
    curator.force_login(carol)
    page = curator.get(f"/c/{cid}/")
    assert b"Make an exhibition draft" in page.content
    response = curator.post(f"/c/{cid}/exhibition/")
    slug = Exhibition.objects.get().slug
    assert response.status_code == 302 and response["Location"] == f"/exhibitions/{slug}/curate/"
    # and for anyone else the button is not there, and the page says why it did nothing
    bob = Client()
    bob.force_login(type(carol).objects.get(username="bob"))
    assert b"Make an exhibition draft" not in bob.get(f"/c/{cid}/").content
    refused = bob.post(f"/c/{cid}/exhibition/", follow=True)
    assert "Only curators can make exhibitions." in refused.content.decode()
    assert Exhibition.objects.count() == 1


# -- pages ------------------------------------------------------------------------------------


def test_the_collection_page_and_the_profile_show_what_the_viewer_may_see(as_alice, alice, works):
    public, private = new(as_alice, "Open sea"), new(as_alice, "Secret cove", public=False)
    add(as_alice, public, works["bob_1"])
    add(as_alice, public, works["alice_private"])
    add(as_alice, private, works["bob_2"])
    visitor = Client()
    page = visitor.get(f"/c/{public}/").content.decode()
    assert "Open sea" in page and works["bob_1"].public_id in page
    assert works["alice_private"].public_id not in page and "data-take-out" not in page
    profile = visitor.get("/u/alice/").content.decode()
    assert "Open sea" in profile and "Secret cove" not in profile
    owner = Client()
    owner.force_login(alice)
    mine = owner.get("/u/alice/").content.decode()
    assert "Open sea" in mine and "Secret cove" in mine
    page = owner.get(f"/c/{public}/").content.decode()
    assert works["alice_private"].public_id in page and "data-take-out" in page
    # the wall reads a page at a time, without JavaScript too
    assert owner.get(f"/c/{public}/?limit=1").content.decode().count('class="collection-item"') == 1
    assert owner.get(f"/c/{public}/?cursor=bogus").status_code == 404


def test_the_work_page_offers_collecting_what_may_be_collected(alice, bob, space, works):
    client = Client()
    client.force_login(alice)
    assert b"Add to collection" in client.get(f"/w/{works['bob_1'].public_id}/").content
    unlisted = made(bob, space, 40, Visibility.UNLISTED)
    assert b"Add to collection" not in client.get(f"/w/{unlisted.public_id}/").content
    draft = made(alice, space, 41, Visibility.DRAFT)
    assert b"Add to collection" not in client.get(f"/w/{draft.public_id}/").content
    assert b"Add to collection" not in Client().get(f"/w/{works['bob_1'].public_id}/").content


def test_the_collections_module_is_the_one_that_decides(alice, works):
    """``summaries`` answers as ``summary`` does, for each viewer."""
    collection = collections.do_create(alice, "Tides", public=True)
    for key in ("alice_private", "bob_1"):
        collections.do_add(collection, alice, works[key].public_id)
    for viewer in (alice, None):
        one = collections.summary(collection, viewer)
        (many,) = collections.summaries(Collection.objects.filter(pk=collection.pk), viewer)
        assert one == many


def test_a_list_of_collections_is_a_fixed_number_of_queries(alice, bob, works):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def listed() -> int:
        with CaptureQueriesContext(connection) as queries:
            collections.summaries(collections.of_person(alice, bob), bob, holding=works["bob_1"].public_id)
        return len(queries)

    for n in range(2):
        made_one = collections.do_create(alice, f"Set {n}", public=True)
        collections.do_add(made_one, alice, works["bob_1"].public_id)
    few = listed()
    for n in range(2, 8):
        made_one = collections.do_create(alice, f"Set {n}", public=True)
        collections.do_add(made_one, alice, works["bob_2"].public_id)
    assert listed() == few == 3
