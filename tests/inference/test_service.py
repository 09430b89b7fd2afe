"""The inference service, as a real process: the same pixels as an in-process render,
clear refusals, a bounded queue, streamed projections and a graceful shutdown."""

from __future__ import annotations

import json
import os
import signal
import socket
import threading
import time

import httpx
import numpy as np
import pytest
import torch

from inference.encode import encode
from inference.projection import project
from mendel.processes import free_port, stop
from tests.servers import start_inference, wait_ready


def as_bytes(latents: torch.Tensor) -> bytes:
    return latents.numpy().astype("<f4").tobytes()


def render(base, latents, size, fmt="raw", **extra):
    params = {"space": "abstract", "shape": ",".join(map(str, latents.shape)), "size": str(size),
              "format": fmt, **extra}
    return httpx.post(f"{base}/v1/render", params=params, content=as_bytes(latents), timeout=60)


def pictures_of(response) -> torch.Tensor:
    shape = tuple(int(d) for d in response.headers["x-shape"].split(","))
    return torch.frombuffer(bytearray(response.content), dtype=torch.uint8).reshape(shape)


def test_a_render_over_http_has_the_pixels_of_an_in_process_render(replica, space):
    latents = space.sample(3, seed=5)
    raw = render(replica, latents, 64)
    assert raw.status_code == 200 and raw.headers["x-shape"] == "3,64,64,3"
    assert torch.equal(pictures_of(raw), space.render(latents, 64))
    png = render(replica, latents[:1], 128, "png")
    assert png.headers["content-type"] == "image/png"
    assert png.content == encode(space.render(latents[:1], 128)[0], "png")


def test_it_says_what_it_serves_and_when_it_is_ready(replica, space):
    spaces = httpx.get(f"{replica}/v1/spaces").json()["spaces"]
    assert spaces["abstract"] | {"device": "?"} == {
        "layers": 8, "dim": 64, "version": space.version, "prior": "gaussian", "coarse_layers": 4,
        "can_project": True, "can_move_camera": True, "device": "?"}
    ready = httpx.get(f"{replica}/readyz")
    assert ready.status_code == 200
    assert ready.json()["ready"] is True and ready.json()["device"] == "cpu"
    assert ready.json()["threads"] == 2  # --threads 2, as tests.servers starts it
    assert httpx.get(f"{replica}/healthz").json() == {"status": "ok"}


@pytest.mark.parametrize("params,body,status,message", [
    ({"shape": "1,8,63"}, 8 * 63, 400, "latents of the abstract space have shape (n, 8, 64), got (1, 8, 63)"),
    ({"shape": "one"}, 0, 400, "shape must be 3 whole numbers"),
    ({}, 100, 400, "the body must be 2048 bytes for that shape, got 400"),
    ({}, 1000, 413, "the body must be 2048 bytes for that shape, got 4000"),
    ({"size": "9000"}, 512, 400, "size must be between 16 and 8192 pixels, got 9000"),
    ({"size": "big"}, 512, 400, "size must be a whole number of pixels, got 'big'"),
    ({"size": "4096"}, 512, 413, "pictures are at most 2048 px a side on this replica, got 4096"),
    ({"format": "gif"}, 512, 400, "format must be one of raw, png, webp, got 'gif'"),
    ({"format": "png", "shape": "2,8,64"}, 1024, 400, "format png answers one picture"),
    ({"space": "faces"}, 512, 400, "this replica serves abstract, not 'faces'"),
    ({"shape": "1000,8,64"}, 0, 413, "at most 256 pictures a request, got 1000"),
    ({"shape": "200,8,64", "size": "2048"}, 0, 413, "839 megapixels; at most 68 a request"),
])
def test_bad_requests_are_refused_with_a_sentence(replica, params, body, status, message):
    query = {"space": "abstract", "shape": "1,8,64", "size": "64", **params}
    response = httpx.post(f"{replica}/v1/render", params=query, content=b"\0" * (4 * body))
    assert response.status_code == status
    assert message in response.json()["error"]


def test_non_finite_latents_and_unknown_paths_are_refused(replica):
    nan = np.full((1, 8, 64), np.nan, dtype="<f4").tobytes()
    response = httpx.post(f"{replica}/v1/render", content=nan,
                          params={"space": "abstract", "shape": "1,8,64", "size": "64"})
    assert (response.status_code, response.json()) == (
        400, {"error": "latents must be finite numbers (no NaN or infinity)"})
    assert httpx.get(f"{replica}/v2/render").status_code == 404
    wrong = httpx.get(f"{replica}/v1/render")
    assert (wrong.status_code, wrong.headers["allow"]) == (405, "POST")


