"""Which language Mendel speaks to whom: a reader's browser, the footer's switch, a shared
Chinese address, a signed-in person's choice, and the API's sentences."""

from __future__ import annotations

import json
import re

import pytest
from django.test import Client

from breeding.models import Preferences

pytestmark = pytest.mark.django_db

CJK = re.compile(r"[\u4e00-\u9fff]")


def lang_of(response) -> str:
    return re.search(r'<html lang="([^"]+)"', response.content.decode()).group(1)


# zh-TW and zh-HK too: Simplified Chinese reads closer to Traditional than English does
# (Django's fallback within a language), until Mendel speaks Traditional Chinese.
@pytest.mark.parametrize("header", ["zh-CN", "zh-SG", "zh-Hans", "zh-Hans-CN", "zh", "zh-TW",
                                    "zh-CN,zh;q=0.9,en;q=0.8", "fr,zh-CN;q=0.5"])
def test_a_chinese_browser_reads_the_home_page_and_the_gallery_in_chinese(client, header):
    for path in ("/", "/gallery/"):
        response = client.get(path, HTTP_ACCEPT_LANGUAGE=header)
        assert response.status_code == 200
        assert lang_of(response) == "zh-hans"
        assert response["Content-Language"] == "zh-hans"
        assert CJK.search(response.content.decode())
        vary = {v.strip().lower() for v in response["Vary"].split(",")}
        assert {"accept-language", "cookie"} <= vary  # no cache hands it to another reader
        # its links keep the reader in Chinese
        assert 'href="/zh-hans/gallery/"' in response.content.decode()


@pytest.mark.parametrize("header", ["en-GB", "fr-FR", "fr-FR,en;q=0.5", "", "*"])
def test_other_browsers_read_english(client, header):
    response = client.get("/gallery/", HTTP_ACCEPT_LANGUAGE=header)
    assert lang_of(response) == "en"
    assert 'href="/gallery/"' in response.content.decode()
    assert not CJK.search(response.content.decode().replace("简体中文", ""))


def test_a_shared_chinese_address_speaks_chinese_to_anyone(client):
    response = client.get("/zh-hans/gallery/", HTTP_ACCEPT_LANGUAGE="en-GB")
    assert response.status_code == 200
    assert lang_of(response) == "zh-hans"
    assert client.get("/zh-hans/no-such-page/").status_code == 404


def test_the_footer_switch_remembers_the_choice_in_a_cookie(client):
    response = client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/gallery/"})
    assert response.status_code == 302
    assert response["Location"] == "/zh-hans/gallery/"
    assert response.cookies["django_language"].value == "zh-hans"
    assert lang_of(client.get("/gallery/", HTTP_ACCEPT_LANGUAGE="en")) == "zh-hans"
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/zh-hans/gallery/"})
    assert response["Location"] == "/gallery/"
    assert lang_of(client.get("/gallery/", HTTP_ACCEPT_LANGUAGE="zh-CN")) == "en"


def test_a_language_that_is_not_offered_changes_nothing(client):
    response = client.post("/i18n/setlang/", {"language": "xx", "next": "/gallery/"})
    assert response.status_code == 302
    assert "django_language" not in response.cookies


def test_a_signed_in_persons_choice_follows_them_to_another_browser(alice):
    first = Client()
    first.force_login(alice)
    first.post("/i18n/setlang/", {"language": "zh-hans", "next": "/"})
    assert Preferences.objects.get(user=alice).language == "zh-hans"

    elsewhere = Client()  # no cookie, an English browser
    elsewhere.post("/accounts/login/", {"username": alice.username, "password": "correct horse 1"})
    assert lang_of(elsewhere.get("/gallery/", HTTP_ACCEPT_LANGUAGE="en-GB")) == "zh-hans"


def test_the_api_answers_its_sentences_in_the_readers_language(client):
    english = client.get("/api/creations/nosuchwork/", HTTP_ACCEPT_LANGUAGE="en")
    chinese = client.get("/api/creations/nosuchwork/", HTTP_ACCEPT_LANGUAGE="zh-CN")
    assert english.status_code == chinese.status_code == 404
    assert not CJK.search(english.json()["error"])
    assert CJK.search(chinese.json()["error"]), chinese.json()


def test_the_scripts_catalogue_has_an_address_per_language(client):
    english = client.get("/jsi18n/")
    chinese = client.get("/zh-hans/jsi18n/")
    assert english.status_code == chinese.status_code == 200
    assert "javascript" in chinese["Content-Type"]
    breed = json.dumps("培育")[1:-1]  # as the catalogue writes it: \\u escapes
    assert breed in chinese.content.decode() and breed not in english.content.decode()
    assert chinese["Content-Language"] == "zh-hans" and english["Content-Language"] == "en"


def test_a_page_that_does_not_exist_says_so_in_the_readers_language(client):
    chinese = client.get("/no-such-page/", HTTP_ACCEPT_LANGUAGE="zh-CN")
    english = client.get("/no-such-page/", HTTP_ACCEPT_LANGUAGE="en")
    assert chinese.status_code == english.status_code == 404
    assert CJK.search(chinese.content.decode().replace("简体中文", ""))
    assert not CJK.search(english.content.decode().replace("简体中文", ""))
    api = client.get("/api/no-such-thing/", HTTP_ACCEPT_LANGUAGE="zh-CN")
    assert api.status_code == 404 and CJK.search(api.json()["error"])
