"""Breeding latency end to end through the API, on the embedded default.

    .venv/bin/python bench/breed.py [--json] [--requests 100] [--warmup 10] [--torch-alone]
                                    [--clicks 30]

One request = "8 children of a creation, and their 256 px pictures ready", the way the
studio asks: POST /api/creations/<id>/children/?pictures=256, n=8, whose answer carries the
works and then each picture as it is painted (breeding/delivery.py); also the time to the
first picture. Baseline in the same run, interleaved request by request: the way the studio
asked before, the POST alone and then the eight 256 px pictures fetched concurrently from
their addresses; and that same request with the pictures already stored (the API and storage
alone). Last, the server's CPU time per request of a stored picture (no render), measured on
the server process over a few hundred requests. Against a real server (uvicorn, one process,
in-process inference on the CPU) on the embedded PostgreSQL. ``--torch-alone`` renders without
the fused kernels (MENDEL_FUSED=0), for a comparison on the same machine.

Then in Debian's Chromium (``--clicks`` times, 0 to skip): the studio of the same work,
signed in, "Breed 8 children" clicked; from the click (the event's time stamp) to the first
child's picture on screen (its ``load``, then the next frame) and to the eighth.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
logging.getLogger("httpx").setLevel(logging.WARNING)

from bench._server import bench_breeder, cpu_model, latency_report, percentile, server, server_cpu_s  # noqa: E402


def setup_user():
    user, token, space = bench_breeder()
    from django.conf import settings
    from django.test import Client

    from breeding import actions

    parent = actions.do_random(user, space, 1, seed=12345)[0]
    client = Client()
    client.force_login(user)  # a session in the database the server reads
    return token, parent.public_id, client.cookies[settings.SESSION_COOKIE_NAME].value


# In the page: from the click on "Breed 8 children" to each new child's picture shown.
WATCH_CHILDREN = """() => {
  const row = document.querySelector("[data-children]");
  const button = document.querySelector("[data-breed]");
  const shown = window.breedTimes = [];
  let clicked = null;
  const seen = new WeakSet();
  const watch = (img) => {
    if (seen.has(img)) return;
    seen.add(img);
    const done = () => requestAnimationFrame(() => shown.push(performance.now() - clicked));
    if (img.complete && img.naturalWidth) done(); else img.addEventListener("load", done, { once: true });
  };
  const observer = new MutationObserver(() => row.querySelectorAll(".draft-tile img").forEach(watch));
  button.addEventListener("click", (event) => {
    clicked = event.timeStamp;
    observer.observe(row, { childList: true, subtree: true, attributes: true });
  }, { once: true });
}"""


def in_chromium(base: str, parent: str, session: str, clicks: int) -> tuple[list[float], list[float]]:
    """Seconds from the click to the first picture on screen, and to the eighth."""
    from django.conf import settings
    from playwright.sync_api import sync_playwright

    firsts, alls = [], []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium",
                                    args=["--headless", "--no-sandbox", "--disable-gpu"])
        context = browser.new_context(viewport={"width": 1400, "height": 900})
        context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": session, "url": base}])
        page = context.new_page()
        page.goto(f"{base}/studio/{parent}/")
        for i in range(clicks + 3):  # the first three warm the page up
            page.evaluate(WATCH_CHILDREN)
            page.click("[data-breed]")
            page.wait_for_function("() => window.breedTimes.length >= 8", timeout=30000)
            times = page.evaluate("() => window.breedTimes")
            page.wait_for_function("() => !document.querySelector('[data-breed]').disabled")
            if i >= 3:
                firsts.append(min(times) / 1000)
                alls.append(max(times) / 1000)
        browser.close()
    return firsts, alls


async def one_request(client, parent: str, seed: int | None):
    """The POST, then the eight pictures from their addresses (the studio's way before)."""
    started = time.perf_counter()
    body = {"n": 8, "chaos": 0.3} | ({"seed": seed} if seed is not None else {})
    response = await client.post(f"/api/creations/{parent}/children/", json=body)
    response.raise_for_status()
    urls = [c["images"]["256"] for c in response.json()]
    pictures = await asyncio.gather(*(client.get(url) for url in urls))
    for picture in pictures:
        picture.raise_for_status()
    return time.perf_counter() - started


async def streamed(client, parent: str, seed: int | None = None):
    """The studio's way: one answer with the works, then each picture as it is painted.
    (seconds to the first picture, to the last, {picture address: its bytes in base64})."""
    started, first = time.perf_counter(), None
    body = {"n": 8, "chaos": 0.3} | ({"seed": seed} if seed is not None else {})
    got, addresses = {}, {}
    async with client.stream("POST", f"/api/creations/{parent}/children/?pictures=256",
                             json=body) as response:
        response.raise_for_status()
        async for line in response.aiter_lines():
            item = json.loads(line)
            if "error" in item:
                raise RuntimeError(item["error"])
            if "works" in item:
                addresses = {work["id"]: work["images"]["256"] for work in item["works"]}
            if "webp" in item:
                first = first or time.perf_counter() - started
                got[addresses[item["id"]]] = item["webp"]
    if len(got) != 8:
        raise RuntimeError(f"{len(got)} pictures came, not 8")
    return first, time.perf_counter() - started, got


async def run(base: str, token: str, parent: str, requests: int, warmup: int):
    import base64

    import httpx

    headers = {"Authorization": f"Token {token}"}
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=60) as client:
        for _ in range(warmup):
            await streamed(client, parent)
            await one_request(client, parent, None)
        firsts, fresh, before, cpu_streamed = [], [], [], 0.0
        for _ in range(requests):  # interleaved: both ways see the same machine
            cpu = server_cpu_s(base)
            first, last, _ = await streamed(client, parent)
            await asyncio.sleep(0.02)  # its last picture stored
            cpu_streamed += server_cpu_s(base) - cpu
            firsts.append(first)
            fresh.append(last)
            before.append(await one_request(client, parent, None))
        # The pictures are the bytes their addresses serve.
        _, _, got = await streamed(client, parent, seed=7)
        for address, picture in got.items():
            served = await client.get(address)
            if served.content != base64.b64decode(picture):
                raise RuntimeError(f"the picture streamed for {address} differs from the one served there")
        # Baseline: the same children again (same seed), pictures already stored.
        await one_request(client, parent, 99)
        cached = [await one_request(client, parent, 99) for _ in range(min(requests, 30))]
        # A stored picture: the server's CPU time per request.
        stored = [c["images"]["256"] for c in (await client.post(
            f"/api/creations/{parent}/children/", json={"n": 8, "chaos": 0.3, "seed": 99})).json()]
        for url in stored:
            (await client.get(url)).raise_for_status()
        cpu = server_cpu_s(base)
        rounds = 50
        for _ in range(rounds):
            await asyncio.gather(*(client.get(url) for url in stored))
        per_picture_ms = (server_cpu_s(base) - cpu) / (rounds * len(stored)) * 1000
    return firsts, fresh, before, cached, per_picture_ms, cpu_streamed / requests * 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--clicks", type=int, default=30, help="clicks in Chromium (0: none)")
    parser.add_argument("--torch-alone", action="store_true",
                        help="render with torch alone, without the fused kernels")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    token, parent, session = setup_user()
    env = {**os.environ, "RENDER_BUDGET_CPU_S_PER_MIN": "1000000", "INPROCESS_WORKER": "0",
           "OMP_NUM_THREADS": str(args.threads), "MENDEL_FUSED": "0" if args.torch_alone else "1"}
    with server(env) as base:
        firsts, fresh, before, cached, per_picture_ms, streamed_cpu_ms = asyncio.run(
            run(base, token, parent, args.requests, args.warmup))
        browser = in_chromium(base, parent, session, args.clicks) if args.clicks else None

    latency_report(
        f"8 children + their 256 px pictures, {len(fresh)} requests each way after "
        f"{args.warmup} warm-up, {'torch alone' if args.torch_alone else 'fused kernels'}, "
        f"{cpu_model()}, load average {os.getloadavg()[0]:.1f}",
        [("in one answer, as the studio asks (goal p95 150)", "children8", fresh),
         ("  its first picture", "first_picture", firsts),
         ("before: the POST, then 8 picture requests", "separate8", before),
         ("  the same, pictures already stored", "cached", cached),
         *([("in Chromium: click to the first picture on screen (goal 60)", "chromium_first",
             browser[0]),
            ("in Chromium: click to all eight on screen", "chromium_all", browser[1])]
           if browser else [])],
        args.json,
        {"children8_p90_ms": round(percentile(fresh, 90) * 1000, 1),
         "children8_max_ms": round(max(fresh) * 1000, 1), "requests": len(fresh),
         "stored_picture_server_cpu_ms": round(per_picture_ms, 2),
         "children8_server_cpu_ms": round(streamed_cpu_ms, 1),
         "renderer": "torch alone" if args.torch_alone else "fused kernels", "cpu": cpu_model(),
         "load_average": [round(x, 1) for x in os.getloadavg()]},
    )
    if not args.json:
        print(f"server CPU per stored 256 px picture request: {per_picture_ms:.2f} ms (goal 2)")
        print(f"server CPU per request of 8 children with their pictures: {streamed_cpu_ms:.1f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