def test_frames_follow_their_cameras(replica, space):
    latents = space.sample(2, seed=8)
    views = np.array([[1.0, 0.0, 0.0], [2.5, 0.3, -0.2]], dtype="<f4")
    response = httpx.post(f"{replica}/v1/frames", content=as_bytes(latents) + views.tobytes(),
                          params={"space": "abstract", "shape": "2,8,64", "size": "48", "views": "1"})
    assert response.status_code == 200
    got = pictures_of(response)
    assert torch.equal(got[0], space.render_view(latents[:1], 48, 1.0, (0.0, 0.0))[0])
    assert torch.equal(got[1], space.render_view(latents[1:], 48, 2.5, (0.3, -0.2))[0])
    too_close = np.array([[1e-5, 0.0, 0.0]] * 2, dtype="<f4")
    refused = httpx.post(f"{replica}/v1/frames", content=as_bytes(latents) + too_close.tobytes(),
                         params={"space": "abstract", "shape": "2,8,64", "size": "48", "views": "1"})
    assert refused.status_code == 400
    assert refused.json()["error"].startswith("zoom must be a number between 0.001 and 1000")
    plain = httpx.post(f"{replica}/v1/frames", content=as_bytes(latents),
                       params={"space": "abstract", "shape": "2,8,64", "size": "48"})
    assert torch.equal(pictures_of(plain), space.render(latents, 48))


def target_picture(space) -> torch.Tensor:
    return space.render(space.sample(1, seed=77), 40)[0]


def test_a_projection_streams_its_steps_then_the_latent_of_an_in_process_one(replica, space):
    target = target_picture(space)
    params = {"space": "abstract", "shape": "40,40,3", "size": "32", "seed": "3", "steps": "4"}
    with httpx.stream("POST", f"{replica}/v1/project", params=params,
                      content=target.numpy().tobytes(), timeout=60) as response:
        assert response.headers["content-type"] == "application/x-ndjson"
        lines = [json.loads(line) for line in response.iter_lines() if line]
    steps, last = lines[:-1], lines[-1]
    assert [s["step"] for s in steps if s["step"] > 0] == [1, 2, 3, 4]
    local = project(space, target, size=32, seed=3, steps=4)
    latent = np.frombuffer(__import__("base64").b64decode(last["result"]["latent"]), dtype="<f4")
    assert torch.allclose(torch.from_numpy(latent.copy()).reshape(8, 64), local.latent, atol=1e-5)
    assert last["result"]["steps"] == 4
    assert abs(last["result"]["psnr_db"] - local.psnr_db) < 0.01


def test_closing_the_projection_stream_stops_the_projection(replica, space):
    params = {"space": "abstract", "shape": "40,40,3", "size": "32", "steps": "100000"}
    with httpx.stream("POST", f"{replica}/v1/project", params=params,
                      content=target_picture(space).numpy().tobytes(), timeout=60) as response:
        for line in response.iter_lines():
            if json.loads(line)["step"] >= 2:
                break
        assert httpx.get(f"{replica}/readyz").json()["projections"] == 1
    deadline = time.monotonic() + 10
    while httpx.get(f"{replica}/readyz").json()["projections"] and time.monotonic() < deadline:
        time.sleep(0.05)
    assert httpx.get(f"{replica}/readyz").json()["projections"] == 0


def draining(base: str) -> bool:
    """Has the replica taken its SIGTERM: does it say it is draining, or take no new
    connection?"""
    try:
        return bool(httpx.get(f"{base}/readyz").json().get("draining"))
    except httpx.TransportError:
        return True


def wait_for_waiting(base: str, at_least: int) -> None:
    deadline = time.monotonic() + 30
    while httpx.get(f"{base}/readyz").json()["waiting"] < at_least:
        assert time.monotonic() < deadline, "the slow render never started"
        time.sleep(0.01)


def in_background(call) -> tuple[threading.Thread, dict]:
    out: dict = {}
    thread = threading.Thread(target=lambda: out.setdefault("response", call()))
    thread.start()
    return thread, out


def test_a_full_queue_answers_503_with_retry_after_and_the_next_request_is_served(space):
    port = free_port()
    proc = start_inference(port, "--max-queue", "1", "--max-batch", "1")
    base = f"http://127.0.0.1:{port}"
    try:
        wait_ready(base, proc)
        slow, out = in_background(lambda: render(base, space.sample(1, 1), 2048))
        wait_for_waiting(base, 1)
        refused = render(base, space.sample(1, 2), 64)
        slow.join()
        after = render(base, space.sample(1, 2), 64)
        state = httpx.get(f"{base}/readyz").json()
    finally:
        stop(proc)
    assert refused.status_code == 503
    assert int(refused.headers["retry-after"]) >= 1
    assert "1 pictures are waiting, the most this replica queues" in refused.json()["error"]
    assert out["response"].status_code == 200 and after.status_code == 200
    assert state["refused"] == 1


