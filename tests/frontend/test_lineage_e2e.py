"""Family trees in Debian's Chromium: sized to what they hold, wide generations folded into
a grid, and zoom that brings sharper pictures rather than blur."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from breeding import actions
from breeding.models import Visibility
from tests.frontend.test_exhibition_e2e import PASSWORD

pytestmark = pytest.mark.django_db(transaction=True)


def frame_and_tree(page) -> tuple[dict, dict]:
    return page.locator("[data-tree]").bounding_box(), page.locator("svg.tree").bounding_box()


@pytest.fixture
def family(django_user_model):
    """A new work alone, and a work with 56 public children."""
    space = actions.sync_spaces()[0]
    ada = django_user_model.objects.create_user("ada", password=PASSWORD)
    alone, parent = actions.do_random(ada, space, 2, seed=5)
    actions.do_update(alone, title="Alone", visibility=Visibility.PUBLIC)
    actions.do_update(parent, title="Many", visibility=Visibility.PUBLIC)
    for batch in range(7):
        for child in actions.do_children(ada, parent, 8, 0.3, seed=batch):
            actions.do_update(child, visibility=Visibility.PUBLIC)
    return alone, parent


@pytest.mark.parametrize("viewport", [{"width": 1366, "height": 768}, {"width": 390, "height": 844}],
                         ids=["1366x768", "390x844"])
def test_a_tree_is_sized_to_its_content_and_a_wide_generation_is_a_grid(make_server, chromium, family, viewport):
    alone, parent = family
    base = make_server()
    context = chromium.new_context(viewport=viewport)
    page = context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))

    # a new work: its picture in a frame its size, and a sentence on what grows there
    page.goto(f"{base}/w/{alone.public_id}/lineage/")
    frame, tree = frame_and_tree(page)
    assert frame["height"] <= tree["height"] + 64 and frame["width"] <= max(tree["width"], 192) + 2, (frame, tree)
    expect(page.get_by_text("No parents or children yet")).to_be_visible()

    # 56 children unfolded: one grid joined to its parent once, no page scrolling sideways
    page.goto(f"{base}/w/{parent.public_id}/lineage/")
    expect(page.locator("svg.tree text", has_text="+50 more")).to_have_count(1)
    page.get_by_role("link", name="Show all 50 more of this generation").click()
    expect(page.locator("svg.tree .node a")).to_have_count(57)
    expect(page.locator("svg.tree rect.block")).to_have_count(1)
    expect(page.locator("svg.tree .edges path")).to_have_count(1)
    assert page.evaluate("() => document.scrollingElement.scrollWidth") <= viewport["width"]
    frame, tree = frame_and_tree(page)
    assert frame["x"] >= 0 and frame["x"] + frame["width"] <= viewport["width"]
    assert frame["height"] <= viewport["height"]
    assert problems == []
    context.close()


def test_zooming_in_loads_larger_pictures(make_server, chromium, family):
    _, parent = family
    base = make_server()
    context = chromium.new_context(viewport={"width": 1366, "height": 768})
    page = context.new_page()
    page.goto(f"{base}/w/{parent.public_id}/lineage/")
    hrefs = "() => [...document.querySelectorAll('svg.tree image')].map(i => i.getAttribute('href'))"
    assert all(h.endswith("/256.webp") for h in page.evaluate(hrefs))
    page.get_by_role("button", name="Zoom in").click()  # 1.25 x 96 px: the thumbnails hold
    assert all(h.endswith("/256.webp") for h in page.evaluate(hrefs))
    for _ in range(4):  # to 3 x 96 = 288 px: more than a 256 px thumbnail holds
        page.get_by_role("button", name="Zoom in").click()
    assert all(h.endswith("/1024.webp") for h in page.evaluate(hrefs))
    answer = page.request.get(base + page.evaluate(hrefs)[0])
    assert answer.ok and answer.headers["content-type"] == "image/webp"
    context.close()
