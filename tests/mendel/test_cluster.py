"""`python -m mendel.cluster` brings the multi-machine layout up on this machine (two web
processes, a job worker, two inference replicas, Redis, PostgreSQL), and a breeder breeds
through it: random works on one web process, children on the other, their pictures from
the replicas, an upload projected by the worker on a replica. Then it stops cleanly."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time

import httpx
import pytest
from rest_framework.authtoken.models import Token

from breeding import actions
from inference import get_space
from inference.encode import encode
from mendel.processes import ROOT
from tests.breeding.test_uploads import picture_bytes
from tests.servers import child_env

pytestmark = pytest.mark.django_db(transaction=True)


def free_run(n: int) -> int:
    """The first of ``n`` consecutive free ports."""
    for _ in range(50):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            first = s.getsockname()[1]
        if first + n > 65535:
            continue
        try:
            held = []
            for port in range(first, first + n):
                s = socket.socket()
                held.append(s)
                s.bind(("127.0.0.1", port))
            return first
        except OSError:
            continue
        finally:
            for s in held:
                s.close()
    raise RuntimeError(f"no {n} consecutive free ports")


def wait_for(check, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while True:
        try:
            found = check()
            if found:
                return found
        except httpx.HTTPError:
            pass
        assert time.monotonic() < deadline, f"{what} within {timeout:.0f} s"
        time.sleep(0.2)


def test_the_layout_comes_up_and_breeds_and_stops(alice, redis_url, tmp_path):
    actions.sync_spaces()
    token = Token.objects.create(user=alice).key
    web, inference = free_run(2), free_run(2)
    env = child_env(REDIS_URL=redis_url, MEDIA_ROOT=str(tmp_path / "media"),
                    PROJECTION_SIZE="32", PROJECTION_BUDGET_S="1")
    log = open(tmp_path / "cluster.log", "w+")  # noqa: SIM115 - read after the run
    cluster = subprocess.Popen(
        [sys.executable, "-m", "mendel.cluster", "--skip-setup", "--port", str(web),
         "--inference-port", str(inference)],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, text=True)
    webs = [f"http://127.0.0.1:{web}", f"http://127.0.0.1:{web + 1}"]
    replicas = [f"http://127.0.0.1:{inference}", f"http://127.0.0.1:{inference + 1}"]
    auth = {"Authorization": f"Token {token}"}
    try:
        for base in webs:
            health = wait_for(lambda b=base: httpx.get(f"{b}/healthz").json(), 90, f"{base} healthy")
            assert health["checks"] == {"database": "ok", "redis": "ok", "inference": "ok"}
            assert set(health["inference"]) == set(replicas)

        # Random works on one web process, children on the other.
        made = httpx.post(f"{webs[0]}/api/spaces/abstract/random/", json={"n": 2, "seed": 5},
                          headers=auth, timeout=30)
        assert made.status_code == 201, made.text
        parent = made.json()[0]
        children = httpx.post(f"{webs[1]}/api/creations/{parent['id']}/children/", json={"n": 3},
                              headers=auth, timeout=30)
        assert children.status_code == 201, children.text
        child = children.json()[2]
        # Its picture, from the first web process, is the one an in-process render makes.
        from breeding.models import Creation

        latent = Creation.objects.get(public_id=child["id"]).tensor()
        sha = Creation.objects.get(public_id=child["id"]).latent_sha
        picture = httpx.get(f"{webs[0]}/r/abstract/{sha}/64.png", headers=auth, timeout=30)
        assert picture.status_code == 200
        assert picture.content == encode(get_space("abstract").render(latent[None], 64)[0], "png")

        # An upload: the worker projects it, on a replica, and the work appears.
        upload = httpx.post(f"{webs[1]}/api/uploads/", headers=auth, timeout=30,
                            files={"file": ("dusk.png", picture_bytes(), "image/png")})
        assert upload.status_code == 202, upload.text
        done = wait_for(lambda: (lambda u: u if u["status"] == "done" else None)(
            httpx.get(f"{webs[0]}/api/uploads/{upload.json()['id']}/", headers=auth).json()),
            60, "the upload projected")
        assert done["creation"]
        served = [httpx.get(f"{r}/readyz").json()["served"] for r in replicas]
        assert sum(served) >= 5, served  # 2 + 3 eager pictures, the 64 px one, the projection
    finally:
        cluster.send_signal(signal.SIGTERM)
        try:
            code = cluster.wait(60)
        except subprocess.TimeoutExpired:
            cluster.kill()
            code = "killed"
        log.seek(0)
        said = log.read()
        log.close()
    assert code == 0, said
    for base in webs + replicas:
        with pytest.raises(httpx.TransportError):
            httpx.get(f"{base}/healthz", timeout=2)  # every process of the layout is gone


@pytest.mark.parametrize("args,env,message", [
    (["--web", "0"], {}, "error: --web must be at least 1"),
    ([], {"REDIS_URL": "redis://127.0.0.1:1/0"},
     "error: Redis at redis://127.0.0.1:1/0 does not answer (ConnectionError): start one, or set REDIS_URL"),
])
def test_the_launcher_refuses_what_it_cannot_run_in_a_sentence(args, env, message):
    result = subprocess.run([sys.executable, "-m", "mendel.cluster", *args], cwd=ROOT,
                            env=child_env(**env), capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert result.stderr.strip() == message
