"""The fused pixel kernels of the built-in spaces: the same pictures as torch alone (within
one level), compiled once into a cache, and torch alone where no compiler works."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from inference.abstract import AbstractSpace
from inference.figures import FiguresSpace

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def torch_alone():
    return AbstractSpace(kernels=False)


@pytest.fixture(scope="module", params=["abstract", "figures"])
def pair(request, space, figures):
    """A built-in space rendering with its kernel, and the same space with torch alone."""
    fast = {"abstract": space, "figures": figures}[request.param]
    assert fast.kernels is not None, "the test machine compiles the fused kernel"
    return fast, type(fast)(kernels=False)


def differences(a: torch.Tensor, b: torch.Tensor) -> tuple[int, float]:
    """Largest difference in levels and the share of colour values that differ at all."""
    d = (a.int() - b.int()).abs()
    return int(d.max()), float((d > 0).float().mean())


@pytest.mark.parametrize("size", [64, 256, 300])
def test_the_kernel_paints_what_torch_alone_paints_within_one_level(pair, size):
    fast, torch_alone = pair
    z = fast.sample(8, 21)
    worst, share = differences(fast.render(z, size), torch_alone.render(z, size))
    # Sums in another order round differently: now and then a palette entry or a final
    # level one apart, nothing more.
    assert worst <= 1
    assert share < 1e-3


def test_a_view_through_the_kernel_matches_torch_alone_too(space, torch_alone):
    z = space.sample(2, 22)
    view = {"zoom": 0.3, "centre": (0.2, -0.4)}
    worst, share = differences(space.render_view(z, 128, **view), torch_alone.render_view(z, 128, **view))
    assert worst <= 1 and share < 1e-3
    assert not torch.equal(space.render_view(z, 128, **view), space.render(z, 128))


def test_the_float_render_stays_close_to_the_kernels_render(pair):
    fast, _ = pair
    z = fast.sample(2, 23)
    exact = fast.render(z, 256).float() / 255.0
    assert (fast.render_float(z, 256) - exact).abs().mean() < 3 / 255


def run_python(code: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300,
        env={**os.environ, **env}, check=False,
    )


REPORT = """
import json, logging
logging.basicConfig(level=logging.INFO)
from inference import fused
from inference.abstract import AbstractSpace
from inference.figures import FiguresSpace
space = AbstractSpace()
print(json.dumps({"kernel": space.kernels is not None, "version": space.version,
                  "seconds": fused.compile_seconds, "figures": FiguresSpace().version}))
try:
    FiguresSpace(kernels=True)
except RuntimeError as exc:
    print(json.dumps({"error": str(exc)}))
"""


def test_the_kernel_is_compiled_once_into_the_cache(tmp_path, space, figures):
    first = run_python(REPORT, MENDEL_KERNEL_CACHE=str(tmp_path))
    assert first.returncode == 0, first.stderr
    report = json.loads(first.stdout.splitlines()[0])
    assert report["kernel"] and report["version"] == space.version
    assert report["figures"] == figures.version and report["seconds"] > 0
    assert "fused kernels ready" in first.stderr
    libraries = list(tmp_path.glob("fused-*.so"))
    assert len(libraries) == 1
    built = libraries[0].stat().st_mtime_ns
    again = run_python(REPORT, MENDEL_KERNEL_CACHE=str(tmp_path))
    assert json.loads(again.stdout.splitlines()[0])["version"] == space.version
    assert list(tmp_path.glob("fused-*.so")) == libraries
    assert libraries[0].stat().st_mtime_ns == built, "loaded from the cache, not rebuilt"
    assert list(tmp_path.iterdir()) == libraries, "no half-written files left behind"


def test_without_a_compiler_the_spaces_render_with_torch_alone_and_say_so(tmp_path, torch_alone):
    result = run_python(REPORT, MENDEL_KERNEL_CACHE=str(tmp_path), PATH="", CXX="")
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert lines[0]["kernel"] is False
    assert lines[0]["version"] == torch_alone.version
    assert lines[0]["figures"] == FiguresSpace(kernels=False).version
    assert "fused kernels unavailable (no C++ compiler found" in result.stderr
    assert "not available on this machine" in lines[1]["error"]


def test_the_kernel_can_be_turned_off(tmp_path, torch_alone):
    result = run_python(REPORT, MENDEL_KERNEL_CACHE=str(tmp_path), MENDEL_FUSED="0")
    assert json.loads(result.stdout.splitlines()[0])["version"] == torch_alone.version
    assert "MENDEL_FUSED=0" in result.stderr
    assert not list(tmp_path.iterdir())
