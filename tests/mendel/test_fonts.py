"""Words in the pictures Mendel draws come out as words in Chinese too, not as boxes."""

from __future__ import annotations

import subprocess

import numpy as np
from PIL import Image, ImageDraw

from common.fonts import font_for
from tests.conftest import require


def drawn(text: str) -> np.ndarray:
    picture = Image.new("L", (80, 40), 0)
    ImageDraw.Draw(picture).text((4, 4), text, fill=255, font=font_for(text, 28))
    return np.asarray(picture)


def test_han_characters_are_drawn_each_as_itself():
    fonts = subprocess.run(["fc-list", ":lang=zh-cn", "family"], capture_output=True, text=True).stdout
    require(bool(fonts.strip()), "a Chinese font", "apt-get install fonts-noto-cjk (.ci/run does)")
    breed, gene, box = drawn("培"), drawn("基"), drawn("\u4dff")  # the last: no font's glyph
    assert breed.any() and gene.any()
    # a font without Han draws every character as one same box; this one draws two glyphs
    assert (breed != gene).mean() > 0.05
    assert not np.array_equal(breed, box)


def test_latin_text_keeps_its_font():
    assert drawn("warmth").any()
    assert font_for("warmth", 13).getname() != font_for("温暖", 13).getname()
