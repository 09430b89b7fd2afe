"""The map of a space in Debian's Chromium (WebGL on its software renderer): it opens on
every public work, sharper pictures come as it zooms in, a region label takes you to its
place, a click opens a work, an empty place breeds eight pictures; at phone width a finger
drags it and two pinch it."""

from __future__ import annotations

import math

import pytest
from playwright.sync_api import expect

from breeding import actions, looks
from breeding.models import Creation, Visibility
from gallery import maps
from gallery.models import MapPlace, MapPoint
from tests.frontend.test_exhibition_e2e import PASSWORD, log_in

pytestmark = pytest.mark.django_db(transaction=True)

WORKS = 40


@pytest.fixture
def mapped(make_server, settings, tmp_path, django_user_model):
    """A server, and Ada's 40 public works, with their looks, laid out on the abstract
    space's map (its atlas pages written where the server reads its media)."""
    base = make_server()
    settings.MEDIA_ROOT = str(tmp_path / f"media-{base.rsplit(':', 1)[1]}")
    space = actions.sync_spaces()[0]
    ada = django_user_model.objects.create_user("ada", password=PASSWORD)
    works = [actions.do_update(c, title=f"Work {i}", visibility=Visibility.PUBLIC)
             for i, c in enumerate(actions.do_random(ada, space, WORKS, seed=3))]
    looks.compute(works)
    layout = maps.run_build(maps.start_build(space).pk, threads=1)
    assert layout is not None
    return {"base": base, "works": works, "layout": layout}


def map_data(page) -> dict:
    return page.evaluate("() => ({...document.querySelector('[data-map]').dataset})")


def camera(page) -> tuple[float, float, float]:
    """The map's camera (centre, px per unit) as its latest frame drew it."""
    page.evaluate("() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)))")
    x, y, scale = map(float, map_data(page)["view"].split())
    return x, y, scale


def settled(page) -> None:
    """Wait until the camera stops (a glide takes under half a second)."""
    before = None
    for _ in range(40):
        now = map_data(page).get("view")
        if now == before:
            return
        before = now
        page.wait_for_timeout(150)


def empty_place(page, layout_pk: int) -> tuple[float, float]:
    """A place on screen (page px) with no work under a finger, yet works near enough to
    breed from, clear of the map's controls and labels."""
    frame = page.locator("[data-map-frame]").bounding_box()
    cx, cy, scale = camera(page)
    size = float(map_data(page)["size"])
    points = list(MapPoint.objects.filter(layout_id=layout_pk).values_list("x", "y"))
    covered = [page.locator(sel).bounding_box() for sel in (".map-zoom", ".map-keys")]
    covered += [b.bounding_box() for b in page.locator(".map-label:visible").all()]
    best = None
    for sy in range(40, int(frame["height"]) - 40, 8):
        for sx in range(40, int(frame["width"]) - 40, 8):
            px, py = frame["x"] + sx, frame["y"] + sy
            if any(b and b["x"] - 12 <= px <= b["x"] + b["width"] + 12 and b["y"] - 12 <= py <= b["y"] + b["height"] + 12
                   for b in covered):
                continue
            wx, wy = cx + (sx - frame["width"] / 2) / scale, cy + (sy - frame["height"] / 2) / scale
            clear = min(max(abs(x - wx), abs(y - wy)) for x, y in points)
            near = min(math.hypot(x - wx, y - wy) for x, y in points)
            if clear > size / 2 + 24 / scale and near < maps.BREED_REACH * 0.8 and (best is None or near < best[0]):
                best = (near, px, py)
    assert best is not None, "no empty place near works on screen"
    return best[1], best[2]


