"""INFERENCE_URL: a real web server renders through two real inference replicas, keeps
rendering when one dies or is full, and says so on /healthz; upload projections run on a
replica with their progress and cancelling intact. The pictures are the ones an
in-process render makes."""

from __future__ import annotations

import threading
import time

import httpx
import pytest
import torch
from django.db import connection

from breeding import actions, images, projection
from breeding.models import Creation, Origin, Upload, UploadStatus, Visibility
from breeding.uploads import decode
from inference import get_space
from inference.client import InferenceUnavailable
from inference.encode import encode
from mendel.processes import free_port, stop
from tests.breeding.test_uploads import picture_bytes
from tests.servers import child_env, start_asgi, start_inference, wait_healthy, wait_ready

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def space(db):
    torch.set_num_threads(2)
    return actions.sync_spaces()[0]


def start_replicas(*options_of: tuple[str, ...]):
    ports = [free_port() for _ in options_of]
    procs = [start_inference(port, *options) for port, options in zip(ports, options_of, strict=True)]
    bases = [f"http://127.0.0.1:{port}" for port in ports]
    return bases, procs


def start_web(replicas: list[str], tmp_path):
    port = free_port()
    env = child_env(INFERENCE_URL=",".join(replicas), MEDIA_ROOT=str(tmp_path / "web-media"),
                    INFERENCE_FAILURES_TO_OPEN="1", INFERENCE_OPEN_S="300",
                    INFERENCE_CONNECT_TIMEOUT_S="1")
    return f"http://127.0.0.1:{port}", start_asgi(port, env)


def public_works(alice, space, n: int, seed: int) -> list[Creation]:
    made = actions.do_random(alice, space, n, seed=seed)
    return [actions.do_update(c, visibility=Visibility.PUBLIC) for c in made]


def expected_png(creation: Creation, size: int) -> bytes:
    return encode(get_space("abstract").render(creation.tensor()[None], size)[0], "png")


def served(base: str) -> int:
    return httpx.get(f"{base}/readyz").json()["served"]


def test_the_web_renders_through_two_replicas_and_goes_on_when_one_dies(alice, space, tmp_path):
    works = public_works(alice, space, 6, seed=31)
    (a, b), replicas = start_replicas((), ())
    web, server = start_web([a, b], tmp_path)
    try:
        for base, proc in zip((a, b), replicas, strict=True):
            wait_ready(base, proc)
        wait_healthy(web, server)
        for work in works[:2]:  # one each, in turn
            answer = httpx.get(f"{web}{images.url('abstract', work.latent_sha, 64, 'png')}", timeout=30)
            assert answer.status_code == 200
            assert answer.content == expected_png(work, 64)  # the same pixels as in-process
        assert served(a) >= 1 and served(b) >= 1

        replicas[0].kill()  # a replica dies mid-service
        replicas[0].wait()
        for work in works[2:]:
            answer = httpx.get(f"{web}{images.url('abstract', work.latent_sha, 128, 'png')}", timeout=30)
            assert answer.status_code == 200
            assert answer.content == expected_png(work, 128)
        health = httpx.get(f"{web}/healthz", timeout=10)
    finally:
        logs = [stop(proc) for proc in (server, *replicas)]
    assert health.status_code == 200, logs  # one replica is enough to serve
    body = health.json()
    assert body["checks"]["inference"] == "ok"
    assert body["inference"][a]["state"] == "out" and body["inference"][a]["failures"] >= 1
    assert body["inference"][a]["readyz"].startswith("did not answer")
    assert body["inference"][b] | {"last_error": ""} == {
        "state": "in", "failures": 0, "back_in_s": 0.0, "last_error": "", "readyz": "ready"}


def test_an_overloaded_replica_answers_503_and_the_web_renders_elsewhere(alice, space, tmp_path):
    works = public_works(alice, space, 4, seed=32)
    (full, free), replicas = start_replicas(
        ("--max-queue", "1", "--max-batch", "1", "--max-size", "4096"), ())
    web, server = start_web([full, free], tmp_path)
    try:
        for base, proc in zip((full, free), replicas, strict=True):
            wait_ready(base, proc)
        wait_healthy(web, server)
        # A slow picture fills the one place in the full replica's queue.
        big = space.generator().sample(1, 0).numpy().tobytes()
        threading.Thread(target=lambda: _quietly(lambda: httpx.post(
            f"{full}/v1/render", params={"space": "abstract", "shape": "1,8,64", "size": "4096"},
            content=big, timeout=120)), daemon=True).start()
        deadline = time.monotonic() + 30
        while httpx.get(f"{full}/readyz").json()["waiting"] < 1:
            assert time.monotonic() < deadline
            time.sleep(0.01)
        answers = [httpx.get(f"{web}{images.url('abstract', w.latent_sha, 64, 'png')}", timeout=30)
                   for w in works]
        refused = httpx.get(f"{full}/readyz").json()["refused"]
        health = httpx.get(f"{web}/healthz", timeout=10).json()
    finally:
        replicas[0].kill()
        logs = [stop(proc) for proc in (server, *replicas)]
    assert [a.status_code for a in answers] == [200] * 4, logs
    assert [a.content for a in answers] == [expected_png(w, 64) for w in works]
    assert refused >= 2  # every other request tried the full replica first
    assert health["inference"][full]["state"] == "in"  # full is not broken: it stays in


def _quietly(call) -> None:
    try:
        call()
    except httpx.HTTPError:
        pass  # the replica is killed at the end of the test


