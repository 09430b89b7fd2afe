"""The render budget: breeding, previews and new picture sizes all draw from one budget of
pixels per minute, per breeder and, for visitors, per address."""

from __future__ import annotations

import pytest
from django.core.cache.backends.redis import RedisCache
from rest_framework.test import APIClient

from breeding import actions, budget
from breeding.limits import client_address, take
from breeding.models import Visibility

pytestmark = pytest.mark.django_db


def public_work(owner, space, seed=1):
    work = actions.do_random(owner, space, 1, seed=seed)[0]
    return actions.do_update(work, visibility=Visibility.PUBLIC)


def test_previews_are_at_most_1024_px_and_draw_from_the_breeding_budget(as_alice, settings, space,
                                                                        warm_gene):
    settings.RENDER_BUDGET_MPX_PER_MIN = 2.5
    source = as_alice.post("/api/spaces/abstract/random/", {"n": 1}, format="json").json()[0]
    url = f"/api/creations/{source['id']}/preview/"
    huge = as_alice.post(url, {"genes": {"warmth": 1.0}, "size": 2048}, format="json")
    assert huge.status_code == 400
    assert huge.json()["error"] == "size: must be one of 64, 128, 256, 512, 1024 (a preview is at most 1024 px)."
    for amount in (1.0, 1.5):  # 2 x 1024² px, after one 256² px creation: 2.16 Mpx
        assert as_alice.post(url, {"genes": {"warmth": amount}, "size": 1024}, format="json").status_code == 200
    third = as_alice.post(url, {"genes": {"warmth": 2.0}, "size": 1024}, format="json")
    assert third.status_code == 429 and third.json()["retry_after"] > 0
    # the same budget: breeding eight more (0.52 Mpx) no longer fits this minute
    children = as_alice.post(f"/api/creations/{source['id']}/children/", {"n": 8}, format="json")
    assert children.status_code == 429
    assert "Try again in" in children.json()["error"]


def test_visitors_pay_only_for_new_pictures_per_address(alice, space, settings):
    settings.RENDER_BUDGET_ANON_MPX_PER_MIN = 1.2
    work = public_work(alice, space)
    picture = f"/r/abstract/{work.latent_sha}/{{}}.webp"
    visitor = APIClient(REMOTE_ADDR="203.0.113.7")
    assert visitor.get(picture.format(1024)).status_code == 200  # 1.05 Mpx, rendered now
    refused = visitor.get(picture.format(512))  # 0.26 Mpx more: over 1.2
    assert refused.status_code == 429
    assert refused["Retry-After"] == str(refused.json()["retry_after"])
    assert refused["Cache-Control"] == "no-store"
    assert refused.json()["error"].startswith("Visitors from your address have asked for more pictures")
    # a stored picture costs nothing; the eager 256 px one is stored (or being made) already
    assert visitor.get(picture.format(1024)).status_code == 200
    assert visitor.get(picture.format(256)).status_code == 200
    # another address has a budget of its own; so has a breeder who is logged in
    assert APIClient(REMOTE_ADDR="198.51.100.9").get(picture.format(512)).status_code == 200
    breeder = APIClient(REMOTE_ADDR="203.0.113.7")
    breeder.force_login(alice)
    assert breeder.get(picture.format(128)).status_code == 200


def test_an_ipv6_visitor_is_counted_by_its_network(rf):
    one = rf.get("/", REMOTE_ADDR="2001:db8:1:2:aaaa::1")
    other = rf.get("/", REMOTE_ADDR="2001:db8:1:2:bbbb::2")
    assert client_address(one) == client_address(other) == "2001:db8:1:2::"
    assert client_address(rf.get("/", REMOTE_ADDR="::ffff:192.0.2.1")) == "192.0.2.1"
    assert client_address(rf.get("/", REMOTE_ADDR="")) is None


def test_the_budget_is_shared_by_web_processes_through_redis(redis_url):
    """Two cache clients of one Redis, as two web processes have: what one counts, the
    other sees, atomically."""
    here, there = RedisCache(redis_url, {}), RedisCache(redis_url, {})
    here.clear()
    try:
        limit = budget.creations(10)
        assert take("render:user:7", budget.creations(6), limit, 60, cache=here) == 0
        assert take("render:user:7", budget.creations(4), limit, 60, cache=there) == 0
        wait = take("render:user:7", budget.creations(1), limit, 60, cache=here)
        assert 0 < wait <= 60
        assert take("render:user:8", budget.creations(1), limit, 60, cache=there) == 0
    finally:
        here.clear()
