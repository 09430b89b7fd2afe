"""The map of a space: laid out by a job, drawn from atlases, kept live as works come and
go, and a place to breed from. Alice's works are public unless a test hides one; Bob is
another breeder; visitors are anonymous.

Jobs run here by calling what their tasks call (``maps.run_build``, ``place_new``,
``blank_gone``); a test's transaction never commits, so nothing is deferred for real.
"""

from __future__ import annotations

import io
import struct

import numpy as np
import pytest
from django.core.files.storage import default_storage
from django.db import connection
from PIL import Image
from rest_framework.test import APIClient

from breeding import actions, looks
from breeding.models import Creation, Visibility
from gallery import maps
from gallery.models import MAP_CELLS, MapBuild, MapLayout, MapPlace, MapPoint, per_page

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_jobs_queued")]

WORKS = 30


@pytest.fixture
def staff(django_user_model):
    return django_user_model.objects.create_user("carol", "carol@example.org", "staff pass 3",
                                                 is_staff=True)


def public_works(owner, space, n: int, seed: int, title: str = "Work") -> list[Creation]:
    made = actions.do_random(owner, space, n, seed=seed)
    works = [actions.do_update(c, title=f"{title} {i}", visibility=Visibility.PUBLIC)
             for i, c in enumerate(made)]
    looks.compute(works)
    return works


@pytest.fixture
def works(alice, space):
    return public_works(alice, space, WORKS, seed=11)


def build(space, owner) -> MapLayout:
    job = maps.start_build(space, owner)
    assert maps.run_build(job.pk, threads=1) is not None
    job.refresh_from_db()
    assert job.status == MapBuild.Status.DONE and job.progress == 1.0
    return job.layout


@pytest.fixture
def layout(works, space, staff) -> MapLayout:
    return build(space, staff)


def points(client, slug="abstract") -> dict[int, tuple[float, float, int]]:
    answer = client.get(f"/api/maps/{slug}/points.bin")
    assert answer.status_code == 200 and answer["Content-Type"] == "application/octet-stream"
    data = answer.content
    (count,) = struct.unpack_from("<I", data, 0)
    assert len(data) == 4 + 16 * count
    found = {}
    for i in range(count):
        order, x, y, rgba = struct.unpack_from("<IffI", data, 4 + 16 * i)
        found[order] = (x, y, rgba)
    return found


def queued(task: str) -> int:
    """Jobs of ``task`` waiting for a worker."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM procrastinate_jobs WHERE task_name = %s "
                       "AND status = 'todo'", [task])
        return cursor.fetchone()[0]


def page(layout: MapLayout, cell: int, number: int) -> np.ndarray:
    with default_storage.open(maps.page_name(layout, cell, number)) as file:
        return np.asarray(Image.open(io.BytesIO(file.read())).convert("RGB")).astype(int)


def slot(pixels: np.ndarray, cell: int, order: int) -> np.ndarray:
    row, col = divmod(order % per_page(cell), 2048 // cell)
    return pixels[row * cell:(row + 1) * cell, col * cell:(col + 1) * cell]


def is_blank(pixels: np.ndarray) -> bool:
    """Painted with the page's background (near enough: lossy WebP rings a few levels, and
    bleeds a neighbour's colour a pixel or two across the border)."""
    return bool(np.abs(pixels - np.array(maps.BLANK)).mean() < 4)


# -- the relayout job -------------------------------------------------------------------------