def test_sigterm_finishes_the_render_in_flight_and_takes_no_new_work(space):
    port = free_port()
    proc = start_inference(port)
    base = f"http://127.0.0.1:{port}"
    wait_ready(base, proc)
    latents = space.sample(1, 4)
    slow, out = in_background(lambda: render(base, latents, 2048))
    try:
        wait_for_waiting(base, 1)
        proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 30
        while not draining(base):  # until it has taken the signal
            assert time.monotonic() < deadline, "the replica never started draining"
        try:
            late = render(base, latents, 64).status_code
        except httpx.TransportError:
            late = "refused"
        slow.join(60)
        proc.wait(30)
    finally:
        log = stop(proc)
    assert out["response"].status_code == 200, log
    assert torch.equal(pictures_of(out["response"]), space.render(latents, 2048))
    assert late in (503, "refused")
    assert proc.returncode in (0, -signal.SIGTERM), log  # uvicorn exits by the signal it got


@pytest.mark.parametrize("options,message", [
    (["--spaces", "faces"], "error: unknown space 'faces' (known: abstract, emoji, figures)"),
    (["--max-batch", "0"], "error: --max-batch must be at least 1"),
    (["--precision", "fp8"], "error: precision must be one of fp32, fp16, bf16, got 'fp8'"),
    (["--device", "tpu"], "error: device must be auto, cpu, cuda or cuda:N, got 'tpu'"),
    (["--host", "0.0.0.0"], "error: --host 0.0.0.0 can be reached from other machines: give the "
                            "replica a shared secret in INFERENCE_TOKEN (or --token), and the same "
                            "INFERENCE_TOKEN to the web and worker processes"),
    (["--max-unsent-mb", "0"], "error: --max-unsent-mb must be a positive number"),
])
def test_the_serve_command_refuses_bad_options_in_a_sentence(options, message):
    import subprocess
    import sys

    from mendel.processes import ROOT

    env = {k: v for k, v in os.environ.items() if k != "INFERENCE_TOKEN"}
    result = subprocess.run([sys.executable, "-m", "inference", "serve", *options], cwd=ROOT,
                            capture_output=True, text=True, timeout=60, env=env)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1] == message


def test_it_is_ready_only_between_loading_and_shutting_down():
    import asyncio

    from inference.service import Service

    app = Service(["abstract"], device="cpu")

    async def ask(path, method="GET"):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://replica") as client:
            return await client.request(method, path, params={
                "space": "abstract", "shape": "1,8,64", "size": "32"}, content=b"\0" * 2048)

    loading = asyncio.run(ask("/readyz"))
    assert loading.status_code == 503 and loading.json()["ready"] is False
    refused = asyncio.run(ask("/v1/render", "POST"))
    assert refused.status_code == 503 and refused.headers["retry-after"] == "2"
    assert refused.json()["error"] == "this replica is still loading its spaces"
    app.load()  # what start-up does in the background
    assert asyncio.run(ask("/readyz")).status_code == 200
    assert asyncio.run(ask("/v1/render", "POST")).status_code == 200
    app.drain()  # SIGTERM
    assert asyncio.run(ask("/readyz")).json()["draining"] is True
    leaving = asyncio.run(ask("/v1/render", "POST"))
    assert (leaving.status_code, leaving.json()["error"]) == (503, "this replica is shutting down: try another")
    app.close()


def test_it_reports_its_configured_threads_while_a_render_runs():
    """The built-in spaces run torch on one thread while they render (torch's count is
    process-wide); /readyz still says the count the replica was started with."""
    from inference import scheduler
    from inference.service import Service

    configured = torch.get_num_threads()
    app = Service(["abstract"], device="cpu")
    with scheduler.span_workers():  # as during a render
        assert torch.get_num_threads() == 1
        assert app.state()["threads"] == configured
    assert torch.get_num_threads() == configured


# -- who may ask, and how much one client may hold ----------------------------------------


def test_a_replica_with_a_token_serves_only_requests_that_bring_it(space):
    from inference.client import RemoteRenderer, Replicas

    port = free_port()
    proc = start_inference(port, "--token", "s3cret-shared")
    base = f"http://127.0.0.1:{port}"
    try:
        wait_ready(base, proc)  # /readyz is open to load balancers
        latents = space.sample(1, 3)
        missing = render(base, latents, 64)
        wrong = httpx.post(
            f"{base}/v1/render", content=as_bytes(latents),
            params={"space": "abstract", "shape": "1,8,64", "size": "64"},
            headers={"Authorization": "Bearer s3cret-shareD"})
        spaces = httpx.get(f"{base}/v1/spaces")
        replicas = Replicas([base], token="s3cret-shared")
        try:
            pictures = RemoteRenderer(replicas, space).render(latents, 64)
        finally:
            replicas.close()
    finally:
        stop(proc)
    assert (missing.status_code, missing.headers["www-authenticate"]) == (401, "Bearer")
    assert missing.json()["error"] == ("this replica needs its shared token: send "
                                       "Authorization: Bearer <INFERENCE_TOKEN>")
    assert wrong.status_code == 401
    assert wrong.json()["error"] == "the token does not match this replica's INFERENCE_TOKEN"
    assert spaces.status_code == 401
    assert torch.equal(pictures, space.render(latents, 64))


