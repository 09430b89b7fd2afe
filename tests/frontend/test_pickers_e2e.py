"""Finding a work to use, in Debian's Chromium: every picker shows titles, searches by
title and pages past its first page (the studio's parents and keyframes, the curator's
search)."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import Permission
from playwright.sync_api import expect

from breeding import actions
from breeding.models import Visibility
from tests.frontend.test_exhibition_e2e import PASSWORD, hang, log_in, off_loop
from tests.frontend.test_studio_e2e import loaded

pytestmark = pytest.mark.django_db(transaction=True)

LONG = "Harbour at Dusk over the Northern Sea"


def uncut(locator) -> bool:
    """Whether a caption's text is shown whole (not cut to "H..")."""
    return locator.evaluate("e => e.scrollWidth <= e.clientWidth && e.scrollHeight <= e.clientHeight + 1")


def titles(picker) -> list[str]:
    return picker.locator(".pick-tile .title").all_inner_texts()


@pytest.fixture
def many(django_user_model):
    """Ada's sixty works (two titled) and Bob's sixty public ones (one titled)."""
    space = actions.sync_spaces()[0]
    ada = django_user_model.objects.create_user("ada", password=PASSWORD)
    bob = django_user_model.objects.create_user("bob", password=PASSWORD)
    mine = actions.do_random(ada, space, 60, seed=1)
    for work in mine:
        actions.do_update(work, visibility=Visibility.PRIVATE)
    actions.do_update(mine[-1], title="Rose Tide")
    actions.do_update(mine[0], title=LONG)  # the oldest: on the second page
    theirs = actions.do_random(bob, space, 60, seed=2)
    for work in theirs:
        actions.do_update(work, visibility=Visibility.PUBLIC)
    actions.do_update(theirs[0], title="Lichen on a Northern Wall")
    return mine, theirs


def test_the_studio_pickers_show_titles_search_and_page(make_server, chromium, many):
    mine, theirs = many
    base = make_server()
    context = chromium.new_context(viewport={"width": 1366, "height": 768})
    page = context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    log_in(page, base, "ada")
    page.goto(f"{base}/studio/{mine[1].public_id}/")
    loaded(page, "[data-current]")

    page.get_by_role("tab", name="Cross").click()
    page.get_by_role("button", name="Add a parent…").click()
    picker = page.locator("[data-picker]")
    tiles = picker.locator(".pick-tile")
    # the library, newest first: each work with its title (or "Untitled") and when
    expect(tiles).to_have_count(48)
    assert titles(picker)[0] == "Rose Tide" and set(titles(picker)[1:]) == {"Untitled"}
    expect(tiles.first.locator(".about")).to_have_text(re.compile(r"only you · (now|\d+ (seconds?|minutes?) ago)"))
    # more than one page: "More" brings the rest
    picker.get_by_role("button", name="More").click()
    expect(tiles).to_have_count(60)
    expect(picker.get_by_role("button", name="More")).to_be_hidden()
    assert titles(picker)[-1] == LONG and uncut(tiles.last.locator(".title"))

    # a search by title, as it is typed
    picker.get_by_label("Find a picture").fill("northern")
    expect(tiles).to_have_count(1)
    expect(tiles.first.locator(".title")).to_have_text(LONG)
    picker.get_by_label("Find a picture").fill("no such title")
    expect(picker.get_by_text("No work has “no such title” in its title.")).to_be_visible()

    # the gallery, searched and paged the same way: Bob's works, with his name
    picker.get_by_label("Find a picture").fill("")
    picker.get_by_role("button", name="Gallery").click()
    expect(tiles.first.locator(".about")).to_have_text("by bob")
    expect(tiles).to_have_count(48)
    picker.get_by_role("button", name="More").click()
    expect(tiles).to_have_count(60)
    picker.get_by_label("Find a picture").fill("lichen")
    picker.get_by_label("Find a picture").press("Enter")
    expect(tiles).to_have_count(1)
    tiles.first.click()
    expect(picker).to_be_hidden()
    expect(page.locator(f'[data-parents] [data-id="{theirs[0].public_id}"]')).to_have_count(1)

    # the keyframes' picker is the same: found by title, added with its name
    page.get_by_role("tab", name="Animate").click()
    page.get_by_role("button", name="Add a keyframe…").click()
    expect(picker.get_by_label("Find a picture")).to_have_value("")
    picker.get_by_label("Find a picture").fill("rose")
    expect(tiles).to_have_count(1)
    tiles.first.click()
    expect(page.get_by_role("img", name="Keyframe 2: Rose Tide")).to_be_visible()
    assert problems == []
    context.close()


def test_the_curators_search_shows_whole_titles_and_pages(make_server, chromium, many):
    mine, theirs = many
    ada = mine[0].owner
    ada.user_permissions.add(Permission.objects.get(codename="curate", content_type__app_label="gallery"))
    actions.do_update(theirs[1], title=LONG)
    show, _ = off_loop(hang, ada, "Shoreline", [], [])
    base = make_server()
    context = chromium.new_context(viewport={"width": 1366, "height": 768})
    page = context.new_page()
    log_in(page, base, "ada")
    page.goto(f"{base}/exhibitions/{show.slug}/curate/")
    results = page.locator("[data-results] .tile")
    expect(results).to_have_count(12)
    page.get_by_role("button", name="More results").click()
    expect(results).to_have_count(24)

    page.get_by_label("Search public works by title").fill("harbour")
    page.get_by_role("button", name="Search", exact=True).click()
    expect(results).to_have_count(1)
    title = results.first.locator(".title")
    expect(title).to_have_text(LONG)
    assert uncut(title)
    expect(results.first.locator(".about")).to_have_text("by bob")
    expect(page.get_by_role("button", name="More results")).to_be_hidden()
    context.close()
