"""The trending order: a like lifts a work now, old likes fade, an unlike takes its like back.

Times are set, not waited for: works are dated with ``made_at`` and likes happen through the
API at the moment ``gallery.actions.now`` says.
"""

from __future__ import annotations

import math
from datetime import timedelta
from unittest import mock

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone
from rest_framework.test import APIClient

from breeding import actions
from breeding.models import Creation, Visibility
from gallery.models import Like
from gallery.neighbours import ensure_index
from gallery.trending import HOT_HALF_LIFE, hot_score, hot_term

pytestmark = pytest.mark.django_db

NOW = timezone.now().replace(microsecond=0)


@pytest.fixture
def works(alice, space):
    """Three public works, unliked; made now unless a test dates them."""
    ensure_index(space)
    made = actions.do_random(alice, space, 3, seed=1)
    return [actions.do_update(c, title=f"Work {i}", visibility=Visibility.PUBLIC)
            for i, c in enumerate(made)]


@pytest.fixture
def fans(django_user_model):
    """``fans(n)``: n signed-in clients of new accounts."""
    made = []

    def make(n: int) -> list[APIClient]:
        clients = []
        for _ in range(n):
            client = APIClient()
            client.force_login(django_user_model.objects.create_user(f"fan{len(made)}"))
            made.append(client)
            clients.append(client)
        return clients

    return make


def made_at(work: Creation, when) -> Creation:
    """The work as if it had been made at ``when`` (and never liked)."""
    Creation.objects.filter(pk=work.pk).update(created=when, hot=hot_term(when))
    work.refresh_from_db()
    return work


def like(client: APIClient, work: Creation, when, unlike: bool = False) -> None:
    with mock.patch("gallery.actions.now", return_value=when):
        call = client.delete if unlike else client.put
        assert call(f"/api/creations/{work.public_id}/like/").status_code == 200


def trending() -> list[str]:
    return [w["id"] for w in APIClient().get("/api/gallery/?order=trending").json()["results"]]


def test_a_work_liked_today_outranks_an_unliked_one_from_the_same_hour(works, fans):
    liked, unliked, _ = works
    made_at(liked, NOW - timedelta(hours=5))
    made_at(unliked, NOW - timedelta(hours=5) + timedelta(minutes=59))
    assert trending().index(unliked.public_id) < trending().index(liked.public_id)
    like(fans(1)[0], liked, NOW)
    assert trending().index(liked.public_id) < trending().index(unliked.public_id)


def test_old_likes_fade_below_todays(works, fans):
    old, today, later = works
    made_at(old, NOW - timedelta(days=10))
    made_at(later, NOW - timedelta(days=10) + timedelta(days=1))
    made_at(today, NOW - timedelta(hours=1))
    clients = fans(20)
    for client in clients:
        like(client, old, NOW - timedelta(days=10))
    # Twenty likes are worth log2(21) ~ 4.4 half-lives: the old work outranks one made a
    # day (two half-lives) after it, unliked ...
    assert trending().index(old.public_id) < trending().index(later.public_id)
    # ... but ten days (twenty half-lives) later, one like today beats them all.
    like(fans(1)[0], today, NOW)
    assert trending() == [today.public_id, old.public_id, later.public_id]


def test_an_unlike_takes_back_exactly_its_own_like(works, fans):
    first, second, third = works
    made_at(first, NOW - timedelta(hours=3))
    made_at(second, NOW - timedelta(hours=2))
    made_at(third, NOW - timedelta(hours=1))
    before = trending()
    ada, bo = fans(2)
    like(ada, first, NOW - timedelta(days=30))  # a like far older than the work: long faded
    like(bo, first, NOW)
    assert trending()[0] == first.public_id
    like(bo, first, NOW + timedelta(hours=1), unlike=True)  # its like's time counts, not now's
    assert trending() == before
    first.refresh_from_db()
    assert first.like_count == 1
    assert first.hot == pytest.approx(hot_score(first.created, [NOW - timedelta(days=30)]), abs=1e-9)


