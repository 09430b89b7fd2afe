from __future__ import annotations

import ast
import io
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from inference.encode import encode

ROOT = Path(__file__).resolve().parents[2]


def test_webp_and_png_encode_the_picture(space):
    image = space.render(space.sample(1, 2), 64)[0]
    png = Image.open(io.BytesIO(encode(image, "png")))
    assert png.format == "PNG" and png.size == (64, 64)
    assert np.array_equal(np.asarray(png), image.numpy()), "PNG is lossless"
    webp = Image.open(io.BytesIO(encode(image, "webp")))
    assert webp.format == "WEBP" and webp.size == (64, 64)
    assert np.abs(np.asarray(webp).astype(int) - image.numpy()).mean() < 3


def test_an_unknown_format_is_refused():
    with pytest.raises(ValueError, match="format must be one of webp, png"):
        encode(np.zeros((4, 4, 3), np.uint8), "gif")


def test_the_command_line_renders_without_django(tmp_path):
    out = tmp_path / "out.png"
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    code = (
        "import sys, runpy; sys.argv = ['inference'] + sys.argv[1:]; "
        "runpy.run_module('inference', run_name='__main__', alter_sys=True)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code + "; assert 'django' not in sys.modules",
         "render", "abstract", "--seed", "3", "--size", "96", "-o", str(out)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert Image.open(out).size == (96, 96)


def test_the_command_line_explains_bad_arguments(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "inference", "render", "abstract", "--size", "9000",
         "-o", str(tmp_path / "x.png")],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 2
    assert "size must be between 16 and 8192 pixels, got 9000" in result.stderr


def test_inference_never_imports_django():
    for path in (ROOT / "inference").rglob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            assert not any(n.split(".")[0] == "django" for n in names), path
