"""Breeding speaks its reader's language: which language a request, a studio socket and a job
speak, and that what each says is said in it.

The Chinese catalogue may not hold these sentences yet, so each test gives the few it needs
their Chinese itself (``chinese``): what is tested is that the sentence is looked up in the
right language at the right moment, whatever the catalogue says.
"""

from __future__ import annotations

import os
import subprocess
import sys
from types import SimpleNamespace

import pytest
from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.db import transaction
from django.utils import translation
from django.utils.translation import trans_real

from breeding import actions, languages, tasks
from breeding.genes import LABELS
from breeding.limits import in_words
from breeding.models import Gene, Training
from common.words import Words, spoken

ORIGIN = (b"origin", b"http://127.0.0.1:8000")
HOST = (b"host", b"127.0.0.1:8000")


@pytest.fixture(autouse=True)
def _english_after():
    """A request the test client makes switches its thread to the asker's language (Django's
    ``LocaleMiddleware`` leaves it so): back to the default after each test."""
    yield
    translation.deactivate()


@pytest.fixture
def chinese(monkeypatch):
    """``chinese({english: chinese})``: those sentences in zh-hans's catalogue for the test
    (a context as ``"context\\x04message"``), taken out again after it."""
    catalogue = trans_real.translation("zh-hans")._catalog._catalogs[0]

    def plant(entries: dict[str, str]) -> None:
        for english, said in entries.items():
            monkeypatch.setitem(catalogue, english, said)

    return plant


# -- which language ------------------------------------------------------------------------


@pytest.mark.parametrize("code", ["zh-CN", "zh-SG", "zh-Hans", "zh", "ZH-cn"])
def test_chinese_browsers_are_spoken_to_in_simplified_chinese(code):
    assert languages.supported(code) == "zh-hans"


def test_other_codes_are_english_or_not_spoken():
    assert languages.supported("en-GB") == "en"
    assert languages.supported("fr") is None and languages.supported("") is None
    assert languages.supported(None) is None


def handshake(query: bytes = b"", **headers: str) -> dict:
    return {"query_string": query,
            "headers": [(name.replace("_", "-").encode(), value.encode())
                        for name, value in headers.items()]}


def test_a_socket_speaks_its_pages_language_then_the_cookie_then_the_browsers():
    both = dict(cookie="sessionid=x; django_language=en", accept_language="zh-CN")
    assert languages.of_handshake(handshake(b"lang=zh-hans", **both)) == "zh-hans"
    assert languages.of_handshake(handshake(b"lang=klingon", **both)) == "en"  # the cookie
    assert languages.of_handshake(handshake(cookie="django_language=zh-hans",
                                            accept_language="en")) == "zh-hans"
    assert languages.of_handshake(handshake(accept_language="fr, zh-CN;q=0.8")) == "zh-hans"
    assert languages.of_handshake(handshake(accept_language="fr, *;q=0.1")) == "en"
    assert languages.of_handshake({}) == "en"


def test_a_wait_is_said_with_its_plural():
    with translation.override("en"):
        assert [in_words(1), in_words(42), in_words(900)] == ["1 second", "42 seconds",
                                                              "15 minutes"]


# -- the API -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_an_api_error_comes_in_the_language_of_accept_language(api, chinese):
    chinese({"No creation with id %(id)s.": "没有 id 为 %(id)s 的作品。"})
    asked = api.get("/api/creations/nope/", HTTP_ACCEPT_LANGUAGE="zh-CN")
    assert asked.status_code == 404 and asked.json()["error"] == "没有 id 为 'nope' 的作品。"
    asked = api.get("/api/creations/nope/", HTTP_ACCEPT_LANGUAGE="en")
    assert asked.json()["error"] == "No creation with id 'nope'."


@pytest.mark.django_db
def test_a_serializers_refusal_is_said_in_the_askers_language(as_alice, alice, space, chinese):
    chinese({"must be one of %(sizes)s (a preview is at most 1024 px).":
             "须为 %(sizes)s 之一（预览最大 1024 px）。"})
    work = actions.do_random(alice, space, 1, seed=1)[0]
    for language, expected in (("zh-CN", "须为"), ("en", "must be one of")):
        asked = as_alice.post(f"/api/creations/{work.public_id}/preview/",
                              {"genes": {}, "size": 2048}, format="json",
                              HTTP_ACCEPT_LANGUAGE=language)
        assert asked.status_code == 400 and expected in asked.json()["fields"]["size"][0]