def test_a_like_that_dwarfs_the_rest_can_still_be_taken_back(works, fans):
    """Subtracting in log space would lose the work's own term to rounding here."""
    work = made_at(works[0], NOW - timedelta(days=400))  # 800 half-lives: a factor of 2^800
    ada = fans(1)[0]
    like(ada, work, NOW)
    work.refresh_from_db()
    assert work.hot == pytest.approx(hot_term(NOW))
    like(ada, work, NOW, unlike=True)
    work.refresh_from_db()
    assert work.hot == pytest.approx(hot_term(work.created)) and work.like_count == 0


def test_the_score_is_log2_of_the_weighed_sum(works, fans):
    work = made_at(works[0], NOW - timedelta(hours=12))
    for client in fans(3):
        like(client, work, NOW)
    work.refresh_from_db()
    expected = math.log2(2 ** (-1.0) + 3) + NOW.timestamp() / HOT_HALF_LIFE
    assert work.hot == pytest.approx(expected, abs=1e-9)
    assert expected == pytest.approx(hot_score(work.created, [NOW] * 3), abs=1e-9)


@pytest.mark.django_db(transaction=True)
def test_the_migration_recomputes_every_score_from_its_likes(works, fans):
    work = made_at(works[0], NOW - timedelta(days=2))
    for client in fans(2):
        like(client, work, NOW - timedelta(hours=6))
    Creation.objects.update(hot=0.0)  # as the old formula might have left it
    executor = MigrationExecutor(connection)
    executor.migrate([("gallery", "0002_exhibitions")])
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())
    work.refresh_from_db()
    liked = list(Like.objects.filter(creation=work).values_list("created", flat=True))
    assert work.hot == pytest.approx(hot_score(work.created, liked), abs=1e-9)
    for other in works[1:]:
        other.refresh_from_db()
        assert other.hot == pytest.approx(hot_term(other.created), abs=1e-9)


def test_a_like_of_ones_own_work_counts_but_lifts_it_no_higher(works, fans, as_alice):
    work = made_at(works[0], NOW - timedelta(days=1))
    like(as_alice, work, NOW)
    work.refresh_from_db()
    assert work.like_count == 1 and work.hot == pytest.approx(hot_term(work.created), abs=1e-9)
    assert trending()[-1] == work.public_id  # below the two unliked works made now

    (fan,) = fans(1)
    like(fan, work, NOW - timedelta(hours=1))
    work.refresh_from_db()
    expected = hot_score(work.created, [NOW - timedelta(hours=1)])
    assert work.like_count == 2 and work.hot == pytest.approx(expected, abs=1e-9)
    # Taking back the fan's like recomputes from the likes that remain: the owner's counts
    # in the number only.
    like(fan, work, NOW, unlike=True)
    work.refresh_from_db()
    assert work.like_count == 1 and work.hot == pytest.approx(hot_term(work.created), abs=1e-9)


def test_the_migration_takes_owners_likes_out_of_the_scores(works, django_user_model):
    work = made_at(works[0], NOW - timedelta(days=2))
    # Rows as the old code left them (written directly: a like through the API now also
    # makes a notice, whose table the migration back drops).
    fan = django_user_model.objects.create_user("fan")
    Like.objects.create(user=fan, creation=work, created=NOW - timedelta(hours=6))
    Like.objects.create(user=work.owner, creation=work, created=NOW - timedelta(hours=1))
    counted = hot_score(work.created, [NOW - timedelta(hours=6), NOW - timedelta(hours=1)])
    Creation.objects.filter(pk=work.pk).update(hot=counted)  # as the old code left it
    executor = MigrationExecutor(connection)
    executor.migrate([("gallery", "0004_vote_address")])
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())
    work.refresh_from_db()
    assert work.hot == pytest.approx(hot_score(work.created, [NOW - timedelta(hours=6)]), abs=1e-9)
    for other in works[1:]:
        other.refresh_from_db()
        assert other.hot == pytest.approx(hot_term(other.created), abs=1e-9)
