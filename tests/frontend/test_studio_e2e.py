"""A breeder's evening, end to end, in Debian's Chromium against a real server process."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from breeding.models import Creation, Gene, Origin, Visibility
from tests.frontend.conftest import seed_space_and_genes

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "a long and fine passphrase 7"


def loaded(page, selector: str) -> None:
    """Wait until every picture under ``selector`` has arrived and decoded."""
    page.wait_for_function(
        """sel => { const imgs = [...document.querySelectorAll(sel)];
                   return imgs.length > 0 && imgs.every(i => i.complete && i.naturalWidth > 0); }""",
        arg=selector,
    )


def sign_up(page, base: str, name: str) -> None:
    page.goto(f"{base}/accounts/signup/")
    page.get_by_label("Username").fill(name)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Password confirmation").fill(PASSWORD)
    page.get_by_role("button", name="Sign up").click()
    page.wait_for_url(f"{base}/studio/")


def studio_id(page) -> str:
    return re.search(r"/studio/([^/]+)/$", page.url).group(1)


def press(page, selector: str, key: str, times: int) -> None:
    page.focus(selector)
    for _ in range(times):
        page.keyboard.press(key)


def test_sign_up_breed_cross_edit_publish_and_see_it_on_the_home_page(make_server, page):
    seed_space_and_genes()
    base = make_server()

    sign_up(page, base, "ada")
    expect(page.get_by_text("Welcome to Mendel, ada")).to_be_visible()

    # make random
    page.get_by_role("button", name="Make a random picture in the abstract space").click()
    page.wait_for_url(re.compile(r"/studio/\w+/$"))
    first = Creation.objects.get(public_id=studio_id(page))
    assert first.owner.username == "ada" and first.origin == Origin.RANDOM
    assert first.visibility == Visibility.DRAFT
    loaded(page, "[data-current]")

    # breed children
    page.get_by_label("Chaos").focus()
    page.keyboard.press("ArrowRight")  # sliders answer the keyboard: 0.30 -> 0.35
    expect(page.locator("[data-chaos-value]")).to_have_text("0.35")
    asked: list[str] = []
    page.on("request", lambda request: asked.append(request.url))
    page.get_by_role("button", name="Breed 8 children").click()
    children = page.locator("[data-children] .draft-tile")
    expect(children).to_have_count(8)
    loaded(page, "[data-children] img")
    assert Creation.objects.filter(parent_links__parent=first, origin=Origin.CHILDREN).count() == 8
    # the eight pictures came in the answer that made them, none asked for at its address
    assert [url for url in asked if "/children/" in url] == [
        f"{base}/api/creations/{first.public_id}/children/?pictures=256"]
    assert [url for url in asked if re.search(r"/r/.+/256\.webp", url)] == []
    assert all(src.startswith("data:image/webp;base64,")
               for src in page.locator("[data-children] img").evaluate_all("els => els.map(e => e.src)"))

    # keep one: with the keyboard, as the film strip hint says
    kept_id = children.nth(2).get_attribute("data-id")
    children.nth(2).locator("a").focus()
    page.keyboard.press("k")
    expect(page.get_by_text("Kept in your library.")).to_be_visible()
    assert Creation.objects.get(public_id=kept_id).visibility == Visibility.PRIVATE
    # and discard another
    discarded_id = children.nth(5).get_attribute("data-id")
    children.nth(5).hover()
    children.nth(5).get_by_role("button", name="Discard").click()
    expect(page.locator(f'[data-children] [data-id="{discarded_id}"]')).to_have_count(0)
    assert Creation.objects.get(public_id=discarded_id).removed_at is not None
    # a change of mind: Undo brings it back to the drafts
    page.get_by_role("status").filter(has_text="Draft discarded.").get_by_role("button", name="Undo").click()
    expect(page.locator(f'[data-drafts] [data-id="{discarded_id}"]')).to_have_count(1)
    assert Creation.objects.get(public_id=discarded_id).removed_at is None

    # cross two parents with uneven weights: the current picture is the first parent;
    # the kept child comes from the library picker
    page.get_by_role("tab", name="Cross").click()
    page.get_by_role("button", name="Add a parent…").click()
    picker = page.locator("[data-picker]")
    picker.locator(f'[data-id="{kept_id}"]').click()
    expect(page.locator("[data-parents] .parent")).to_have_count(2)
    press(page, f'[data-parents] [data-id="{first.public_id}"] [data-weight="style"]', "ArrowLeft", 16)
    press(page, f'[data-parents] [data-id="{kept_id}"] [data-weight="content"]', "ArrowLeft", 14)
    page.get_by_role("button", name="Cross 2 parents").click()
    results = page.locator("[data-cross-results] .draft-tile")
    expect(results).to_have_count(4)
    loaded(page, "[data-cross-results] img")
    cross_id = results.first.get_attribute("data-id")
    cross = Creation.objects.get(public_id=cross_id)
    weights = [(link.parent.public_id, link.content_weight, link.style_weight) for link in cross.parent_links.all()]
    assert weights == [(first.public_id, 1.0, pytest.approx(0.2)), (kept_id, pytest.approx(0.3), 1.0)]

    # open the cross (in place); move a gene slider and see the picture change
    results.first.locator("a").click()
    page.wait_for_url(f"{base}/studio/{cross_id}/")
    page.wait_for_function("id => document.querySelector('[data-current]').src.includes(id)",
                           arg=cross.latent_sha)
    loaded(page, "[data-current]")
    stage = page.locator("[data-current]")
    before_src = stage.get_attribute("src")
    before = stage.screenshot()
    page.get_by_role("tab", name="Genes").click()
    press(page, "#gene-warmth", "ArrowRight", 30)
    page.wait_for_function(
        "before => { const i = document.querySelector('[data-current]');"
        " return i.src !== before && i.complete && i.naturalWidth > 0; }",
        arg=base + before_src if before_src.startswith("/") else before_src,
    )
    assert stage.screenshot() != before
    page.get_by_role("button", name="Keep this edit").click()
    expect(page.get_by_text("The edit is saved as a draft.")).to_be_visible()
    edit = Creation.objects.get(origin=Origin.EDIT, owner__username="ada")
    assert edit.genes == {"warmth": pytest.approx(0.9 * 2, abs=0.01)}  # 30 steps of 0.06

    # name and publish the cross
    page.get_by_label("Title").fill("Evening Tide")
    page.get_by_label("Title").press("Enter")
    expect(page.get_by_text("Title saved.")).to_be_visible()
    page.get_by_label("Shown to").select_option("public")
    expect(page.get_by_text("Published: it is in the public gallery now.")).to_be_visible()
    cross.refresh_from_db()
    assert (cross.title, cross.visibility) == ("Evening Tide", Visibility.PUBLIC)

    # it hangs on the home page
    page.goto(f"{base}/")
    tile = page.get_by_role("link", name="Evening Tide", exact=True)
    expect(tile).to_be_visible()
    loaded(page, ".wall img")

    # its family tree: both parents (the first is also the grandparent) above, the kept
    # edit below, each a link to its studio
    page.goto(f"{base}/w/{cross_id}/")
    page.get_by_role("link", name="Family tree →").click()
    page.wait_for_url(f"{base}/w/{cross_id}/lineage/")
    nodes = page.locator("svg.tree .node a")
    expect(nodes).to_have_count(4)
    expect(page.locator("svg.tree .edges path")).to_have_count(4)
    hrefs = {nodes.nth(i).get_attribute("href") for i in range(4)}
    assert hrefs == {f"/studio/{x}/" for x in (cross_id, first.public_id, kept_id, edit.public_id)}
    expect(page.locator("svg.tree .node.root a")).to_have_attribute("href", f"/studio/{cross_id}/")
    pictures = page.evaluate("() => [...document.querySelectorAll('svg.tree image')].map(i => i.href.baseVal)")
    assert len(pictures) == 4
    for src in pictures:
        answer = page.request.get(base + src)
        assert answer.ok and answer.headers["content-type"] == "image/webp", src
    assert page.problems == []


def test_errors_are_sentences_rate_limit_and_expired_session(make_server, page):
    seed_space_and_genes()
    base = make_server(RENDER_BUDGET_CPU_S_PER_MIN="2")  # the least allowed: one 2048 px picture
    sign_up(page, base, "grace")
    page.get_by_role("button", name="Make a random picture in the abstract space").click()
    page.wait_for_url(re.compile(r"/studio/\w+/$"))

    breed = page.get_by_role("button", name="Breed 8 children")
    # pictures that fail to arrive (the answer cut off after the works, then the renderer
    # down when they are asked for at their addresses) are said to have failed
    def works_alone(route):
        answer = route.fetch()
        route.fulfill(response=answer, body=answer.text().split("\n")[0] + "\n")

    children = re.compile(r"/children/\?pictures=256$")
    pictures = re.compile(r"/r/[^?]+/256\.webp")  # retries included
    page.route(children, works_alone)
    page.route(pictures, lambda route: route.fulfill(status=503, body="down"))
    breed.click()
    expect(page.locator("[data-children] .failed-note")).to_have_count(8, timeout=15000)
    expect(page.locator("[data-children] .failed-note").first).to_have_text("This picture failed to render.")
    page.unroute(pictures)
    page.unroute(children)
    # every click renders eight pictures, drawn from this minute's render budget until it is spent
    alert = page.get_by_role("alert").filter(has_text="asked for more pictures than Mendel renders")
    for _ in range(12):
        breed.click()
        expect(breed).to_be_enabled()
        if alert.count():
            break
        expect(page.locator("[data-children] .draft-tile")).to_have_count(8)
    expect(alert).to_be_visible()
    expect(alert).to_contain_text(re.compile(r"Try again in \d+ s"))

    # the session ends (say, logged out in another tab): a clear way back, no trace
    page.context.clear_cookies()
    page.get_by_role("tab", name="Genes").click()
    press(page, "#gene-warmth", "ArrowRight", 3)
    alert = page.get_by_role("alert").filter(has_text="Your session has expired")
    expect(alert).to_be_visible()
    expect(alert.get_by_role("link", name="Log in")).to_have_attribute(
        "href", re.compile(r"^/accounts/login/\?next=%2Fstudio%2F")
    )


def test_gene_discovery_progress_reaches_the_studio_over_redis(make_server, page, settings, redis_url):
    """The job runs here, the studio's socket is served by another process: its progress and
    its end travel through Redis, as between a worker and a web node."""
    import threading

    from channels.layers import channel_layers
    from django.db import connection

    from breeding import actions, tasks

    actions.sync_spaces()  # no genes yet: the studio waits for them
    from mendel.settings import redis_channel_layer

    settings.CHANNEL_LAYERS = {"default": redis_channel_layer(redis_url)}
    channel_layers.backends.clear()
    base = make_server(REDIS_URL=redis_url)
    sign_up(page, base, "hedy")
    page.get_by_role("button", name="Make a random picture in the abstract space").click()
    page.wait_for_url(re.compile(r"/studio/\w+/$"))
    page.get_by_role("tab", name="Genes").click()
    expect(page.get_by_text("Mendel is still discovering this space's genes.")).to_be_visible()
    page.wait_for_selector('[data-socket-state][data-connected="true"]', state="attached")

    def discover():
        try:
            tasks.discover_genes("abstract", samples=96, held_out=4)
        finally:
            connection.close()  # this thread's; the test database is dropped after

    job = threading.Thread(target=discover)
    job.start()
    page.wait_for_function(
        "() => { const bar = document.querySelector('[data-discovery-progress]');"
        " return bar && bar.value > 0 && bar.value < 1; }", timeout=60000)
    job.join(120)
    expect(page.get_by_text(re.compile(r"\d+ genes are ready\."))).to_be_visible(timeout=15000)
    expect(page.locator("[data-gene]").first).to_be_visible()
    assert page.locator("[data-gene]").count() == Gene.objects.count() > 0
