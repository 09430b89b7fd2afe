"""Pictures served past the page middleware (mendel.pictures): the same answers, the same
rules and headers as through Django's whole stack, for every kind of asker."""

from __future__ import annotations

import asyncio
import functools

import pytest
from asgiref.sync import async_to_sync
from django.conf import settings
from django.test import Client
from rest_framework.authtoken.models import Token

from breeding import actions, images
from breeding.models import Visibility

pytestmark = pytest.mark.django_db(transaction=True)


async def _get(app, path: str, query: str = "", cookie: str | None = None, token: str | None = None,
               host: str = "testserver", method: str = "GET"):
    headers = [(b"host", host.encode())]
    if cookie:
        headers.append((b"cookie", f"{settings.SESSION_COOKIE_NAME}={cookie}".encode()))
    if token:
        headers.append((b"authorization", f"Token {token}".encode()))
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method,
             "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": query.encode(),
             "root_path": "", "headers": headers, "client": ("127.0.0.1", 5000),
             "server": ("testserver", 80)}
    sent, asked, finished = [], [False], asyncio.Event()

    async def receive():
        if not asked[0]:
            asked[0] = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await finished.wait()
        return {"type": "http.disconnect"}

    async def send(message):
        sent.append(message)

    await app(scope, receive, send)
    finished.set()
    start = next(m for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return start["status"], {k.decode().lower(): v.decode() for k, v in start["headers"]}, body


def fast(*args, **kwargs):
    from mendel.asgi import application

    return async_to_sync(_get)(application, *args, **kwargs)


def whole_stack(*args, **kwargs):
    from mendel.asgi import django_asgi_app

    return async_to_sync(_get)(django_asgi_app, *args, **kwargs)


@pytest.fixture
def world(django_user_model, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.ALLOWED_HOSTS = ["testserver"]
    space = actions.sync_spaces()[0]
    alice = django_user_model.objects.create_user("alice", password="first password")
    bob = django_user_model.objects.create_user("bob", password="bob's password")
    shared, hidden = actions.do_random(alice, space, 2, seed=5)
    actions.do_update(shared, visibility=Visibility.PUBLIC)
    actions.do_update(hidden, visibility=Visibility.PRIVATE)
    images.settle(60)

    def session(user):
        client = Client()
        client.force_login(user)
        return client.cookies[settings.SESSION_COOKIE_NAME].value

    return {"space": space, "alice": alice, "shared": shared, "hidden": hidden,
            "askers": {"nobody": {}, "alice": {"cookie": session(alice)}, "bob": {"cookie": session(bob)},
                       "alice's token": {"token": Token.objects.create(user=alice).key},
                       "a wrong token": {"token": "0" * 40}}}


def test_every_asker_gets_the_answer_and_headers_the_whole_stack_gives(world):
    slug = world["space"].slug
    paths = [images.url(slug, world["shared"].latent_sha, 256), images.url(slug, world["hidden"].latent_sha, 256),
             images.url(slug, world["hidden"].latent_sha, 64, "png"), images.url(slug, "0" * 32, 256),
             f"/r/{slug}/{world['shared'].latent_sha}/257.webp", f"/r/{slug}/{world['shared'].latent_sha}/²⁵⁶.webp",
             f"/r/{slug}/not-a-sha/256.webp", f"/r/no-such-space/{world['shared'].latent_sha}/256.webp"]
    seen = set()
    for who, credentials in world["askers"].items():
        for path in paths:
            status, headers, body = fast(path, **credentials)
            expected = whole_stack(path, **credentials)
            assert (status, body) == (expected[0], expected[2]), (who, path)
            assert set(headers) == set(expected[1]), (who, path, set(headers) ^ set(expected[1]))
            for name in ("cache-control", "etag", "content-type", "vary", "x-content-type-options",
                         "x-frame-options", "permissions-policy", "referrer-policy", "content-security-policy"):
                assert headers.get(name) == expected[1].get(name), (who, path, name)
            seen.add((who, path == paths[1], status))
    # the hidden work's picture: to its owner alone, by session or token
    assert {who for who, hidden, status in seen if hidden and status == 200} == {"alice", "alice's token"}
    assert ("nobody", False, 200) in seen  # the shared one, to anyone


def test_every_answer_carries_the_sites_security_headers(world):
    _, headers, _ = fast(images.url(world["space"].slug, world["shared"].latent_sha, 256))
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["x-frame-options"] == "DENY"
    assert "default-src" in headers["content-security-policy"]
    assert headers["cross-origin-opener-policy"] == "same-origin"
    assert "referrer-policy" in headers and "permissions-policy" in headers


def test_a_password_changed_elsewhere_ends_the_session_for_pictures_too(world):
    path = images.url(world["space"].slug, world["hidden"].latent_sha, 256)
    cookie = world["askers"]["alice"]["cookie"]
    assert fast(path, cookie=cookie)[0] == 200
    world["alice"].set_password("second password")
    world["alice"].save()
    status, _, body = fast(path, cookie=cookie)
    assert status == 404 and b"No such picture" in body


def test_bad_hosts_nul_and_other_methods_are_refused_as_the_site_refuses_them(world):
    path = images.url(world["space"].slug, world["shared"].latent_sha, 256)
    assert fast(path, host="evil.example")[0] == whole_stack(path, host="evil.example")[0] == 400
    status, _, body = fast(path, query="x=%00")
    assert status == 400 and b"NUL" in body
    assert fast(path, method="POST")[0] == whole_stack(path, method="POST")[0] == 403  # Django answers: CSRF


@functools.cache
def _stock_app():
    from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler
    from django.core.handlers.asgi import ASGIHandler

    return ASGIStaticFilesHandler(ASGIHandler())


def stock(*args, **kwargs):
    """The same request through Django's own ASGI handler (each middleware its own trip)."""
    return async_to_sync(_get)(_stock_app(), *args, **kwargs)


def test_every_other_request_crosses_to_its_thread_once_and_is_answered_as_by_django(world, monkeypatch):
    """Pages, API answers (a session, a token, a refusal) and coroutine views go through the
    middleware as one synchronous chain: one trip to the request's thread for the middleware
    and the view (Django's own handler makes two per middleware: 21 in all), and the same
    answer as Django's own handler gives."""
    from asgiref.sync import SyncToAsync

    trips = []
    crossing = SyncToAsync.__call__

    async def counted(self, *args, **kwargs):
        trips.append(getattr(self.func, "__qualname__", ""))
        return await crossing(self, *args, **kwargs)

    shared, hidden = world["shared"].public_id, world["hidden"].public_id
    paths = ["/healthz", f"/api/creations/{shared}/", f"/api/creations/{hidden}/", f"/w/{shared}/",
             "/api/gallery/", "/api/creations/nope/", f"/w/{hidden}/"]
    for who, credentials in world["askers"].items():
        for path in paths:
            expected = stock(path, **credentials)
            monkeypatch.setattr(SyncToAsync, "__call__", counted)
            trips.clear()
            status, headers, body = fast(path, **credentials)
            monkeypatch.setattr(SyncToAsync, "__call__", crossing)
            assert trips.count("BaseHandler.get_response") == 1 and len(trips) <= 4, (who, path, trips)
            assert status == expected[0], (who, path)
            if path != f"/w/{shared}/" and path != f"/w/{hidden}/":  # pages carry a fresh CSRF token
                assert body == expected[2], (who, path)
            assert set(headers) == set(expected[1]), (who, path, set(headers) ^ set(expected[1]))
    assert fast(f"/api/creations/{hidden}/", **world["askers"]["alice"])[0] == 200
    assert fast(f"/api/creations/{hidden}/", **world["askers"]["bob"])[0] == 404