@pytest.mark.django_db
def test_built_in_gene_labels_are_stored_in_english_and_shown_in_the_readers_language(
        api, space, chinese):
    assert LABELS["brightness"] == "Brightness" and type(LABELS["brightness"]) is str
    chinese({"Brightness": "亮度"})
    Gene.objects.create(space=space, version=space.version, slug="brightness",
                        label=LABELS["brightness"], source="attribute",
                        direction=[0.0] * space.latent_size, low=-3.0, high=3.0, rho=0.9)
    url = f"/api/spaces/{space.slug}/genes/"
    assert api.get(url, HTTP_ACCEPT_LANGUAGE="zh-CN").json()[0]["label"] == "亮度"
    assert api.get(url, HTTP_ACCEPT_LANGUAGE="en").json()[0]["label"] == "Brightness"
    assert Gene.objects.get(slug="brightness").label == "Brightness"


# -- jobs ----------------------------------------------------------------------------------


def training(owner, **fields) -> Training:
    return Training.objects.create(owner=owner, folder="/nowhere", slug="birds",
                                   pictures_total=1000, **fields)


@pytest.mark.django_db
def test_a_job_keeps_the_language_it_was_asked_in(alice):
    with translation.override("zh-hans"):
        assert training(alice).language == "zh-hans"
    assert training(alice).language == "en"


@pytest.mark.django_db
def test_a_video_asked_for_in_chinese_is_a_chinese_job(as_alice, alice, space):
    from breeding.models import Video

    keys = actions.do_random(alice, space, 2, seed=7)
    body = {"keyframes": [k.public_id for k in keys], "seconds_per_step": 0.25, "fps": 24,
            "size": 256}
    asked = as_alice.post("/api/videos/", body, format="json", HTTP_ACCEPT_LANGUAGE="zh-CN")
    assert asked.status_code == 202
    assert Video.objects.get(public_id=asked.json()["id"]).language == "zh-hans"


@pytest.mark.django_db
def test_a_job_runs_and_fails_in_the_language_of_the_person_who_asked(alice, chinese):
    chinese({str(tasks.TRAINING_FAILED): "Mendel 无法训练此空间。请查看 worker 的日志，然后重试。"})
    with translation.override("zh-hans"):
        job = training(alice)
    heard = []

    def work():
        heard.append(translation.get_language())
        raise RuntimeError("the worker's own trouble")

    last_attempt = SimpleNamespace(job=SimpleNamespace(attempts=tasks.TRAINING_ATTEMPTS - 1))
    with translation.override("en"):
        assert tasks.attempt(last_attempt, Training, job.pk, tasks.TRAINING_ATTEMPTS, work,
                             tasks.TRAINING_FAILED) is None
        assert translation.get_language() == "en"  # the job's language ends with it
    job.refresh_from_db()
    assert heard == ["zh-hans"]
    assert job.status == "failed" and job.error == "Mendel 无法训练此空间。请查看 worker 的日志，然后重试。"

    english = training(alice)
    tasks.attempt(last_attempt, Training, english.pk, tasks.TRAINING_ATTEMPTS, work,
                  tasks.TRAINING_FAILED)
    english.refresh_from_db()
    assert english.error == "Mendel could not train this space. Look at the worker's log, then try again."


@pytest.mark.django_db
def test_a_job_status_is_named_in_the_readers_language(alice, chinese):
    chinese({"job status\x04Failed": "失败"})
    job = training(alice, status="failed")
    with translation.override("zh-hans"):
        assert job.get_status_display() == "失败"
    with translation.override("en"):
        assert job.get_status_display() == "Failed"


# -- words said later ------------------------------------------------------------------------


def test_words_are_english_now_and_can_be_said_again_in_another_language(chinese):
    chinese({"validating genes (%(done)d/%(total)d pictures)": "正在验证基因（%(done)d/%(total)d 张图片）"})
    line = Words.gettext("validating genes (%(done)d/%(total)d pictures)", done=3, total=10)
    assert line == "validating genes (3/10 pictures)" and isinstance(line, str)
    with translation.override("zh-hans"):
        assert spoken(line.packed()) == "正在验证基因（3/10 张图片）"
    found = Words.ngettext("found %(count)d gene", "found %(count)d genes", 1, count=1)
    assert found == "found 1 gene"
    with translation.override("en"):
        assert spoken(found.packed()) == "found 1 gene"
        assert spoken(Words.ngettext("found %(count)d gene", "found %(count)d genes", 4,
                                     count=4).packed()) == "found 4 genes"


