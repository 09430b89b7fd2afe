"""The Content-Security-Policy: Mendel's own files only, no inline script or style anywhere; and
in Chromium, no page breaks it."""

from __future__ import annotations

import re

import pytest
from django.test import Client, RequestFactory
from playwright.sync_api import expect

from breeding import actions
from breeding.models import Visibility
from mendel.errors import server_error
from tests.frontend.conftest import seed_space_and_genes

PASSWORD = "a long and fine passphrase 7"
# <script> with neither a src nor JSON data in it, and style="" attributes
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\b(?:src=|type=\"application/json\"))[^>]*>", re.I)
INLINE_STYLE = re.compile(r"<style\b|\sstyle=", re.I)


@pytest.fixture
def gallery(db, django_user_model):
    """Ada's public work, its child, and a draft of hers."""
    ada = django_user_model.objects.create_user("ada", "ada@example.org", PASSWORD)
    space = seed_space_and_genes()
    parent = actions.do_update(actions.do_random(ada, space, 1, seed=5)[0], title="Tide", visibility=Visibility.PUBLIC)
    child = actions.do_update(actions.do_children(ada, parent, 1, 0.3)[0], title="Ebb", visibility=Visibility.PUBLIC)
    draft = actions.do_random(ada, space, 1, seed=6)[0]
    return {"ada": ada, "work": parent, "child": child, "draft": draft}


def pages(gallery) -> dict[str, str]:
    work, draft = gallery["work"].public_id, gallery["draft"].public_id
    return {
        "home": "/", "gallery": "/gallery/", "work": f"/w/{work}/", "lineage": f"/w/{work}/lineage/",
        "profile": "/u/ada/", "sign-up": "/accounts/signup/", "log-in": "/accounts/login/",
        "not found": "/w/nope/", "api docs": "/api/docs/",
        "studio": f"/studio/{draft}/", "library": "/library/",  # logged in
    }


def test_every_response_says_what_its_page_may_load(client, db):
    response = client.get("/")
    policy = dict(d.strip().split(" ", 1) for d in response["Content-Security-Policy"].split(";"))
    assert policy["script-src"] == policy["style-src"] == policy["default-src"] == "'self'"
    assert (policy["object-src"], policy["frame-ancestors"], policy["base-uri"]) == ("'none'",) * 3
    assert "unsafe" not in response["Content-Security-Policy"]
    assert "camera=()" in response["Permissions-Policy"] and "geolocation=()" in response["Permissions-Policy"]


def test_no_page_has_inline_script_or_style(client, gallery):
    for name, url in pages(gallery).items():
        if name == "studio":
            client.force_login(gallery["ada"])
        response = client.get(url)
        assert response.status_code in (200, 404), (name, response.status_code)
        html = response.content.decode()
        assert not INLINE_SCRIPT.findall(html), name
        assert not INLINE_STYLE.findall(html), name
    swagger_script = client.get("/api/docs/?script=")
    assert swagger_script.status_code == 200 and "SwaggerUIBundle" in swagger_script.content.decode()


def test_error_pages_use_the_stylesheet(client, gallery):
    not_found = client.get("/w/nope/").content.decode()
    assert "Nothing here" in not_found and "frontend/mendel.css" in not_found
    broken = server_error(RequestFactory().get("/gallery/"))
    html = broken.content.decode()
    assert broken.status_code == 500 and "Something went wrong" in html and "frontend/mendel.css" in html
    assert not INLINE_STYLE.findall(html) and not INLINE_SCRIPT.findall(html)
    # a form sent without its CSRF token: Django's page has an inline <style>, ours does not
    refused = Client(enforce_csrf_checks=True).post("/accounts/login/", {"username": "ada"})
    html = refused.content.decode()
    assert refused.status_code == 403 and "That form has expired" in html
    assert not INLINE_STYLE.findall(html) and not INLINE_SCRIPT.findall(html)


# -- in Chromium ---------------------------------------------------------------------------

REPORT_VIOLATIONS = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", (e) =>
  window.__violations.push(`${e.violatedDirective} ${e.blockedURI} ${e.sourceFile}:${e.lineNumber}`));
"""


def visit(page, url: str) -> list[str]:
    """The policy violations of a page, once its pictures have all arrived (leaving with
    renders in flight is another test's subject)."""
    page.goto(url)
    page.wait_for_load_state("networkidle")
    return page.evaluate("() => window.__violations")


@pytest.mark.django_db(transaction=True)
def test_no_page_breaks_the_policy_in_chromium(make_server, page, gallery):
    base = make_server()
    page.add_init_script(REPORT_VIOLATIONS)
    failed = []
    page.on("response", lambda r: failed.append(f"{r.status} {r.url}") if r.status >= 500 else None)
    urls = pages(gallery)
    seen = {}
    for name in ("sign-up", "log-in", "home", "gallery", "work", "lineage", "profile", "not found"):
        seen[name] = visit(page, base + urls[name])
    # the large picture still shows its small one while it loads (set by script, not inline)
    page.goto(base + urls["work"])
    page.wait_for_function("() => getComputedStyle(document.querySelector('.work-image img'))"
                           ".backgroundImage.includes('256.webp')")
    # Swagger UI draws the API from the schema, its script a file of its own
    seen["api docs"] = visit(page, base + urls["api docs"])
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("Mendel API")

    page.goto(f"{base}/accounts/login/")
    page.get_by_label("Username").fill("ada")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{base}/studio/")
    seen["studio"] = visit(page, base + urls["studio"])
    # connect-src lets the socket in
    page.wait_for_selector('[data-socket-state][data-connected="true"]', state="attached")
    page.get_by_role("button", name="Breed 8 children").click()
    expect(page.locator("[data-children] .draft-tile")).to_have_count(8)
    seen["studio"] += page.evaluate("() => window.__violations")
    seen["library"] = visit(page, base + urls["library"])

    assert {name: v for name, v in seen.items() if v} == {}
    # Chromium also logs each refusal as a console error; a 404 page logs its status
    assert [p for p in page.problems if "404 (Not Found)" not in p] == [], failed
