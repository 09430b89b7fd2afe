"""Render the example morph video and its frame strip in docs/img (run from the repository
root): ``.venv/bin/python docs/video_example.py``.

A 6 s loop through four pictures of the ``abstract`` space at 512 px and 30 fps, even
speed on, as the studio's Animate makes it; the strip shows a frame every half second.
Deterministic: the same files every run.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SEED = 2026
SECONDS = 6
FPS = 30


def main() -> int:
    import torch

    from inference import get_space, video
    from inference.__main__ import contact_sheet
    from inference.encode import encode

    torch.set_num_threads(2)
    space = get_space("abstract")
    keys = space.sample(4, SEED)
    frames = video.plan(space, keys, duration=SECONDS, fps=FPS, loop=True, even_speed=True)
    out = ROOT / "docs" / "img" / "morph.mp4"
    video.encode(space, frames, 512, FPS, out, "mp4")
    every = FPS // 2
    strip = video.decode_frames(out, range(0, len(frames), every))
    small = torch.nn.functional.interpolate(
        torch.from_numpy(__import__("numpy").stack(strip)).permute(0, 3, 1, 2).float(),
        size=(160, 160), mode="area").round().clamp(0, 255).to(torch.uint8).permute(0, 2, 3, 1)
    sheet = contact_sheet(small, columns=len(strip))
    (ROOT / "docs" / "img" / "morph-strip.png").write_bytes(encode(sheet, "png"))
    print(f"wrote {out.relative_to(ROOT)} ({out.stat().st_size // 1024} KB, {len(frames)} frames) "
          f"and docs/img/morph-strip.png ({len(strip)} frames)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
