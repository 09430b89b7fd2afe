"""A real Mendel server process and Debian's Chromium driven by Playwright."""

from __future__ import annotations

import shutil

import pytest
import torch

from breeding import actions
from breeding.genes import DISCOVERY_VERSION
from breeding.models import Gene
from mendel.processes import free_port, stop
from tests.conftest import require
from tests.servers import child_env, start_asgi, wait_healthy

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


@pytest.fixture(scope="module")
def chromium():
    """Debian's Chromium (.ci/run installs it).

    Playwright's sync API keeps an event loop running in this thread while the browser is
    open, so the test's own ORM calls need Django's permission; the browser closes with its
    module, and so does the permission.
    """
    require(bool(shutil.which(CHROMIUM)), f"Chromium ({CHROMIUM})", "apt-get install chromium")
    from playwright.sync_api import sync_playwright

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            yield browser
            browser.close()


@pytest.fixture
def page(chromium):
    context = chromium.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    page.on("console", lambda m: problems.append(f"console: {m.text}") if m.type == "error" else None)
    page.problems = problems
    yield page
    context.close()


def seed_space_and_genes():
    """The abstract space and two genes with known directions (discovery is tested elsewhere)."""
    space = actions.sync_spaces()[0]
    for position, (slug, label, layer) in enumerate([("warmth", "Warmth", 5), ("shape", "Shape", 0)]):
        direction = torch.zeros(space.layers, space.dim)
        direction[layer, 0] = 1.0
        Gene.objects.create(space=space, version=space.version, discovery=DISCOVERY_VERSION,
                            slug=slug, label=label,
                            source="attribute", direction=direction.flatten().tolist(),
                            low=-3.0, high=3.0, rho=0.95, position=position)
    return space


@pytest.fixture
def make_server(transactional_db, tmp_path):
    """Start uvicorn serving Mendel on the test database; stopped after the test."""
    started, logs = [], []

    def make(**env) -> str:
        port = free_port()
        # its log in a file: a long browser test makes more lines than a pipe holds, and a
        # server whose pipe is full stops (its job worker first)
        log = open(tmp_path / f"server-{port}.log", "w")  # noqa: SIM115 (closed with the server)
        logs.append(log)
        proc = start_asgi(port, child_env(MEDIA_ROOT=str(tmp_path / f"media-{port}"), **env), log=log)
        started.append(proc)
        base = f"http://127.0.0.1:{port}"
        wait_healthy(base, proc)
        return base

    yield make
    for proc in started:
        stop(proc)
    for log in logs:
        log.close()
