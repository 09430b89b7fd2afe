"""Tampered and malformed requests get a clear 4xx with ``{"error": ...}``, never a 500.

Every case here was a 500, a Django HTML page under /api/, or a silent default before.
"""

from __future__ import annotations

import base64
from urllib.parse import quote

import pytest
from channels.testing import WebsocketCommunicator
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils.module_loading import import_string
from rest_framework import parsers as drf_parsers

from breeding import actions
from breeding.models import Visibility
from common import parsers as common_parsers

pytestmark = pytest.mark.django_db

DEEP = "[" * 1000 + "]" * 1000


@pytest.fixture
def work(alice):
    space = actions.sync_spaces()[0]
    return actions.do_update(actions.do_random(alice, space, 1)[0], visibility=Visibility.PUBLIC)


@pytest.fixture
def lenient():
    """A client that answers with the server's response, whatever happened inside."""
    return Client(raise_request_exception=False)


def is_error(response, status: int) -> bool:
    return (response.status_code == status and response["Content-Type"] == "application/json"
            and isinstance(response.json().get("error"), str) and response.json()["error"])


def cursor(position: str) -> str:
    return quote(base64.b64encode(f"p={position}".encode()).decode())


@pytest.mark.parametrize("order", ["newest", "trending"])
@pytest.mark.parametrize("position", ["abc", "nan", "inf", "2026-99-99", "2026-02-30T10:00:00Z"])
def test_a_cursor_made_by_hand_is_a_404(lenient, work, order, position):
    response = lenient.get(f"/api/gallery/?order={order}&cursor={cursor(position)}")
    assert is_error(response, 404), response.content
    assert lenient.get(f"/gallery/?order={order}&cursor={cursor(position)}").status_code == 404


def test_a_cursor_the_gallery_made_still_works(lenient, work, alice):
    actions.do_update(actions.do_random(alice, work.space, 1)[0], visibility=Visibility.PUBLIC)
    first = lenient.get("/api/gallery/?limit=1").json()
    second = lenient.get(first["next"])
    assert second.status_code == 200 and len(second.json()["results"]) == 1


def test_json_nested_a_thousand_deep_is_a_400_everywhere(lenient, alice, work):
    assert is_error(lenient.post("/api/token/", DEEP, content_type="application/json"), 400)
    lenient.force_login(alice)
    for method, url in [
        ("post", "/api/spaces/abstract/random/"),
        ("post", f"/api/creations/{work.public_id}/children/"),
        ("post", f"/api/creations/{work.public_id}/preview/"),
        ("post", f"/api/creations/{work.public_id}/edit/"),
        ("patch", f"/api/creations/{work.public_id}/"),
        ("post", "/api/cross/"),
    ]:
        response = getattr(lenient, method)(url, DEEP, content_type="application/json")
        assert is_error(response, 400), (url, response.status_code, response.content[:200])
        assert "nested too deeply" in response.json()["error"]


def _api_views(patterns=None):
    for entry in patterns if patterns is not None else get_resolver().url_patterns:
        if isinstance(entry, URLResolver):
            yield from _api_views(entry.url_patterns)
        elif isinstance(entry, URLPattern):
            cls = getattr(entry.callback, "cls", None)
            if cls is not None and hasattr(cls, "parser_classes"):
                yield str(entry.pattern), entry.callback


def test_every_api_view_parses_with_the_guarded_parsers():
    """A new endpoint joins by default: no view may parse JSON or multipart with DRF's
    unguarded parsers (a view that sets its own list must use ``common.parsers.PARSERS``)."""
    views = list(_api_views())
    assert len(views) > 10
    for route, callback in views:
        classes = callback.initkwargs.get("parser_classes", callback.cls.parser_classes)
        for parser in classes:
            assert parser not in (drf_parsers.JSONParser, drf_parsers.MultiPartParser), route


