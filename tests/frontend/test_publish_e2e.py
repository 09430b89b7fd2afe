"""Publishing works made elsewhere, end to end, in Debian's Chromium against a real server
process whose in-process worker encodes films and sounds (as ``make run`` does): a text, a
picture, a sound and a film go through the publish page, the encoding's progress shows,
and each work's page shows it, plays it from the keyboard, at a laptop's width and a
phone's, with nothing wider than the screen."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from breeding.models import Creation, MediaWork, Medium, Origin
from tests import media_files
from tests.frontend.test_studio_e2e import loaded, sign_up

pytestmark = pytest.mark.django_db(transaction=True)

WIDE = {"width": 1366, "height": 800}
PHONE = {"width": 390, "height": 844}
PLAYING = """sel => { const m = document.querySelector(sel);
                      return m && !m.paused && m.readyState >= 2 && m.currentTime > 0.2; }"""
NO_OVERFLOW = "() => document.documentElement.scrollWidth <= window.innerWidth"


def work_id(page) -> str:
    return re.search(r"/w/([^/]+)/$", page.url).group(1)


def fits(page, name: str) -> None:
    """No horizontal scrolling at this width, and a screenshot to look at."""
    assert page.evaluate(NO_OVERFLOW), f"{name}: wider than the screen"
    page.screenshot(path=f"/tmp/a1-{name}.png", full_page=True)


def describe(page, title: str, statement: str = "", techniques: str = "", licence: str = "",
             visibility: str = "public") -> None:
    page.get_by_label("Title").fill(title)
    if statement:
        page.get_by_label("Statement").fill(statement)
    if techniques:
        page.locator("[data-new-techniques]").fill(techniques)
    if licence:
        page.get_by_label("Licence").select_option(licence)
    page.get_by_label("Shown to").select_option(visibility)


def encoded(page, name: str) -> str:
    """Follow an encoding on the publish page to its end: the bar at its end, the link to
    the work; the work's id."""
    expect(page.locator("[data-progress-panel]")).to_be_visible()
    expect(page.locator("[data-publish-form]")).to_be_hidden()
    link = page.locator("[data-open]")
    expect(link).to_be_visible(timeout=120_000)
    expect(page.locator("[data-progress-state]")).to_have_text("Done: the work is ready.")
    assert page.eval_on_selector("[data-progress]", "bar => bar.value") == 1
    expect(page.locator("[data-cancel]")).to_be_hidden()
    assert re.search(r"\?id=\w+$", page.url)
    page.screenshot(path=f"/tmp/a1-{name}-encoded.png")
    href = link.get_attribute("href")
    link.click()
    page.wait_for_url(re.compile(re.escape(href) + "$"))
    return work_id(page)


