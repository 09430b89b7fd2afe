"""Making a morph video, end to end, in Debian's Chromium against a real server process
whose in-process worker renders it (as ``make run`` does): the preview plays, the full
render's progress shows, and the finished video plays on its page and in the gallery."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from breeding.models import Creation, Origin, Video, VideoStatus
from tests.frontend.conftest import seed_space_and_genes
from tests.frontend.test_studio_e2e import loaded, sign_up

pytestmark = pytest.mark.django_db(transaction=True)

PLAYING = """sel => { const v = document.querySelector(sel);
                      return v && !v.hidden && v.readyState >= 2 && v.currentTime > 0.25; }"""


def test_animate_preview_render_and_play_a_video(make_server, page):
    seed_space_and_genes()
    base = make_server(INPROCESS_WORKER="true")
    sign_up(page, base, "ada")
    page.get_by_role("button", name="Make a random picture in the abstract space").click()
    page.wait_for_url(re.compile(r"/studio/\w+/$"))
    page.get_by_role("button", name="Breed 8 children").click()
    expect(page.locator("[data-children] .draft-tile")).to_have_count(8)

    # Three keyframes: this picture and two of its children, from the picker.
    page.get_by_role("tab", name="Animate").click()
    expect(page.locator("[data-keyframes] li")).to_have_count(1)
    expect(page.locator("[data-anim-length]")).to_have_text("Add at least one more keyframe.")
    for n in (1, 2):
        page.get_by_role("button", name="Add a keyframe…").click()
        tiles = page.locator("[data-picker-grid] .pick-tile")
        expect(tiles.first).to_be_visible()
        tiles.nth(n).click()
    expect(page.locator("[data-keyframes] li")).to_have_count(3)
    page.get_by_label("Seconds per step").fill("0.5")
    page.get_by_label("Frames per second").select_option("24")
    page.get_by_label("Size").select_option("256")
    expect(page.locator("[data-anim-length]")).to_have_text("1 s · 25 frames at 256 px")

    # The preview plays in the page before anything is kept.
    page.get_by_role("button", name="Preview").click()
    page.wait_for_function(PLAYING, arg="[data-anim-player]", timeout=30_000)
    assert not Video.objects.exists()

    # The full render: progress, then a link to the finished video.
    page.get_by_role("button", name="Render video").click()
    expect(page.locator("[data-anim-done]")).to_be_visible(timeout=120_000)
    video = Video.objects.get()
    assert video.status == VideoStatus.DONE and video.frames_total == 25
    work = video.creation
    assert work.origin == Origin.VIDEO and work.parent_links.count() == 3

    page.locator("[data-anim-done] a").click()
    page.wait_for_url(f"{base}/w/{work.public_id}/")
    page.evaluate("() => { const v = document.querySelector('video[data-video]'); v.muted = true; v.play(); }")
    page.wait_for_function(PLAYING, arg="video[data-video]", timeout=30_000)
    expect(page.locator("[data-visibility-badge]")).to_have_text("Private")

    # Its owner names it and shows it to everyone; the gallery's video filter finds it.
    page.get_by_role("textbox", name="Title").fill("Tidal")
    page.get_by_label("Shown to").select_option("public")
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".work-info h1")).to_have_text("Tidal")
    expect(page.locator("[data-visibility-badge]")).to_be_hidden()
    work.refresh_from_db()
    assert work.visibility == "public" and work.title == "Tidal"
    page.goto(f"{base}/gallery/?kind=videos")
    tiles = page.locator(".wall .tile")
    expect(tiles).to_have_count(1)
    expect(tiles.first.locator(".badge-video")).to_have_text("▶ Video")
    loaded(page, ".wall .tile img")
    page.goto(f"{base}/gallery/?kind=pictures")
    expect(page.locator(".wall .tile")).to_have_count(Creation.objects.public().exclude(
        origin=Origin.VIDEO).count())
    assert page.problems == []
