"""Frames per second of a space's map page (``/map/<space>/``, frontend/static/frontend/js/map.js)
in headless Chromium while it is panned and zoomed without a pause: what ``bench/map.py``
reports as ``fps``.

How: the page is moved at every animation frame by the browser's own pointer and wheel
events sent to the map (``DRIVE``: the button held, the pointer going round a figure of
eight, the wheel turning in and out so that the view passes from dots to pictures and
back), under Chromium's own performance trace. The
frames are the trace's ``DrawFrame`` events (category
``disabled-by-default-devtools.timeline.frame``, what DevTools' Performance panel counts as
frames) of the page's renderer between two marks the page sets at the start and the end of
the motion; fps = frames / the time between the marks. Beside it, ``raf_fps``: the page's
own requestAnimationFrame callbacks over the same time, a check on the trace.

Headless Chromium draws WebGL with SwiftShader (the CPU) unless it finds a GPU: ``renderer``
says which drew, and the number is that machine's.

    from bench._map_fps import measure_fps
    measure_fps("http://127.0.0.1:8000", "abstract", 10.0)
"""

from __future__ import annotations

import json

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-background-networking",
        "--disable-background-timer-throttling", "--disable-renderer-backgrounding"]
CATEGORIES = ["devtools.timeline", "disabled-by-default-devtools.timeline.frame", "blink.user_timing"]
# The motion, run by the page at every animation frame: a pointer held down on the map going
# round a figure of eight (one lap in 4 s, a third of the frame wide), and a wheel turning
# in for 2.5 s then out for 2.5 s, ZOOM times closer at the end of the 2.5 s whatever the
# frame rate (map.js zooms e^(0.002 px) a pixel of wheel): from the whole map to its
# pictures and back. The events are the browser's own PointerEvent and WheelEvent, sent to
# the map's canvas, so map.js handles them as a person's; made in the page, they come every
# frame rather than at the pace of a remote-controlled mouse.
ZOOM = 40
DRIVE = """async ([ms, zoom]) => {
  const map = document.querySelector('[data-map]');
  const canvas = map.querySelector('[data-map-canvas]');
  const box = map.querySelector('[data-map-frame]').getBoundingClientRect();
  const cx = box.left + box.width / 2, cy = box.top + box.height / 2;
  const rx = box.width / 3, ry = box.height / 3;
  const at = (t) => [cx + rx * Math.sin(2 * Math.PI * t / 4000), cy + ry * Math.sin(4 * Math.PI * t / 4000) / 2];
  const pointer = (type, [x, y]) => canvas.dispatchEvent(new PointerEvent(type, {
    bubbles: true, cancelable: true, clientX: x, clientY: y, pointerId: 41, pointerType: 'mouse',
    isPrimary: true, button: 0, buttons: type === 'pointerup' ? 0 : 1 }));
  let frames = 0, inputs = 0, pictures = 0, last = null;
  const wheelPerMs = Math.log(zoom) / 2500 / 0.002;
  pointer('pointerdown', at(0));
  performance.mark('map-fps-start');
  const t0 = performance.now();
  await new Promise((done) => {
    const step = (now) => {
      const t = now - t0;
      frames++;
      pictures = Math.max(pictures, Number(map.dataset.pictures || 0));
      if (t >= ms) { done(); return; }
      const dt = last === null ? 16 : now - last;
      last = now;
      pointer('pointermove', at(t));
      canvas.dispatchEvent(new WheelEvent('wheel', { bubbles: true, cancelable: true,
        clientX: cx, clientY: cy, deltaMode: 0, deltaY: ((t % 5000) < 2500 ? -1 : 1) * wheelPerMs * dt }));
      inputs += 2;
      requestAnimationFrame(step);
    };
    requestAnimationFrame(step);
  });
  performance.mark('map-fps-end');
  const elapsed = performance.now() - t0;
  pointer('pointerup', at(elapsed));
  return { frames, ms: elapsed, inputs, pictures };
}"""