def test_publish_a_text_a_picture_a_sound_and_a_film_and_play_them(make_server, page, tmp_path):
    base = make_server(INPROCESS_WORKER="true")
    page.set_viewport_size(WIDE)
    sign_up(page, base, "ada")
    page.get_by_role("link", name="Publish", exact=True).click()
    page.wait_for_url(f"{base}/publish/")
    fits(page, "publish-wide")

    # A text, in Markdown: its page sets it for reading, escaped.
    page.get_by_role("radio", name="Text").check()
    expect(page.locator("[data-dropzone]")).to_be_hidden()
    page.get_by_label("The text").fill("The tide *turns*\nand turns again.\n\n<b>Salt</b> stays.")
    page.get_by_label("Markdown").check()
    describe(page, "Tidewords", "Written at the shore.\n\nRead it slowly.", "Ink, Patience", "cc-by-4.0")
    page.get_by_role("button", name="Publish").click()
    page.wait_for_url(re.compile(r"/w/\w+/$"))
    text = Creation.objects.get(public_id=work_id(page))
    assert (text.origin, text.medium, text.visibility) == (Origin.MEDIA, Medium.TEXT, "public")
    words = page.locator("[data-work-text]")
    expect(words.locator("em")).to_have_text("turns")
    expect(words).to_contain_text("<b>Salt</b> stays.")
    expect(page.locator(".statement p")).to_have_count(2)
    expect(page.get_by_role("link", name="Patience")).to_have_attribute("href", "/gallery/?technique=patience")
    expect(page.get_by_role("link", name="CC BY 4.0")).to_be_visible()
    expect(page.get_by_role("button", name="Breed from this")).to_have_count(0)
    fits(page, "text-wide")

    # A refusal is said next to the field it is about.
    page.goto(f"{base}/publish/")
    fake = tmp_path / "film.mp4"
    fake.write_bytes(b"%PDF-1.7 not a film at all" + b"\x00" * 600)
    page.get_by_role("radio", name="Video").check()
    page.set_input_files("[data-file]", str(fake))
    describe(page, "Not a film")
    page.get_by_role("button", name="Publish").click()
    error = page.locator('[data-error-for="file"]')
    expect(error).to_contain_text("PDF")
    expect(page.locator("[data-publish-error]")).to_be_hidden()
    expect(error).to_be_in_viewport()  # brought into view
    page.wait_for_timeout(600)  # the scroll settled, for the picture
    page.screenshot(path="/tmp/a1-refused.png")
    assert not MediaWork.objects.filter(kind=Medium.VIDEO).exists()

    # A picture: as large as the screen allows, the file as it came a click away.
    page.goto(f"{base}/publish/")
    photo = tmp_path / "harbour.png"
    photo.write_bytes(media_files.picture((900, 600)))
    page.set_input_files("[data-file]", str(photo))
    expect(page.locator("[data-chosen]")).to_be_visible()
    describe(page, "Harbour", "A harbour at dusk.", "Camera")
    page.get_by_role("button", name="Publish").click()
    page.wait_for_url(re.compile(r"/w/\w+/$"))
    loaded(page, ".work-media img")
    box = page.locator(".work-media img").bounding_box()
    assert box["height"] <= WIDE["height"] and box["width"] > 600
    expect(page.get_by_role("link", name="Full size")).to_have_attribute("href", re.compile(r"/picture\.png$"))
    fits(page, "picture-wide")

    # A sound: chosen, the page knows it is a sound; its encoding is followed to its page.
    page.goto(f"{base}/publish/")
    hum = tmp_path / "hum.wav"
    hum.write_bytes(media_files.sound(6.0))
    page.set_input_files("[data-file]", str(hum))
    expect(page.locator('[data-kind-choice][value="sound"]')).to_be_checked()
    expect(page.locator("[data-chosen-name]")).to_contain_text("0:06")
    describe(page, "Hum", "A tone that swells.", "Oscillator", "cc0-1.0")
    page.get_by_role("button", name="Publish").click()
    sound = encoded(page, "sound")
    loaded(page, "[data-waveform] img")
    audio = page.locator("audio[data-player-media]")
    expect(audio).to_have_attribute("src", re.compile(r"/sound\.m4a$"))
    page.wait_for_function("() => document.querySelector('audio').readyState >= 1")
    # the keyboard plays it (Space), the waveform follows; M mutes it
    audio.focus()
    page.keyboard.press("Space")
    page.wait_for_function(PLAYING, arg="audio[data-player-media]", timeout=30_000)
    page.wait_for_function("""() => parseFloat(getComputedStyle(document.querySelector('[data-waveform]'))
                                .getPropertyValue('--played')) > 0""")
    expect(page.locator("[data-waveform-line]")).to_be_visible()
    page.keyboard.press("m")
    assert page.eval_on_selector("audio", "a => a.muted") is True
    page.keyboard.press("k")
    page.wait_for_function("() => document.querySelector('audio').paused")
    # the waveform is a slider: pressed near its end, the sound goes there
    wave = page.locator("[data-waveform]")
    wave_box = wave.bounding_box()
    page.mouse.click(wave_box["x"] + wave_box["width"] * 0.9, wave_box["y"] + wave_box["height"] / 2)
    assert page.eval_on_selector("audio", "a => a.currentTime") > 4.5
    wave.focus()
    page.keyboard.press("ArrowLeft")
    assert 0 < page.eval_on_selector("audio", "a => a.currentTime") < 1
    expect(wave).to_have_attribute("aria-valuetext", re.compile(r"^0:0\d of 0:06$"))
    # on the player itself, a key moves it once (its own controls do not do it again)
    audio.focus()
    page.keyboard.press("ArrowRight")
    assert 5 < page.eval_on_selector("audio", "a => a.currentTime") < 6
    page.keyboard.press("ArrowLeft")
    assert 0 < page.eval_on_selector("audio", "a => a.currentTime") < 1
    expect(page.get_by_role("link", name="CC0 (public domain)")).to_have_attribute(
        "href", "https://creativecommons.org/publicdomain/zero/1.0/")
    fits(page, "sound-wide")

    # A film: its poster, then it plays from the keyboard.
    page.goto(f"{base}/publish/")
    reel = tmp_path / "reel.mp4"
    reel.write_bytes(media_files.film(3.0, size=(480, 270)))
    page.set_input_files("[data-file]", str(reel))
    expect(page.locator('[data-kind-choice][value="video"]')).to_be_checked()
    describe(page, "Reel", "A bar crosses the light.", "FFmpeg")
    page.get_by_role("button", name="Publish").click()
    film = encoded(page, "video")
    video = page.locator("video[data-player-media]")
    expect(video).to_have_attribute("poster", re.compile(r"/large\.webp$"))
    video.focus()
    page.keyboard.press("m")
    page.keyboard.press("Space")
    page.wait_for_function(PLAYING, arg="video[data-player-media]", timeout=30_000)
    assert page.eval_on_selector("video", "v => v.muted") is True
    fits(page, "video-wide")
    page.keyboard.press("Space")
    page.wait_for_function("() => document.querySelector('video').paused")

    works = {m.kind: m.creation for m in MediaWork.objects.select_related("creation")}
    assert works[Medium.SOUND].public_id == sound and works[Medium.VIDEO].public_id == film
    assert {m.status for m in MediaWork.objects.all()} == {"done"}

    # A phone: every page fits its width.
    page.set_viewport_size(PHONE)
    for name, creation in (("text", text), ("picture", works[Medium.PICTURE]),
                           ("sound", works[Medium.SOUND]), ("video", works[Medium.VIDEO])):
        page.goto(f"{base}/w/{creation.public_id}/")
        if name in ("picture", "sound"):
            loaded(page, ".work-media img")
        fits(page, f"{name}-phone")
    page.goto(f"{base}/publish/")
    fits(page, "publish-phone")
    page.get_by_role("radio", name="Text").check()
    fits(page, "publish-text-phone")

    # The one failed request is the refused file's, answered with its sentence above.
    assert page.problems == ["console: Failed to load resource: the server responded with a "
                             "status of 400 (Bad Request)"]
