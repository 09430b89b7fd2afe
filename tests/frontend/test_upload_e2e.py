"""Uploading a picture, end to end, in Debian's Chromium against a real server process whose
in-process worker projects it (as ``make run`` does)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from breeding.models import Creation, Origin, Upload, UploadStatus
from tests.breeding.test_uploads import picture_bytes
from tests.frontend.conftest import seed_space_and_genes
from tests.frontend.test_studio_e2e import loaded, sign_up, studio_id

pytestmark = pytest.mark.django_db(transaction=True)


def test_upload_watch_the_progress_land_in_the_studio_and_breed(make_server, page, tmp_path):
    seed_space_and_genes()
    base = make_server(INPROCESS_WORKER="true", PROJECTION_SIZE="64", PROJECTION_BUDGET_S="8")
    sign_up(page, base, "ada")
    page.get_by_role("link", name="Upload a picture").click()
    page.wait_for_url(f"{base}/upload/")

    # An invalid file says why, in the page, and nothing is kept.
    fake = tmp_path / "holiday.jpg"
    fake.write_bytes(b"%PDF-1.7 not a picture at all")
    page.set_input_files("[data-file]", str(fake))
    page.get_by_role("button", name="Upload and project").click()
    error = page.locator("[data-upload-error]")
    expect(error).to_be_visible()
    expect(error).to_contain_text("PDF")
    expect(error).to_contain_text("JPEG, PNG, WebP or GIF")
    assert not Upload.objects.exists()

    # A real one: the progress bar moves, then the studio opens on the projected work.
    photo = tmp_path / "photo.png"
    photo.write_bytes(picture_bytes(size=(160, 120)))
    page.set_input_files("[data-file]", str(photo))
    expect(page.locator("[data-chosen]")).to_be_visible()
    page.get_by_label("Title").fill("Harbour")
    page.get_by_role("button", name="Upload and project").click()
    expect(page.locator("[data-projection]")).to_be_visible()
    loaded(page, "[data-original]")
    # The bar's value and the words under it, once the bar has passed ``first``.
    moved = """first => {
        if (location.pathname.startsWith('/studio/')) return {done: true};
        const bar = document.querySelector('[data-progress]');
        return bar.value > first &&
               {value: bar.value, said: document.querySelector('[data-projection-state]').textContent};
    }"""
    first = page.wait_for_function(moved, arg=0).json_value()
    assert re.fullmatch(r"Projecting: \d+ % · (about \d+ s|a moment) left", first["said"]), first
    second = page.wait_for_function(moved, arg=first["value"]).json_value()
    assert second.get("done") or second["value"] > first["value"]
    page.wait_for_url(re.compile(r"/studio/\w+/$"), timeout=60_000)

    upload = Upload.objects.get()
    made = Creation.objects.get(public_id=studio_id(page))
    assert upload.status == UploadStatus.DONE and upload.creation == made
    assert (made.origin, made.title, made.owner.username) == (Origin.UPLOAD, "Harbour", "ada")
    loaded(page, "[data-current]")
    expect(page.locator("[data-title]")).to_have_value("Harbour")

    # ...and it breeds like any other work.
    page.get_by_role("button", name="Breed 8 children").click()
    expect(page.locator("[data-children] .draft-tile")).to_have_count(8)
    assert Creation.objects.filter(parent_links__parent=made).count() == 8
    # The one failed request is the refused file's, answered with its sentence above.
    assert page.problems == ["console: Failed to load resource: the server responded with a "
                             "status of 400 (Bad Request)"]
