"""Look-alikes on the pages, without a browser: a work's page shows the works that look
like it (those the reader may list), and the look-alike page finds works for a picture
sent by the form, saying in a sentence what is wrong with a bad one."""

from __future__ import annotations

import io
import re

import pytest
from django.test import Client
from PIL import Image

from breeding import actions, looks
from breeding.models import Creation, Visibility
from inference import get_space

pytestmark = pytest.mark.django_db


@pytest.fixture
def works(alice, bob):
    space = actions.sync_spaces()[0]
    made = actions.do_random(alice, space, 5, seed=51)
    for w in made[:4]:
        actions.do_update(w, visibility=Visibility.PUBLIC)
    actions.do_update(made[4], visibility=Visibility.PRIVATE)
    looks.fill()
    return made


def tiles(html: str, section: str) -> list[str]:
    part = html.split(f'aria-labelledby="{section}"')[1].split("</section>")[0]
    return list(dict.fromkeys(re.findall(r'href="/w/([^/"]+)/"', part)))


def test_a_work_page_shows_what_looks_like_it_to_each_reader(works, alice):
    page = Client().get(f"/w/{works[0].public_id}/").content.decode()
    shown = tiles(page, "alike")
    assert sorted(shown) == sorted(w.public_id for w in works[1:4])
    owner = Client()
    owner.force_login(alice)
    page = owner.get(f"/w/{works[0].public_id}/").content.decode()
    assert works[4].public_id in tiles(page, "alike")  # her private work, to her alone


def test_a_draft_says_it_must_be_kept_to_be_measured(works, alice):
    draft = actions.do_random(alice, works[0].space, 1, seed=52)[0]
    owner = Client()
    owner.force_login(alice)
    page = owner.get(f"/w/{draft.public_id}/").content.decode()
    assert "Keep this work to find the works that look like it." in page


def png(picture) -> io.BytesIO:
    buffer = io.BytesIO()
    Image.fromarray(picture).save(buffer, format="PNG")
    buffer.seek(0)
    buffer.name = "mine.png"
    return buffer


def test_the_look_alike_page_finds_works_for_a_picture_and_keeps_nothing(works):
    client = Client()
    page = client.get("/looks/")
    assert page.status_code == 200 and 'name="file"' in page.content.decode()
    picture = get_space("abstract").render(works[2].tensor()[None], 128)[0].numpy()
    answer = client.post("/looks/", {"file": png(picture), "space": "abstract"})
    assert answer.status_code == 200
    assert 'src="data:image/webp;base64,' in answer.content.decode()  # the picture, shown back
    found = tiles(answer.content.decode(), "found-title")
    assert found[0] == works[2].public_id and works[4].public_id not in found
    assert Creation.objects.count() == 5


def test_the_look_alike_page_says_what_is_wrong_with_a_bad_file(works):
    answer = Client().post("/looks/", {"file": io.BytesIO(b"%PDF-1.4 nothing to see")})
    body = answer.content.decode()
    assert answer.status_code == 400
    assert re.search(r'role="alert">[^<]+\.</p>', body), body[:2000]
    assert "Traceback" not in body
