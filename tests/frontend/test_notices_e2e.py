"""Notices in Debian's Chromium against a real server, with two people: Bob likes Alice's
public work and breeds from it; Alice, on another page, sees the header's unread count rise
live, opens her notices and finds both listed with their links, sees Bob's follow come in
while she is there, and marks them all read. At 1366 and 390 px: the header and the page fit,
axe finds nothing serious, and neither page has an error."""

from __future__ import annotations

import os
import re

import pytest

from breeding import actions
from breeding.models import Visibility
from tests.frontend.test_visitor_e2e import PASSWORD, log_in, serious_violations, too_wide

pytestmark = pytest.mark.django_db(transaction=True)

SHOTS = os.environ.get("NOTICE_SCREENSHOTS")  # a folder: the header and the page, for looking at


def watched(context, problems: list[str], who: str):
    page = context.new_page()
    page.on("pageerror", lambda e: problems.append(f"{who}: page error: {e}"))
    page.on("console", lambda m: problems.append(f"{who}: console: {m.text}") if m.type == "error" else None)
    return page


@pytest.mark.parametrize("width", [1366, 390])
def test_alice_hears_live_of_what_bob_does_with_her_work(make_server, chromium, django_user_model, width):
    from playwright.sync_api import expect

    space = actions.sync_spaces()[0]
    alice = django_user_model.objects.create_user("alice", password=PASSWORD)
    django_user_model.objects.create_user("bob", password=PASSWORD)
    tide = actions.do_update(actions.do_random(alice, space, 1, seed=1)[0], title="Tide",
                             visibility=Visibility.PUBLIC)
    base = make_server()
    problems: list[str] = []
    phone = width < 600
    alices = chromium.new_context(viewport={"width": width, "height": 844 if phone else 900},
                                  has_touch=phone, is_mobile=phone)
    bobs = chromium.new_context(viewport={"width": 1366, "height": 900})
    her, his = watched(alices, problems, "alice"), watched(bobs, problems, "bob")

    log_in(her, base, "alice")
    her.goto(f"{base}/gallery/")
    badge = her.locator("[data-unread-badge]")
    expect(badge).to_be_hidden()
    bell = her.get_by_role("link", name=re.compile("^Notices"))
    expect(bell).to_be_visible()

    log_in(his, base, "bob")
    his.goto(f"{base}/w/{tide.public_id}/")
    his.get_by_role("button", name=re.compile("Like")).click()
    expect(his.locator("button[data-like]")).to_have_attribute("aria-pressed", "true")
    expect(badge).to_have_text("1 unread")  # live, without a reload
    his.get_by_role("button", name="Breed from this").click()
    his.wait_for_url(re.compile(r"/studio/\w+/"))
    expect(badge).to_have_text("2 unread")
    if SHOTS:
        her.screenshot(path=f"{SHOTS}/header-{width}.png", clip={"x": 0, "y": 0, "width": width, "height": 140})

    bell.click()
    her.wait_for_url(re.compile(r"/notices/$"))
    items = her.locator(".notice")
    expect(items).to_have_count(2)
    expect(items.nth(0)).to_contain_text("bob bred from your work “Tide”")
    expect(items.nth(1)).to_contain_text("bob liked your work “Tide”")
    for i in range(2):  # Bob's copy is private: the notice links Alice's own work
        expect(items.nth(i).locator("a")).to_have_attribute("href", f"/w/{tide.public_id}/")
    expect(her.locator(".notice.unread")).to_have_count(2)

    # While she reads, Bob follows her: it comes in at the top.
    his.goto(f"{base}/u/alice/")
    his.get_by_role("button", name="Follow").click()
    expect(items).to_have_count(3)
    expect(items.nth(0)).to_contain_text("bob started following you")
    expect(items.nth(0).locator("a")).to_have_attribute("href", "/u/bob/")
    expect(badge).to_have_text("3 unread")
    assert too_wide(her) is None
    her.evaluate("Promise.all(document.getAnimations().map(a => a.finished))")  # faded in
    assert serious_violations(her) == []
    if SHOTS:
        her.screenshot(path=f"{SHOTS}/notices-{width}.png", full_page=True)

    her.get_by_role("button", name="Mark all read").click()
    expect(badge).to_be_hidden()
    expect(her.locator(".notice.unread")).to_have_count(0)
    expect(her.get_by_role("button", name="Mark all read")).to_be_disabled()
    her.reload()
    expect(her.locator(".notice.unread")).to_have_count(0)
    expect(items).to_have_count(3)

    # Muting likes, on the page: saved, and kept.
    her.get_by_label("likes my work").uncheck()
    her.get_by_role("button", name="Save").click()
    expect(her.locator(".toast").last).to_contain_text("Saved")
    her.reload()
    expect(her.get_by_label("likes my work")).not_to_be_checked()
    assert problems == []
    alices.close()
    bobs.close()
