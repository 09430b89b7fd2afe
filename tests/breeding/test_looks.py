"""Looks: what "looks alike" means, the job that measures kept works, and look-alikes
served under the one privacy rule (a work, or a picture sent as it is)."""

from __future__ import annotations

import io

import numpy as np
import pytest
import torch
from django.db import connection, transaction
from django.test import Client
from PIL import Image
from procrastinate.contrib.django.models import ProcrastinateJob
from rest_framework.test import APIClient

from breeding import actions, looks, tasks
from breeding.models import Creation, Origin, Visibility
from inference import get_space, look

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_jobs_queued")]


def render64(creation) -> np.ndarray:
    return get_space(creation.space.slug).render(creation.tensor()[None], look.SIZE)[0].numpy()


# -- the distance and the vector --------------------------------------------------------------


def test_the_distance_sees_colours_and_their_places_not_where_fine_veins_run():
    space = get_space("abstract")
    pictures = space.render(space.sample(6, seed=11), look.SIZE).numpy()
    picture = pictures[0]
    nudged = np.roll(picture, 1, axis=1)  # the same picture, one pixel along
    swapped = picture[..., ::-1].copy()  # the same shapes in other colours
    upside_down = picture[::-1].copy()  # the same colours in other places
    m = look.maps(np.stack([picture, nudged, swapped, upside_down, *pictures[1:]]))
    d = look.distance(m[:1], m)[0]
    assert d[0] == pytest.approx(0, abs=1e-5)
    assert d[1] < 0.25 * min(d[2], d[3])
    others = d[4:]
    assert d[1] < others.min()  # closer than any other picture of the space


def test_the_vector_measures_the_distance_from_below_and_nearly():
    space = get_space("abstract")
    pictures = space.render(space.sample(40, seed=12), look.SIZE)
    m = look.maps(pictures)
    truth = look.distance(m, m)
    vectors = torch.from_numpy(look.embed(pictures.numpy()))
    assert vectors.shape == (40, look.DIMS) and vectors.dtype == torch.float32
    approx = torch.cdist(vectors.double(), vectors.double()).float()
    off = ~torch.eye(40, dtype=torch.bool)
    assert (approx[off] <= truth[off] * 1.001 + 1e-6).all()  # what is left out only lowers it
    assert (approx[off] / truth[off]).median() > 0.9
    # The same picture at another size measures about the same (area resizing).
    big = space.render(space.sample(1, seed=12), 256).numpy()
    assert np.linalg.norm(look.embed(big)[0] - vectors[0].numpy()) < 0.2 * approx[0, 1:].min()


# -- the job ----------------------------------------------------------------------------------


