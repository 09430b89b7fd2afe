"""Fonts for the pictures Mendel draws with words in them (gene sheets, contact sheets).

A sheet labelled in Chinese needs a font with Han characters; Pillow's own default has none
and draws every one as the same empty box. fontconfig knows the machine's fonts: for text
with Han characters it picks a Simplified Chinese face (Noto Sans CJK SC, which
``.ci/run`` installs, or whatever the machine has), for the rest DejaVu Sans.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from functools import lru_cache

from PIL import ImageFont

HAN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
#: fontconfig patterns, best first.
CHINESE = ("Noto Sans CJK SC:style=Regular", ":lang=zh-cn")
LATIN = ("DejaVu Sans", ":lang=en")
#: ...and book faces, for words set for reading (a text work's cover).
CHINESE_SERIF = ("Noto Serif CJK SC:style=Regular", "serif:lang=zh-cn", *CHINESE)
LATIN_SERIF = ("DejaVu Serif", "serif", *LATIN)


@lru_cache(maxsize=8)
def _file_of(patterns: tuple[str, ...], needs_han: bool) -> str | None:
    if not shutil.which("fc-match"):
        return None
    for pattern in patterns:
        found = subprocess.run(["fc-match", "-f", "%{file}\n%{lang}", pattern],
                               capture_output=True, text=True, check=False).stdout.split("\n")
        if found[0] and (not needs_han or "zh-cn" in found[-1]):
            return found[0]
    return None


def font_for(text: str, size: int, serif: bool = False) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    """A font that draws ``text``: a Chinese face if it holds Han characters; a book face
    with ``serif``."""
    han = bool(HAN.search(text))
    faces = (CHINESE_SERIF if serif else CHINESE) if han else (LATIN_SERIF if serif else LATIN)
    path = _file_of(faces, han)
    if path is None:
        return ImageFont.load_default(size)
    return ImageFont.truetype(path, size)
