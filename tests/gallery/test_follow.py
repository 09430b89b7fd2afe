"""Following artists: PUT/DELETE /api/users/<name>/follow/, the counts on profiles, and the
"following" view of the gallery (``/api/gallery/?order=following``): works by those the
breeder follows, newest first, only those listed for them, a cursor page at a time."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework.test import APIClient

from breeding import actions
from breeding.models import Creation, Visibility
from gallery.models import Follow

pytestmark = pytest.mark.django_db


@pytest.fixture
def carol(django_user_model):
    return django_user_model.objects.create_user("carol", "carol@example.org", "tide pools 3")


@pytest.fixture
def dave(django_user_model):
    return django_user_model.objects.create_user("dave", "dave@example.org", "sea glass 4")


def made(owner, space, seed, visibility=Visibility.PUBLIC, title="", minutes_ago=0):
    work = actions.do_random(owner, space, 1, seed=seed)[0]
    actions.do_update(work, title=title, visibility=visibility)
    Creation.objects.filter(pk=work.pk).update(created=timezone.now() - timedelta(minutes=minutes_ago))
    work.refresh_from_db()
    return work


def ids(response):
    return [w["id"] for w in response.json()["results"]]


@pytest.fixture
def world(alice, bob, carol, dave, space):
    """Alice follows Bob and Carol, not Dave. Bob has a public work and one of each hidden
    kind; Carol two public works; Dave one; Alice one of her own of each kind."""
    Follow.objects.create(follower=alice, artist=bob)
    Follow.objects.create(follower=alice, artist=carol)
    listed = [made(bob, space, 1, minutes_ago=30, title="Bob's tide"),
              made(carol, space, 2, minutes_ago=10, title="Carol's ember"),
              made(carol, space, 3, minutes_ago=50, title="Carol's old tide")]
    hidden = [made(bob, space, 4, Visibility.PRIVATE, minutes_ago=1),
              made(bob, space, 5, Visibility.UNLISTED, minutes_ago=2),
              made(bob, space, 6, Visibility.DRAFT, minutes_ago=3)]
    removed = made(bob, space, 7, minutes_ago=4)
    actions.do_remove(removed)
    hidden.append(removed)
    unfollowed = made(dave, space, 8, minutes_ago=5)
    own = [made(alice, space, 10 + i, visibility, minutes_ago=6) for i, visibility in enumerate(Visibility.values)]
    return {"listed": listed, "hidden": hidden, "unfollowed": unfollowed, "own": own}


# -- following --------------------------------------------------------------------------


def test_following_and_unfollowing_are_idempotent(as_alice, bob):
    for _ in range(2):
        response = as_alice.put("/api/users/bob/follow/")
        assert response.status_code == 200
        assert response.json() == {"following": True, "followers": 1}
    assert Follow.objects.filter(artist=bob).count() == 1
    for _ in range(2):
        assert as_alice.delete("/api/users/bob/follow/").json() == {"following": False, "followers": 0}
    assert not Follow.objects.exists()


def test_nobody_follows_themselves(as_alice, alice):
    response = as_alice.put("/api/users/alice/follow/")
    assert response.status_code == 400
    assert response.json() == {"error": "You cannot follow yourself: your own works are in your library."}
    assert not Follow.objects.exists()
    with pytest.raises(IntegrityError), transaction.atomic():  # nor behind the API's back
        Follow.objects.create(follower=alice, artist=alice)


def test_following_needs_an_account_and_someone_to_follow(api, as_alice, bob, django_user_model):
    assert api.put("/api/users/bob/follow/").status_code == 403
    assert api.put("/api/users/bob/follow/").json() == {"error": "Log in first: this needs an account."}
    assert api.delete("/api/users/bob/follow/").status_code == 403
    for name in ("nobody", "gone"):
        if name == "gone":
            django_user_model.objects.create_user("gone", "gone@example.org", "long gone 5", is_active=False)
        for method in (as_alice.put, as_alice.delete):
            response = method(f"/api/users/{name}/follow/")
            assert response.status_code == 404
            assert response.json() == {"error": f"No one called '{name}' here."}
    assert not Follow.objects.exists()


def test_profiles_count_followers_and_following(api, as_alice, as_bob, alice, bob, carol):
    as_alice.put("/api/users/bob/follow/")
    as_alice.put("/api/users/carol/follow/")
    as_bob.put("/api/users/carol/follow/")
    carols = api.get("/api/users/carol/").json()
    assert (carols["followers"], carols["following"], carols["followed"]) == (2, 0, False)
    alices = as_bob.get("/api/users/alice/").json()
    assert (alices["followers"], alices["following"], alices["followed"]) == (0, 2, False)
    assert as_alice.get("/api/users/bob/").json()["followed"] is True


def test_a_follow_goes_with_either_account(alice, bob):
    Follow.objects.create(follower=alice, artist=bob)
    bob.delete()
    assert not Follow.objects.exists()


# -- the following view of the gallery -------------------------------------------------


def test_the_feed_lists_the_followed_artists_listed_works_newest_first(as_alice, alice, world):
    listed = ids(as_alice.get("/api/gallery/?order=following"))
    newest_first = sorted(world["listed"], key=lambda c: (c.created, c.id), reverse=True)
    assert listed == [c.public_id for c in newest_first]
    # nothing private, unlisted, draft or removed of Bob's; nothing of Dave's nor of her own
    assert not {c.public_id for c in [*world["hidden"], world["unfollowed"], *world["own"]]} & set(listed)
    # ...which is what the one rule lists for her, of the artists she follows
    ruled = Creation.objects.listed_for(alice).filter(owner__in=[c.owner for c in world["listed"]])
    assert set(listed) == set(ruled.values_list("public_id", flat=True))


def test_the_feed_follows_a_cursor_and_the_filters(as_alice, alice, bob, space, world):
    more = [made(bob, space, 100 + i, title=f"Bob's wave {i}", minutes_ago=60 + i) for i in range(5)]
    everything = sorted([*world["listed"], *more], key=lambda c: (c.created, c.id), reverse=True)
    seen, url = [], "/api/gallery/?order=following&limit=3"
    while url:
        page = as_alice.get(url).json()
        assert len(page["results"]) <= 3
        seen += [w["id"] for w in page["results"]]
        url = page["next"]
    assert seen == [c.public_id for c in everything]
    assert ids(as_alice.get("/api/gallery/?order=following&q=tide")) == [
        world["listed"][0].public_id, world["listed"][2].public_id]
    assert ids(as_alice.get("/api/gallery/?order=following&owner=carol")) == [
        world["listed"][1].public_id, world["listed"][2].public_id]
    as_alice.delete("/api/users/bob/follow/")
    assert ids(as_alice.get("/api/gallery/?order=following")) == [
        world["listed"][1].public_id, world["listed"][2].public_id]


def test_the_feed_is_one_query_after_the_login(as_alice, world, django_assert_num_queries):
    as_alice.get("/api/gallery/?order=following")
    with django_assert_num_queries(3):  # the session, the user, the page
        assert as_alice.get("/api/gallery/?order=following&limit=24").status_code == 200


def test_the_feed_needs_an_account_and_is_kept_for_no_one(api, as_alice, as_bob, settings, world):
    from gallery import api as gallery_api

    assert api.get("/api/gallery/?order=following").status_code == 403
    settings.GALLERY_CACHE_SECONDS = 60
    gallery_api._pages.clear()
    alices = as_alice.get("/api/gallery/?order=following")
    assert ids(alices) and "private" in alices["Cache-Control"]
    assert ids(as_bob.get("/api/gallery/?order=following")) == []  # Bob follows no one
    assert api.get("/api/gallery/?order=following").status_code == 403
    assert not gallery_api._pages


def test_a_followed_artists_works_come_and_go_with_their_visibility(as_alice, world):
    bobs = world["listed"][0]
    actions.do_update(bobs, visibility=Visibility.PRIVATE)
    assert bobs.public_id not in ids(as_alice.get("/api/gallery/?order=following"))
    actions.do_update(bobs, visibility=Visibility.PUBLIC)
    assert bobs.public_id in ids(as_alice.get("/api/gallery/?order=following"))


def test_the_feed_is_documented_as_an_order(api):
    schema = api.get("/api/schema/?format=json").json()
    orders = next(p for p in schema["paths"]["/api/gallery/"]["get"]["parameters"] if p["name"] == "order")
    assert "following" in orders["schema"]["enum"]
    follow = schema["paths"]["/api/users/{username}/follow/"]
    assert {"put", "delete"} <= set(follow)
    assert {"400", "403", "404"} <= set(follow["put"]["responses"])


def test_an_unused_page_of_a_breeder_who_follows_no_one_is_empty(as_bob):
    page = as_bob.get("/api/gallery/?order=following").json()
    assert page["results"] == [] and page["next"] is None


def test_listed_works_of_one_breeder_stay_out_of_anothers_feed(alice, bob, space):
    # Bob follows Alice: her own private work is never his, whatever she follows.
    Follow.objects.create(follower=bob, artist=alice)
    Follow.objects.create(follower=alice, artist=bob)
    secret = made(alice, space, 1, Visibility.PRIVATE)
    client = APIClient()
    client.force_login(bob)
    assert secret.public_id not in ids(client.get("/api/gallery/?order=following"))
