"""Mendel in Chinese, as a Chinese reader meets it in Debian's Chromium: sign up, breed,
cross, upload, curate an exhibition and visit it, at a laptop's width and a phone's, with
no English left on those pages and nothing pushed out of the page by the longer or shorter
words."""

from __future__ import annotations

import re
import subprocess

import pytest
from django.core.management import call_command
from django.utils import translation
from playwright.sync_api import expect

from breeding.models import Creation, Visibility
from tests.breeding.test_uploads import picture_bytes
from tests.conftest import require
from tests.frontend.conftest import seed_space_and_genes
from tests.frontend.test_studio_breeder_e2e import in_sight
from tests.frontend.test_studio_e2e import PASSWORD, loaded

pytestmark = pytest.mark.django_db(transaction=True)

DESKTOP = {"width": 1366, "height": 768}
PHONE = {"width": 390, "height": 844}
#: Latin words that are not English a Chinese reader should have had translated: the name,
#: the language switch's own "English", file formats, key names, the breeder's name.
NOT_ENGLISH = {"Mendel", "English", "PNG", "JPEG", "WebP", "WebM", "GIF", "MP4", "MB", "KB", "px",
               "Enter", "Esc", "Delete", "ada"}

#: Every word a person sees: text (also what is said only to screen readers), the
#: attributes people read, the title.
SEEN = """() => {
  const out = [document.title];
  const walk = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walk.nextNode()) {
    const el = walk.currentNode.parentElement;
    if (!el || el.closest("script, style, template, noscript, [hidden], [aria-hidden=true]")) continue;
    if (getComputedStyle(el).display === "none") continue;
    out.push(walk.currentNode.textContent);
  }
  for (const el of document.querySelectorAll("[title], [aria-label], [placeholder], img[alt]")) {
    if (el.closest("[hidden]")) continue;
    for (const a of ["title", "aria-label", "placeholder", "alt"]) out.push(el.getAttribute(a) || "");
  }
  return out.join("\\n");
}"""


def zh(english: str, context: str | None = None) -> str:
    with translation.override("zh-hans"):
        return translation.pgettext(context, english) if context else translation.gettext(english)


def english_left(page) -> list[str]:
    text = page.evaluate(SEEN)
    # words, not the letters of a public id ("tfjt42o376")
    words = re.findall(r"(?<![A-Za-z0-9])[A-Za-z][A-Za-z']+(?![A-Za-z0-9])", text)
    ids = set(Creation.objects.values_list("public_id", flat=True))
    return sorted({w for w in words if w not in NOT_ENGLISH and w not in ids})


def wider_than_the_page(page) -> list[str]:
    """Elements that reach past the right edge of the viewport (the page scrolls sideways)."""
    return page.evaluate("""() => [...document.querySelectorAll("body *")].filter(e => {
        const r = e.getBoundingClientRect();
        return r.width > 0 && r.right > innerWidth + 1 && !e.closest("[hidden], .visually-hidden, .filmstrip, .strip");
    }).slice(0, 5).map(e => e.className || e.tagName)""")


def check(page, where: str, shots, viewport) -> None:
    page.wait_for_load_state("networkidle")
    assert english_left(page) == [], (where, english_left(page))
    assert page.evaluate("() => document.documentElement.lang") == "zh-hans"
    assert page.evaluate("() => document.scrollingElement.scrollWidth") <= viewport["width"], \
        (where, wider_than_the_page(page))
    page.screenshot(path=shots / f"{where}-{viewport['width']}.png")


def chinese_context(chromium, viewport):
    context = chromium.new_context(viewport=viewport, locale="zh-CN",
                                   extra_http_headers={"Accept-Language": "zh-CN,zh;q=0.9"})
    page = context.new_page()
    page.problems = []
    page.on("pageerror", lambda e: page.problems.append(f"page error: {e}"))
    return context, page


