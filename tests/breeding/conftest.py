from __future__ import annotations

import pytest
import torch
from django.core.cache import cache
from rest_framework.test import APIClient

from breeding import actions
from breeding.genes import DISCOVERY_VERSION
from breeding.models import Gene


@pytest.fixture(autouse=True)
def _fresh(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    cache.clear()
    torch.set_num_threads(2)
    yield
    cache.clear()


@pytest.fixture
def space(db):
    return actions.sync_spaces()[0]


@pytest.fixture
def api():
    return APIClient()


@pytest.fixture
def as_alice(alice):
    client = APIClient()
    client.force_login(alice)
    return client


@pytest.fixture
def as_bob(bob):
    client = APIClient()
    client.force_login(bob)
    return client


@pytest.fixture
def warm_gene(space):
    """A gene of the abstract space: the first palette dimension (changes colour)."""
    direction = torch.zeros(space.layers, space.dim)
    direction[5, 0] = 1.0
    return Gene.objects.create(space=space, version=space.version, discovery=DISCOVERY_VERSION,
                               slug="warmth", label="Warmth",
                               source="attribute", direction=direction.flatten().tolist(),
                               low=-3.0, high=3.0, rho=0.95)
