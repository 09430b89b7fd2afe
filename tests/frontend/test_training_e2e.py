"""The training page in Debian's Chromium, as staff use it: a folder that is not there is
refused in the page; a training started watches its pictures shown, losses and sample grid
arrive live from the in-process worker, then offers its space for breeding."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import expect

from breeding import actions, training
from breeding.models import Space, Training, TrainingStatus
from tests.breeding.test_training import folder  # noqa: F401 (a fixture)
from tests.frontend.test_studio_e2e import PASSWORD, loaded

pytestmark = pytest.mark.django_db(transaction=True)


def test_staff_start_a_training_and_watch_it_grow_into_a_space(make_server, page, folder):  # noqa: F811
    actions.sync_spaces()
    staff = get_user_model().objects.create_user("curie", password=PASSWORD, is_staff=True)
    base = make_server(INPROCESS_WORKER="true", TRAINING_CHECKPOINT_S="1", TRAINING_SAMPLES_S="1")
    page.goto(f"{base}/accounts/login/?next=/training/")
    page.get_by_label("Username").fill("curie")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{base}/training/")
    expect(page.get_by_role("heading", name="Train a space")).to_be_visible()

    # A folder that is not on the server: a sentence in the page, nothing started.
    page.get_by_label("Folder of pictures on the server").fill(str(folder / "missing"))
    page.get_by_label("Slug of the new space").fill("discs")
    page.get_by_role("button", name="Start training").click()
    expect(page.locator(".form-error")).to_contain_text("There is no folder at")
    assert not Training.objects.exists()
    # (the browser logs the refusal's 400 as an error; nothing else may be one)
    assert page.problems == ["console: Failed to load resource: the server responded with a status of 400 (Bad Request)"]
    page.problems.clear()

    # A short one (16 px: the form offers 64 and 128, the command and the job take any).
    job = training.ask(staff, str(folder), "discs", "Discs", 16, 640, 3, allow_small=True)
    page.goto(f"{base}/training/")
    item = page.locator(f"[data-training='{job.public_id}']")
    expect(item).to_be_visible()
    page.wait_for_function(
        """id => { const el = document.querySelector(`[data-training='${id}'] [data-progress]`);
                   return el && el.value > 0.05; }""", arg=job.public_id, timeout=120_000)
    expect(item.locator("[data-losses]")).to_contain_text("G ")
    loaded(page, f"[data-training='{job.public_id}'] [data-samples]")
    expect(item.locator("[data-shown]")).to_contain_text("of 640 pictures shown")
    # It ends on its own; the page then offers the space.
    expect(item.get_by_role("link", name="Breed in this space")).to_be_visible(timeout=180_000)
    expect(item.locator("details summary")).to_contain_text("2 files were left out")
    job.refresh_from_db()
    assert job.status == TrainingStatus.DONE and Space.objects.filter(slug="discs").exists()
    assert not page.problems, page.problems