def test_a_chinese_reader_breeds_crosses_uploads_curates_and_visits(make_server, chromium, tmp_path):
    fonts = subprocess.run(["fc-list", ":lang=zh-cn", "family"], capture_output=True, text=True).stdout
    require(bool(fonts.strip()), "a Chinese font for Chromium", "apt-get install fonts-noto-cjk")
    seed_space_and_genes()
    base = make_server(INPROCESS_WORKER="true", PROJECTION_SIZE="64", PROJECTION_BUDGET_S="8")
    context, page = chinese_context(chromium, DESKTOP)

    # Sign up: the browser asks for Chinese, and the pages answer in it.
    page.goto(f"{base}/accounts/signup/")
    check(page, "signup", tmp_path, DESKTOP)
    page.fill("input[name=username]", "ada")
    page.fill("input[name=password1]", PASSWORD)
    page.fill("input[name=password2]", PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(re.compile(r"/zh-hans/studio/$"))
    check(page, "studio-start", tmp_path, DESKTOP)

    # Breed
    page.locator("[data-random]").first.click()
    page.wait_for_url(re.compile(r"/zh-hans/studio/\w+/$"))
    loaded(page, "[data-current]")
    page.locator("[data-breed]").click()
    expect(page.locator("[data-children] .draft-tile")).to_have_count(8)
    loaded(page, "[data-children] img")
    check(page, "studio-children", tmp_path, DESKTOP)
    # what a breed made, and the buttons, in sight without scrolling, as in English
    assert in_sight(page, "[data-children] .draft-tile, [data-breed], [data-more], [role=tab]") == []

    # Cross two of the children
    children = page.eval_on_selector_all("[data-children] .draft-tile", "els => els.map(e => e.dataset.id)")
    for child in children[:2]:
        page.locator(f'[data-children] [data-id="{child}"] a').focus()
        page.keyboard.press("+")
    page.get_by_role("tab", name=zh("Cross")).click()
    page.locator("[data-cross]").click()
    expect(page.locator("[data-cross-results] .draft-tile")).to_have_count(4)
    loaded(page, "[data-cross-results] img")
    check(page, "studio-cross", tmp_path, DESKTOP)
    assert in_sight(page, "[data-cross-results] .draft-tile, [data-cross]") == []

    # Upload: the progress speaks Chinese too
    page.goto(f"{base}/zh-hans/upload/")
    check(page, "upload", tmp_path, DESKTOP)
    photo = tmp_path / "photo.png"
    photo.write_bytes(picture_bytes(size=(160, 120)))
    page.set_input_files("[data-file]", str(photo))
    page.fill("[data-title]", "海港")
    page.locator("[data-upload-submit]").click()
    said = page.wait_for_function("""() => {
        const s = document.querySelector('[data-projection-state]');
        return (s && /[\\u4e00-\\u9fff]/.test(s.textContent) && s.textContent) || location.pathname.includes('/studio/');
    }""").json_value()
    assert said is True or not re.search(r"[A-Za-z]{3,}", said), said
    page.wait_for_url(re.compile(r"/zh-hans/studio/\w+/$"), timeout=60_000)

    # Curate: two works made public, an exhibition made, one hung, opened
    call_command("curator", "ada")
    for work, title in zip(Creation.objects.filter(owner__username="ada")[:2], ["潮汐", "余晖"], strict=True):
        work.title, work.visibility = title, Visibility.PUBLIC
        work.save(update_fields=["title", "visibility"])
    page.goto(f"{base}/exhibitions/new/")
    check(page, "exhibition-new", tmp_path, DESKTOP)
    page.fill("input[name=title]", "初春")
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(re.compile(r"/zh-hans/exhibitions/[\w-]+/curate/$"))
    curate = page.url
    page.fill("#search-q", "潮汐")
    page.locator("[data-search] button[type=submit]").click()
    page.locator("[data-results] button").first.click()
    expect(page.locator("[data-curate-items] > li[data-item]")).to_have_count(1)
    page.select_option("select[name=status]", "open")
    page.locator(".curate-form button[type=submit]").click()
    page.wait_for_load_state("networkidle")
    page.goto(curate)
    check(page, "curate", tmp_path, DESKTOP)
    show = curate.removesuffix("curate/")

    # A visitor, not signed in, with a Chinese browser
    _, visitor = chinese_context(chromium, DESKTOP)
    visitor.goto(show.replace("/zh-hans/", "/"))  # the address without a prefix: her language
    expect(visitor.locator("[data-item]")).to_have_count(1)
    check(visitor, "exhibition", tmp_path, DESKTOP)
    visitor.goto(f"{show}walk/")
    check(visitor, "walk", tmp_path, DESKTOP)

    # The same pages at a phone's width
    phone_context, phone = chinese_context(chromium, PHONE)
    phone.goto(f"{base}/zh-hans/accounts/login/")
    check(phone, "login", tmp_path, PHONE)
    phone.fill("input[name=username]", "ada")
    phone.fill("input[name=password]", PASSWORD)
    phone.locator("main form button[type=submit]").click()
    phone.wait_for_url(re.compile(r"/zh-hans/(studio/)?$"))
    work = Creation.objects.filter(owner__username="ada", title="潮汐").get()
    phone.goto(f"{base}/zh-hans/studio/{work.public_id}/")
    loaded(phone, "[data-current]")
    phone.locator("[data-breed]").click()
    expect(phone.locator("[data-children] .draft-tile")).to_have_count(8)
    check(phone, "studio-children", tmp_path, PHONE)
    for where, address in [("upload", "/zh-hans/upload/"), ("curate", curate.removeprefix(base)),
                           ("exhibition", show.removeprefix(base)), ("gallery", "/zh-hans/gallery/")]:
        phone.goto(f"{base}{address}")
        check(phone, where, tmp_path, PHONE)

    assert page.problems == visitor.problems == phone.problems == []
    context.close()
    phone_context.close()
