"""Words in Debian's Chromium against a real server: starting pictures from a phrase on the
studio's start page, a gene from a word in the Genes tab, and the gallery's search by
words. The emoji space learns its words (a second or so) before the server starts."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from breeding import actions, words
from breeding.models import Creation, Gene, Origin, Space, Visibility

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "a long and fine passphrase 7"
#: What Chromium logs of an answer that refuses (the page says why itself).
REFUSED = "console: Failed to load resource: the server responded with a status of 400 (Bad Request)"
#: Words the emoji space may make a gene of; its checks refuse some (which, depends on the
#: weights), but not all of them.
GENE_WORDS = ("flag", "heart", "woman", "hand", "face")


@pytest.fixture
def emoji(transactional_db):
    actions.sync_spaces()
    space = Space.objects.get(slug="emoji")
    assert words.learn(space) > 0
    return space


def loaded(page, selector: str) -> None:
    """Wait until every picture under ``selector`` has arrived and decoded."""
    page.wait_for_function(
        """sel => { const imgs = [...document.querySelectorAll(sel)];
                   return imgs.length > 0 && imgs.every(i => i.complete && i.naturalWidth > 0); }""",
        arg=selector,
    )


def log_in(page, base: str, name: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("Username").fill(name)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(re.compile(r"/(studio/)?$"))


def test_a_breeder_starts_pictures_from_words(make_server, page, emoji, django_user_model):
    django_user_model.objects.create_user("wren", password=PASSWORD)
    base = make_server()
    log_in(page, base, "wren")
    page.goto(f"{base}/studio/")
    form = page.locator('[data-words-form="emoji"]')
    phrase = form.get_by_label("Or start from words, in the emoji space")
    expect(phrase).to_have_attribute("maxlength", "100")
    expect(page.locator("[data-words-form]")).to_have_count(1)  # the other spaces know no words
    button = form.get_by_role("button", name="Start from words")
    grid = form.locator("[data-words-grid]")

    # words it does not know: the sentence next to the form, what was typed kept, nothing made
    phrase.fill("spaceship")
    button.click()
    alert = form.get_by_role("alert")
    expect(alert).to_have_text(re.compile(r"^No pictures taught me “spaceship”; closest: .*space"))
    expect(phrase).to_have_value("spaceship")
    expect(phrase).to_have_attribute("aria-invalid", "true")
    expect(button).to_be_enabled()
    assert grid.locator("img").count() == 0
    assert not Creation.objects.filter(origin=Origin.WORDS).exists()

    # a phrase: eight pictures, each painted and loaded, each opening its studio
    asked: list[str] = []
    page.on("request", lambda request: asked.append(request.url))
    phrase.fill("red cat")
    button.click()
    expect(button).to_be_disabled()  # while it works
    expect(alert).to_have_text("")
    tiles = grid.locator("figure.tile")
    expect(tiles).to_have_count(8)
    loaded(page, "[data-words-grid] img")
    expect(button).to_be_enabled()
    made = Creation.objects.filter(origin=Origin.WORDS, owner__username="wren")
    assert made.count() == 8 and set(made.values_list("phrase", flat=True)) == {"red cat"}
    ids = set(made.values_list("public_id", flat=True))
    hrefs = tiles.locator("a").evaluate_all("els => els.map(e => e.getAttribute('href'))")
    assert {re.fullmatch(r"/studio/(\w+)/", h).group(1) for h in hrefs} == ids
    # the pictures came in the answer that made them, as they were painted
    assert [u for u in asked if "/words/" in u] == [f"{base}/api/spaces/emoji/words/?pictures=256"]
    assert all(src.startswith("data:image/webp;base64,")
               for src in grid.locator("img").evaluate_all("els => els.map(e => e.src)"))
    expect(form.locator("[data-words-notes]")).to_be_hidden()  # every word known
    expect(page.locator("[data-words-announce]")).to_have_text("8 pictures from “red cat”.")

    # a word it knows and one it does not: pictures of the known one, the other named politely
    phrase.fill("cat spaceship")
    button.click()
    notes = form.locator("[data-words-notes]")
    expect(notes).to_have_text(re.compile(r"^No pictures taught me “spaceship”"))
    expect(grid.locator("figure.tile")).to_have_count(8)
    loaded(page, "[data-words-grid] img")
    assert Creation.objects.filter(origin=Origin.WORDS, phrase="cat spaceship").count() == 8
    assert page.problems == [REFUSED]  # "spaceship" alone

    # one opens its studio, which says where it came from
    first = tiles.first.get_attribute("data-id")
    tiles.first.locator("a").click()
    page.wait_for_url(f"{base}/studio/{first}/")
    expect(page.locator("[data-origin-words]")).to_have_text("Started from the words “cat spaceship”.")


def test_a_gene_from_a_word_becomes_a_slider_that_moves_the_picture(make_server, page, emoji, django_user_model):
    wren = django_user_model.objects.create_user("wren", password=PASSWORD)
    work = actions.do_words(wren, emoji, "cat", 1, seed=3)[0][0]
    base = make_server()
    log_in(page, base, "wren")
    page.goto(f"{base}/studio/{work.public_id}/")
    expect(page.locator("[data-origin-words]")).to_have_text("Started from the words “cat”.")
    loaded(page, "[data-current]")
    page.get_by_role("tab", name="Genes").click()
    field = page.get_by_label("Add a gene from a word")
    expect(field).to_have_attribute("placeholder", "more cat · less smile")
    add = page.locator("[data-word-gene]").get_by_role("button", name="Add")
    refusal = page.locator("[data-word-gene]").get_by_role("alert")

    # not one word: refused with its reason, what was typed kept
    field.fill("red cat")
    add.click()
    expect(refusal).to_have_text(re.compile(r"^A gene is one word"))
    expect(field).to_have_value("red cat")

    stage = page.locator("[data-current]")
    before = stage.screenshot()
    accepted, refused = None, {}
    for word in GENE_WORDS:
        field.fill(f"more {word}")
        add.click()
        expect(add).to_be_enabled(timeout=60_000)  # it renders and checks pictures
        if Gene.objects.filter(source="word", label=word).exists():
            accepted = word
            break
        expect(refusal).to_have_text(re.compile(rf"^“{word}” cannot be a gene: "))
        refused[word] = refusal.text_content()
    assert accepted, refused
    gene = Gene.objects.get(source="word", label=accepted)
    slider = page.locator(f"#gene-{gene.slug}")
    expect(slider).to_have_value("1")  # "more": one step of its way, as a slider move
    expect(page.get_by_label(re.compile(rf"^“{accepted}”"))).to_be_visible()
    expect(refusal).to_have_text("")
    expect(field).to_have_value("")
    # the picture answers as it does to any slider
    page.wait_for_function(
        "() => { const i = document.querySelector('[data-current]');"
        " return i.dataset.preview && i.src === new URL(i.dataset.preview, location.href).href"
        " && i.complete && i.naturalWidth > 0; }")
    assert stage.screenshot() != before
    expect(page.get_by_role("button", name="Keep this edit")).to_be_enabled()

    # asked again the other way: the same slider, moved to the other side
    field.fill(f"less {accepted}")
    add.click()
    expect(slider).to_have_value("-1")
    expect(page.locator("[data-gene]")).to_have_count(1)
    page.get_by_role("button", name="Keep this edit").click()
    expect(page.get_by_text("The edit is saved as a draft.")).to_be_visible()
    edit = Creation.objects.get(origin=Origin.EDIT, owner=wren)
    assert edit.genes == {gene.slug: pytest.approx(-1.0)}

    # taken out of the tab again: gone now and after a reload
    page.get_by_role("button", name=f"Remove the gene “{accepted}” from your genes").click()
    expect(page.locator("[data-gene]")).to_have_count(0)
    assert not gene.added_by.filter(pk=wren.pk).exists()
    page.reload()
    page.get_by_role("tab", name="Genes").click()
    expect(page.get_by_label("Add a gene from a word")).to_be_visible()
    expect(page.locator(f"#gene-{gene.slug}")).to_have_count(0)
    assert set(page.problems) <= {REFUSED}


def test_visitors_search_the_gallery_by_words(make_server, page, emoji, django_user_model):
    wren = django_user_model.objects.create_user("wren", password=PASSWORD)
    cats, _ = actions.do_words(wren, emoji, "cat", 2, seed=1)
    flags, _ = actions.do_words(wren, emoji, "flag", 2, seed=1)
    for work, title in zip(cats + flags, ("Tabby", "Whiskers", "Banner", "Pennant"), strict=True):
        actions.do_update(work, visibility=Visibility.PUBLIC, title=title)
    secret, _ = actions.do_words(wren, emoji, "cat", 1, seed=9)
    actions.do_update(secret[0], visibility=Visibility.PRIVATE, title="Secret cat")
    base = make_server()

    page.goto(f"{base}/gallery/")
    page.get_by_label("Search", exact=True).select_option("words")
    box = page.locator("#q")
    expect(box).to_have_attribute("placeholder", "Search by words: red cat")
    box.fill("cat")
    box.press("Enter")
    page.wait_for_url(re.compile(r"by=words"))
    expect(page.get_by_text("Works nearest “cat” in the emoji space")).to_be_visible()
    titles = page.locator(".wall .tile .title")
    expect(titles).to_have_count(4)  # the public ones, never the private one
    assert sorted(titles.all_text_contents()[:2]) == ["Tabby", "Whiskers"]  # nearest first
    loaded(page, ".wall img")

    # a word it does not know is named; a phrase of none is refused in a sentence
    box = page.locator("#q")
    box.fill("flag spaceship")
    box.press("Enter")
    expect(page.locator("[data-words-note]")).to_have_text(re.compile(r"^No pictures taught me “spaceship”"))
    assert sorted(titles.all_text_contents()[:2]) == ["Banner", "Pennant"]
    page.locator("#q").fill("xqzv")
    page.locator("#q").press("Enter")
    expect(page.get_by_role("alert")).to_have_text(re.compile(r"^No pictures taught me “xqzv”"))
    expect(titles).to_have_count(0)

    # the search of titles still works: choosing it with words in the box searches again
    page.locator("#q").fill("Tabby")
    with page.expect_navigation():
        page.get_by_label("Search", exact=True).select_option("")
    expect(page.locator("#q")).to_have_attribute("placeholder", "Search titles")
    expect(titles).to_have_text(["Tabby"])
    assert page.problems == []