def test_upload_sentences_are_said_where_django_has_no_settings():
    """``python -m breeding.trainsets`` reads folders with the upload rules outside the site."""
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    said = subprocess.run(
        [sys.executable, "-c",
         "from breeding import uploads\n"
         "try:\n    uploads.decode(b'just some words, not a picture at all\\n' * 20)\n"
         "except uploads.UploadRefused as refused:\n    print(refused.message)\n"],
        cwd=os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
        env=env, capture_output=True, text=True, timeout=120)
    assert said.returncode == 0, said.stderr
    assert said.stdout.startswith("This file is text, not a picture: upload a JPEG")


# -- the studio socket ---------------------------------------------------------------------


async def studio(client, user=None, query: str = "", accept_language: str = "en"):
    from mendel.asgi import application

    headers = [ORIGIN, HOST, (b"accept-language", accept_language.encode())]
    if user is not None:
        await sync_to_async(client.force_login)(user)
        headers.append((b"cookie", f"sessionid={client.cookies['sessionid'].value}".encode()))
    ws = WebsocketCommunicator(application, f"/ws/studio/{query}", headers=headers)
    connected, _ = await ws.connect()
    assert connected
    return ws


@pytest.mark.django_db(transaction=True)
async def test_the_studio_refuses_a_visitor_in_the_language_of_the_page(client, chinese):
    chinese({"Log in to use the studio.": "登录后才能使用工作室。"})
    ws = await studio(client, query="?lang=zh-hans")
    assert await ws.receive_json_from() == {"type": "error", "message": "登录后才能使用工作室。"}
    ws = await studio(client, accept_language="zh-CN")
    assert (await ws.receive_json_from())["message"] == "登录后才能使用工作室。"
    ws = await studio(client)
    assert (await ws.receive_json_from())["message"] == "Log in to use the studio."


@pytest.mark.django_db(transaction=True)
async def test_every_handler_of_a_socket_and_its_database_calls_speak_its_language(
        client, alice, chinese, monkeypatch):
    from breeding.consumers import StudioConsumer

    chinese({"Messages must be valid JSON.": "消息必须是有效的 JSON。"})
    ws = await studio(client, alice, "?lang=zh-hans")
    assert (await ws.receive_json_from())["type"] == "hello"
    await ws.send_to(text_data="not json")
    assert await ws.receive_json_from() == {"type": "error", "message": "消息必须是有效的 JSON。"}

    async def say_languages(self, content, **kwargs):
        in_thread = await database_sync_to_async(translation.get_language)()
        await self.send_json({"type": "seen", "handler": translation.get_language(),
                              "database": in_thread})

    monkeypatch.setattr(StudioConsumer, "receive_json", say_languages)
    await ws.send_json_to({"type": "anything"})
    assert await ws.receive_json_from() == {"type": "seen", "handler": "zh-hans",
                                            "database": "zh-hans"}
    english = await studio(client, alice)
    await english.receive_json_from()  # hello
    await english.send_json_to({"type": "anything"})
    assert await english.receive_json_from() == {"type": "seen", "handler": "en", "database": "en"}
    assert translation.get_language() == "en"  # nothing leaks out of the sockets
    await ws.disconnect()
    await english.disconnect()


@pytest.mark.django_db(transaction=True)
async def test_a_line_for_every_studio_is_said_in_each_ones_language(client, alice, bob, chinese):
    chinese({"validating genes (%(done)d/%(total)d pictures)": "正在验证基因（%(done)d/%(total)d 张图片）"})
    zh = await studio(client, alice, "?lang=zh-hans")
    en = await studio(client.__class__(), bob)
    for ws in (zh, en):
        await ws.receive_json_from()  # hello

    @sync_to_async
    def report() -> None:
        with transaction.atomic():
            tasks.Reporter("genes", "abstract")(0.5, Words.gettext(
                "validating genes (%(done)d/%(total)d pictures)", done=3, total=10))

    await report()
    heard = [await zh.receive_json_from(), await en.receive_json_from()]
    assert [event["message"] for event in heard] == ["正在验证基因（3/10 张图片）",
                                                     "validating genes (3/10 pictures)"]
    assert all("words" not in event and event["fraction"] == 0.5 for event in heard)
    await zh.disconnect()
    await en.disconnect()
