"""Sharing a work in Chromium: the work page and the studio copy its address (where there
is no share sheet), a work only its owner may open is not shared but explained, and the
owner sets who sees a picture on its page as for a video."""

from __future__ import annotations

import re

import pytest

from breeding import actions
from breeding.models import Creation, Visibility
from tests.frontend.test_visitor_e2e import PASSWORD, log_in


@pytest.mark.parametrize("width", [1366, 390])
def test_a_work_is_shared_by_its_address_and_a_private_one_is_explained(make_server, chromium,
                                                                         django_user_model, width):
    from playwright.sync_api import expect

    space = actions.sync_spaces()[0]
    alice = django_user_model.objects.create_user("alice", password=PASSWORD)
    public, private = actions.do_random(alice, space, 2, seed=5)
    actions.do_update(public, title="Tide", visibility=Visibility.PUBLIC)
    actions.do_update(private, title="Mine alone", visibility=Visibility.PRIVATE)
    base = make_server()
    context = chromium.new_context(viewport={"width": width, "height": 844 if width < 600 else 900})
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=base)
    page = context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda e: problems.append(str(e)))
    log_in(page, base, "alice")

    page.goto(f"{base}/w/{public.public_id}/")
    page.get_by_role("button", name="Share").click()
    expect(page.locator(".toast")).to_contain_text("Link copied")
    assert page.evaluate("navigator.clipboard.readText()") == f"{base}/w/{public.public_id}/"

    # A private work: nobody else could open the link, so it says how to share it first...
    page.goto(f"{base}/w/{private.public_id}/")
    page.evaluate("navigator.clipboard.writeText('')")
    page.get_by_role("button", name="Share").click()
    expect(page.locator(".toast")).to_contain_text("Only you can open this work")
    assert page.evaluate("navigator.clipboard.readText()") == ""
    # ...and who sees it is set right there, for a picture as for a video.
    page.get_by_label("Shown to").select_option("unlisted")
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".toast").last).to_contain_text("Saved")
    assert Creation.objects.get(pk=private.pk).visibility == Visibility.UNLISTED
    page.get_by_role("button", name="Share").click()
    expect(page.locator(".toast").last).to_contain_text("Link copied")
    assert page.evaluate("navigator.clipboard.readText()") == f"{base}/w/{private.public_id}/"

    # The studio shares the picture on its stage.
    page.goto(f"{base}/studio/{public.public_id}/")
    page.evaluate("navigator.clipboard.writeText('')")
    page.get_by_role("button", name="Share").click()
    expect(page.locator(".toast").last).to_contain_text("Link copied")
    assert re.fullmatch(rf"{re.escape(base)}/w/{public.public_id}/", page.evaluate("navigator.clipboard.readText()"))
    assert not problems
    context.close()