def test_a_relayout_job_lays_out_every_public_work_and_builds_the_atlases(works, space, staff, alice, api):
    hidden = actions.do_random(alice, space, 2, seed=5)  # drafts: never on the map
    assert api.get("/api/maps/abstract/").json()["status"] == "none"
    layout = build(space, staff)
    on_map = MapPoint.objects.filter(layout=layout)
    assert sorted(on_map.values_list("order", flat=True)) == list(range(WORKS))
    assert {p.creation_id for p in on_map} == {w.pk for w in works}
    assert not on_map.filter(creation__in=hidden).exists()
    xy = np.array(list(on_map.values_list("x", "y")))
    assert xy.min() >= 0 and xy.max() <= 1 and np.ptp(xy, axis=0).max() > 0.5
    state = api.get("/api/maps/abstract/").json()
    assert state["status"] == "ready" and state["layout"] == layout.pk and state["works"] == WORKS
    assert state["cells"] == list(MAP_CELLS) and not state["can_breed"]  # a visitor
    assert state["points"] == f"/api/maps/abstract/points.bin?layout={layout.pk}&state={layout.state}"
    assert 1 <= len(state["labels"]) <= maps.LABELS
    assert {label["public_id"] for label in state["labels"]} <= {w.public_id for w in works}
    for cell in MAP_CELLS:
        atlas = state["atlas"][str(cell)]
        assert atlas["per_page"] == (2048 // cell) ** 2 and len(atlas["pages"]) == 1
        listed = atlas["pages"][0]
        x0, y0, x1, y1 = listed["bbox"]
        assert x0 == pytest.approx(xy[:, 0].min(), abs=1e-4) and y1 == pytest.approx(xy[:, 1].max(), abs=1e-4)
        answer = api.get(listed["url"])
        assert answer.status_code == 200 and answer["Content-Type"] == "image/webp"
        assert "max-age=300" in answer["Cache-Control"] and "public" in answer["Cache-Control"]
        picture = Image.open(io.BytesIO(answer.content))
        assert picture.size == (2048, 2048)
    # A work's slot holds its picture; the slots after the last work are blank.
    pixels = page(layout, 64, 0)
    assert not is_blank(slot(pixels, 64, 0)) and is_blank(slot(pixels, 64, WORKS))
    # ...and its dot is its mean colour.
    first = points(api)[0]
    mean = slot(pixels, 64, 0).reshape(-1, 3).mean(axis=0)
    assert np.abs(np.array([first[2] & 255, first[2] >> 8 & 255, first[2] >> 16 & 255]) - mean).max() < 8
    assert first[2] >> 24 == 255


def test_a_relayout_replaces_the_map_and_a_run_taken_up_again_starts_over(layout, space, staff):
    job = maps.start_build(space, staff)
    assert maps.start_build(space, staff) == job  # one at a time per space
    # A worker dies half way: the job is left running with a layout that never became the map.
    MapBuild.claim(job.pk)
    half = MapLayout.objects.create(space=space)
    MapBuild.objects.filter(pk=job.pk).update(layout=half)
    second = maps.run_build(job.pk, threads=1)  # the retried task
    job.refresh_from_db()
    assert job.status == MapBuild.Status.DONE and job.attempts == 2 and job.layout_id == second
    assert list(MapLayout.objects.filter(space=space).values_list("pk", flat=True)) == [second]
    assert not default_storage.exists(maps.page_name(layout, 16, 0))  # the old map's files went
    assert MapPoint.objects.filter(layout_id=second).count() == WORKS
    assert maps.run_build(job.pk) is None  # done exactly once


def test_staff_start_a_relayout_and_others_are_refused_with_a_sentence(works, staff, as_alice, api):
    client = APIClient()
    client.force_login(staff)
    answer = client.post("/api/maps/abstract/build/")
    assert answer.status_code == 202 and answer.json()["status"] == "queued"
    assert MapBuild.objects.get().owner == staff
    assert api.get("/api/maps/abstract/").json()["status"] == "building"
    refused = as_alice.post("/api/maps/abstract/build/")
    assert refused.status_code == 403 and refused.json()["error"] == "Only staff can lay out a map again."
    assert api.post("/api/maps/abstract/build/").status_code in (401, 403)


def test_the_minutely_job_starts_a_first_map_and_then_places_the_new_works(works, space, alice):
    from gallery import tasks

    assert tasks.place_on_maps(timestamp=0) == 1  # no map yet: a relayout of the site's own
    job = MapBuild.objects.get()
    assert job.owner is None and job.works_total == WORKS and queued("gallery.tasks.build_map") == 1
    assert tasks.place_on_maps(timestamp=1) == 0  # one under way is enough
    assert maps.run_build(job.pk, threads=1) is not None  # what the task runs
    assert tasks.relayout_maps(timestamp=2) == 1  # nightly: every space with a map
    tasks.place_on_maps(timestamp=3)
    assert queued("gallery.tasks.place_works") == 1
    tasks.place_on_maps(timestamp=4)
    assert queued("gallery.tasks.place_works") == 1  # one waiting per space
    made = public_works(alice, space, 2, seed=8, title="Late")
    assert tasks.place_works(space_id=space.pk) == 2
    assert MapPoint.objects.filter(creation__in=made, layout=maps.current(space)).count() == 2


# -- privacy ----------------------------------------------------------------------------------


@pytest.mark.parametrize("hide", ["private", "unlisted", "removed"])
def test_a_work_that_leaves_the_public_leaves_the_map_at_once_and_its_slots_go_blank(
        layout, works, api, hide, django_capture_on_commit_callbacks):
    work = works[3]
    point = MapPoint.objects.get(layout=layout, creation=work)
    before = points(api)
    assert point.order in before
    assert api.get(f"/api/maps/abstract/works/{point.order}/").status_code == 200
    state = api.get("/api/maps/abstract/").json()["state"]
    with django_capture_on_commit_callbacks(execute=True):
        if hide == "removed":
            actions.do_remove(work)
        else:
            actions.do_update(work, visibility=hide)
    assert queued("gallery.tasks.blank_map") == 1  # the job that paints its slots blank
    after = points(api)
    assert point.order not in after and len(after) == len(before) - 1
    assert api.get("/api/maps/abstract/").json()["state"] > state
    missing = api.get(f"/api/maps/abstract/works/{point.order}/")
    assert missing.status_code == 404 and missing.json()["error"] == f"No work is at {point.order} on this map."
    for cell in MAP_CELLS:
        assert not is_blank(slot(page(layout, cell, 0), cell, point.order))
    assert maps.blank_gone(layout.pk) == 1  # the job deferred on commit
    layout.refresh_from_db()
    assert layout.gone == []
    for cell in MAP_CELLS:
        pixels = page(layout, cell, 0)
        assert is_blank(slot(pixels, cell, point.order))
        assert not is_blank(slot(pixels, cell, (point.order + 1) % WORKS))
    versions = api.get("/api/maps/abstract/").json()["atlas"]["16"]["pages"][0]["url"]
    assert versions.endswith("?v=2")


def test_hidden_works_are_never_in_points_works_mine_or_search(layout, works, alice, bob, space, api, as_alice, as_bob):
    secret = works[5]
    order = MapPoint.objects.get(layout=layout, creation=secret).order
    actions.do_update(secret, title="Secret garden", visibility=Visibility.PRIVATE)
    draft = actions.do_random(alice, space, 1, seed=99)[0]
    actions.do_update(draft, title="Secret draft")
    for client in (api, as_alice, as_bob):
        assert order not in points(client)
        assert client.get("/api/maps/abstract/search/?q=secret").json() == {"orders": []}
        assert client.get(f"/api/maps/abstract/works/{order}/").status_code == 404
    mine = as_alice.get("/api/maps/abstract/mine/").json()["orders"]
    assert order not in mine and len(mine) == WORKS - 1
    assert as_bob.get("/api/maps/abstract/mine/").json() == {"orders": []}
    assert api.get("/api/maps/abstract/mine/").json() == {"orders": []}
    # A public work is found by its title, and opened by its order.
    found = api.get("/api/maps/abstract/search/?q=work 7").json()["orders"]
    assert found == [MapPoint.objects.get(layout=layout, creation=works[7]).order]
    opened = api.get(f"/api/maps/abstract/works/{found[0]}/").json()
    assert opened["public_id"] == works[7].public_id and opened["title"] == "Work 7"
    assert opened["url"] == f"/w/{works[7].public_id}/" and opened["thumb"].endswith("/256.webp")
    # A label never names a hidden work.
    MapLayout.objects.filter(pk=layout.pk).update(labels=[{"x": 0.5, "y": 0.5, "creation": secret.pk}])
    assert api.get("/api/maps/abstract/").json()["labels"] == []


def test_a_deleted_account_takes_its_works_off_the_map(layout, works, space, bob, api):
    bobs = public_works(bob, space, 1, seed=3, title="Bob's")[0]
    assert maps.place_new(space) == 1
    order = MapPoint.objects.get(creation=bobs).order
    assert order in points(api)
    bob.delete()
    assert order not in points(api)
    assert MapLayout.objects.get(pk=layout.pk).gone == [order]


# -- live placement -----------------------------------------------------------------------------


def test_a_new_public_work_is_placed_among_its_look_alikes_without_a_relayout(layout, works, alice, space, api):
    state = api.get("/api/maps/abstract/").json()
    parent = works[0]
    child = actions.do_children(alice, parent, 1, chaos=0.05, seed=4)[0]
    actions.do_update(child, visibility=Visibility.PUBLIC)
    looks.compute([child])
    assert maps.place_new(space) == 1
    assert maps.place_new(space) == 0  # placed once
    point = MapPoint.objects.get(creation=child)
    assert point.layout_id == layout.pk and point.order == WORKS
    xy = np.array(list(MapPoint.objects.filter(layout=layout).exclude(pk=point.pk).values_list("x", "y")))
    here = np.array([point.x, point.y])
    nearest = np.argsort(np.linalg.norm(xy - here, axis=1))
    parent_point = MapPoint.objects.get(layout=layout, creation=parent)
    d_parent = np.linalg.norm(here - [parent_point.x, parent_point.y])
    d_typical = np.median(np.linalg.norm(xy - xy.mean(axis=0), axis=1))
    assert d_parent < d_typical / 2, (d_parent, d_typical, nearest[:3])
    after = api.get("/api/maps/abstract/").json()
    assert after["layout"] == layout.pk and after["works"] == WORKS + 1 and after["state"] > state["state"]
    assert after["atlas"]["128"]["pages"][0]["url"].endswith("?v=2")  # the last page repainted
    assert WORKS in points(api)
    assert not is_blank(slot(page(layout, 128, 0), 128, WORKS))


def test_a_public_work_without_a_look_yet_is_measured_and_placed(layout, alice, space):
    made = actions.do_random(alice, space, 1, seed=21)[0]
    actions.do_update(made, visibility=Visibility.PUBLIC)
    assert maps.place_new(space) == 1
    made.refresh_from_db()
    assert made.look is not None and MapPoint.objects.filter(creation=made).exists()


# -- breeding from a place ----------------------------------------------------------------------


def test_breeding_from_a_place_makes_drafts_of_the_requester_with_the_place_kept(layout, works, as_bob, bob):
    target = MapPoint.objects.filter(layout=layout).order_by("order")[WORKS // 2]
    answer = as_bob.post("/api/maps/abstract/breed/", {"x": target.x, "y": target.y, "n": 3},
                         format="json")
    assert answer.status_code == 201, answer.content
    made = answer.json()
    assert len(made) == 3 and {w["origin"] for w in made} == {"cross"}
    rows = Creation.objects.filter(public_id__in=[w["id"] for w in made])
    assert all(w.owner == bob and w.visibility == Visibility.DRAFT for w in rows)
    assert len({w.latent_sha for w in rows}) == 3
    places = MapPlace.objects.filter(creation__in=rows)
    assert places.count() == 3 and all(p.x == pytest.approx(target.x) and p.layout_id == layout.pk
                                       for p in places)
    parents = {link.parent_id for w in rows for link in w.parent_links.all()}
    assert target.creation_id in parents and parents <= {w.pk for w in works}


def test_breeding_is_refused_with_a_sentence_far_from_any_work_or_for_a_visitor(layout, as_bob, api):
    MapPoint.objects.filter(layout=layout).update(x=0.7, y=0.7)
    far = as_bob.post("/api/maps/abstract/breed/", {"x": 0.05, "y": 0.05}, format="json")
    assert far.status_code == 400
    assert far.json()["error"] == ("There are no works near this place to breed from. Click closer "
                                   "to some pictures.")
    bad = as_bob.post("/api/maps/abstract/breed/", {"x": 2, "y": 0.5}, format="json")
    assert bad.status_code == 400 and bad.json()["error"].startswith("x: ")
    visitor = api.post("/api/maps/abstract/breed/", {"x": 0.7, "y": 0.7}, format="json")
    assert visitor.status_code in (401, 403) and visitor.json()["error"]
    assert not Creation.objects.filter(map_place__isnull=False).exists()


def test_breeding_where_there_is_no_map_yet_is_refused(works, as_bob):
    answer = as_bob.post("/api/maps/abstract/breed/", {"x": 0.5, "y": 0.5}, format="json")
    assert answer.status_code == 404 and answer.json()["error"] == "The abstract space has no map yet."


# -- errors -----------------------------------------------------------------------------------


def test_an_unknown_space_and_bad_requests_are_answered_with_sentences(layout, api):
    for path in ("/api/maps/nowhere/", "/api/maps/nowhere/points.bin", "/api/maps/nowhere/mine/",
                 "/api/maps/nowhere/search/?q=a", "/api/maps/nowhere/works/0/"):
        answer = api.get(path)
        assert answer.status_code == 404 and answer.json() == {"error": "There is no space 'nowhere'."}, path
    long = api.get("/api/maps/abstract/search/?q=" + "a" * 101)
    assert long.status_code == 400 and long.json()["error"] == "A search is at most 100 characters."
    assert api.get(f"/api/maps/abstract/atlas/{layout.pk}/16/7.webp").json() == {
        "error": "There is no such page of this map."}
    assert api.get(f"/api/maps/abstract/atlas/{layout.pk}/20/0.webp").status_code == 404
