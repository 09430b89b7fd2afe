"""Fixtures shared by the whole suite.

The people in these tests: Alice owns things, Bob is another breeder who should have no
access to Alice's private things, and anonymous visitors are not logged in.
"""

from __future__ import annotations

import logging
import os

import pytest
from hypothesis import settings as hypothesis_settings

# Shared, noisy machines: a property test is about properties, never about time.
hypothesis_settings.register_profile("mendel", deadline=None)
hypothesis_settings.load_profile("mendel")

# Torch on a shared 2-core machine: pin the threads so runs are comparable and polite.
os.environ.setdefault("OMP_NUM_THREADS", "2")



def pytest_configure(config):
    """The translation catalogues compiled, as ``make test`` does, for a bare ``pytest`` too."""
    if hasattr(config, "workerinput"):
        return  # a worker of a parallel run: the run's first process compiled them
    from mendel.catalogues import compile_catalogues

    compile_catalogues()


def _worker_number() -> int:
    """0, or the number of this pytest-xdist worker (``gw3`` is 3)."""
    return int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw") or 0)


# Each worker of a parallel run has a Redis database of its own (15, 14, ...), as it has its
# own test database: the exhibitions of two workers share primary keys, so their channel
# groups and presence counts would otherwise meet.
REDIS_URL = os.environ.get("TEST_REDIS_URL", f"redis://127.0.0.1:6379/{15 - _worker_number()}")
IN_CI = os.environ.get("CI", "").lower() == "true"


@pytest.fixture(autouse=True)
def _in_memory_layer(settings):
    """Tests talk to the in-memory channel layer unless they ask for Redis themselves."""
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    from channels.layers import channel_layers

    channel_layers.backends.clear()
    yield
    channel_layers.backends.clear()


@pytest.fixture(autouse=True)
def _own_media(settings, tmp_path_factory):
    """Pictures rendered by a test go to a folder of its own, never to the real var/media
    (servers the test starts inherit it through ``tests.servers.child_env``)."""
    settings.MEDIA_ROOT = tmp_path_factory.mktemp("media")


@pytest.fixture(autouse=True)
def _own_scratch(settings, tmp_path_factory):
    """Jobs keep their files in between in a folder of the test's own (and so do the
    servers and workers it starts)."""
    settings.JOB_SCRATCH_DIR = tmp_path_factory.mktemp("scratch")
    settings.TRAINING_DIR = tmp_path_factory.mktemp("training")


@pytest.fixture(autouse=True)
def _renders_settle():
    """A picture a test started is stored before the next test begins: one still on its way
    would land in the next test's media folder and count against that test's disk budget
    (the stored-pictures budget test once failed so, in a full run only)."""
    yield
    from breeding import images

    assert images.settle(timeout=120), "a picture was still rendering two minutes after its test"


@pytest.fixture(autouse=True)
def _language_reset():
    """A test that leaves a language active in its thread (a page in Chinese, a job run
    for a reader) does not speak it to the tests after it."""
    yield
    from django.utils import translation

    translation.deactivate()


@pytest.fixture
def no_jobs_queued(db):
    """The test starts with no jobs in procrastinate's tables: Django's flush after a
    transactional test does not know those tables, and servers a test started commit jobs
    of their own, so a test that counts queued jobs must not count an earlier test's. Jobs
    a worker is running are left to it."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM procrastinate_jobs WHERE status <> 'doing'")
        cursor.execute("DELETE FROM procrastinate_periodic_defers")


@pytest.fixture
def built_in_techniques(db):
    """The techniques every Mendel knows from its migrations (StyleGAN2, GPT-3, ...),
    made again where a transactional test before this one flushed them."""
    import importlib

    from django.apps import apps

    from breeding.models import Technique

    if not Technique.objects.filter(built_in=True).exists():
        importlib.import_module("breeding.migrations.0013_media_works").known_techniques(apps, None)


@pytest.fixture(autouse=True)
def _fresh_lists(settings):
    """Lists answer from the database; the one test of the page cache turns it on."""
    settings.GALLERY_CACHE_SECONDS = 0


@pytest.fixture
def one_minute(monkeypatch):
    """Per-minute limits count in one window for the whole test: a test that spends a budget
    and then checks that the next request is refused must not see the minute turn between
    the two (on a slow machine it once did). The clock of ``breeding.limits`` stands still
    half-way through a minute."""
    import time
    import types

    from breeding import limits

    frozen = time.time() // 60 * 60 + 30
    monkeypatch.setattr(limits, "time", types.SimpleNamespace(time=lambda: frozen))


@pytest.fixture
def emoji(db):
    """The built-in ``emoji`` space's row."""
    from breeding import actions
    from breeding.models import Space

    actions.sync_spaces()
    return Space.objects.get(slug="emoji")


@pytest.fixture
def learnt(emoji):
    """The ``emoji`` space with its words learnt (``breeding.words``: about a second)."""
    from breeding import words

    assert words.learn(emoji) > 1000
    return emoji


@pytest.fixture
def alice(django_user_model):
    return django_user_model.objects.create_user("alice", "alice@example.org", "correct horse 1")


@pytest.fixture
def bob(django_user_model):
    return django_user_model.objects.create_user("bob", "bob@example.org", "battery staple 2")


def redis_available(url: str = REDIS_URL) -> bool:
    import redis

    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=0.5, socket_timeout=0.5)
        client.ping()
        client.close()
        return True
    except Exception:
        return False


def require(present: bool, what: str, fix: str) -> None:
    """A real service or tool a test needs: without it the test skips with ``fix``, except
    in CI (``CI=true``), where it is there by construction (.ci/run) and its absence fails."""
    if present:
        return
    if IN_CI:
        pytest.fail(f"{what} is required in CI but missing: {fix}")
    pytest.skip(f"{what} is missing: {fix}")


@pytest.fixture
def redis_url():
    """The real Redis."""
    require(redis_available(), "Redis", f"nothing answered at {REDIS_URL}")
    return REDIS_URL


# Test helpers poll servers over HTTP; their request log is noise in a failure report.
logging.getLogger("httpx").setLevel(logging.WARNING)