def test_large_renders_run_a_few_at_a_time_and_small_ones_go_on(space):
    port = free_port()
    proc = start_inference(port, "--max-large", "1", "--max-batch", "1")
    base = f"http://127.0.0.1:{port}"
    try:
        wait_ready(base, proc)
        slow, out = in_background(lambda: render(base, space.sample(1, 1), 2048))
        deadline = time.monotonic() + 30
        while httpx.get(f"{base}/readyz").json()["large"] < 1:
            assert time.monotonic() < deadline, "the large render never started"
            time.sleep(0.01)
        refused = render(base, space.sample(1, 2), 2048)
        small = render(base, space.sample(1, 2), 64)
        slow.join()
        after = render(base, space.sample(1, 2), 2048)
    finally:
        stop(proc)
    assert refused.status_code == 503 and int(refused.headers["retry-after"]) >= 1
    assert refused.json()["error"] == (
        "1 large renders (4 megapixels or more) are running, the most this replica takes at "
        "once: try another, retry later or ask for fewer or smaller pictures")
    assert small.status_code == 200
    assert out["response"].status_code == 200 and after.status_code == 200


def stalled_render(port: int, size: int) -> socket.socket:
    """A client that asks for a raw picture and reads none of it (a tiny receive buffer, so
    the answer stays on the replica's side)."""
    body = as_bytes(space_latent())
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(("127.0.0.1", port))
    sock.sendall((f"POST /v1/render?space=abstract&shape=1,8,64&size={size} HTTP/1.1\r\n"
                  f"Host: replica\r\nContent-Length: {len(body)}\r\n\r\n").encode() + body)
    return sock


def space_latent() -> torch.Tensor:
    from inference import get_space

    return get_space("abstract").sample(1, 6)


def readyz_until(base: str, test, what: str, timeout: float = 60) -> dict:
    deadline = time.monotonic() + timeout
    while not test(state := httpx.get(f"{base}/readyz").json()):
        assert time.monotonic() < deadline, what
        time.sleep(0.02)
    return state


def test_answers_nobody_reads_are_bounded_and_their_clients_dropped(space):
    port = free_port()
    proc = start_inference(port, "--max-unsent-mb", "20", "--send-timeout-s", "2")
    base = f"http://127.0.0.1:{port}"
    whole = 2048 * 2048 * 3
    try:
        wait_ready(base, proc)
        stalled = stalled_render(port, 2048)
        readyz_until(base, lambda s: s["unsent_bytes"] == whole, "the stalled render was not taken")
        refused = render(base, space.sample(1, 2), 2048)
        small = render(base, space.sample(1, 2), 256)  # 0.2 MB: there is room for it
        readyz_until(base, lambda s: s["unsent_bytes"] == 0, "the stalled client kept its answer")
        got = b""
        while chunk := stalled.recv(1 << 20):  # what it had been sent, then the close
            got += chunk
        stalled.close()
        after = render(base, space.sample(1, 2), 2048)
    finally:
        log = stop(proc)
    assert refused.status_code == 503
    assert refused.json()["error"] == (
        "12 MB of answers are waiting for their clients to read them, the most this replica "
        "holds is 20 MB: retry later")
    assert small.status_code == 200
    assert len(got) < whole  # dropped midway, not served in full
    assert after.status_code == 200
    assert "a client read nothing for 2 s; its connection is closed" in log


def test_a_projection_stops_at_the_replica_s_time_limit(space):
    port = free_port()
    proc = start_inference(port, "--max-projection-s", "1")
    base = f"http://127.0.0.1:{port}"
    target = target_picture(space).numpy().tobytes()
    try:
        wait_ready(base, proc)
        params = {"space": "abstract", "shape": "40,40,3", "size": "32"}
        too_long = httpx.post(f"{base}/v1/project", params={**params, "budget_s": "5"},
                              content=target)
        with httpx.stream("POST", f"{base}/v1/project", params={**params, "steps": "100000"},
                          content=target, timeout=60) as response:
            last = [json.loads(line) for line in response.iter_lines() if line][-1]
        state = httpx.get(f"{base}/readyz").json()
    finally:
        stop(proc)
    assert (too_long.status_code, too_long.json()["error"]) == (
        400, "budget_s must be from 0 to 1 seconds on this replica, got 5")
    assert last == {"error": "the projection ran past 1 s, the most this replica gives one: "
                             "ask for budget_s, or fewer steps"}
    assert state["projections"] == 0
