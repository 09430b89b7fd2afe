"""A WebSocket opens only from a page of this site (scheme, host and port) or an origin in
CSRF_TRUSTED_ORIGINS: a visitor's cookies go along with any page's handshake."""

from __future__ import annotations

import pytest
from channels.testing import WebsocketCommunicator

from mendel.asgi import application

# The consumer's dispatch closes stale database connections (channels), which counts as
# database access once any earlier test has opened one in its thread.
pytestmark = [pytest.mark.asyncio, pytest.mark.django_db]


async def opens(origin: str | None, host: str = "127.0.0.1:8000", **extra: str) -> bool:
    headers = [(b"host", host.encode())] if host else []
    if origin is not None:
        headers.append((b"origin", origin.encode()))
    headers += [(k.replace("_", "-").encode(), v.encode()) for k, v in extra.items()]
    ws = WebsocketCommunicator(application, "/ws/studio/", headers=headers)
    connected, _ = await ws.connect()
    await ws.disconnect()
    return connected


async def test_a_page_of_the_site_opens_a_socket():
    assert await opens("http://127.0.0.1:8000")
    assert await opens("http://localhost:8000", host="localhost:8000")


@pytest.mark.parametrize("origin", [
    "http://127.0.0.1:9999",   # the same host, another port: another site
    "http://127.0.0.1",        # ...or the default port
    "https://127.0.0.1:8000",  # another scheme
    "http://localhost:8000",   # another host name
    "http://evil.example",
    "null",                    # a sandboxed frame or a file
])
async def test_any_other_origin_is_refused(origin):
    assert not await opens(origin)


async def test_a_handshake_without_origin_or_host_is_refused():
    assert not await opens(None)
    assert not await opens("http://127.0.0.1:8000", host="")


async def test_a_host_outside_allowed_hosts_is_refused_even_when_the_origin_matches_it():
    # DNS rebinding: evil.example now points here, and its page talks to "its own" server.
    assert not await opens("http://evil.example:8000", host="evil.example:8000")


async def test_behind_a_tls_proxy_the_origin_is_https(settings):
    settings.ALLOWED_HOSTS = ["gallery.example.org"]
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    proxied = {"x_forwarded_proto": "https"}
    assert await opens("https://gallery.example.org", host="gallery.example.org", **proxied)
    assert not await opens("http://gallery.example.org", host="gallery.example.org", **proxied)
    assert not await opens("https://gallery.example.org:8443", host="gallery.example.org", **proxied)
    # Without the proxy's word the connection itself is plain ws://.
    assert not await opens("https://gallery.example.org", host="gallery.example.org")


async def test_csrf_trusted_origins_may_open_sockets_too(settings):
    settings.ALLOWED_HOSTS = ["gallery.example.org"]
    settings.CSRF_TRUSTED_ORIGINS = ["https://www.example.org", "https://*.art.example.org"]
    assert await opens("https://www.example.org", host="gallery.example.org")
    assert await opens("https://north.art.example.org", host="gallery.example.org")
    assert not await opens("http://www.example.org", host="gallery.example.org")
    assert not await opens("https://www.example.org:8443", host="gallery.example.org")
    assert not await opens("http://north.art.example.org", host="gallery.example.org")
    assert not await opens("https://art.example.org.evil.example", host="gallery.example.org")
