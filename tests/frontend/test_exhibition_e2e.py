"""An exhibition followed live, end to end: a curator and a visitor in two Chromium
contexts against a real server process. The visitor never reloads."""

from __future__ import annotations

import os
import re
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from django.contrib.auth.models import Permission
from django.db import connections
from playwright.sync_api import expect

from breeding import actions
from breeding.models import Visibility
from gallery import exhibitions
from gallery.models import Exhibition, ExhibitionStatus

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "a long and fine passphrase 7"
TITLES = ["Tidepool", "Lichen", "Inkwell"]


def off_loop(action, *args, **kwargs):
    """Run a curator's action in a thread of its own: it broadcasts with async_to_sync,
    which refuses the thread where Playwright's event loop runs."""
    def run():
        try:
            return action(*args, **kwargs)
        finally:
            connections.close_all()

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(run).result()


def hang(alice, title: str, works, walls, status=ExhibitionStatus.OPEN):
    show = exhibitions.do_create(alice, title, "Works about water.")
    ids = [exhibitions.do_add(show, w.public_id, wall)["item"]["id"] for w, wall in zip(works, walls, strict=True)]
    exhibitions.do_update(show, status=status)
    return show, ids


def socket_open(page) -> None:
    page.wait_for_function("() => window.__exhibitionSocket && window.__exhibitionSocket.readyState === 1")


def shown_items(page) -> list[int]:
    return [int(i) for i in page.eval_on_selector_all("[data-items] > [data-item]", "els => els.map(e => e.dataset.item)")]


def server_items(slug: str) -> list[dict]:
    return exhibitions.snapshot(Exhibition.objects.get(slug=slug))["exhibition"]["items"]


