"""The following feed's benchmark (bench/feed.py) runs, at a small size, so it cannot rot;
and it stops at a wrong answer rather than timing one."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _load_bench():
    spec = importlib.util.spec_from_file_location("bench_feed", ROOT / "bench" / "feed.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_feed_benchmark_runs_at_a_small_size():
    database = f"mendel_bench_feed_test_{os.getpid()}"
    out = subprocess.run(
        [sys.executable, "bench/feed.py", "--works", "2000", "--artists", "50", "--requests", "20",
         "--database", database, "--drop", "--json"],
        cwd=ROOT, capture_output=True, text=True, timeout=280)
    assert out.returncode == 0, out.stderr[-3000:]
    result = json.loads(out.stdout)
    assert result["p95_ms"] >= result["p50_ms"] > 0
    assert (result["works"], result["artists_followed"], result["artists_not_followed"]) == (2000, 50, 200)
    assert result["requests"] == 20 and result["later_pages_p95_ms"] > 0
    for plan in result["plans"].values():  # the first page's and a page further down
        assert plan[-1].startswith("Execution Time")
    assert set(result["plans"]) == {"first", "deep"}


def test_a_work_of_someone_not_followed_is_a_wrong_answer():
    bench = _load_bench()
    work = {"id": "a", "owner": "followed1", "created": "2026-01-02T00:00:00Z"}
    assert bench.check({"results": [work]}, set(), None) is not None
    with pytest.raises(bench.WrongAnswer, match="whom the breeder does not follow"):
        bench.check({"results": [{**work, "owner": "other7"}]}, set(), None)
    with pytest.raises(bench.WrongAnswer, match="twice"):
        bench.check({"results": [work, work]}, set(), None)
    older = {**work, "id": "b", "created": "2025-01-02T00:00:00.5Z"}
    with pytest.raises(bench.WrongAnswer, match="newer than the work before it"):
        bench.check({"results": [older, work]}, set(), None)
