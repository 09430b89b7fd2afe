"""Published works on an exhibition's walls, end to end in Debian's Chromium against a real
server: a film, a sound, a text and a picture hang among bred pictures; the walk shows each
as itself (the film plays, muted, by itself; the sound when asked; the text set for
reading; the picture as wide as it is), stops what played when it moves on, and the guided
tour walks through them as through any work. On a desktop and on a phone, never wider than
the screen; and without JavaScript the exhibition page still shows them readable."""

from __future__ import annotations

import os
import time
from urllib.parse import urlsplit

import httpx
import pytest
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from playwright.sync_api import expect

from breeding import actions, media
from breeding.models import MediaWork, Visibility
from tests import media_files
from tests.frontend.test_exhibition_e2e import PASSWORD, hang, log_in, off_loop, socket_open

pytestmark = pytest.mark.django_db(transaction=True)

SHOTS = os.environ.get("MENDEL_SCREENSHOTS", "/tmp")

PLAYING = """sel => { const v = document.querySelector(sel);
                      return Boolean(v) && !v.paused && v.readyState >= 2 && v.currentTime > 0.2; }"""
NO_OVERFLOW = "() => document.documentElement.scrollWidth <= window.innerWidth"

POEM = ("Salt on the *sill*,\nfoam in the hinge.\n\n<script>window.__injected = true</script> the tide said nothing.\n\n"
        + "\n\n".join(f"Wave {n} came in and went out,\nleaving the sand a little rounder,\nthe stones a little less."
                      for n in range(1, 9)))


def publish(owner, kind: str, title: str, file: bytes | None = None, **fields):
    """``owner`` publishes a public work; a film or a sound is transcoded by its job here."""
    data = {"kind": kind, "title": title, "visibility": Visibility.PUBLIC, **fields}
    files = [SimpleUploadedFile(f"{kind}.bin", file)] if file is not None else []
    job = media.publish(owner, data, files)
    if job.creation_id is None:
        media.run(job.pk)  # (or a worker did: either way, it is done once)
        deadline = time.monotonic() + 120
        while job.creation_id is None and time.monotonic() < deadline:
            time.sleep(0.2)
            job.refresh_from_db()
    assert job.status == MediaWork.Status.DONE, job.error
    return job.creation


def shot(page, name: str) -> None:
    page.screenshot(path=f"{SHOTS}/a2-{name}.png")


def walk_through(page, base: str, slug: str, width: int) -> None:
    """The walk: picture, film, sound, text, published picture, picture."""
    page.goto(f"{base}/exhibitions/{slug}/walk/")
    socket_open(page)
    title = page.locator("[data-walk-title]")
    stage = page.locator("[data-walk-stage]")
    expect(title).to_have_text("Tidepool")
    assert page.evaluate(NO_OVERFLOW)

    # The film: it plays by itself, muted, and says how to turn its sound on.
    page.keyboard.press("ArrowRight")
    expect(title).to_have_text("Tide film")
    film = stage.locator("video.media-player")
    expect(film).to_be_visible()
    assert film.get_attribute("poster").endswith("/large.webp")
    page.wait_for_function(PLAYING, arg="[data-walk-stage] video.media-player", timeout=30_000)
    assert page.evaluate("() => document.querySelector('[data-walk-stage] video.media-player').muted")
    unmute = stage.get_by_role("button", name="Unmute")
    expect(unmute).to_be_visible()
    expect(page.locator("[data-walk-techniques]")).to_have_text("Made with Film grain, StyleGAN2")
    page.wait_for_timeout(300)  # past the glide
    assert page.evaluate(NO_OVERFLOW)
    shot(page, f"walk-film-{width}")
    unmute.click()
    expect(stage.get_by_role("button", name="Mute")).to_be_visible()
    assert not page.evaluate("() => document.querySelector('[data-walk-stage] video.media-player').muted")
    page.evaluate("() => { window.__film = document.querySelector('[data-walk-stage] video.media-player'); }")

    # The sound: its waveform and a play button; nothing plays until asked.
    page.keyboard.press("ArrowRight")
    expect(title).to_have_text("Tide song")
    assert page.evaluate("() => window.__film.paused && !window.__film.isConnected")
    expect(stage.locator(".sound-wave img")).to_be_visible()
    expect(stage.locator("audio.media-player")).to_be_attached()
    page.wait_for_timeout(500)
    assert page.evaluate("() => document.querySelector('[data-walk-stage] audio').paused")
    page.wait_for_function("() => document.querySelector('[data-walk-stage] audio').readyState >= 1")
    page.wait_for_timeout(300)
    assert page.evaluate(NO_OVERFLOW)
    shot(page, f"walk-sound-{width}")
    stage.get_by_role("button", name="Play").click()
    page.wait_for_function(PLAYING, arg="[data-walk-stage] audio", timeout=30_000)
    expect(stage.get_by_role("button", name="Pause")).to_be_visible()
    expect(stage.locator("[data-media-time]")).to_contain_text("/ 0:03")
    page.evaluate("() => { window.__sound = document.querySelector('[data-walk-stage] audio'); }")

    # The text, set for reading: the writer's words, never their markup.
    page.keyboard.press("ArrowRight")
    expect(title).to_have_text("Salt")
    assert page.evaluate("() => window.__sound.paused")
    reading = stage.locator("article.reading")
    expect(reading).to_be_visible()
    expect(reading).to_contain_text("foam in the hinge.")
    expect(reading).to_contain_text("<script>window.__injected = true</script> the tide said nothing.")
    assert reading.locator("em").inner_text() == "sill"
    assert page.evaluate("() => window.__injected") is None
    page.wait_for_timeout(500)
    assert page.evaluate(NO_OVERFLOW)
    shot(page, f"walk-text-{width}")

    # A published picture: its large picture, as wide as it is.
    page.keyboard.press("ArrowRight")
    expect(title).to_have_text("Shore photo")
    picture = stage.locator("img[data-walk-img]")
    expect(picture).to_be_visible()
    assert picture.get_attribute("src").endswith("/large.webp")
    assert "media-picture" in picture.get_attribute("class")
    page.wait_for_function("() => document.querySelector('[data-walk-img]').naturalWidth === 600")
    page.wait_for_timeout(500)
    assert page.evaluate(NO_OVERFLOW)
    shot(page, f"walk-picture-{width}")
    page.keyboard.press("ArrowRight")
    expect(title).to_have_text("Lichen")
    expect(stage.locator("[data-media]")).to_have_count(0)
    expect(page.locator("[data-walk-about]")).to_be_hidden()