def test_a_multipart_body_that_does_not_parse_is_a_400_not_the_defaults(lenient, alice, work):
    lenient.force_login(alice)
    before = alice.creations.count()
    for content_type in ("multipart/form-data; boundary=x", "multipart/form-data"):
        response = lenient.post("/api/spaces/abstract/random/", b"--x\r\ngarbage",
                                content_type=content_type)
        assert is_error(response, 400), response.content
        response = lenient.post("/api/token/", b"--x\r\ngarbage", content_type=content_type)
        assert is_error(response, 400), response.content
    assert alice.creations.count() == before


def test_too_many_form_fields_is_a_json_400_under_the_api(lenient, alice):
    fields = {f"f{i}": "x" for i in range(1200)}
    assert is_error(lenient.post("/api/token/", fields), 400)
    lenient.force_login(alice)
    assert is_error(lenient.post("/api/spaces/abstract/random/", fields), 400)
    page = lenient.get("/library/", {"discard": ["x"] * 1200})
    assert page.status_code == 400 and page["Content-Type"].startswith("text/html")


def test_a_failed_csrf_check_is_json_under_the_api_and_pictures(alice, work):
    strict = Client(enforce_csrf_checks=True, raise_request_exception=False)
    strict.force_login(alice)
    response = strict.post(f"/r/abstract/{work.latent_sha}/64.webp", {})
    assert is_error(response, 403) and "CSRF" in response.json()["error"]
    page = strict.post("/library/", {"discard": "x"})
    assert page.status_code == 403 and page["Content-Type"].startswith("text/html")


@pytest.mark.parametrize("size", ["²⁵⁶", "٢٥٦", "0256", "256 ", "+256", "1e3"])
def test_a_picture_has_one_canonical_size_in_its_url(lenient, work, size):
    response = lenient.get(f"/r/abstract/{work.latent_sha}/{quote(size)}.webp")
    assert is_error(response, 404), response.content


def test_the_canonical_picture_url_still_answers(lenient, work):
    response = lenient.get(f"/r/abstract/{work.latent_sha}/64.webp")
    assert response.status_code == 200 and response["Content-Type"] == "image/webp"


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_the_studio_socket_survives_json_nested_a_thousand_deep(client, alice):
    from asgiref.sync import sync_to_async

    from mendel.asgi import application

    await sync_to_async(client.force_login)(alice)
    headers = [(b"origin", b"http://127.0.0.1:8000"), (b"host", b"127.0.0.1:8000"),
               (b"cookie", f"sessionid={client.cookies['sessionid'].value}".encode())]
    ws = WebsocketCommunicator(application, "/ws/studio/", headers=headers)
    assert (await ws.connect())[0]
    await ws.receive_json_from()  # hello
    await ws.send_to(text_data=DEEP)
    reply = await ws.receive_json_from()
    assert reply["type"] == "error" and "nested" in reply["message"]
    await ws.send_json_to({"type": "ping", "id": 1})
    assert await ws.receive_json_from() == {"type": "pong", "id": 1}  # still open
    await ws.disconnect()


def test_the_guarded_parsers_are_the_settings_defaults(settings):
    defaults = [import_string(p) for p in settings.REST_FRAMEWORK["DEFAULT_PARSER_CLASSES"]]
    assert defaults == common_parsers.PARSERS


@pytest.mark.parametrize("url", ["/gallery/", "/gallery/?fragment=1", "/u/alice/"])
@pytest.mark.parametrize("limit", ["x", "", "-1", "0", "1e3", "³", "99999999999999999999"])
def test_a_page_size_that_is_not_one_is_a_400_on_the_pages_too(lenient, work, url, limit):
    sep = "&" if "?" in url else "?"
    response = lenient.get(f"{url}{sep}limit={quote(limit)}")
    assert response.status_code == 400 and response["Content-Type"].startswith("text/html")
    assert "The page size (limit) must be a whole number from 1 to 96." in response.content.decode()


def test_the_api_docs_answer_options_without_failing(lenient):
    assert lenient.options("/api/docs/").status_code == 405
    assert lenient.get("/api/docs/").status_code == 200
