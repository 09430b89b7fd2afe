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


class Gate:
    """The abstract space's renders, held until ``gate`` is set: ``entered`` is set once a
    pass has begun (and waits at the gate)."""

    def __init__(self, space) -> None:
        import threading

        self.space, self.slug, self.layers, self.dim = space, space.slug, space.layers, space.dim
        self.gate, self.entered = threading.Event(), threading.Event()

    def render(self, latents, size):
        self.entered.set()
        self.gate.wait()
        return self.space.render(latents, size)


@pytest.fixture
def gated(space):
    """Call it to send the process's abstract renders through a ``Gate`` (one picture a pass,
    no wait for company) from then on; it gives the gate, opened and put back after the
    test."""
    from breeding import images
    from inference import get_space
    from inference.batcher import RenderBatcher

    held = Gate(get_space("abstract"))

    def hold() -> Gate:
        images.forget("abstract")
        images._batchers["abstract"] = RenderBatcher(held, max_batch=1, max_wait_ms=0)
        return held

    yield hold
    held.gate.set()
    images.forget("abstract")
