"""What the web server itself does with hostile or careless HTTP, on a real uvicorn process
started as docs/deploy.md says: late headers, bodies over the limit (sent whole before the
answer is read, or in chunks), chunked JSON, forged X-Forwarded-For, and one log line for
each request Django refuses on purpose."""

from __future__ import annotations

import json
import socket
import time
import urllib.error
import urllib.request

import httpx
import pytest
from rest_framework.authtoken.models import Token

from breeding.uploads import MAX_BYTES
from mendel.middleware import MULTIPART_SLACK
from tests.conftest import free_port
from tests.servers import child_env, start_asgi, stop, wait_healthy

PASSWORD = "correct horse 1"  # alice's (tests/conftest.py)
TOO_LARGE = {"error": "The request is too large: an upload may be at most 20 MB."}


@pytest.fixture(scope="module")
def server(django_db_setup, django_db_blocker, tmp_path_factory):
    """One web server for the module, its header deadline one second; its base URL, port
    and log file."""
    folder = tmp_path_factory.mktemp("server")
    port = free_port()
    with django_db_blocker.unblock():
        env = child_env(MEDIA_ROOT=str(folder / "media"), HEADER_TIMEOUT_S="1",
                        LOGIN_FAILURE_LIMIT="5")
    log_path = folder / "server.log"
    with open(log_path, "w") as log:
        proc = start_asgi(port, env, log=log)
        base = f"http://127.0.0.1:{port}"
        try:
            wait_healthy(base, proc)
            yield base, port, log_path
        finally:
            stop(proc)


def read_to_the_end(sock: socket.socket) -> bytes:
    got = b""
    while chunk := sock.recv(65536):
        got += chunk
    return got


def test_half_sent_requests_are_answered_408_and_closed_after_the_header_deadline(server):
    base, port, _ = server
    started = time.monotonic()
    half, silent = [], []
    for _ in range(150):
        sock = socket.create_connection(("127.0.0.1", port))
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
        half.append(sock)
    for _ in range(50):
        silent.append(socket.create_connection(("127.0.0.1", port)))
    answers = []
    for sock in half + silent:
        sock.settimeout(30)  # far past the deadline: a connection still open fails here
        answers.append(read_to_the_end(sock))
        sock.close()
    closed_after = time.monotonic() - started
    assert all(a.startswith(b"HTTP/1.1 408 Request Timeout\r\n") for a in answers)
    assert all(a.endswith(b"The request's headers did not arrive in time.\n") for a in answers)
    print(f"200 half-sent or silent connections closed {closed_after:.1f} s after opening")
    assert httpx.get(f"{base}/healthz").status_code == 200  # whole requests go on


def test_a_body_over_the_limit_sent_whole_before_reading_still_gets_its_413(server):
    base, _, _ = server
    request = urllib.request.Request(f"{base}/api/uploads/", data=b"x" * (MAX_BYTES + MULTIPART_SLACK + 1),
                                     headers={"Content-Type": "application/octet-stream"})
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=60)
    assert refused.value.code == 413
    assert json.loads(refused.value.read()) == TOO_LARGE


def test_a_chunked_body_over_the_limit_is_a_413_in_json(server):
    base, _, _ = server

    def parts():
        for _ in range(21):
            yield b"x" * 2**20

    response = httpx.post(f"{base}/api/uploads/", content=parts(), timeout=60,
                          headers={"Content-Type": "application/octet-stream"})
    assert response.status_code == 413 and response.json() == TOO_LARGE


def test_a_chunked_json_body_is_read_not_taken_for_no_body(server, transactional_db, alice):
    base, _, _ = server
    credentials = json.dumps({"username": "alice", "password": PASSWORD}).encode()

    def parts():
        yield credentials[:10]
        yield credentials[10:]

    response = httpx.post(f"{base}/api/token/", content=parts(),
                          headers={"Content-Type": "application/json"})
    assert response.status_code == 200
    assert response.json() == {"token": Token.objects.get(user=alice).key}


def test_a_local_client_cannot_pick_its_address_with_x_forwarded_for(server, transactional_db,
                                                                     alice):
    base, _, _ = server
    answers = [httpx.post(f"{base}/api/token/", json={"username": "alice", "password": "wrong"},
                          headers={"X-Forwarded-For": f"198.51.100.{i}"}).status_code
               for i in range(5)]
    assert answers == [400, 400, 400, 400, 429]  # one address: 127.0.0.1


def test_requests_django_refuses_on_purpose_are_one_log_line_each(server):
    base, _, log_path = server
    before = log_path.read_text()
    bad_host = httpx.get(f"{base}/", headers={"Host": "evil.example"})
    many_fields = httpx.post(f"{base}/accounts/login/", data={f"f{i}": "x" for i in range(1200)})
    large_form = httpx.post(f"{base}/accounts/login/", data={"username": "x" * (2 * 2**20)})
    assert (bad_host.status_code, many_fields.status_code, large_form.status_code) == (400, 400, 400)
    httpx.get(f"{base}/healthz")  # the server has written what it had to
    said = log_path.read_text()[len(before):]
    security = [line for line in said.splitlines() if "django.security." in line]
    assert len(security) == 3, said
    assert "Traceback" not in said, said
