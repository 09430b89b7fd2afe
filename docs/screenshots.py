"""Screenshots of a running Mendel for the README: home, studio, work page, lineage.

    make run                          # in one terminal (or any Mendel you can sign up on)
    .venv/bin/python docs/screenshots.py [--base http://127.0.0.1:8000] [--out docs/img]

Signs up a fresh breeder through the pages, breeds a small family from a gallery work the
way a person would (children, a cross, a gene edit), and photographs the pages in Debian's
Chromium.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from playwright.sync_api import sync_playwright

ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


def settle(page) -> None:
    toasts = page.locator(".toast button")
    while toasts.count():
        toasts.first.click()
    page.wait_for_load_state("networkidle")
    page.wait_for_function("() => [...document.images].every(i => i.complete)")
    time.sleep(0.5)  # fades finish


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--base", default="http://127.0.0.1:8000")
    parser.add_argument("--out", default=str(Path(__file__).resolve().parent / "img"))
    args = parser.parse_args()
    out, base = Path(args.out), args.base.rstrip("/")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
        page = browser.new_page(viewport={"width": 1440, "height": 900})
        page.goto(f"{base}/")
        settle(page)
        page.screenshot(path=out / "home.png")

        page.goto(f"{base}/accounts/signup/")
        name = f"iris{int(time.time()) % 100000}"
        page.get_by_label("Username").fill(name)
        page.get_by_label("Password", exact=True).fill("a long and fine passphrase 7")
        page.get_by_label("Password confirmation").fill("a long and fine passphrase 7")
        page.get_by_role("button", name="Sign up").click()
        page.wait_for_url("**/studio/")

        page.goto(f"{base}/gallery/")
        page.locator(".wall .tile a").nth(3).click()
        page.get_by_role("button", name="Breed from this").click()
        page.wait_for_url("**/studio/*/")
        page.get_by_role("button", name="Breed 8 children").click()
        page.wait_for_selector("[data-children] .draft-tile img:not(.arriving)")
        page.locator("[data-children] .draft-tile a").nth(2).click()
        page.wait_for_url("**/studio/*/")
        page.get_by_label("Chaos").fill("0.6")
        page.get_by_role("button", name="Breed 8 children").click()
        page.wait_for_selector("[data-children] .draft-tile img:not(.arriving)")
        page.get_by_role("tab", name="Cross").click()
        page.get_by_role("button", name="Add a parent…").click()
        page.locator("[data-source=gallery]").click()
        page.locator("[data-picker-grid] .pick-tile").nth(7).click()
        page.get_by_role("button", name="Cross 2 parents").click()
        page.wait_for_selector("[data-cross-results] .draft-tile img:not(.arriving)")
        page.locator("[data-cross-results] .draft-tile a").first.click()
        page.wait_for_url("**/studio/*/")
        page.get_by_label("Title").fill("Ember Tide")
        page.get_by_label("Title").press("Enter")
        page.get_by_label("Shown to").select_option("public")
        page.get_by_role("tab", name="Children").click()  # the cross opened in place
        page.get_by_role("button", name="Breed 8 children").click()
        page.wait_for_selector("[data-children] .draft-tile img:not(.arriving)")
        settle(page)
        page.screenshot(path=out / "studio.png")

        page.get_by_role("tab", name="Genes").click()
        page.locator("[data-gene]").first.focus()
        for _ in range(25):
            page.keyboard.press("ArrowRight")
        settle(page)
        page.screenshot(path=out / "studio-genes.png")

        work = page.url.rstrip("/").split("/")[-1]
        page.goto(f"{base}/w/{work}/lineage/")
        settle(page)
        page.screenshot(path=out / "lineage.png")
        page.goto(f"{base}/w/{work}/")
        settle(page)
        page.screenshot(path=out / "work.png", full_page=True)

        page.set_viewport_size({"width": 390, "height": 844})
        page.goto(f"{base}/studio/{work}/")
        settle(page)
        page.screenshot(path=out / "studio-phone.png")
        browser.close()


if __name__ == "__main__":
    main()
