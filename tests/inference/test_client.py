"""The client of the inference service, against a real replica and a dead address: the
RenderBatcher API, the circuit breaker, and what a caller is told when nothing answers."""

from __future__ import annotations

import time

import pytest
import torch

from inference.client import InferenceUnavailable, RemoteRenderer, RemoteSpace, Replicas
from mendel.processes import free_port, stop
from tests.servers import start_inference, wait_ready


@pytest.fixture
def dead() -> str:
    return f"http://127.0.0.1:{free_port()}"  # nothing listens there


def test_a_remote_renderer_has_the_batchers_api_and_its_pixels(replica, space):
    renderer = RemoteRenderer(Replicas([replica]), space)
    latents = [space.sample(1, seed) for seed in range(6)]
    futures = [renderer.submit(z, 64) for z in latents]
    for z, future in zip(latents, futures, strict=True):
        assert torch.equal(future.result(30), space.render(z, 64))
    with pytest.raises(ValueError, match=r"latents must have shape \(n, 8, 64\)"):
        renderer.submit(torch.zeros(1, 8, 3), 64)  # refused before any request
    remote = RemoteSpace(space, renderer)
    assert remote.version == space.version and remote.layers == 8
    assert torch.equal(remote.render_view(latents[0], 32, 2.0, (0.1, 0.2)),
                       space.render_view(latents[0], 32, 2.0, (0.1, 0.2)))
    frames = torch.cat(latents[:3])
    views = [(1.0, 0.0, 0.0), (1.5, 0.0, 0.1), (2.0, 0.2, 0.0)]
    got = renderer.frames(frames, 32, views)
    for i, (zoom, cx, cy) in enumerate(views):
        assert torch.equal(got[i], space.render_view(frames[i : i + 1], 32, zoom, (cx, cy))[0])
    renderer.close()


def test_the_services_sentence_reaches_the_caller_as_a_value_error(replica, space):
    renderer = RemoteRenderer(Replicas([replica]), space)
    with pytest.raises(ValueError, match="at most 68 a request"):
        renderer.render(space.sample(100, 0), 1024)


def test_a_failing_replica_is_taken_out_and_tried_again_after_its_time(replica, dead, space):
    replicas = Replicas([dead, replica], failures_to_open=2, open_s=0.5, connect_timeout_s=0.5)
    renderer = RemoteRenderer(replicas, space)
    for seed in range(6):  # each goes through, whichever replica is tried first
        renderer.render(space.sample(1, seed), 32)
    states = replicas.states()
    assert states[dead]["state"] == "out" and states[dead]["failures"] == 2
    assert "ConnectError" in states[dead]["last_error"]
    assert states[replica] | {"last_error": ""} == {
        "state": "in", "failures": 0, "back_in_s": 0.0, "last_error": ""}
    assert [r.url for r in replicas.order()] == [replica]  # out: not tried at all
    time.sleep(0.6)
    assert [r.url for r in replicas.order()] == [replica, dead]  # its time is up: one trial


def test_when_every_replica_is_down_the_caller_is_told_in_a_sentence(dead, space):
    replicas = Replicas([dead], failures_to_open=1, open_s=60, connect_timeout_s=0.5)
    renderer = RemoteRenderer(replicas, space)
    with pytest.raises(InferenceUnavailable, match=r"no inference replica could do it: http://127"):
        renderer.render(space.sample(1, 0), 32)
    with pytest.raises(InferenceUnavailable, match="every inference replica is out after repeated "
                                                   "failures; the first is tried again in 60 s"):
        renderer.render(space.sample(1, 0), 32)


def test_a_projection_whose_replica_dies_midway_starts_over_on_another(replica, space):
    port = free_port()
    victim = start_inference(port)
    doomed = f"http://127.0.0.1:{port}"
    try:
        wait_ready(doomed, victim)
        replicas = Replicas([doomed, replica], failures_to_open=3)
        renderer = RemoteRenderer(replicas, space)
        seen = []

        def on_step(step):
            seen.append(step.step)
            if step.step == 2 and victim.poll() is None:
                victim.kill()  # its machine is lost mid-projection

        target = space.render(space.sample(1, 77), 40)[0]
        result = renderer.project(space, target, size=32, seed=1, steps=30, on_step=on_step)
    finally:
        stop(victim)
    assert result.steps == 30 and result.latent.shape == (8, 64)
    assert 0 in seen[seen.index(2):]  # started over from the first step
    assert replicas.states()[doomed]["failures"] == 1
    assert "while projecting" in replicas.states()[doomed]["last_error"]
