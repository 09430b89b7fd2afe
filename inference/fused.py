"""The built-in spaces' fused pixel kernels (``fused.cpp``), compiled on first use.

torch runs a CPPN as separate passes: a matrix product, then each element-wise step of the
activation over the whole activation matrix. On a CPU the element-wise passes cost as much
as the products. ``fused.cpp`` computes each tile of 64 pixels through the whole network
with the activations applied in registers (see its header): two to four times the
speed of torch alone (docs/benchmarks.md).

The kernel is compiled once per machine with the system's C++ compiler (``$CXX``, else
``g++``, else ``c++``; about a second) into a cache folder (``$MENDEL_KERNEL_CACHE``, else
``$XDG_CACHE_HOME/mendel`` or ``~/.cache/mendel``), keyed by the source, the compiler and
the CPU, and loaded with ctypes: ctypes releases the GIL during the call, so the spaces'
worker threads run kernels side by side. Where no compiler works, or ``MENDEL_FUSED=0``,
``library()`` logs why and returns None, and the spaces render with torch alone (other
pixels, so another version: see ``PIXELS``).
"""

from __future__ import annotations

import ctypes
import hashlib
import logging
import os
import platform
import shutil
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import torch

log = logging.getLogger(__name__)

SOURCE = Path(__file__).with_name("fused.cpp")
#: Digest of the kernel source: names the compiled library in the cache.
SOURCE_DIGEST = hashlib.sha256(SOURCE.read_bytes()).hexdigest()[:16]
#: The kernels' pixels, named after the digest of the source that first drew them; part of
#: a space's version when it renders with the kernels. A change to ``fused.cpp`` that
#: alters any pixel must give it a new name (then pictures get new addresses); a change that
#: keeps every pixel (speed, structure) keeps it, so stored pictures keep theirs.
#: tests/inference/test_kernel_pixels.py pins the pixels of this name.
PIXELS = "1b6de3e27b7d5ef0"
FLAGS = ["-O3", "-march=native", "-ffp-contract=off", "-fno-math-errno", "-std=c++17",
         "-shared", "-fPIC", "-Wno-psabi"]

_lock = threading.Lock()
_loaded: tuple[ctypes.CDLL | None] | None = None  # (library or None,) once tried
#: Seconds the last ``library()`` spent compiling and loading (0.0 from the cache).
compile_seconds: float | None = None

# Addresses go to the kernels as plain integers (see ``ptr``): the cheapest conversion.
_p, _i64 = ctypes.c_void_p, ctypes.c_int64


def library() -> ctypes.CDLL | None:
    """The compiled kernels, compiling them on the first call; None where unavailable."""
    global _loaded
    with _lock:
        if _loaded is None:
            _loaded = (_load(),)
        return _loaded[0]


def _load() -> ctypes.CDLL | None:
    global compile_seconds
    if os.environ.get("MENDEL_FUSED", "1") == "0":
        log.info("fused kernels turned off (MENDEL_FUSED=0): rendering with torch alone")
        return None
    started = time.perf_counter()
    try:
        path = _build()
        lib = ctypes.CDLL(str(path))
    except (OSError, subprocess.SubprocessError, RuntimeError) as exc:
        log.warning("fused kernels unavailable (%s): rendering with torch alone, more slowly",
                    exc)
        return None
    lib.abstract_render.restype = ctypes.c_int
    lib.abstract_render.argtypes = [_i64, _i64, _i64, _p, _p, _i64, _i64,
                                    _p, _p, _p, _p, _p, _p, _p, _p, _p, _p, _i64, _p, _p]
    lib.figures_render.restype = ctypes.c_int
    _f32 = ctypes.c_float
    lib.figures_render.argtypes = [_i64, _i64, _i64, _i64, _p, _f32, _f32, _p, _p, _i64, _i64,
                                   _p, _p, _p, _p, _p, _p, _p, _p, _p, _p, _p, _i64, _p, _p]
    compile_seconds = time.perf_counter() - started
    log.info("fused kernels ready in %.2f s (%s)", compile_seconds, path)
    return lib


def choose(kernels: bool | None) -> ctypes.CDLL | None:
    """The kernels a space renders with: ``kernels`` True requires them, False declines
    them, None takes them where they compile."""
    lib = library() if kernels is not False else None
    if kernels and lib is None:
        raise RuntimeError("the fused kernels are not available on this machine (see the log)")
    return lib


def version(weights: bytes, lib: ctypes.CDLL | None) -> str:
    """A space's version: a digest of its weights and, when it renders with the kernels,
    of their pixels' name (``PIXELS``). The kernels' pictures differ from torch's by one
    level here and there, so each renderer gets its own version and a version's pixels
    never change."""
    if lib is not None:
        weights += f"\0fused {PIXELS}".encode()
    return hashlib.sha256(weights).hexdigest()[:12]


def pad(tensor: torch.Tensor, shape: tuple[int, ...]) -> torch.Tensor:
    """``tensor`` in the leading corner of a contiguous zero tensor of ``shape``."""
    out = torch.zeros(shape)
    out[tuple(slice(0, n) for n in tensor.shape)] = tensor
    return out


def _compiler() -> str:
    for name in (os.environ.get("CXX"), "g++", "c++"):
        if name and shutil.which(name):
            return name
    raise RuntimeError("no C++ compiler found (set CXX, or install g++)")


def _build() -> Path:
    """The path of the compiled library, compiling it unless the cache has it."""
    compiler = _compiler()
    version = subprocess.run([compiler, "--version"], capture_output=True, text=True,
                             timeout=30, check=True).stdout
    key = hashlib.sha256("\0".join(
        [SOURCE_DIGEST, compiler, version, " ".join(FLAGS), platform.machine(), _cpu_flags()]
    ).encode()).hexdigest()[:16]
    folder = _cache_folder()
    target = folder / f"fused-{key}.so"
    if target.exists():
        return target
    folder.mkdir(parents=True, exist_ok=True)
    # Compile to a temporary name and rename: processes starting together never load a
    # half-written library.
    with tempfile.TemporaryDirectory(dir=folder) as tmp:
        built = Path(tmp) / target.name
        result = subprocess.run([compiler, *FLAGS, "-o", str(built), str(SOURCE)],
                                capture_output=True, text=True, timeout=300)
        if result.returncode != 0:
            raise RuntimeError(f"{compiler} failed: {result.stderr.strip()[-500:]}")
        os.replace(built, target)
    return target


def _cache_folder() -> Path:
    if os.environ.get("MENDEL_KERNEL_CACHE"):
        return Path(os.environ["MENDEL_KERNEL_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "mendel"


def _cpu_flags() -> str:
    """What -march=native compiles for: the CPU's model and feature flags."""
    try:
        lines = Path("/proc/cpuinfo").read_text().splitlines()
    except OSError:
        return platform.processor()
    return "\n".join(sorted({line for line in lines if line.startswith(("model name", "flags"))}))


def ptr(tensor: torch.Tensor | None) -> int | None:
    """The address of a contiguous float32 (or, for colours, uint8) tensor's data, for a
    kernel (None for None). The caller holds the tensor until the kernel returns."""
    if tensor is None:
        return None
    # The kernels' layout; anything else is a bug in the calling space.
    assert tensor.is_contiguous() and tensor.dtype in (torch.float32, torch.uint8)
    return tensor.data_ptr()
