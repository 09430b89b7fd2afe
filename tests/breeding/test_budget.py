"""The render budget: breeding, previews and new picture sizes all draw from one budget of
CPU seconds per minute, charged by what each render measured, per breeder and, for
visitors, per address; and a person's renders wait in their own line."""

from __future__ import annotations

import time

import pytest
from django.core.cache.backends.redis import RedisCache
from rest_framework.test import APIClient

from breeding import actions, budget, images
from breeding.limits import client_address, take
from breeding.models import Visibility

pytestmark = pytest.mark.django_db


def public_work(owner, space, seed=1):
    work = actions.do_random(owner, space, 1, seed=seed)[0]
    return actions.do_update(work, visibility=Visibility.PUBLIC)


def test_previews_are_at_most_1024_px_and_draw_from_the_breeding_budget(as_alice, settings, space,
                                                                        warm_gene, one_minute):
    settings.RENDER_BUDGET_CPU_S_PER_MIN = 2.0
    source = as_alice.post("/api/spaces/abstract/random/", {"n": 1}, format="json").json()[0]
    url = f"/api/creations/{source['id']}/preview/"
    huge = as_alice.post(url, {"genes": {"warmth": 1.0}, "size": 2048}, format="json")
    assert huge.status_code == 400
    assert huge.json()["error"] == "size: must be one of 64, 128, 256, 512, 1024 (a preview is at most 1024 px)."
    # each 1024 px preview costs what its render measured (about a quarter of a CPU second):
    # two seconds a minute are spent within a few dozen
    answers = []
    for i in range(40):
        answer = as_alice.post(url, {"genes": {"warmth": round(-3 + i * 0.15, 2)}, "size": 1024},
                               format="json")
        answers.append(answer.status_code)
        if answer.status_code == 429:
            break
        as_alice.get(answer.json()["image"])  # (waits for the picture: it is settled by then)
    assert answers[-1] == 429 and set(answers[:-1]) == {200}
    assert answer.json()["retry_after"] > 0
    # the same budget: breeding eight more no longer fits this minute
    children = as_alice.post(f"/api/creations/{source['id']}/children/", {"n": 8}, format="json")
    assert children.status_code == 429
    assert children.json()["error"].startswith(
        "You have asked for more pictures than Mendel renders for one person in a minute "
        "(2 seconds of computing). Try again in ")


def test_visitors_pay_only_for_new_pictures_per_address(alice, space, settings, one_minute):
    settings.RENDER_BUDGET_ANON_CPU_S_PER_MIN = 2.0
    works = [public_work(alice, space, seed) for seed in range(1, 9)]
    visitor = APIClient(REMOTE_ADDR="203.0.113.7")
    # new 2048 px pictures cost over a CPU second each, measured: the budget runs out
    statuses = []
    for work in works:
        answer = visitor.get(f"/r/abstract/{work.latent_sha}/2048.webp")
        statuses.append(answer.status_code)
        if answer.status_code == 429:
            break
    assert statuses[-1] == 429 and set(statuses[:-1]) == {200} and len(statuses) >= 2
    refused = answer
    assert refused["Retry-After"] == str(refused.json()["retry_after"])
    assert refused["Cache-Control"] == "no-store"
    assert refused.json()["error"].startswith("Visitors from your address have asked for more pictures")
    # a stored picture costs nothing; the eager 256 px one is stored (or being made) already
    work = works[0]
    assert visitor.get(f"/r/abstract/{work.latent_sha}/2048.webp").status_code == 200
    assert visitor.get(f"/r/abstract/{work.latent_sha}/256.webp").status_code == 200
    # another address has a budget of its own; so has a breeder who is logged in
    picture = f"/r/abstract/{work.latent_sha}/{{}}.webp"
    assert APIClient(REMOTE_ADDR="198.51.100.9").get(picture.format(512)).status_code == 200
    breeder = APIClient(REMOTE_ADDR="203.0.113.7")
    breeder.force_login(alice)
    assert breeder.get(picture.format(128)).status_code == 200


