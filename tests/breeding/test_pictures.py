"""Pictures: a request waiting for its picture to render holds no database connection."""

from __future__ import annotations

import pytest
from asgiref.sync import async_to_sync
from django.contrib.auth.models import AnonymousUser
from django.db import connection
from django.test import RequestFactory

from breeding import actions, views
from breeding.models import Visibility


@pytest.mark.django_db(transaction=True)
def test_the_picture_lookup_gives_its_connection_back_to_the_pool(alice, space):
    work = actions.do_random(alice, space, 1, seed=1)[0]
    actions.do_update(work, visibility=Visibility.PUBLIC)
    request = RequestFactory().get(f"/r/abstract/{work.latent_sha}/64.webp")

    found = async_to_sync(views.find)("abstract", work.latent_sha, AnonymousUser(), request)

    assert found is not None and found[2] is True
    # Not held while the picture renders: dozens rendering at once would empty the pool.
    assert connection.connection is None
