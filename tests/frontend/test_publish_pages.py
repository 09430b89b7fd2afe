"""Published works on the pages, without a browser: the publish page, and a published
work's page for each kind (its player or its words, what is said of it, who may see it)."""

from __future__ import annotations

import json
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from breeding import actions, media
from breeding.models import Creation, MediaWork, Technique
from tests import media_files

pytestmark = pytest.mark.django_db


@pytest.fixture
def as_alice(alice):
    client = APIClient()
    client.force_login(alice)
    return client


def published(client, kind, data=None, **fields) -> Creation:
    """A work of ``kind`` published through the API (a film or a sound encoded at once)."""
    body = {"kind": kind, "title": f"A {kind}", "visibility": "public", **fields}
    if data is not None:
        body["file"] = SimpleUploadedFile("whatever.bin", data)
    answer = client.post("/api/media/", body, format="multipart")
    assert answer.status_code in (201, 202), answer.json()
    job = MediaWork.objects.get(public_id=answer.json()["id"])
    if answer.status_code == 202:
        assert media.run(job.pk) is not None
        job.refresh_from_db()
    return job.creation


ABOUT = {"statement": "Made at night.\n\nThen kept.", "techniques": "StyleGAN2, Ink and Patience",
         "credits": "Thanks to the sea.", "links": "Making of https://example.org/notes",
         "licence": "cc-by-sa-4.0"}


def page_of(client, work: Creation) -> str:
    answer = client.get(f"/w/{work.public_id}/")
    assert answer.status_code == 200
    return answer.content.decode()


def assert_about(html: str) -> None:
    """The statement in paragraphs, the techniques as links to the gallery, the credits, the
    links (not endorsed) and the licence with its deed."""
    assert "<p>Made at night.</p>" in html and "<p>Then kept.</p>" in html
    assert 'href="/gallery/?technique=stylegan2">StyleGAN2</a>' in html
    assert 'href="/gallery/?technique=ink-and-patience">Ink and Patience</a>' in html
    assert "Thanks to the sea." in html
    assert '<a href="https://example.org/notes" rel="nofollow ugc noopener">Making of</a>' in html
    assert 'href="https://creativecommons.org/licenses/by-sa/4.0/" rel="license noopener">CC BY-SA 4.0</a>' in html


def assert_no_breeding(html: str) -> None:
    html = html.split('<main id="main">')[1]  # the navigation's own links aside
    for absent in ("Breed from this", "Sign up to breed from this", "Open in the studio",
                   "Nearby in latent space", "children you can see", 'id="family"', "/breed/",
                   'href="/studio/', "space ·"):
        assert absent not in html, absent


def test_the_publish_page_is_for_people_signed_in(client, alice):
    answer = client.get("/publish/")
    assert answer.status_code == 302 and answer["Location"].startswith("/accounts/login/?next=/publish/")
    Technique.objects.get_or_create(slug="cyanotype", defaults={"name": "Cyanotype", "built_in": True})
    client.force_login(alice)
    html = client.get("/publish/").content.decode()
    for kind in ("picture", "video", "sound", "text"):
        assert f'name="kind" value="{kind}"' in html
    assert 'name="techniques" value="Cyanotype"' in html and 'name="new_techniques"' in html
    assert '<option value="cc-by-4.0">CC BY 4.0</option>' in html
    assert '<option value="private" selected>Only me</option>' in html
    # the limits, in sentences, next to the file input
    assert "up to 20 MB and 50 megapixels" in html
    assert "film of up to 400 MB, lasting at most 10 minutes" in html
    assert "sound of up to 100 MB, lasting at most 30 minutes" in html
    state = json.loads(re.search(r'<script id="publish-state" type="application/json">(.*?)</script>',
                                 html, re.S).group(1))
    assert state["limits"]["video"] == {"bytes": 400 * 2**20, "mb": 400, "seconds": 600, "length": "10 minutes"}
    assert 'href="/publish/" aria-current="page"' in html  # in the navigation


def test_made_with_is_prefilled_and_shown(client, alice):
    space = actions.sync_spaces()[0]
    bred = actions.do_random(alice, space, 1, seed=3)[0]
    actions.do_update(bred, title="Seed", visibility="private")
    client.force_login(alice)
    html = client.get(f"/publish/?made_with={bred.public_id}").content.decode()
    assert f'name="made_with" maxlength="16" value="{bred.public_id}"' in html
    assert 'class="made-with-chosen"' in html and "Seed" in html


def test_without_javascript_the_form_publishes_or_says_why(client, alice):
    client.force_login(alice)
    refused = client.post("/publish/", {"kind": "text", "title": "", "text": "Salt"})
    assert refused.status_code == 400
    html = refused.content.decode()
    assert re.search(r'data-error-for="title">This field is required.</p>', html)
    assert ">Salt</textarea>" in html  # what was written is kept
    done = client.post("/publish/", {"kind": "text", "title": "Salt", "text": "Salt and foam",
                                     "techniques": ["Pencil"], "new_techniques": "Tide, Moon"})
    work = Creation.objects.get(title="Salt")
    assert done.status_code == 302 and done["Location"] == f"/w/{work.public_id}/"
    assert sorted(t.name for t in work.media.techniques.all()) == ["Moon", "Pencil", "Tide"]


