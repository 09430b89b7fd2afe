"""Pictures: who gets one (the privacy rule, in SQL), how long caches may keep it (so that
revocation takes effect within minutes), and the disk budget of the stored files."""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

import pytest
from rest_framework.test import APIClient

from breeding import actions, images, tasks
from breeding.models import Creation, SeedKey, Visibility

pytestmark = pytest.mark.django_db


def picture_url(creation, size=64) -> str:
    return images.url("abstract", creation.latent_sha, size)


def stored_file(settings, creation, size=256) -> Path:
    return Path(settings.MEDIA_ROOT) / images.path("abstract", creation.latent_sha, size)


def max_age(response) -> int:
    return int(re.search(r"max-age=(\d+)", response["Cache-Control"]).group(1))


def test_many_private_copies_never_hide_the_public_picture(alice, bob, space):
    work = actions.do_update(actions.do_random(alice, space, 1, seed=21)[0], visibility=Visibility.PUBLIC)
    copies = [actions.do_copy(bob, work) for _ in range(25)]  # the same latent: "breed from this"
    Creation.objects.filter(pk__in=[c.pk for c in copies]).update(visibility=Visibility.PRIVATE)
    # Alice unpublishes and publishes again: her row is now the newest of the 26.
    actions.do_update(work, visibility=Visibility.PRIVATE)
    actions.do_update(work, visibility=Visibility.PUBLIC)
    assert Creation.objects.filter(latent_sha=work.latent_sha).count() == 26

    anonymous = APIClient().get(picture_url(work))
    assert anonymous.status_code == 200
    assert anonymous["Cache-Control"].startswith("public")
    owner_of_copies = APIClient()
    owner_of_copies.force_login(bob)
    mine = owner_of_copies.get(picture_url(work))
    assert mine.status_code == 200 and mine["Cache-Control"].startswith("public")  # the shared row wins
    # a private copy alone is its owner's: private to caches, and nobody else's
    actions.do_update(work, visibility=Visibility.PRIVATE)
    assert owner_of_copies.get(picture_url(work))["Cache-Control"].startswith("private")
    assert APIClient().get(picture_url(work)).status_code == 404


