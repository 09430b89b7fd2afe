"""The gallery speaks each reader's language: the page cache keeps a page per language, the
sockets speak the language of their handshake, and one event reaches each viewer of an
exhibition in theirs.

These tests check the mechanism, not the catalogue: a stand-in translation (``chinese``)
gives the demo's words in "Chinese", and sentences are marked with the language they were
made in, so they pass before (and whatever) the Chinese catalogue says.
"""

from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from django.conf import settings as django_settings
from django.utils import translation

from breeding import actions, languages
from breeding.models import Visibility
from gallery import actions as gallery_actions
from gallery import consumers, exhibitions, notices
from gallery.models import ExhibitionStatus
from gallery.routing import websocket_urlpatterns

#: The demo's words in "Chinese", for the stand-in translation.
DEMO_CHINESE = {"Tidepool": "潮池", "Lichen": "地衣",
                "Growth without hurry. Step close; the edges are busier than they first appear.":
                "不慌不忙地生长。走近些，边缘比初看时更热闹。"}


@pytest.fixture
def chinese(monkeypatch):
    """``pgettext`` that knows the demo's words above in Chinese (and nothing else)."""
    real = translation.pgettext

    def pgettext(context, message):
        if context == languages.DEMO and translation.get_language() == "zh-hans":
            return DEMO_CHINESE.get(message, message)
        return real(context, message)

    monkeypatch.setattr(translation, "pgettext", pgettext)


def said_in(module, monkeypatch) -> None:
    """Sentences of ``module`` say which language they were made in."""
    monkeypatch.setattr(module, "_", lambda message: f"[{translation.get_language()}] {message}")


def published(owner, space, seed: int, title: str):
    return actions.do_update(actions.do_random(owner, space, 1, seed=seed)[0], title=title,
                             visibility=Visibility.PUBLIC)


# -- the gallery's page cache -----------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("first", ["zh-CN,zh;q=0.9", "en-GB,en;q=0.8"])
def test_a_kept_page_is_served_only_to_readers_of_its_language(client, settings, space, alice,
                                                               chinese, first):
    """Whichever language asks first, the page kept for it is never served in the other;
    each language's page is kept, and the answer says it varies by language."""
    from gallery import api as gallery_api

    settings.GALLERY_CACHE_SECONDS = 60
    gallery_api._pages.clear()
    published(alice, space, 1, "Tidepool")
    expected = {"zh-CN,zh;q=0.9": ("zh-hans", "潮池"), "en-GB,en;q=0.8": ("en", "Tidepool")}
    order = [first, *(header for header in expected if header != first)]

    def titles(header):
        response = client.get("/api/gallery/", HTTP_ACCEPT_LANGUAGE=header)
        assert response.status_code == 200
        assert "Accept-Language" in response["Vary"]
        assert response["Content-Language"] == expected[header][0]
        return [w["title"] for w in response.json()["results"]]

    for header in order:
        assert titles(header) == [expected[header][1]]
    assert sorted(key[-1] for key in gallery_api._pages) == ["en", "zh-hans"]
    # Both are kept now: a new work shows in neither for the moment, and each language
    # still gets its own page, from the cache.
    published(alice, space, 2, "Lichen")
    for header in reversed(order):
        assert titles(header) == [expected[header][1]]
    settings.GALLERY_CACHE_SECONDS = 0
    assert titles("zh-CN,zh;q=0.9") == ["地衣", "潮池"]


# -- sockets ---------------------------------------------------------------------------------


@pytest.fixture
def show(alice, space):
    work = published(alice, space, 3, "Lichen")
    exhibition = exhibitions.do_create(alice, "Reefs", status=ExhibitionStatus.OPEN)
    item = exhibitions.do_add(exhibition, work.public_id, "")["item"]["id"]
    return exhibition, item


HANDSHAKES = [
    ("?lang=zh-hans", [], "zh-hans"),
    ("", [(b"accept-language", b"zh-CN,zh;q=0.9,en;q=0.5")], "zh-hans"),
    ("", [(b"cookie", f"{django_settings.LANGUAGE_COOKIE_NAME}=zh-hans".encode())], "zh-hans"),
    ("?lang=en", [(b"accept-language", b"zh-CN")], "en"),
    ("", [(b"accept-language", b"en-GB,en;q=0.9")], "en"),
    ("", [], "en"),
]


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(("query", "headers", "language"), HANDSHAKES)
async def test_the_exhibition_socket_speaks_the_language_of_its_handshake(show, monkeypatch, query,
                                                                          headers, language):
    exhibition, _item = show
    said_in(consumers, monkeypatch)
    app = URLRouter(websocket_urlpatterns)
    nowhere = WebsocketCommunicator(app, f"/ws/exhibitions/nowhere/{query}", headers=headers)
    assert (await nowhere.connect())[0]
    assert await nowhere.receive_json_from(timeout=5) == {
        "type": "error", "message": f"[{language}] There is no exhibition here by that name."}
    await nowhere.disconnect()

    ws = WebsocketCommunicator(app, f"/ws/exhibitions/{exhibition.slug}/{query}", headers=headers)
    assert (await ws.connect())[0]
    assert (await ws.receive_json_from(timeout=5))["type"] == "snapshot"
    # Still its language later, when it answers what the client sends.
    await ws.send_json_to({"type": "dance", "ref": "r"})
    while (answer := await ws.receive_json_from(timeout=5))["type"] == "presence":
        pass
    assert answer == {"type": "error", "message": f"[{language}] Unknown message type 'dance'.", "ref": "r"}
    await ws.disconnect()


