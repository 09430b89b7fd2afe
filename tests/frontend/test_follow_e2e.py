"""Following in Debian's Chromium against a real server: the Follow button is outlined until
it is pressed, then filled, and says so; the count moves with it; the artist's works come
into the gallery's Following tab and leave it again; no serious accessibility violation."""

from __future__ import annotations

import re

import pytest

from breeding import actions
from breeding.models import Visibility
from tests.frontend.test_visitor_e2e import log_in, serious_violations

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "a long and fine passphrase 7"


def test_a_breeder_follows_an_artist_and_sees_their_works(make_server, chromium, django_user_model):
    from playwright.sync_api import expect

    space = actions.sync_spaces()[0]
    alice = django_user_model.objects.create_user("alice", password=PASSWORD)
    django_user_model.objects.create_user("bob", password=PASSWORD)
    actions.do_update(actions.do_random(alice, space, 1, seed=1)[0], title="Tidepool",
                      visibility=Visibility.PUBLIC)
    base = make_server()
    context = chromium.new_context(viewport={"width": 1366, "height": 900})
    page = context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda e: problems.append(str(e)))
    log_in(page, base, "bob")

    page.goto(f"{base}/gallery/?order=following")
    expect(page.get_by_text("You follow no one yet.")).to_be_visible()

    page.goto(f"{base}/u/alice/")
    follow = page.locator("button[data-follow]")
    background = "b => getComputedStyle(b).backgroundColor"
    expect(follow).to_have_attribute("aria-pressed", "false")
    assert follow.evaluate(background) == "rgba(0, 0, 0, 0)"  # outlined
    assert serious_violations(page) == []
    page.get_by_role("button", name="Follow").click()
    expect(follow).to_have_attribute("aria-pressed", "true")
    expect(follow).to_have_text("Following")
    expect(page.locator("[data-followers]")).to_have_text("1")
    assert follow.evaluate(background) not in ("rgba(0, 0, 0, 0)", "transparent")  # filled
    assert serious_violations(page) == []

    page.get_by_role("link", name="Gallery").first.click()
    page.get_by_role("link", name="Following", exact=True).click()
    page.wait_for_url(re.compile(r"order=following"))
    expect(page.locator(".tile .title")).to_have_text(["Tidepool"])

    page.goto(f"{base}/u/alice/")
    page.get_by_role("button", name="Following").click()
    expect(follow).to_have_attribute("aria-pressed", "false")
    expect(page.locator("[data-followers]")).to_have_text("0")
    page.reload()
    expect(follow).to_have_text("Follow")
    assert problems == []
    context.close()
