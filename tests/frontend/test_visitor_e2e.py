"""The gallery as a visitor sees it, in Debian's Chromium against a real server: no page
scrolls sideways on a phone, even with a long unbroken title, and no page has a serious or
critical accessibility violation (axe-core)."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import Permission

from breeding import actions
from breeding.models import Visibility
from gallery import exhibitions
from gallery.models import ExhibitionStatus
from tests.frontend.test_exhibition_e2e import off_loop

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "a long and fine passphrase 7"
LONG = "Tidepool" + "x" * 112  # 120 characters without a space: the longest title there is
PHONES = [320, 390, 430]


def hang_everything(django_user_model) -> dict:
    """Alice's long-titled public work with a child of Bob's, drafts, and an open show."""
    space = actions.sync_spaces()[0]
    alice = django_user_model.objects.create_user("alice", password=PASSWORD)
    alice.user_permissions.add(Permission.objects.get(codename="curate", content_type__app_label="gallery"))
    bob = django_user_model.objects.create_user("bob", password=PASSWORD)
    mother = actions.do_update(actions.do_random(alice, space, 1, seed=1)[0], title=LONG,
                               visibility=Visibility.PUBLIC)
    child = actions.do_children(bob, mother, 1, 0.3)[0]
    actions.do_update(child, title=LONG[::-1], visibility=Visibility.PUBLIC)
    actions.do_children(alice, mother, 2, 0.3)  # Alice's drafts
    show = exhibitions.do_create(alice, LONG[:80], "Works about water. " + "y" * 200)
    off_loop(exhibitions.do_add, show, mother.public_id, "A wall text " + "z" * 150)
    off_loop(exhibitions.do_update, show, status=ExhibitionStatus.OPEN)
    return {"mother": mother, "child": child, "show": show}


def pages(hung: dict) -> dict[str, list[str]]:
    """Every page a visitor reads, by who reads it."""
    w, slug = hung["mother"].public_id, hung["show"].slug
    visitor = ["/", "/gallery/", f"/w/{w}/", f"/w/{w}/lineage/", "/u/alice/", "/exhibitions/",
               f"/exhibitions/{slug}/", f"/exhibitions/{slug}/walk/", "/accounts/signup/",
               "/accounts/login/"]
    alice = ["/", "/gallery/", "/library/", "/upload/", f"/exhibitions/{slug}/curate/", f"/w/{w}/",
             f"/w/{w}/lineage/", "/u/alice/"]
    return {"visitor": visitor, "alice": alice}


def log_in(page, base: str, name: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("Username").fill(name)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(re.compile(r"/(studio/)?$"))


def too_wide(page) -> str | None:
    """None if the page fits its viewport; else the widest elements that stick out."""
    return page.evaluate("""() => {
        const width = window.innerWidth;
        if (document.documentElement.scrollWidth <= width) return null;
        const out = [...document.querySelectorAll('body *')]
            .filter(e => e.getBoundingClientRect().right > width + 0.5)
            .slice(0, 6).map(e => `${e.tagName.toLowerCase()}.${e.className} ${Math.round(e.getBoundingClientRect().right)}`);
        return `${document.documentElement.scrollWidth} > ${width}: ${out.join(', ')}`;
    }""")


def test_no_page_scrolls_sideways_on_a_phone(make_server, chromium, django_user_model):
    hung = hang_everything(django_user_model)
    base = make_server()
    problems = []
    for who, urls in pages(hung).items():
        context = chromium.new_context(viewport={"width": 390, "height": 844})
        page = context.new_page()
        if who == "alice":
            log_in(page, base, "alice")
        for url in urls:
            page.goto(base + url)
            for width in [*PHONES, 1366]:
                page.set_viewport_size({"width": width, "height": 844})
                page.wait_for_timeout(50)
                if (wide := too_wide(page)) is not None:
                    problems.append(f"{who} {url} at {width}: {wide}")
        context.close()
    assert problems == [], "\n".join(problems)


def serious_violations(page) -> list[str]:
    """axe-core's serious and critical findings. Playwright evaluates axe's script through the
    DevTools protocol, which our CSP (no eval) does not govern: no need for bypass_csp."""
    from axe_playwright_python.sync_playwright import Axe

    # Colours are judged as they settle: a button that just changed state may still be
    # fading its background, and axe would measure the half-way colour.
    page.wait_for_function(
        "() => document.getAnimations().every(a => a.playState !== 'running' || a.effect?.getTiming().iterations === Infinity)")
    results = Axe().run(page)
    return [f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes']][:4]}"
            for v in results.response["violations"] if v["impact"] in ("serious", "critical")]


@pytest.mark.parametrize("width", [1366, 390])
def test_no_page_has_a_serious_accessibility_violation(make_server, chromium, django_user_model, width):
    hung = hang_everything(django_user_model)
    base = make_server()
    problems = []
    check = chromium.new_page()  # axe runs, and would see a picture without a text
    check.set_content('<html lang="en"><title>t</title><main><img src="x.png"></main></html>')
    assert any(v.startswith("image-alt (critical)") for v in serious_violations(check))
    check.close()
    for who, urls in pages(hung).items():
        context = chromium.new_context(viewport={"width": width, "height": 900})
        page = context.new_page()
        if who == "alice":
            log_in(page, base, "alice")
        for url in urls:
            page.goto(base + url)
            problems += [f"{who} {url}: {v}" for v in serious_violations(page)]
        context.close()
    assert problems == [], "\n".join(problems)


@pytest.mark.parametrize("width", [1366, 390])
def test_a_visitor_signs_up_breeds_credits_likes_and_undoes(make_server, chromium, django_user_model, width):
    from playwright.sync_api import expect

    hung = hang_everything(django_user_model)
    mother = hung["mother"]
    newer = actions.do_update(actions.do_random(django_user_model.objects.get(username="alice"),
                                                mother.space, 1, seed=9)[0],
                              title="Newer", visibility=Visibility.PUBLIC)
    base = make_server()
    context = chromium.new_context(viewport={"width": width, "height": 844 if width < 600 else 900})
    page = context.new_page()

    # "Start breeding" leads to sign-up, which links to logging in, and then to the studio.
    page.goto(base + "/")
    page.get_by_role("link", name="Start breeding").click()
    page.wait_for_url(re.compile(r"/accounts/signup/"))
    expect(page.get_by_role("link", name="Log in").last).to_be_visible()
    page.get_by_label("Username").fill("carol")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Password confirmation").fill(PASSWORD)
    page.get_by_role("button", name="Sign up").click()
    page.wait_for_url(f"{base}/studio/")

    # A like today lifts Alice's older work above the newer, unliked one.
    page.goto(f"{base}/gallery/?order=trending")
    first = page.locator(".tile .title").first
    expect(first).to_have_text("Newer")
    page.goto(f"{base}/w/{mother.public_id}/")
    # The Like button is outlined until the work is liked, then filled.
    like = page.locator("button[data-like]")
    background = "b => getComputedStyle(b).backgroundColor"
    assert like.evaluate(background) == "rgba(0, 0, 0, 0)"
    page.get_by_role("button", name=re.compile("Like")).click()
    expect(page.locator("[data-like-label]")).to_have_text("Liked")
    expect(like).to_have_attribute("aria-pressed", "true")
    assert like.evaluate(background) not in ("rgba(0, 0, 0, 0)", "transparent")
    page.goto(f"{base}/gallery/?order=trending")
    expect(page.locator(".tile .title").first).to_have_text(LONG)
    assert newer.public_id in page.content()

    # Breed from this: the copy is titled and credited after the original.
    page.goto(f"{base}/w/{mother.public_id}/")
    page.get_by_role("button", name="Breed from this").click()
    page.wait_for_url(re.compile(r"/studio/\w+/$"))
    copy = re.search(r"/studio/(\w+)/$", page.url).group(1)
    page.goto(f"{base}/w/{copy}/")
    expect(page.locator("h1")).to_have_text(f"after {LONG}"[:120])
    expect(page.locator("[data-credit]")).to_have_text(re.compile(r"after\s+Tidepool\w+\s+by\s+alice"))
    expect(page.locator("[data-family]")).to_have_text("Family: alice")
    assert page.evaluate("() => document.documentElement.scrollWidth <= innerWidth")
    context.close()


@pytest.mark.parametrize("width", [1366, 390])
def test_the_library_undoes_a_bulk_discard_and_the_tree_hides_removed(make_server, chromium, django_user_model, width):
    from playwright.sync_api import expect

    hung = hang_everything(django_user_model)
    base = make_server()
    context = chromium.new_context(viewport={"width": width, "height": 844 if width < 600 else 900})
    page = context.new_page()
    log_in(page, base, "alice")
    page.goto(f"{base}/library/?state=drafts")
    expect(page.locator(".tile .pick .title").first).to_have_text(re.compile(r"^Child of “Tidepool"))
    page.get_by_label("Select all drafts shown").check()
    page.get_by_role("button", name="Discard selected drafts").click()
    expect(page.get_by_text("Discarded 2 drafts.")).to_be_visible()
    expect(page.locator(".tile")).to_have_count(0)
    page.get_by_role("button", name="Undo").click()
    expect(page.get_by_text("Restored 2 drafts.")).to_be_visible()
    expect(page.locator(".tile")).to_have_count(2)

    # Discarded for good this time: the work page and its tree count the same one child.
    page.get_by_label("Select all drafts shown").check()
    page.get_by_role("button", name="Discard selected drafts").click()
    expect(page.get_by_text("Discarded 2 drafts.")).to_be_visible()
    page.goto(f"{base}/w/{hung['mother'].public_id}/")
    expect(page.locator(".lineage-summary")).to_contain_text("1 child you can see")
    page.get_by_role("link", name="Family tree →").click()
    expect(page.locator("a[aria-label$=', a descendant']")).to_have_count(1)
    page.get_by_role("link", name="Show 2 removed works").click()
    expect(page.locator(".removed-node")).to_have_count(2)
    assert page.evaluate("() => document.documentElement.scrollWidth <= innerWidth")
    context.close()