def log_in(page, base: str, name: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("Username").fill(name)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(re.compile(r"/(studio/)?$"))


def test_a_curator_changes_the_show_and_a_visitor_follows_it_live(make_server, chromium, django_user_model):
    space = actions.sync_spaces()[0]
    alice = django_user_model.objects.create_user("alice", password=PASSWORD)
    alice.user_permissions.add(Permission.objects.get(codename="curate", content_type__app_label="gallery"))
    works = actions.do_random(alice, space, 3, seed=11)
    for work, title in zip(works, TITLES, strict=True):
        actions.do_update(work, title=title, visibility=Visibility.PUBLIC)
    show, _ = off_loop(hang, alice, "Shoreline", works[:2], ["Begin at the shore.", "Growth without hurry."])
    base = make_server()

    curating = chromium.new_context(viewport={"width": 1366, "height": 900})
    visiting = chromium.new_context(viewport={"width": 390, "height": 844})
    try:
        curator = curating.new_page()
        visitor = visiting.new_page()
        problems: list[str] = []
        for p in (curator, visitor):
            p.on("pageerror", lambda e: problems.append(f"page error: {e}"))

        log_in(curator, base, "alice")
        curator.goto(f"{base}/exhibitions/{show.slug}/curate/")
        socket_open(curator)
        visitor.goto(f"{base}/exhibitions/{show.slug}/")
        socket_open(visitor)
        visitor.evaluate("() => { window.__sameDocument = true; }")  # gone on any reload
        assert shown_items(visitor) == [i["id"] for i in server_items(show.slug)]

        # The curator finds a work in the gallery and hangs it; the visitor sees it arrive.
        curator.get_by_label("Search public works by title").fill("Inkwell")
        curator.get_by_role("button", name="Search").click()
        curator.get_by_role("button", name="Add Inkwell").click()
        inkwell = visitor.locator("[data-items] > li", has_text="Inkwell")
        expect(inkwell).to_be_visible()
        expect(visitor.locator("[data-items] > li")).to_have_count(3)
        inkwell_id = int(inkwell.get_attribute("data-item"))

        # The curator moves the tour there; the visitor, following, is carried along.
        assert visitor.evaluate("() => window.scrollY") == 0
        curator.locator(f'[data-curate-items] > [data-item="{inkwell_id}"]').get_by_role(
            "button", name="Show this one").click()
        expect(inkwell).to_have_class(re.compile(r"\bon-tour\b"))
        visitor.wait_for_function(
            """id => { const r = document.getElementById(`item-${id}`).getBoundingClientRect();
                       return window.scrollY > 0 && r.top < innerHeight && r.bottom > 0; }""",
            arg=inkwell_id)

        # The visitor's connection drops; the curator goes on working meanwhile.
        bar_before = visitor.locator("[data-live-bar]").bounding_box()
        visiting.set_offline(True)
        expect(visitor.locator("[data-socket-state]")).to_have_text("Reconnecting…")
        # On the phone it says so inside the live bar, which does not grow: it covers nothing
        # the bar did not (a line of its own at the top covered the title).
        visitor.locator("[data-ex-title]").scroll_into_view_if_needed()
        state = visitor.locator("[data-socket-state]").bounding_box()
        title = visitor.locator("[data-ex-title]").bounding_box()
        bar = visitor.locator("[data-live-bar]").bounding_box()
        assert state["y"] >= title["y"] + title["height"] or state["y"] + state["height"] <= title["y"]
        assert bar["x"] <= state["x"] and state["x"] + state["width"] <= bar["x"] + bar["width"]
        assert bar["y"] <= state["y"] and state["y"] + state["height"] <= bar["y"] + bar["height"]
        assert bar["height"] <= bar_before["height"]
        if shots := os.environ.get("MENDEL_SCREENSHOTS"):
            visitor.screenshot(path=f"{shots}/exhibition-reconnecting-390.png")
        row = curator.locator(f'[data-curate-items] > [data-item="{inkwell_id}"]')
        row.get_by_role("button", name="Move Inkwell up").click()
        expect(curator.locator("[data-curate-items] > li").nth(1)).to_have_attribute("data-item", str(inkwell_id))
        curator.locator("[data-curate-items] > li", has_text="Tidepool").get_by_role("button", name="Remove").click()
        expect(curator.locator("[data-curate-items] > li")).to_have_count(2)
        lichen = curator.locator("[data-curate-items] > li", has_text="Lichen").locator("textarea")
        lichen.fill("Growth without hurry. Step close.")
        lichen.blur()
        expect(curator.get_by_text("Wall text saved.")).to_be_visible()

        # Back online, it catches up with everything it missed, without a reload.
        visiting.set_offline(False)
        expect(visitor.locator("[data-socket-state]")).to_be_hidden(timeout=15000)
        expect(visitor.locator("[data-items] > li")).to_have_count(2)
        expected = server_items(show.slug)
        assert [i["work"]["title"] for i in expected] == ["Inkwell", "Lichen"]
        visitor.wait_for_function(
            "ids => JSON.stringify([...document.querySelectorAll('[data-items] > [data-item]')].map(e => Number(e.dataset.item))) === JSON.stringify(ids)",
            arg=[i["id"] for i in expected])
        expect(visitor.locator(f'[data-item="{expected[1]["id"]}"] [data-wall-text]')).to_have_text(
            "Growth without hurry. Step close.")
        assert visitor.evaluate("() => window.__sameDocument") is True

        # A breeding round: two voters, the curator ends it, the winner is shown to both.
        curator.get_by_label("Children").fill("2")
        curator.get_by_role("button", name="Start a round").click()
        visitor_round = visitor.locator("[data-round]")
        expect(visitor_round.get_by_role("button", name="Vote for 2")).to_be_visible(timeout=30000)
        expect(visitor_round.locator("[data-countdown]")).to_contain_text("left to vote")
        visitor_round.get_by_role("button", name="Vote for 2").click()
        expect(visitor_round.get_by_text("your vote is in")).to_be_visible()
        visitor_round.get_by_role("button", name="Vote for 1").click()  # a change of mind
        expect(visitor_round.get_by_role("alert")).to_have_text("Your vote is now for picture 1.")
        visitor_round.get_by_role("button", name="Vote for 2").click()
        expect(visitor_round.get_by_role("alert")).to_have_text("Your vote is now for picture 2.")
        expect(visitor_round.get_by_role("button", name="Your vote")).to_have_attribute("data-vote", "1")
        curator_round = curator.locator("[data-round]")
        curator_round.get_by_role("button", name="Vote for 2").click()
        expect(curator_round.get_by_text("your vote is in")).to_be_visible()
        curator.get_by_role("button", name="End round").click()
        for p in (visitor, curator):
            result = p.locator("[data-round-result]")
            expect(result).to_contain_text("The audience chose")
            expect(result).to_contain_text("with 2 of 2 votes")
            expect(p.locator("[data-round] .candidate.winner")).to_have_attribute("data-candidate", "1")
        expect(visitor.locator("[data-items] > li")).to_have_count(3)  # the winner hangs
        assert [i["id"] for i in server_items(show.slug)] == shown_items(visitor)
        assert visitor.evaluate("() => window.__sameDocument") is True
        assert not problems, problems
    finally:
        curating.close()
        visiting.close()


def test_the_walk_follows_the_keyboard_and_the_tour(make_server, chromium, django_user_model):
    space = actions.sync_spaces()[0]
    alice = django_user_model.objects.create_user("alice", password=PASSWORD)
    alice.user_permissions.add(Permission.objects.get(codename="curate", content_type__app_label="gallery"))
    works = actions.do_random(alice, space, 3, seed=12)
    for work, title in zip(works, TITLES, strict=True):
        actions.do_update(work, title=title, visibility=Visibility.PUBLIC)
    show, items = off_loop(hang, alice, "Shoreline", works, [f"About {t}." for t in TITLES])
    base = make_server()
    token = httpx.post(f"{base}/api/token/", data={"username": "alice", "password": PASSWORD}).json()["token"]
    context = chromium.new_context(viewport={"width": 1366, "height": 900})
    try:
        page = context.new_page()
        page.goto(f"{base}/exhibitions/{show.slug}/walk/")
        socket_open(page)
        title = page.locator("[data-walk-title]")
        expect(title).to_have_text("Tidepool")
        page.keyboard.press("ArrowRight")
        expect(title).to_have_text("Lichen")
        expect(page.locator("[data-walk-count]")).to_have_text("2 / 3")
        page.keyboard.press("End")
        expect(title).to_have_text("Inkwell")
        page.keyboard.press("Home")
        expect(page.locator("[data-walk-wall]")).to_have_text("About Tidepool.")
        assert page.url.endswith("?i=1")
        moved = httpx.post(f"{base}/api/exhibitions/{show.slug}/tour/", json={"item": items[1]},
                           headers={"Authorization": f"Token {token}"})  # the curator, elsewhere
        assert moved.status_code == 200, moved.text
        expect(title).to_have_text("Lichen")
        expect(page.locator("[data-walk-tour]")).to_be_visible()
        page.keyboard.press("Escape")
        page.wait_for_url(f"{base}/exhibitions/{show.slug}/")
    finally:
        context.close()


def test_the_round_parent_picker_offers_pictures_not_videos(make_server, chromium, django_user_model):
    from breeding.models import Origin, Video

    space = actions.sync_spaces()[0]
    alice = django_user_model.objects.create_user("alice", password=PASSWORD)
    alice.user_permissions.add(Permission.objects.get(codename="curate", content_type__app_label="gallery"))
    works = actions.do_random(alice, space, 2, seed=13)
    for work, title in zip(works, ["Tidepool", "Drift"], strict=True):
        actions.do_update(work, title=title, visibility=Visibility.PUBLIC)
    # "Drift" is a rendered video (its files are not needed to list it).
    type(works[1]).objects.filter(pk=works[1].pk).update(origin=Origin.VIDEO)
    Video.objects.create(owner=alice, space=space, keyframes=[], settings={}, title="Drift",
                         status="done", mp4="videos/drift.mp4", creation=works[1])
    show, _ = off_loop(hang, alice, "Shoreline", works, ["A picture.", "A video."])
    base = make_server()
    context = chromium.new_context(viewport={"width": 1366, "height": 900})
    try:
        page = context.new_page()
        log_in(page, base, "alice")
        page.goto(f"{base}/exhibitions/{show.slug}/curate/")
        socket_open(page)
        options = page.locator("[data-round-parent] option")
        expect(options).to_have_count(1)
        expect(options).to_have_text("Tidepool")
    finally:
        context.close()