def test_published_works_hang_and_play_in_the_walk(make_server, chromium, django_user_model, settings, tmp_path):
    space = actions.sync_spaces()[0]
    alice = django_user_model.objects.create_user("alice", password=PASSWORD)
    alice.user_permissions.add(Permission.objects.get(codename="curate", content_type__app_label="gallery"))
    tidepool, lichen = actions.do_random(alice, space, 2, seed=21)
    actions.do_update(tidepool, title="Tidepool", visibility=Visibility.PUBLIC)
    actions.do_update(lichen, title="Lichen", visibility=Visibility.PUBLIC)
    base = make_server()
    # the works' files where the server reads them
    settings.MEDIA_ROOT = tmp_path / f"media-{urlsplit(base).port}"
    # (in a thread of their own: their jobs tell sockets, with async_to_sync; see off_loop)
    film = off_loop(publish, alice, "video", "Tide film", media_files.film(2.0, size=(480, 270)),
                    techniques=["StyleGAN2", "Film grain"], statement="Shot at low tide.\n\nThen bred.")
    song = off_loop(publish, alice, "sound", "Tide song", media_files.sound(3.0, "wav"))
    poem = off_loop(publish, alice, "text", "Salt", text=POEM, markdown=True, techniques=["GPT-3"])
    photo = off_loop(publish, alice, "picture", "Shore photo", media_files.picture((600, 300)))
    show, items = off_loop(hang, alice, "Tides", [tidepool, film, song, poem, photo, lichen],
                           ["Where it begins.", "A film of the shore.", "Listen close.",
                            "Read slowly.", "A photograph.", "Where it ends."])
    token = httpx.post(f"{base}/api/token/", data={"username": "alice", "password": PASSWORD}).json()["token"]

    # The curator hangs one more published work as a person does: found by its title on the
    # curating page. A round is offered only the bred works on the walls.
    off_loop(publish, alice, "text", "Driftwood", text="Grey wood,\nwhite salt.")
    context = chromium.new_context(viewport={"width": 1366, "height": 800})
    try:
        curator = context.new_page()
        log_in(curator, base, "alice")
        curator.goto(f"{base}/exhibitions/{show.slug}/curate/")
        socket_open(curator)
        parents = curator.locator("[data-round-parent] option").all_inner_texts()
        assert {"Tidepool", "Lichen"} <= set(parents)
        assert not {"Tide film", "Tide song", "Salt", "Shore photo"} & set(parents)
        curator.get_by_label("Search public works by title").fill("Driftwood")
        curator.get_by_role("button", name="Search").click()
        curator.get_by_role("button", name="Add Driftwood").click()
        expect(curator.locator("[data-curate-items] > li", has_text="Driftwood")).to_have_count(1)
        assert "Driftwood" not in curator.locator("[data-round-parent] option").all_inner_texts()
    finally:
        context.close()

    for width, height in ((1366, 800), (390, 844)):
        context = chromium.new_context(viewport={"width": width, "height": height})
        try:
            page = context.new_page()
            problems: list[str] = []
            page.on("pageerror", lambda e, problems=problems: problems.append(f"page error: {e}"))
            page.on("console", lambda m, problems=problems: problems.append(f"console: {m.text}")
                    if m.type == "error" else None)
            walk_through(page, base, show.slug, width)

            # The guided tour goes to the sound, then the film: the walk follows it there.
            for item, title in ((items[2], "Tide song"), (items[1], "Tide film")):
                moved = httpx.post(f"{base}/api/exhibitions/{show.slug}/tour/", json={"item": item},
                                   headers={"Authorization": f"Token {token}"})
                assert moved.status_code == 200, moved.text
                expect(page.locator("[data-walk-title]")).to_have_text(title)
            page.wait_for_function(PLAYING, arg="[data-walk-stage] video.media-player", timeout=30_000)
            httpx.post(f"{base}/api/exhibitions/{show.slug}/tour/", json={"item": None},
                       headers={"Authorization": f"Token {token}"})

            # The exhibition page: every work on its wall, the film playing once in view.
            page.goto(f"{base}/exhibitions/{show.slug}/")
            socket_open(page)
            exhibits = page.locator("[data-items] > li")
            expect(exhibits).to_have_count(7)
            film_item = page.locator(f'[data-item="{items[1]}"]')
            film_item.scroll_into_view_if_needed()
            page.wait_for_function(PLAYING, arg=f'[data-item="{items[1]}"] video', timeout=30_000)
            expect(film_item.get_by_role("button", name="Unmute")).to_be_visible()
            expect(film_item.locator("details.statement-of-artist")).to_contain_text("The artist’s statement")
            song_item = page.locator(f'[data-item="{items[2]}"]')
            song_item.scroll_into_view_if_needed()
            song_item.get_by_role("button", name="Play").click()
            page.wait_for_function(PLAYING, arg=f'[data-item="{items[2]}"] audio', timeout=30_000)
            page.wait_for_timeout(500)
            shot(page, f"exhibition-sound-{width}")
            poem_item = page.locator(f'[data-item="{items[3]}"]')
            poem_item.scroll_into_view_if_needed()
            expect(poem_item.locator("article.reading")).to_contain_text("foam in the hinge.")
            page.wait_for_timeout(500)
            assert page.evaluate(NO_OVERFLOW)
            shot(page, f"exhibition-{width}")
            assert problems == []
        finally:
            context.close()

    # The gallery: a row of kind chips, a technique filter, and each kind's badge.
    for width, height in ((1366, 800), (390, 844)):
        context = chromium.new_context(viewport={"width": width, "height": height})
        try:
            page = context.new_page()
            page.goto(f"{base}/gallery/")
            chips = page.locator(".kind-chips a")
            expect(chips).to_have_text(["All", "Pictures", "Videos", "Sounds", "Texts"])
            expect(page.locator(".tile", has_text="Tide song").locator(".badge-sound")).to_have_text("♪ Sound")
            expect(page.locator(".tile", has_text="Salt").locator(".badge-text")).to_have_text("¶ Text")
            expect(page.locator(".tile", has_text="Tide film").locator(".badge-video")).to_have_text("▶ Video")
            expect(page.locator(".tile", has_text="Shore photo").locator("[class^=badge]")).to_have_count(0)
            page.wait_for_timeout(500)
            assert page.evaluate(NO_OVERFLOW)
            shot(page, f"gallery-{width}")
            page.get_by_label("Technique").select_option("stylegan2")
            page.wait_for_url("**technique=stylegan2**")
            chips.filter(has_text="Videos").click()
            page.wait_for_url("**kind=videos**")
            assert "technique=stylegan2" in page.url
            expect(page.locator(".wall .tile")).to_have_count(1)
            expect(page.locator(".wall .tile .title")).to_have_text("Tide film")
            page.goto(f"{base}/u/alice/?kind=sounds")
            expect(page.locator(".wall .tile .title")).to_have_text(["Tide song"])
            page.wait_for_timeout(300)
            assert page.evaluate(NO_OVERFLOW)
            shot(page, f"profile-sounds-{width}")
        finally:
            context.close()

    # Without JavaScript the exhibition page is the server's, and every work reads.
    context = chromium.new_context(viewport={"width": 1366, "height": 800}, java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto(f"{base}/exhibitions/{show.slug}/")
        expect(page.locator("[data-items] > li")).to_have_count(7)
        film_item = page.locator(f'[data-item="{items[1]}"]')
        assert film_item.locator("video[controls] source").get_attribute("src").endswith("/video.mp4")
        assert page.locator(f'[data-item="{items[2]}"] audio[controls]').get_attribute("src").endswith("/sound.m4a")
        poem_text = page.locator(f'[data-item="{items[3]}"] article.reading')
        expect(poem_text).to_contain_text("<script>window.__injected = true</script>")
        expect(page.locator(f'[data-item="{items[4]}"] img.media-picture')).to_be_visible()
        page.goto(f"{base}/exhibitions/{show.slug}/walk/?i=4")
        expect(page.locator("[data-walk-stage] article.reading")).to_contain_text("foam in the hinge.")
        page.goto(f"{base}/exhibitions/{show.slug}/walk/?i=3")
        assert page.locator("[data-walk-stage] audio[controls]").count() == 1
        assert page.evaluate(NO_OVERFLOW)
        shot(page, "walk-sound-nojs-1366")
    finally:
        context.close()
