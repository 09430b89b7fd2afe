"""The public gallery: lists, search, likes, neighbours and profiles show public works only."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from django.db import connection, transaction
from rest_framework.test import APIClient

from breeding import actions
from breeding.models import Creation, Visibility
from gallery.neighbours import ensure_index, index_name, neighbour_ids, neighbours_query

pytestmark = pytest.mark.django_db


def publish(creation, title=""):
    actions.do_update(creation, title=title, visibility=Visibility.PUBLIC)
    return creation


@pytest.fixture
def gallery(alice, bob, space):
    """Twelve public works by Alice and Bob, and one of each hidden kind by Alice."""
    ensure_index(space)  # as at start-up: before any row (DDL after writes in one transaction fails)
    works = [publish(c, f"Tide {i}") for i, c in enumerate(actions.do_random(alice, space, 6, seed=1))]
    works += [publish(c, f"Ember {i}") for i, c in enumerate(actions.do_random(bob, space, 6, seed=2))]
    draft = actions.do_random(alice, space, 1, seed=3)[0]
    private = actions.do_random(alice, space, 1, seed=4)[0]
    actions.do_update(private, visibility=Visibility.PRIVATE, title="Tide secret")
    unlisted = actions.do_random(alice, space, 1, seed=5)[0]
    actions.do_update(unlisted, visibility=Visibility.UNLISTED, title="Tide unlisted")
    removed = publish(actions.do_random(alice, space, 1, seed=6)[0], "Tide removed")
    actions.do_remove(removed)
    return {"public": works, "hidden": [draft, private, unlisted, removed]}


def ids(response):
    return [w["id"] for w in response.json()["results"]]


def test_newest_lists_public_works_only_newest_first(api, gallery):
    listed = ids(api.get("/api/gallery/"))
    expected = [c.public_id for c in sorted(gallery["public"], key=lambda c: (c.created, c.id), reverse=True)]
    assert listed == expected
    assert not {c.public_id for c in gallery["hidden"]} & set(listed)


def test_pages_follow_a_cursor_to_the_end(api, gallery):
    first = api.get("/api/gallery/?limit=5").json()
    second = api.get(first["next"]).json()
    third = api.get(second["next"]).json()
    seen = [w["id"] for page in (first, second, third) for w in page["results"]]
    assert len(seen) == 12 == len(set(seen))
    assert third["next"] is None


def test_a_page_size_out_of_bounds_is_refused_not_ignored(api, gallery):
    # Numbers are ASCII digits, read one way everywhere (``common.numbers.whole_number``):
    # not ``٣`` (which ``int()`` takes), ``²`` (which ``str.isdigit()`` takes) or ``+5``.
    for limit in ("0", "97", "1" * 5000, "many", "٣", "²", "+5", "-1", " 5"):
        response = api.get("/api/gallery/", {"limit": limit})
        assert response.status_code == 400, limit
        assert response.json()["fields"] == {"limit": [
            "must be between 1 and 96." if limit.isascii() and limit.isdigit() else "must be a whole number."
        ]}
    assert api.get("/api/gallery/", {"limit": "05"}).status_code == 200


def test_a_list_page_is_one_query(api, gallery, django_assert_num_queries):
    with django_assert_num_queries(1):
        assert api.get("/api/gallery/?order=trending&limit=24").status_code == 200
    with django_assert_num_queries(1):
        assert api.get("/api/gallery/?space=abstract&q=tide").status_code == 200


def test_search_and_filters(api, as_alice, gallery):
    tides = api.get("/api/gallery/?q=tide").json()["results"]
    assert sorted(w["title"] for w in tides) == [f"Tide {i}" for i in range(6)]
    assert {w["owner"] for w in api.get("/api/gallery/?owner=bob").json()["results"]} == {"bob"}
    assert as_alice.get("/api/gallery/?q=secret").json()["results"] == []  # not even the owner's
    assert api.get("/api/gallery/?order=random").json()["error"] == "order: must be one of newest, trending, following."


def test_likes_are_idempotent_and_move_trending(as_alice, as_bob, gallery):
    old, new = gallery["public"][0], gallery["public"][-1]  # Alice's oldest, the newest
    for _ in range(2):
        response = as_alice.put(f"/api/creations/{old.public_id}/like/")
    assert response.json() == {"liked": True, "like_count": 1}
    as_bob.put(f"/api/creations/{old.public_id}/like/")
    old.refresh_from_db()
    assert old.like_count == 2
    # Made a year ago: an unlike rescores it from its making and the like left, both long past.
    Creation.objects.filter(pk=old.pk).update(created=old.created.replace(year=old.created.year - 1))
    as_bob.delete(f"/api/creations/{old.public_id}/like/")
    assert as_bob.delete(f"/api/creations/{old.public_id}/like/").json() == {"liked": False, "like_count": 1}
    trending = ids(APIClient().get("/api/gallery/?order=trending"))
    assert trending.index(new.public_id) < trending.index(old.public_id)  # her own like lifts nothing
    as_bob.put(f"/api/creations/{old.public_id}/like/")
    trending = ids(APIClient().get("/api/gallery/?order=trending"))
    assert trending.index(old.public_id) < trending.index(new.public_id)  # Bob's like is today's
    as_bob.delete(f"/api/creations/{old.public_id}/like/")
    trending = ids(APIClient().get("/api/gallery/?order=trending"))
    assert trending.index(new.public_id) < trending.index(old.public_id)


def test_liking_needs_an_account_and_a_visible_work(api, as_bob, gallery):
    public = gallery["public"][0]
    assert api.put(f"/api/creations/{public.public_id}/like/").status_code in (401, 403)
    private = gallery["hidden"][1]
    assert as_bob.put(f"/api/creations/{private.public_id}/like/").status_code == 404


@pytest.mark.django_db(transaction=True)
def test_concurrent_likes_are_all_counted(django_user_model, space):
    ensure_index(space)
    owner = django_user_model.objects.create_user("owner")
    work = publish(actions.do_random(owner, space, 1)[0])
    # 8 threads at once: within the pool of database connections (max 10).
    fans = [django_user_model.objects.create_user(f"fan{i}") for i in range(4)]
    start = threading.Barrier(len(fans) * 2)
    codes = []

    def like(user):
        client = APIClient()
        client.force_login(user)
        start.wait()
        codes.append(client.put(f"/api/creations/{work.public_id}/like/").status_code)
        connection.close()

    threads = [threading.Thread(target=like, args=(fan,)) for fan in fans for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    work.refresh_from_db()
    assert codes == [200] * 8
    assert work.like_count == 4 == work.likes.count()


def test_neighbours_are_the_nearest_public_works_by_cosine(api, gallery, space):
    target = gallery["public"][0]
    response = api.get(f"/api/creations/{target.public_id}/neighbours/?limit=5")
    assert response.status_code == 200
    got = [w["id"] for w in response.json()]
    others = [c for c in gallery["public"] if c.pk != target.pk]
    t = np.asarray(target.latent)

    def cosine_distance(c):
        v = np.asarray(c.latent)
        return 1 - float(t @ v / (np.linalg.norm(t) * np.linalg.norm(v)))

    assert got == [c.public_id for c in sorted(others, key=cosine_distance)[:5]]
    assert not {c.public_id for c in gallery["hidden"]} & set(got)


def test_the_neighbour_query_uses_the_spaces_hnsw_index(gallery, space):
    """The plan of the query ``neighbour_ids`` runs (not a copy of it)."""
    target = gallery["public"][0]
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        plan = neighbours_query(target, 5).explain()
    assert index_name(space) in plan, plan
    assert len(neighbour_ids(target, 50)) == 11  # a full page of what exists, filtered


def test_neighbours_of_a_hidden_work_are_not_served(as_bob, gallery):
    private = gallery["hidden"][1]
    assert as_bob.get(f"/api/creations/{private.public_id}/neighbours/").status_code == 404
    assert as_bob.get(f"/api/creations/{private.public_id}/neighbours/?limit=0").status_code == 404


def test_profiles_count_public_works_only(api, gallery):
    profile = api.get("/api/users/alice/").json()
    assert profile["username"] == "alice" and profile["public_works"] == 6
    assert api.get("/api/users/nobody/").json() == {"error": "No one called 'nobody' here."}


def test_list_items_match_the_documented_work_shape(api, gallery):
    from gallery.api import WorkSerializer
    from gallery.listings import public_works, work

    item = api.get("/api/gallery/?limit=1").json()["results"][0]
    creation = public_works().get(public_id=item["id"])
    assert item == work(creation) == dict(WorkSerializer(creation).data)


def test_list_pages_are_kept_a_moment_and_errors_never(client, settings, space, alice):
    from gallery import api as gallery_api

    settings.GALLERY_CACHE_SECONDS = 60
    gallery_api._pages.clear()
    first = actions.do_update(actions.do_random(alice, space, 1, seed=1)[0], title="One",
                              visibility=Visibility.PUBLIC)
    assert [w["id"] for w in client.get("/api/gallery/").json()["results"]] == [first.public_id]
    second = actions.do_update(actions.do_random(alice, space, 1, seed=2)[0], title="Two",
                               visibility=Visibility.PUBLIC)
    assert [w["id"] for w in client.get("/api/gallery/").json()["results"]] == [first.public_id]
    fresh = client.get("/api/gallery/?order=trending").json()["results"]
    assert {w["id"] for w in fresh} == {first.public_id, second.public_id}
    kept = len(gallery_api._pages)
    assert client.get("/api/gallery/?order=sideways").status_code == 400
    assert client.get("/api/gallery/?cursor=cD1hYmM%3D").status_code == 404
    assert len(gallery_api._pages) == kept  # an error is answered, never kept
    settings.GALLERY_CACHE_SECONDS = 0
    assert len(client.get("/api/gallery/").json()["results"]) == 2


@pytest.mark.parametrize("url", ["/api/gallery/", "/api/gallery/?space=abstract&limit=48"])
def test_the_browsable_page_of_a_viewer_never_reaches_a_json_client(client, settings, space, alice, url):
    """The HTML page names its viewer and carries their CSRF token: it is never kept, and a
    JSON client of the same list gets JSON."""
    from gallery import api as gallery_api

    settings.GALLERY_CACHE_SECONDS = 60
    gallery_api._pages.clear()
    actions.do_update(actions.do_random(alice, space, 1, seed=1)[0], visibility=Visibility.PUBLIC)
    client.force_login(alice)
    sep = "&" if "?" in url else "?"
    for html in (client.get(f"{url}{sep}format=api"), client.get(url, HTTP_ACCEPT="text/html")):
        assert html["Content-Type"].startswith("text/html") and b"alice" in html.content
    client.logout()
    for answer in (client.get(url), client.get(url, HTTP_ACCEPT="application/json")):
        assert answer["Content-Type"] == "application/json"
        assert b"csrfmiddlewaretoken" not in answer.content and len(answer.json()["results"]) == 1
    # ...and JSON kept for one Accept header is not served for another.
    assert client.get(f"{url}{sep}format=api")["Content-Type"].startswith("text/html")
