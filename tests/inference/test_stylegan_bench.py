"""The GPU benchmark script runs anywhere: on the CPU with the tiny generator."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_gpu_benchmark_runs_on_the_cpu_with_the_tiny_generator():
    out = subprocess.run(
        [sys.executable, "bench/stylegan_gpu.py", "--models", "tiny", "--seconds", "0.2", "--json",
         "--device", "cpu"], cwd=ROOT, capture_output=True, text=True, check=True, timeout=300)
    result = json.loads(out.stdout)
    assert result["device"] == "cpu" and result["cpu"]
    fp32, fp16 = result["rows"]
    assert fp32["model"] == "tiny" and fp32["dtype"] == "fp32" and fp32["images_per_s"] > 0
    assert math.isclose(fp32["tflop_per_s"], fp32["images_per_s"] * fp32["gflop_per_image"] / 1000,
                        rel_tol=0.05, abs_tol=0.001)
    assert fp16 == {"model": "tiny", "dtype": "fp16", "skipped": "fp16 needs CUDA"}


def test_the_benchmark_refuses_an_unknown_model_with_a_sentence():
    out = subprocess.run([sys.executable, "bench/stylegan_gpu.py", "--models", "huge"], cwd=ROOT,
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 2 and "unknown model 'huge'; the models are tiny, full" in out.stderr