def test_revocation_reaches_caches_within_minutes_and_revalidation_is_cheap(alice, space, settings):
    work = actions.do_update(actions.do_random(alice, space, 1, seed=22)[0], visibility=Visibility.PUBLIC)
    visitor = APIClient()
    first = visitor.get(picture_url(work, 256))
    assert first.status_code == 200
    assert first["Cache-Control"] == "public, max-age=300, stale-while-revalidate=60"
    assert "immutable" not in first["Cache-Control"] and max_age(first) <= 600

    # A cache revalidates with the ETag: 304, without reading or rendering the file.
    stored_file(settings, work).unlink()
    again = visitor.get(picture_url(work, 256), HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 304 and again.content == b""
    assert again["ETag"] == first["ETag"] and again["Cache-Control"] == first["Cache-Control"]
    assert not stored_file(settings, work).exists()
    weak = visitor.get(picture_url(work, 256), HTTP_IF_NONE_MATCH=f'"other", W/{first["ETag"]}')
    assert weak.status_code == 304

    # Made private: the next request, revalidation included, is refused.
    actions.do_update(work, visibility=Visibility.PRIVATE)
    for headers in ({}, {"HTTP_IF_NONE_MATCH": first["ETag"]}):
        refused = visitor.get(picture_url(work, 256), **headers)
        assert refused.status_code == 404 and refused["Cache-Control"] == "no-store"
    owner = APIClient()
    owner.force_login(alice)
    own = owner.get(picture_url(work, 256))
    assert own.status_code == 200 and own["Cache-Control"] == "private, max-age=300"


# -- the disk budget ------------------------------------------------------------------


def renders_total(settings) -> int:
    root = Path(settings.MEDIA_ROOT) / "renders"
    return sum(f.stat().st_size for f in root.rglob("*") if f.is_file())


def make_public(owner, space, seed):
    """A public work whose eager 256 px picture has been stored; with its bytes."""
    work = actions.do_update(actions.do_random(owner, space, 1, seed=seed)[0], visibility=Visibility.PUBLIC)
    data = images.request("abstract", work.latent_sha, work.tensor(), 256).result(timeout=60)
    return work, data


def test_stored_pictures_stay_within_their_disk_budget_least_recently_used_out_first(alice, space, settings):
    old = [make_public(alice, space, seed) for seed in (31, 32, 33)]
    files = [stored_file(settings, w) for w, _ in old]
    # An hour passes; then the first is looked at again.
    hour_ago = time.time() - 3600
    for f in files:
        os.utime(f, (hour_ago, hour_ago))
    visitor = APIClient()
    assert visitor.get(picture_url(old[0][0], 256)).status_code == 200
    assert files[0].stat().st_mtime > hour_ago + 3000

    budget = renders_total(settings)  # full now
    settings.MEDIA_CACHE_MAX_GB = budget / 1e9
    new = []
    for seed in (34, 35, 36, 37):
        new.append(make_public(alice, space, seed))
        assert renders_total(settings) <= budget

    # least recently used first: the two unused old ones, then the one looked at, then the new
    order = [{files[1], files[2]}, {files[0]}] + [{stored_file(settings, w)} for w, _ in new]
    kept = [all(f.exists() for f in group) for group in order]
    gone = [not any(f.exists() for f in group) for group in order]
    assert gone[0], "four new pictures into a full budget evict the unused old ones"
    first_kept = kept.index(True)
    assert all(kept[first_kept:]) and all(gone[:first_kept])
    assert kept[-1]

    # An evicted picture is rendered again on request, the same bytes, within the budget.
    evicted, data = old[1]
    response = visitor.get(picture_url(evicted, 256))
    assert response.status_code == 200 and response.content == data
    assert stored_file(settings, evicted).read_bytes() == data
    assert renders_total(settings) <= budget


def test_the_periodic_sweep_trims_the_store_below_its_budget(alice, space, settings):
    # The same pictures every run (a breeder's seed key is random), so their sizes are too.
    SeedKey.objects.update_or_create(user=alice, defaults={"key": "5e" * 32})
    works = [make_public(alice, space, seed) for seed in (41, 42, 43)]
    total = renders_total(settings)
    assert tasks.sweep_renders(timestamp=0) == 0  # within the default budget
    settings.MEDIA_CACHE_MAX_GB = total / 2 / 1e9
    evicted = tasks.sweep_renders(timestamp=0)
    assert evicted >= 2
    assert renders_total(settings) <= images.LOW_WATER * total / 2
    assert sum(stored_file(settings, w).exists() for w, _ in works) == 3 - evicted


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_a_visitor_who_leaves_does_not_fail_the_others_waiting_for_the_picture(alice, space):
    """Requests for a picture being rendered share one render: one of them cancelled (the
    visitor left the page) must not cancel it for the rest."""
    import asyncio

    from asgiref.sync import sync_to_async
    from django.contrib.auth.models import AnonymousUser
    from django.test import RequestFactory

    from breeding import views

    work = await sync_to_async(lambda: actions.do_update(
        actions.do_random(alice, space, 1, seed=31)[0], visibility=Visibility.PUBLIC))()

    def get():
        request = RequestFactory().get(picture_url(work, 1024))
        request.user = AnonymousUser()

        async def auser():
            return request.user

        request.auser = auser
        return views.image(request, "abstract", work.latent_sha, "1024")

    leaving, staying = asyncio.ensure_future(get()), asyncio.ensure_future(get())
    await asyncio.sleep(0.05)  # both are waiting on the render now
    leaving.cancel()
    response = await staying
    assert response.status_code == 200 and response["Content-Type"] == "image/webp"
    assert leaving.cancelled()


@pytest.mark.django_db(transaction=True)
def test_the_picture_lookup_gives_its_connection_back_to_the_pool(alice, space):
    """A request waiting for its picture to render holds no database connection: dozens
    rendering at once would empty the pool, and every other request would fail."""
    from asgiref.sync import async_to_sync
    from django.contrib.auth.models import AnonymousUser
    from django.db import connection
    from django.test import RequestFactory

    from breeding import views

    work = actions.do_update(actions.do_random(alice, space, 1, seed=1)[0], visibility=Visibility.PUBLIC)
    request = RequestFactory().get(picture_url(work))

    found = async_to_sync(views.find)("abstract", work.latent_sha, AnonymousUser(), request)

    assert found is not None and found[1] is True  # (latent, shared, user id, version)
    assert connection.connection is None


# -- downloads: PNG -------------------------------------------------------------------


def test_a_png_is_served_like_the_webp_under_the_same_privacy_cache_and_budget(alice, bob, space, settings,
                                                                           one_minute):
    settings.RENDER_BUDGET_CPU_S_PER_MIN = 2.0  # some 1024 px pictures, a few 2048 px ones
    work = actions.do_random(alice, space, 1, seed=31)[0]
    png = images.url("abstract", work.latent_sha, 1024, "png")
    assert png == f"/r/abstract/{work.latent_sha}/1024.png"
    owner = APIClient()
    owner.force_login(alice)

    first = owner.get(png)
    assert first.status_code == 200 and first["Content-Type"] == "image/png"
    assert first.content.startswith(b"\x89PNG\r\n\x1a\n")
    assert first["Cache-Control"] == "private, max-age=300"
    assert first["ETag"] == f'"{work.latent_sha}-1024-png"'  # not the WebP's: another file
    assert (Path(settings.MEDIA_ROOT) / images.path("abstract", work.latent_sha, 1024, "png")).exists()
    # stored: served again without a render, and revalidated with its ETag
    assert owner.get(png).content == first.content
    assert owner.get(png, HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 304
    # nobody else's while it is a draft; everyone's once public, to shared caches too
    for visitor in (APIClient(), bob):
        client = visitor if isinstance(visitor, APIClient) else APIClient()
        if not isinstance(visitor, APIClient):
            client.force_login(visitor)
        refused = client.get(png)
        assert refused.status_code == 404 and refused["Cache-Control"] == "no-store"
    actions.do_update(work, visibility=Visibility.PUBLIC)
    shared = APIClient().get(png)
    assert shared.status_code == 200 and shared["Cache-Control"].startswith("public")

    # a new render is charged to the render budget like a WebP: the 1024 px WebP fits this
    # minute, and new 2048 px pictures (over a CPU second each) soon do not
    assert owner.get(images.url("abstract", work.latent_sha, 1024)).status_code == 200
    for seed in range(32, 40):
        other = actions.do_random(alice, space, 1, seed=seed)[0]
        over = owner.get(images.url("abstract", other.latent_sha, 2048, "png"))
        if over.status_code != 200:
            break
    assert over.status_code == 429 and int(over["Retry-After"]) > 0
    # other sizes and formats are refused by name
    assert owner.get(f"/r/abstract/{work.latent_sha}/1000.png").status_code == 404
    assert owner.get(f"/r/abstract/{work.latent_sha}/1024.jpg").status_code == 404


def test_pictures_written_at_once_fit_the_budget_together(settings):
    """Two pictures being written at the same moment (the two encoder threads) each fit
    beside the stored ones alone, and would not together: the second one's check counts
    the first, and the oldest picture makes room for both."""
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage

    old = [default_storage.save(f"renders/ab/old{i}.webp", ContentFile(b"o" * 5000)) for i in range(2)]
    hour_ago = time.time() - 3600
    for i, name in enumerate(old):
        os.utime(default_storage.path(name), (hour_ago + i, hour_ago + i))
    settings.MEDIA_CACHE_MAX_GB = 14_000 / 1e9
    images.sweep()  # the count: 10,000 bytes, within the budget
    with images.room_for(3000):  # 13,000 with this one: it fits
        with images.room_for(3000):  # 16,000 with both: the oldest must go
            default_storage.save("renders/cd/new0.webp", ContentFile(b"n" * 3000))
            default_storage.save("renders/cd/new1.webp", ContentFile(b"n" * 3000))
    assert renders_total(settings) <= 14_000
    assert not default_storage.exists(old[0]) and default_storage.exists(old[1])
    # what the process counts is what the disk holds
    assert images._disk["bytes"] == renders_total(settings) and images._disk["pending"] == 0