def _frames(trace: bytes) -> tuple[int, float, list[float]]:
    """Frames drawn by the page's renderer between the marks: (count, seconds, gaps in ms)."""
    events = json.loads(trace)
    events = events["traceEvents"] if isinstance(events, dict) else events
    marks = {e["name"]: e for e in events if e.get("name") in ("map-fps-start", "map-fps-end")}
    if len(marks) != 2:
        raise RuntimeError("the page's marks are not in the trace")
    start, end = marks["map-fps-start"]["ts"], marks["map-fps-end"]["ts"]
    pid = marks["map-fps-start"]["pid"]
    draws = sorted(e["ts"] for e in events
                   if e.get("name") == "DrawFrame" and e.get("pid") == pid and start <= e["ts"] <= end)
    if not draws:  # some builds report frames from the GPU process only
        draws = sorted(e["ts"] for e in events if e.get("name") == "DrawFrame" and start <= e["ts"] <= end)
    gaps = [(b - a) / 1000 for a, b in zip(draws, draws[1:], strict=False)]
    return len(draws), (end - start) / 1e6, gaps


def measure_fps(base_url: str, space: str, seconds: float, *, width: int = 1366, height: int = 768,
                chromium: str = CHROMIUM, ready_timeout_s: float = 120.0) -> dict:
    """Open the map of ``space`` at ``base_url`` in headless Chromium (``width`` x ``height``),
    wait for its points, then pan and zoom it continuously for ``seconds`` under a
    performance trace. Returns ``fps`` (trace frames a second), ``frames``, ``seconds``,
    ``p95_frame_ms``, ``max_frame_ms`` and ``frames_over_50ms`` (gaps between drawn frames), ``raf_fps``,
    ``works`` (points on the map), ``pictures_max`` (most atlas pages drawn in one frame
    seen), ``renderer`` (the WebGL renderer), ``viewport`` and ``method``."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=ARGS)
        try:
            page = browser.new_page(viewport={"width": width, "height": height})
            page.goto(f"{base_url}/map/{space}/")
            page.wait_for_selector("[data-map][data-state=ready]", state="attached",
                                   timeout=ready_timeout_s * 1000)
            renderer = page.evaluate("""() => {
                const gl = document.createElement('canvas').getContext('webgl2');
                const info = gl && gl.getExtension('WEBGL_debug_renderer_info');
                return info ? gl.getParameter(info.UNMASKED_RENDERER_WEBGL) : (gl ? 'webgl2' : 'none');
            }""")
            works = int(page.evaluate("() => document.querySelector('[data-map]').dataset.works"))
            browser.start_tracing(page=page, categories=CATEGORIES)
            raf = page.evaluate(DRIVE, [seconds * 1000, ZOOM])
            trace = browser.stop_tracing()
        finally:
            browser.close()
    frames, window_s, gaps = _frames(trace)
    gaps.sort()
    return {
        "fps": round(frames / window_s, 1) if window_s > 0 else 0.0,
        "frames": frames,
        "seconds": round(window_s, 2),
        "p95_frame_ms": round(gaps[int(0.95 * (len(gaps) - 1))], 1) if gaps else None,
        "max_frame_ms": round(gaps[-1], 1) if gaps else None,
        "frames_over_50ms": sum(gap > 50 for gap in gaps),
        "raf_fps": round(raf["frames"] / (raf["ms"] / 1000), 1) if raf["ms"] else 0.0,
        "inputs": raf["inputs"],
        "works": works,
        "pictures_max": raf["pictures"],
        "renderer": renderer,
        "viewport": f"{width}x{height}",
        "method": "Chromium performance trace: DrawFrame events "
                  "(disabled-by-default-devtools.timeline.frame) between page marks",
    }


if __name__ == "__main__":
    import sys

    print(json.dumps(measure_fps(sys.argv[1], sys.argv[2], float(sys.argv[3]) if len(sys.argv) > 3 else 5.0)))