def test_a_picture_page_shows_it_large_with_a_link_to_the_file(client, as_alice):
    work = published(as_alice, "picture", media_files.picture((300, 200)), **ABOUT)
    html = page_of(client, work)
    job = work.media
    assert f'<a class="full-picture" href="/m/{job.public_id}/picture.png"><img src="/m/{job.public_id}/large.webp" width="300" height="200"' in html
    assert "300 × 200 px" in html
    assert_about(html)
    assert_no_breeding(html)


def test_a_video_page_plays_it(client, as_alice):
    work = published(as_alice, "video", media_files.film(1.0, size=(320, 240)), **ABOUT)
    html = page_of(client, work)
    job = work.media
    video = re.search(r"<video [^>]*>", html).group(0)
    for attribute in ("controls", "playsinline", 'preload="metadata"', f'poster="/m/{job.public_id}/large.webp"',
                      'width="320"', 'height="240"'):
        assert attribute in video, attribute
    assert f'<source src="/m/{job.public_id}/video.mp4" type="video/mp4">' in html
    assert "frontend/js/player.js" in html and "0:01" in html
    assert_about(html)
    assert_no_breeding(html)


def test_a_sound_page_shows_its_waveform_and_plays_it(client, as_alice):
    work = published(as_alice, "sound", media_files.sound(2.0), **ABOUT)
    html = page_of(client, work)
    job = work.media
    assert f'<img src="/m/{job.public_id}/large.webp" width="1600" height="400"' in html
    assert re.search(rf'<audio controls preload="metadata" src="/m/{job.public_id}/sound.m4a"', html)
    assert "data-waveform" in html and "0:02" in html
    assert_about(html)
    assert_no_breeding(html)


def test_a_text_page_sets_it_for_reading_escaped(client, as_alice):
    work = published(as_alice, "text", text="<script>alert(1)</script>\nsecond line\n\nnext stanza", **ABOUT)
    html = page_of(client, work)
    words = re.search(r'<div class="work-text verse" data-work-text>(.*?)</div>', html, re.S).group(1)
    assert words == "<p>&lt;script&gt;alert(1)&lt;/script&gt;<br>second line</p><p>next stanza</p>"
    assert "<script>alert(1)" not in html
    assert_about(html)
    assert_no_breeding(html)
    marked = published(as_alice, "text", text="*tide* <b>bold</b>", markdown="1", title="Marked")
    words = re.search(r'<div class="work-text" data-work-text>(.*?)</div>', page_of(client, marked), re.S).group(1)
    assert "<em>tide</em>" in words and "&lt;b&gt;" in words and "<b>" not in words


def test_a_private_published_work_is_its_owners_alone(client, as_alice, alice, bob):
    work = published(as_alice, "text", text="Hush", visibility="private", title="Hush")
    assert client.get(f"/w/{work.public_id}/").status_code == 404
    client.force_login(bob)
    assert client.get(f"/w/{work.public_id}/").status_code == 404
    client.force_login(alice)
    html = page_of(client, work)
    assert "Hush" in html and 'data-work-owner' in html  # its owner names it and shows it here
    assert "All rights reserved" in html  # the licence unless another is chosen


def test_a_work_made_with_a_bred_one_links_to_it(client, as_alice, alice):
    space = actions.sync_spaces()[0]
    bred = actions.do_random(alice, space, 1, seed=3)[0]
    actions.do_update(bred, title="Seed", visibility="public")
    work = published(as_alice, "text", text="Grown", made_with=bred.public_id)
    html = page_of(client, work)
    assert re.search(rf'<dd class="made-with"><a href="/w/{bred.public_id}/"><img [^>]+> Seed</a>', html)
    assert f'href="/w/{work.public_id}/lineage/"' in html


def test_a_video_or_sound_on_its_way_is_followed_on_the_publish_page(client, as_alice, alice, bob):
    answer = as_alice.post("/api/media/", {"kind": "sound", "title": "Hum",
                                           "file": SimpleUploadedFile("hum.wav", media_files.sound(1.0))},
                           format="multipart")
    job = MediaWork.objects.get(public_id=answer.json()["id"])
    client.force_login(alice)
    html = client.get(f"/publish/?id={job.public_id}").content.decode()
    assert "Waiting for a worker…" in html and re.search(r"<form [^>]*data-publish-form\s+hidden", html)
    media.run(job.pk)
    html = client.get(f"/publish/?id={job.public_id}").content.decode()
    job.refresh_from_db()
    assert "Done." in html and f'data-open href="/w/{job.creation.public_id}/"' in html
    client.force_login(bob)
    assert client.get(f"/publish/?id={job.public_id}").status_code == 404