@pytest.fixture
def one_replica(settings, monkeypatch):
    """This test process renders through one real replica, as a worker with INFERENCE_URL."""
    port = free_port()
    proc = start_inference(port)
    base = f"http://127.0.0.1:{port}"
    wait_ready(base, proc)
    settings.INFERENCE_URLS = [base]
    settings.PROJECTION_SIZE = 32
    monkeypatch.setattr(images, "_batchers", {})
    monkeypatch.setattr(images, "_remote", None)
    yield base
    stop(proc)


def test_an_upload_is_projected_on_the_replica_with_progress(alice, space, one_replica, settings):
    settings.PROJECTION_BUDGET_S = 1.0
    upload = actions.do_upload(alice, space, decode(picture_bytes()), "Dusk")
    before = served(one_replica)
    made = projection.run(upload.pk)
    upload.refresh_from_db()
    assert upload.status == UploadStatus.DONE and upload.creation.public_id == made
    assert upload.step == upload.steps > 0 and upload.psnr_db > 5
    assert served(one_replica) > before  # the projection (and its previews) ran there


def test_cancelling_stops_a_projection_on_the_replica(alice, space, one_replica, settings):
    settings.PROJECTION_BUDGET_S = 60.0
    upload = actions.do_upload(alice, space, decode(picture_bytes()), "")
    outcome = {}

    def work():
        try:
            outcome.update(made=projection.run(upload.pk))
        finally:
            connection.close()  # this thread's own connection

    worker = threading.Thread(target=work)
    worker.start()
    deadline = time.monotonic() + 60
    while not Upload.objects.filter(pk=upload.pk, step__gt=0).exists():
        assert time.monotonic() < deadline, "the projection never reported a step"
        time.sleep(0.1)
    assert httpx.get(f"{one_replica}/readyz").json()["projections"] == 1
    assert projection.do_cancel_upload(upload)
    worker.join(30)
    assert outcome == {"made": None}
    deadline = time.monotonic() + 10
    while httpx.get(f"{one_replica}/readyz").json()["projections"]:
        assert time.monotonic() < deadline, "the replica went on projecting"
        time.sleep(0.05)
    assert not Creation.objects.filter(origin=Origin.UPLOAD).exists()


def test_the_web_is_unhealthy_when_no_replica_is_ready(client, settings, monkeypatch):
    settings.INFERENCE_URLS = [f"http://127.0.0.1:{free_port()}"]  # nothing listens there
    monkeypatch.setattr(images, "_batchers", {})
    monkeypatch.setattr(images, "_remote", None)
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["failing"] == ["inference"]
    assert body["checks"]["inference"] == "no inference replica is ready"


def test_video_frames_are_the_same_rendered_here_or_on_the_replica(one_replica, settings):
    local_space = get_space("abstract")
    frames = local_space.sample(3, 9)
    views = [(1.0, 0.0, 0.0), (1.4, 0.1, 0.0), (2.0, 0.1, -0.1)]
    remote = images.render_frames(local_space, frames, 48, views), images.render_frames(
        local_space, frames, 48)
    settings.INFERENCE_URLS = []
    images._batchers.clear()
    here = images.render_frames(local_space, frames, 48, views), images.render_frames(
        local_space, frames, 48)
    assert torch.equal(remote[0], here[0]) and torch.equal(remote[1], here[1])
    assert not torch.equal(here[0][0], here[0][2])  # the camera moved
    with pytest.raises(ValueError, match="views must give one camera per frame: 2 for 3 frames"):
        images.render_frames(local_space, frames, 48, views[:2])


def test_a_video_job_renders_on_the_replica_and_makes_the_same_files(alice, space, one_replica,
                                                                     settings):
    from breeding import videos

    keys = actions.do_random(alice, space, 2, seed=4)
    plan = videos.Plan(seconds_per_step=0.25, fps=24, size=256, even_speed=True)
    before = served(one_replica)
    remote = videos.do_video(alice, space, keys, plan)
    assert videos.run(remote.pk) is not None
    assert served(one_replica) > before  # the frames (and the even-speed probes) went there
    settings.INFERENCE_URLS = []
    images._batchers.clear()
    here = videos.do_video(alice, space, keys, plan)
    assert videos.run(here.pk) is not None
    remote.refresh_from_db()
    here.refresh_from_db()
    for field in ("mp4", "webm", "poster"):
        assert getattr(remote, field).read() == getattr(here, field).read(), field


def test_the_site_renders_through_a_replica_that_needs_its_token(settings, monkeypatch):
    """INFERENCE_TOKEN: the web and worker processes send the replicas' shared secret."""
    port = free_port()
    proc = start_inference(port, "--token", "shared-between-web-and-replicas")
    base = f"http://127.0.0.1:{port}"
    try:
        wait_ready(base, proc)
        settings.INFERENCE_URLS = [base]
        monkeypatch.setattr(images, "_batchers", {})
        monkeypatch.setattr(images, "_remote", None)
        local_space = get_space("abstract")
        latents = local_space.sample(2, 4)
        settings.INFERENCE_TOKEN = None
        with pytest.raises(InferenceUnavailable, match="401: this replica needs its shared token"):
            images.render_frames(local_space, latents, 48)
        images._batchers.clear()  # a new connection pool, with the token
        monkeypatch.setattr(images, "_remote", None)
        settings.INFERENCE_TOKEN = "shared-between-web-and-replicas"
        remote = images.render_frames(local_space, latents, 48)
    finally:
        stop(proc)
    assert torch.equal(remote, local_space.render(latents, 48))