@pytest.mark.django_db(transaction=True)
async def test_one_event_reaches_each_viewer_in_their_language(show, monkeypatch, chinese):
    """The hall encodes an event once per language (and once for curators, who see the words
    as they are kept), not one frame for all."""
    exhibition, item = show
    said_in(consumers, monkeypatch)
    app = URLRouter(websocket_urlpatterns)
    viewers = {}
    for language in ("zh-hans", "en"):
        ws = WebsocketCommunicator(app, f"/ws/exhibitions/{exhibition.slug}/?lang={language}")
        assert (await ws.connect())[0]
        snapshot = await ws.receive_json_from(timeout=5)
        titles = [i["work"]["title"] for i in snapshot["exhibition"]["items"]]
        assert titles == (["地衣"] if language == "zh-hans" else ["Lichen"])
        viewers[language] = ws

    async def next_event(ws) -> dict:
        while (event := await ws.receive_json_from(timeout=5))["type"] == "presence":
            pass
        return event

    wall = "Growth without hurry. Step close; the edges are busier than they first appear."
    await database_sync_to_async(exhibitions.do_edit_item)(exhibition, item, wall)
    edited = {language: await next_event(ws) for language, ws in viewers.items()}
    assert edited["zh-hans"]["wall_text"] == DEMO_CHINESE[wall]
    assert edited["en"]["wall_text"] == wall
    assert edited["zh-hans"]["seq"] == edited["en"]["seq"]
    # Kept as written, whoever was listening.
    assert (await sync_to_async(lambda: exhibition.items.get(pk=item).wall_text)()) == wall

    await database_sync_to_async(exhibitions.do_update)(exhibition, status=ExhibitionStatus.DRAFT)
    for language, ws in viewers.items():
        assert (await next_event(ws))["type"] == "unpublished"
        assert await next_event(ws) == {
            "type": "error", "message": f"[{language}] This exhibition is no longer shown."}
        await ws.disconnect()


def test_a_curator_is_shown_the_words_as_they_are_kept(chinese):
    manifest = {"slug": "s", "title": "Tidepool", "statement": "", "items": [
        {"id": 1, "position": 0, "wall_text": "Tidepool", "work": {"id": "w", "title": "Lichen", "images": {}}}],
        "cover": None, "round": None}
    with translation.override("zh-hans"):
        shown = exhibitions.worded(manifest)
        kept = exhibitions.worded(manifest, content=False)
    assert (shown["title"], shown["items"][0]["wall_text"], shown["items"][0]["work"]["title"]) == \
        ("潮池", "潮池", "地衣")
    assert kept == manifest


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(("query", "headers", "language"), HANDSHAKES[:2] + HANDSHAKES[-2:])
async def test_the_notice_socket_speaks_the_language_of_its_handshake(monkeypatch, query, headers,
                                                                      language):
    from gallery import notice_consumers
    from mendel.asgi import application

    said_in(notice_consumers, monkeypatch)
    headers = [(b"origin", b"http://127.0.0.1:8000"), (b"host", b"127.0.0.1:8000"), *headers]
    ws = WebsocketCommunicator(application, f"/ws/notices/{query}", headers=headers)
    assert (await ws.connect())[0]
    assert await ws.receive_json_from(timeout=5) == {
        "type": "error", "message": f"[{language}] Log in to hear of your notices."}


@pytest.mark.django_db(transaction=True)
async def test_a_notice_reaches_each_of_its_recipients_sockets_in_its_language(alice, bob, space,
                                                                               monkeypatch):
    """Alice's two tabs speak two languages; Bob, who likes her work, a third: each tab gets
    the notice in its own."""
    from django.test import Client

    from mendel.asgi import application

    said_in(notices, monkeypatch)
    tide = await sync_to_async(published)(alice, space, 4, "Tide")
    client = Client()
    await sync_to_async(client.force_login)(alice)
    cookie = f"sessionid={client.cookies['sessionid'].value}".encode()
    tabs = {}
    for language in ("zh-hans", "en"):
        headers = [(b"origin", b"http://127.0.0.1:8000"), (b"host", b"127.0.0.1:8000"), (b"cookie", cookie)]
        ws = WebsocketCommunicator(application, f"/ws/notices/?lang={language}", headers=headers)
        assert (await ws.connect())[0]
        assert (await ws.receive_json_from(timeout=5))["type"] == "hello"
        tabs[language] = ws
    with translation.override("en"):  # the liker's language is none of the tabs' business
        await sync_to_async(gallery_actions.do_like)(bob, tide)
    for language, ws in tabs.items():
        got = await ws.receive_json_from(timeout=5)
        assert got["type"] == "notice" and got["notice"]["text"].startswith(f"[{language}] ")
        await ws.disconnect()


# -- refusals before the language middleware ----------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(("header", "language"), [("zh-CN,zh;q=0.9", "zh-hans"), ("en-GB", "en")])
def test_a_refusal_before_any_view_speaks_the_requests_language(client, monkeypatch, header, language):
    from django.utils.functional import lazy

    from mendel import middleware

    monkeypatch.setattr(middleware, "NUL", lazy(lambda: f"[{translation.get_language()}] NUL", str)())
    response = client.get("/api/gallery/?q=%00", HTTP_ACCEPT_LANGUAGE=header)
    assert response.status_code == 400
    assert response.json() == {"error": f"[{language}] NUL"}
    assert response["Content-Language"] == language
    page = client.get("/zh-hans/gallery/?q=%00", HTTP_ACCEPT_LANGUAGE=header)
    assert page.content.decode() == "[zh-hans] NUL"  # the address names its language


def test_the_demos_words_are_marked_under_the_demo_context():
    from frontend import demo

    assert languages.DEMO == "demo content"  # written out in frontend.demo: xgettext reads a literal
    assert demo.EXHIBITION_TITLE == "First Light" and "Tidepool" in demo.TITLES  # kept in English
