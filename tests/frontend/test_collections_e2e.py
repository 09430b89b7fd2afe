"""Collections in Debian's Chromium against a real server, on a laptop and on a phone: a
breeder adds someone's work to a new collection from the work's page, finds it on the
collection's page and on their profile, in order, and its owner's controls work there; the
pages fit the screen, have no serious accessibility violation and raise no error."""

from __future__ import annotations

import pytest

from breeding import actions
from breeding.models import Visibility
from gallery.models import Collection
from tests.frontend.test_visitor_e2e import PASSWORD, log_in, serious_violations, too_wide

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize("width", [1366, 390])
def test_a_work_goes_into_a_new_collection_from_its_page(make_server, chromium, django_user_model,
                                                         tmp_path, width):
    from playwright.sync_api import expect

    space = actions.sync_spaces()[0]
    alice = django_user_model.objects.create_user("alice", password=PASSWORD)
    bob = django_user_model.objects.create_user("bob", password=PASSWORD)
    tide, ember = actions.do_random(bob, space, 2, seed=3)
    actions.do_update(tide, title="Tidepool", visibility=Visibility.PUBLIC)
    actions.do_update(ember, title="Ember", visibility=Visibility.PUBLIC)
    base = make_server()
    context = chromium.new_context(viewport={"width": width, "height": 844 if width < 600 else 900})
    page = context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    page.on("console", lambda m: problems.append(f"console: {m.text}") if m.type == "error" else None)
    log_in(page, base, "alice")

    # From the work page: a new collection, made with the work in it.
    page.goto(f"{base}/w/{tide.public_id}/")
    page.get_by_role("button", name="Add to collection").click()
    expect(page.get_by_text("You have no collections yet")).to_be_visible()
    page.get_by_label("Name of a new collection").fill("Shoreline")
    page.get_by_label("Public", exact=True).check()
    page.get_by_role("button", name="Create and add").click()
    expect(page.locator(".toast").last).to_contain_text("Added to “Shoreline”")
    expect(page.locator("[data-collect-list] input[type=checkbox]")).to_be_checked()
    assert too_wide(page) is None
    page.screenshot(path=tmp_path / f"work-{width}.png")
    collection = Collection.objects.get(owner=alice)
    assert collection.public and collection.title == "Shoreline"

    # A second work, into the same collection by its box.
    page.goto(f"{base}/w/{ember.public_id}/")
    page.get_by_role("button", name="Add to collection").click()
    box = page.get_by_role("checkbox", name="Shoreline")
    expect(box).not_to_be_checked()
    box.check()
    expect(page.locator(".toast").last).to_contain_text("Added to “Shoreline”")
    expect(page.locator(".collect-meta")).to_have_text("2 works")

    # The collection's page: its works as tiles, in order; its owner moves one.
    page.locator(".toast").last.get_by_role("link", name="Open").click()
    page.wait_for_url(f"**/c/{collection.public_id}/")
    expect(page.get_by_role("heading", name="Shoreline")).to_be_visible()
    titles = page.locator(".collection-wall .tile .title")
    expect(titles).to_have_text(["Tidepool", "Ember"])
    page.locator(".collection-item").nth(1).hover()
    page.locator(".collection-item").nth(1).get_by_role("button", name="Move earlier").click()
    expect(titles).to_have_text(["Ember", "Tidepool"])
    expect(page.locator(".collection-item").first.locator("[data-cover-badge]")).to_be_visible()
    assert too_wide(page) is None
    assert serious_violations(page) == []
    page.screenshot(path=tmp_path / f"collection-{width}.png", full_page=True)
    page.reload()
    expect(titles).to_have_text(["Ember", "Tidepool"])

    # Her profile lists it, and so does it for anyone else.
    page.goto(f"{base}/u/alice/")
    card = page.locator(".collection-card", has_text="Shoreline")
    expect(card).to_be_visible()
    expect(card).to_contain_text("2 works")
    assert too_wide(page) is None
    assert serious_violations(page) == []
    page.screenshot(path=tmp_path / f"profile-{width}.png", full_page=True)
    visitor = context.browser.new_context(viewport={"width": width, "height": 900})
    other = visitor.new_page()
    other.goto(f"{base}/u/alice/")
    other.locator(".collection-card", has_text="Shoreline").click()
    expect(other.locator(".collection-wall .tile .title")).to_have_text(["Ember", "Tidepool"])
    expect(other.locator(".tile-actions")).to_have_count(0)
    visitor.close()

    # Back on the work page, the box says the work is in it; taking it out says so too.
    page.goto(f"{base}/w/{tide.public_id}/")
    page.get_by_role("button", name="Add to collection").click()
    box = page.get_by_role("checkbox", name="Shoreline")
    expect(box).to_be_checked()
    box.uncheck()
    expect(page.locator(".toast").last).to_contain_text("Taken out of “Shoreline”")
    assert list(collection.items.values_list("creation__public_id", flat=True)) == [ember.public_id]
    assert problems == []
    context.close()
