"""Comments in Debian's Chromium against a real server, on a desktop and a phone: Bob
comments on Alice's public work (markup in it stays text, an address becomes a safe link)
and edits it; Alice sees it, reports it and hides it, greyed and marked for her; Bob still
sees it, marked; a visitor does not; Bob deletes it. No page error, nothing wider than the
screen, no serious accessibility violation."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from breeding import actions
from breeding.models import Visibility
from gallery.models import Comment, CommentReport
from tests.frontend.test_visitor_e2e import PASSWORD, log_in, serious_violations, too_wide

pytestmark = pytest.mark.django_db(transaction=True)

WORDS = "The blue <img src=x onerror=alert(1)> is like https://example.org/tides"


@pytest.mark.parametrize("width", [1366, 390])
def test_bob_comments_and_alice_hides_it(make_server, chromium, django_user_model, width):
    from playwright.sync_api import expect

    space = actions.sync_spaces()[0]
    # Their accounts are an hour old: new accounts wait a few minutes before commenting.
    an_hour_ago = timezone.now() - timedelta(hours=1)
    alice = django_user_model.objects.create_user("alice", password=PASSWORD, date_joined=an_hour_ago)
    django_user_model.objects.create_user("bob", password=PASSWORD, date_joined=an_hour_ago)
    work = actions.do_update(actions.do_random(alice, space, 1, seed=3)[0], title="Tide",
                             visibility=Visibility.PUBLIC)
    base = make_server()
    viewport = {"width": width, "height": 844 if width < 600 else 900}
    problems: list[str] = []

    def person(name: str | None):
        context = chromium.new_context(viewport=viewport)
        page = context.new_page()
        page.on("pageerror", lambda e: problems.append(f"{name}: {e}"))
        page.on("dialog", lambda d: d.accept())  # "Delete your comment?"
        if name:
            log_in(page, base, name)
        page.goto(f"{base}/w/{work.public_id}/")
        return context, page

    bob_context, bob = person("bob")
    expect(bob.get_by_text("No comments yet.")).to_be_visible()
    bob.get_by_label("Add a comment").fill(WORDS)
    bob.get_by_role("button", name="Comment", exact=True).click()
    comment = bob.locator(".comment")
    expect(comment).to_have_count(1)
    expect(comment.locator(".comment-text")).to_have_text(WORDS)
    expect(comment.locator(".comment-text img")).to_have_count(0)
    link = comment.get_by_role("link", name="https://example.org/tides")
    expect(link).to_have_attribute("rel", "nofollow ugc noopener noreferrer")
    expect(link).to_have_attribute("target", "_blank")
    expect(bob.locator("[data-comment-count]")).to_have_text("1")
    expect(bob.get_by_text("No comments yet.")).to_be_hidden()
    assert too_wide(bob) is None

    # Its author edits it in place.
    comment.get_by_role("button", name="Edit").click()
    comment.get_by_label("Your comment").fill(WORDS + " today")
    comment.get_by_role("button", name="Save").click()
    expect(comment.locator(".comment-text")).to_have_text(WORDS + " today")
    expect(comment.get_by_text("· edited")).to_be_visible()

    alice_context, alice_page = person("alice")
    theirs = alice_page.locator(".comment")
    expect(theirs.locator(".comment-text")).to_have_text(WORDS + " today")
    theirs.get_by_text("Report", exact=True).click()
    theirs.get_by_label("Why should staff look at this comment?").fill("Testing the report")
    theirs.get_by_role("button", name="Send report").click()
    expect(alice_page.locator(".toast")).to_contain_text("Staff will look at it")
    assert CommentReport.objects.get().reason == "Testing the report"
    expect(theirs.locator(".badge")).to_be_hidden()
    colour = "e => getComputedStyle(e).color"
    shown_colour = theirs.locator(".comment-text").evaluate(colour)
    theirs.get_by_role("button", name="Hide").click()
    expect(theirs.get_by_role("button", name="Show")).to_have_attribute("aria-pressed", "true")
    expect(theirs.locator(".badge")).to_have_text("Hidden")
    expect(theirs).to_have_class("comment is-hidden")
    assert theirs.locator(".comment-text").evaluate(colour) != shown_colour  # greyed
    alice_page.reload()
    expect(alice_page.locator(".comment.is-hidden .comment-text")).to_have_text(WORDS + " today")
    assert too_wide(alice_page) is None
    assert serious_violations(alice_page) == []

    bob.reload()  # its author still sees it, and why nobody answers
    expect(bob.locator(".comment.is-hidden .badge")).to_have_text("Hidden by the work's owner")
    visitor_context, visitor = person(None)
    expect(visitor.get_by_text("No comments yet.")).to_be_visible()
    expect(visitor.locator(".comment")).to_have_count(0)

    bob.locator(".comment").get_by_role("button", name="Delete").click()  # and is gone
    expect(bob.get_by_text("No comments yet.")).to_be_visible()
    expect(bob.locator("[data-comment-count]")).to_have_text("0")
    assert not Comment.objects.exists()
    assert problems == []
    for context in (bob_context, alice_context, visitor_context):
        context.close()
