"""The server warms its renderers up (weights loaded, fused kernels compiled, one picture
through each batcher) before it says it is ready, so the first request never pays for it."""

from __future__ import annotations

import pytest

from breeding import images
from inference import space_slugs
from mendel.lifespan import Lifespan


@pytest.fixture
def fresh_batchers(monkeypatch):
    """An empty set of batchers for the test, closed after it."""
    batchers: dict = {}
    monkeypatch.setattr(images, "_batchers", batchers)
    yield batchers
    for batcher in batchers.values():
        batcher.close()


async def start_and_stop(app: Lifespan) -> list[str]:
    """Run the ASGI lifespan protocol through start-up and shut-down; the messages sent."""
    incoming = iter([{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}])
    sent = []

    async def receive():
        return next(incoming)

    async def send(message):
        sent.append(message["type"])

    await app({"type": "lifespan"}, receive, send)
    return sent


async def test_every_space_has_rendered_before_the_server_is_ready(fresh_batchers, settings):
    settings.RENDER_WARMUP = True
    settings.INPROCESS_WORKER = False
    sent = await start_and_stop(Lifespan(app=None))
    assert sent == ["lifespan.startup.complete", "lifespan.shutdown.complete"]
    assert sorted(fresh_batchers) == space_slugs()
    for slug, batcher in fresh_batchers.items():
        assert batcher.stats.requests == 1, slug


async def test_the_warm_up_can_be_turned_off(fresh_batchers, settings):
    settings.RENDER_WARMUP = False
    settings.INPROCESS_WORKER = False
    assert await start_and_stop(Lifespan(app=None)) == [
        "lifespan.startup.complete", "lifespan.shutdown.complete"]
    assert fresh_batchers == {}


def test_the_warm_up_reports_each_space_and_survives_a_broken_one(fresh_batchers, monkeypatch, caplog):
    from inference.space import _REGISTRY

    monkeypatch.setitem(_REGISTRY, "broken", ("inference.nowhere:Missing", {}))
    caplog.set_level("INFO", logger="breeding.images")
    took = images.warm_up()
    assert sorted(took) == sorted(s for s in space_slugs() if s != "broken")
    assert all(seconds > 0 for seconds in took.values())
    assert "warming up the broken space failed" in caplog.text
    assert "renderers warmed up: abstract" in caplog.text