def test_zoom_in_open_a_work_and_breed_from_an_empty_place(chromium, mapped):
    base = mapped["base"]
    context = chromium.new_context(viewport={"width": 1366, "height": 768})
    page = context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    log_in(page, base, "ada")

    # from the gallery to the map of its space
    page.goto(f"{base}/gallery/")
    page.get_by_role("link", name="Map of abstract").click()
    page.wait_for_url(f"{base}/map/abstract/")
    expect(page.locator("[data-map]")).to_have_attribute("data-state", "ready")
    expect(page.locator("[data-map-count]")).to_have_text(f"{WORKS} works")
    expect(page.get_by_role("button", name="My works")).to_be_visible()  # all of them are Ada's
    assert page.locator(".map-label").count() >= 1

    # far out, then closer in: pictures of a larger cell size (sharper), from atlas pages
    for _ in range(2):
        page.get_by_role("button", name="Zoom out").click()
    settled(page)
    far = map_data(page)
    for _ in range(4):
        page.get_by_role("button", name="Zoom in").click()
    settled(page)
    expect(page.locator("[data-map]")).to_have_attribute("data-detail", "pictures")
    near = map_data(page)
    assert float(near["view"].split()[2]) > float(far["view"].split()[2]) * 3
    assert int(near["cell"]) > int(far["cell"]) and int(near["pictures"]) >= 1

    # the keyboard: + zooms, an arrow pans, 0 shows it all again
    page.locator("[data-map-frame]").focus()
    x0, _, s0 = camera(page)
    page.keyboard.press("ArrowRight")
    assert camera(page)[0] > x0
    page.keyboard.press("-")
    assert camera(page)[2] < s0
    page.keyboard.press("0")
    settled(page)

    # a region's label takes you to its example; hovering it says its title; a click opens it
    label = page.locator(".map-label:visible").first
    title = label.inner_text()
    example = Creation.objects.get(title=title)
    label.click()
    settled(page)
    frame = page.locator("[data-map-frame]").bounding_box()
    middle = (frame["x"] + frame["width"] / 2, frame["y"] + frame["height"] / 2)
    page.mouse.move(*middle)
    expect(page.locator("[data-map-tip]")).to_contain_text(title)
    page.mouse.click(*middle)
    page.wait_for_url(f"{base}/w/{example.public_id}/")

    # an empty place: breed here, and eight new pictures, drafts in the studio
    page.go_back()
    expect(page.locator("[data-map]")).to_have_attribute("data-state", "ready")
    settled(page)
    drafts = Creation.objects.filter(owner__username="ada").count()
    page.mouse.click(*empty_place(page, mapped["layout"]))
    offer = page.get_by_role("dialog", name="Breed here")
    expect(offer).to_be_visible()
    offer.get_by_role("button", name="Breed here").click()
    bred = page.locator("[data-map-bred]")
    expect(bred).to_be_visible(timeout=60000)
    expect(bred.locator("img")).to_have_count(8)
    page.wait_for_function("() => [...document.querySelectorAll('[data-map-bred] img')].every(i => i.complete && i.naturalWidth > 0)",
                           timeout=60000)
    assert Creation.objects.filter(owner__username="ada").count() == drafts + 8
    assert MapPlace.objects.filter(creation__owner__username="ada").count() == 8
    studio = bred.get_by_role("link", name="Open them in the studio").get_attribute("href")
    assert studio in {f"/studio/{p.creation.public_id}/" for p in MapPlace.objects.all()}

    # a search marks its matches
    page.get_by_label("Find titles on the map").fill("Work 1")  # Work 1 and Work 10 to 19
    expect(page.locator("[data-map-found]")).to_have_text("11 works")
    assert problems == []
    context.close()


def touch(cdp, kind: str, *points: tuple[float, float]) -> None:
    cdp.send("Input.dispatchTouchEvent", {"type": kind, "touchPoints": [
        {"x": x, "y": y, "id": i} for i, (x, y) in enumerate(points)]})


def test_at_phone_width_a_finger_drags_and_two_pinch(chromium, mapped):
    base = mapped["base"]
    context = chromium.new_context(viewport={"width": 390, "height": 844}, has_touch=True, is_mobile=True)
    page = context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    page.goto(f"{base}/map/abstract/")
    expect(page.locator("[data-map]")).to_have_attribute("data-state", "ready")
    assert page.evaluate("() => document.scrollingElement.scrollWidth") <= 390
    frame = page.locator("[data-map-frame]").bounding_box()
    assert frame["height"] > 500  # the map, not the chrome, has the screen
    cdp = context.new_cdp_session(page)
    cx, cy = frame["x"] + frame["width"] / 2, frame["y"] + frame["height"] / 2

    # two fingers apart: closer in, about the point between them
    x0, y0, s0 = camera(page)
    touch(cdp, "touchStart", (cx - 40, cy), (cx + 40, cy))
    for step in range(1, 9):
        touch(cdp, "touchMove", (cx - 40 - 10 * step, cy), (cx + 40 + 10 * step, cy))
    touch(cdp, "touchEnd")
    x1, y1, s1 = camera(page)
    assert s1 == pytest.approx(s0 * 240 / 80, rel=0.05)  # the fingers 80 px apart, then 240
    assert (x1, y1) == pytest.approx((x0, y0), abs=2 / s1)

    # one finger: the map follows it
    touch(cdp, "touchStart", (cx, cy))
    for step in range(1, 7):
        touch(cdp, "touchMove", (cx - 10 * step, cy - 5 * step))
    touch(cdp, "touchEnd")
    x2, y2, s2 = camera(page)
    assert s2 == s1
    assert x2 == pytest.approx(x1 + 60 / s1, rel=0.05) and y2 == pytest.approx(y1 + 30 / s1, rel=0.05)

    # a visitor's tap on an empty place offers to log in to breed there
    page.touchscreen.tap(*empty_place(page, mapped["layout"]))
    expect(page.get_by_role("link", name="Log in to breed here")).to_be_visible()
    assert problems == []
    context.close()