def test_keeping_a_work_measures_its_look_and_drafts_are_not_measured(
        alice, space, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        drafts = actions.do_random(alice, space, 3, seed=21)
    assert not ProcrastinateJob.objects.filter(task_name="breeding.tasks.fill_looks").exists()
    with django_capture_on_commit_callbacks(execute=True):
        actions.do_update(drafts[0], visibility=Visibility.PRIVATE)
    job = ProcrastinateJob.objects.get(task_name="breeding.tasks.fill_looks")
    assert job.args == {"ids": [drafts[0].pk]}
    assert tasks.fill_looks(**job.args) == 1
    kept = Creation.objects.get(pk=drafts[0].pk)
    assert np.allclose(kept.look, look.embed(render64(kept))[0], atol=1e-5)
    assert Creation.objects.filter(pk__in=[d.pk for d in drafts[1:]], look__isnull=True).count() == 2
    assert tasks.fill_looks(ids=[drafts[0].pk]) == 0  # idempotent: measured once


def test_the_sweep_measures_kept_works_from_before_looks_and_nothing_without_a_place(alice, space):
    works = actions.do_random(alice, space, 4, seed=22)
    Creation.objects.filter(pk__in=[w.pk for w in works]).update(visibility=Visibility.PUBLIC)
    Creation.objects.filter(pk=works[3].pk).update(origin=Origin.VIDEO)  # a film: no look
    assert tasks.fill_missing_looks(0) == 3
    assert list(Creation.objects.filter(pk__in=[w.pk for w in works], look__isnull=True)
                .values_list("pk", flat=True)) == [works[3].pk]
    assert tasks.fill_missing_looks(0) == 0


# -- look-alikes ------------------------------------------------------------------------------


@pytest.fixture
def measured(alice, bob, space):
    """Alice's public works, one of each hidden kind, and Bob's own private work, each with a
    look (set directly, so that who is nearest is known): work i sits at distance i from
    the first. Searched exactly (no index: an approximate graph of a few rows is no place
    to test who may see what); the plan test below adds the index."""
    works = actions.do_random(alice, space, 9, seed=31) + actions.do_random(bob, space, 1, seed=32)
    public, private, unlisted, removed, draft, bobs = works[:5], works[5], works[6], works[7], works[8], works[9]
    for w in public + [removed]:
        actions.do_update(w, visibility=Visibility.PUBLIC)
    actions.do_update(private, visibility=Visibility.PRIVATE)
    actions.do_update(unlisted, visibility=Visibility.UNLISTED)
    actions.do_update(bobs, visibility=Visibility.PRIVATE)
    actions.do_remove(removed)
    order = [public[0], private, bobs, public[1], unlisted, removed, draft, public[2], public[3], public[4]]
    for i, w in enumerate(order):
        vector = np.zeros(look.DIMS, dtype=np.float32)
        vector[0] = i
        Creation.objects.filter(pk=w.pk).update(look=vector.tolist())
    return {"public": public, "private": private, "unlisted": unlisted, "removed": removed,
            "draft": draft, "bobs": bobs}


def ids(response):
    assert response.status_code == 200, response.content
    return [w["id"] for w in response.json()]


def test_lookalikes_are_the_nearest_works_the_reader_may_list(api, as_alice, as_bob, measured):
    first, public = measured["public"][0], measured["public"]
    base = f"/api/creations/{first.public_id}/lookalikes/"
    url = base + "?limit=20"
    assert ids(api.get(url)) == [w.public_id for w in public[1:]]
    assert ids(as_bob.get(url)) == [measured["bobs"].public_id] + [w.public_id for w in public[1:]]
    # Alice finds all of hers, her unlisted and draft ones too, never a removed one.
    assert ids(as_alice.get(url)) == [measured["private"].public_id, public[1].public_id,
                                      measured["unlisted"].public_id, measured["draft"].public_id,
                                      ] + [w.public_id for w in public[2:]]
    assert ids(api.get(base + "?limit=2")) == [w.public_id for w in public[1:3]]


def test_lookalikes_of_a_hidden_or_unknown_work_answer_as_missing(api, as_bob, measured):
    for work in (measured["private"], measured["removed"]):
        response = as_bob.get(f"/api/creations/{work.public_id}/lookalikes/")
        assert response.status_code == 404 and "error" in response.json()
    assert api.get("/api/creations/nope/lookalikes/").status_code == 404
    response = api.get(f"/api/creations/{measured['public'][0].public_id}/lookalikes/?limit=x")
    assert response.status_code == 400 and "limit" in str(response.json())


def test_an_unmeasured_work_has_no_lookalikes_yet(api, alice, space, measured):
    fresh = actions.do_random(alice, space, 1, seed=33)[0]
    actions.do_update(fresh, visibility=Visibility.PUBLIC)
    assert ids(api.get(f"/api/creations/{fresh.public_id}/lookalikes/")) == []


@pytest.fixture
def indexed(space):
    looks.ensure_index(space)  # as at start-up: before any row


def test_the_public_search_walks_the_spaces_index(indexed, measured, space):
    target = np.zeros(look.DIMS, dtype=np.float32)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        plan = looks.nearest(Creation.objects.public(), target, space.pk, 5).explain()
    assert looks.index_name(space) in plan, plan


def png(picture: np.ndarray) -> io.BytesIO:
    buffer = io.BytesIO()
    Image.fromarray(picture).save(buffer, format="PNG")
    buffer.seek(0)
    buffer.name = "mine.png"
    return buffer


def test_a_picture_finds_the_works_that_look_like_it_without_being_kept(alice, api, space):
    works = actions.do_random(alice, space, 6, seed=41)
    for w in works:
        actions.do_update(w, visibility=Visibility.PUBLIC)
    looks.fill()
    target = works[4]
    picture = get_space("abstract").render(target.tensor()[None], 200)[0].numpy()
    response = api.post("/api/lookalikes/", {"file": png(picture), "limit": 3}, format="multipart")
    assert ids(response)[0] == target.public_id and len(ids(response)) == 3
    response = api.post("/api/lookalikes/", {"file": png(picture), "space": "abstract"},
                        format="multipart")
    assert ids(response)[0] == target.public_id
    assert Creation.objects.count() == 6  # nothing kept of the picture


def test_a_bad_picture_or_space_gets_a_sentence(api, space):
    response = api.post("/api/lookalikes/", {"file": io.BytesIO(b"not a picture")}, format="multipart")
    assert response.status_code == 400 and "picture" in str(response.json()).lower()
    response = api.post("/api/lookalikes/", {}, format="multipart")
    assert response.status_code == 400 and "error" in response.json()
    response = api.post("/api/lookalikes/", {"file": png(np.zeros((8, 8, 3), np.uint8)),
                                             "space": "nowhere"}, format="multipart")
    assert response.status_code == 400 and "nowhere" in str(response.json())


def test_searching_by_picture_draws_from_the_senders_render_budget(alice, space, settings, one_minute):
    """A visitor who keeps sending pictures is refused with a sentence once their address's
    minute of computing is spent (decoding and measuring are charged as measured); another
    address, and the page as well as the API, answer by the same budget."""
    settings.RENDER_BUDGET_ANON_CPU_S_PER_MIN = 0.2
    picture = (np.random.default_rng(3).random((900, 900, 3)) * 255).astype(np.uint8)
    visitor = APIClient(REMOTE_ADDR="203.0.113.7")
    statuses = []
    for _ in range(60):
        response = visitor.post("/api/lookalikes/", {"file": png(picture)}, format="multipart")
        statuses.append(response.status_code)
        if response.status_code != 200:
            break
    assert statuses[-1] == 429 and set(statuses[:-1]) == {200} and len(statuses) >= 2, statuses
    assert response.json()["error"].startswith("Visitors from your address have asked for more")
    assert response["Retry-After"] == str(response.json()["retry_after"])
    page = Client(REMOTE_ADDR="203.0.113.7").post("/looks/", {"file": png(picture)})
    assert page.status_code == 429 and "Visitors from your address" in page.content.decode()
    elsewhere = APIClient(REMOTE_ADDR="198.51.100.9")
    assert elsewhere.post("/api/lookalikes/", {"file": png(picture)}, format="multipart").status_code == 200