def test_a_render_is_charged_what_it_measured_not_what_it_was_estimated(alice, space, settings,
                                                                       one_minute):
    """The estimate only lets a request in: a space whose pictures cost far more than it says
    (here its estimate is a thousandth of a second) is charged by measurement all the same."""
    settings.RENDER_BUDGET_CPU_S_PER_MIN = 2.0
    for size in (1024, 2048):
        images._costs[("abstract", size)] = 0.001
    works = [actions.do_random(alice, space, 1, seed=seed)[0] for seed in range(40, 48)]
    owner = APIClient()
    owner.force_login(alice)
    statuses = []
    for work in works:
        for fmt in ("webp", "png"):
            statuses.append(owner.get(images.url("abstract", work.latent_sha, 2048, fmt)).status_code)
            if statuses[-1] == 429:
                break
        if statuses[-1] == 429:
            break
    # 16 estimates make 0.016 s; what they measured is spent after a few
    assert statuses[-1] == 429 and len(statuses) < 16


def test_a_person_may_have_only_so_many_pictures_rendering_at_once(alice, bob, space, settings, gated):
    """Beyond ``RENDER_WAITING_PER_PERSON`` pictures waiting or rendering, a person's next new
    picture is refused with a sentence; other people are not."""
    settings.RENDER_WAITING_PER_PERSON = 2
    work, other, bobs = (public_work(alice, space, seed) for seed in (51, 52, 53))
    assert images.settle(timeout=60)  # their eager pictures are stored: none of Alice's pending
    gate = gated()
    try:
        who = budget.payer(alice.pk, None)
        held = [images.request("abstract", work.latent_sha, work.tensor(), size, who=who)
                for size in (512, 1024)]
        gate.entered.wait()
        assert images.pending(who) == 2
        owner = APIClient()
        owner.force_login(alice)
        refused = owner.get(images.url("abstract", other.latent_sha, 1024))
        assert refused.status_code == 429 and refused["Retry-After"] == "1"
        assert refused.json()["error"] == ("You have 2 pictures being rendered already. Wait for "
                                           "them before asking for more.")
        # Bob has none waiting: his is let in (and rendered once the queue moves)
        assert images.pending(budget.payer(bob.pk, None)) == 0
        gate.gate.set()
        for future in held:
            future.result()
        assert images.pending(who) == 0
        assert owner.get(images.url("abstract", other.latent_sha, 1024)).status_code == 200
    finally:
        gate.gate.set()


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
        limit = 10 * budget.MS  # ten CPU seconds, counted in milliseconds
        assert take("render:user:7", 6 * budget.MS, limit, 60, cache=here) == 0
        assert take("render:user:7", 4 * budget.MS, limit, 60, cache=there) == 0
        wait = take("render:user:7", 1, limit, 60, cache=here)
        assert 0 < wait <= 60
        assert take("render:user:8", 1, limit, 60, cache=there) == 0
    finally:
        here.clear()


def test_work_that_cost_more_than_a_minutes_budget_is_a_debt_on_the_next_minutes():
    """A video preview is let in while a little budget is left and charged what it measured
    afterwards: what went beyond the minute's budget spends the minutes after."""
    from django.core.cache import caches

    from breeding.limits import count

    cache = caches["default"]
    window = int(time.time() // 60)
    count("render:user:9", 25_000, 60, limit=10_000)  # 25 s of CPU against 10 s a minute
    counts = [cache.get(f"limit:render:user:9:{window + ahead}") for ahead in range(4)]
    assert counts == [10_000, 10_000, 5_000, None]
    assert take("render:user:9", 1, 10_000, 60) > 0  # refused now
    count("render:user:9", -3_000, 60, limit=10_000)  # a refund only ever reaches this minute
    assert [cache.get(f"limit:render:user:9:{window + ahead}") for ahead in range(3)] == [7_000, 10_000, 5_000]
