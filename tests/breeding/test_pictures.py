"""Pictures: the disk budget of the stored files."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from rest_framework.test import APIClient

from breeding import actions, images, tasks
from breeding.models import Visibility

pytestmark = pytest.mark.django_db


def picture_url(creation, size=64) -> str:
    return images.url("abstract", creation.latent_sha, size)


def stored_file(settings, creation, size=256) -> Path:
    return Path(settings.MEDIA_ROOT) / images.path("abstract", creation.latent_sha, size)


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
    works = [make_public(alice, space, seed) for seed in (41, 42, 43)]
    total = renders_total(settings)
    assert tasks.sweep_renders(timestamp=0) == 0  # within the default budget
    settings.MEDIA_CACHE_MAX_GB = total / 2 / 1e9
    evicted = tasks.sweep_renders(timestamp=0)
    assert evicted >= 2
    assert renders_total(settings) <= images.LOW_WATER * total / 2
    assert sum(stored_file(settings, w).exists() for w, _ in works) == 3 - evicted
