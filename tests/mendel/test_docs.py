"""The README tells the truth about what it can check: every setting the code reads from the
environment is in its table, the demo count is the demo's, and no test count goes stale."""

from __future__ import annotations

import re
from pathlib import Path

from frontend import demo

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")
#: How the code reads a setting: env_int("NAME", ...), os.environ.get("NAME"), getenv("NAME")...
READ = re.compile(r"""(?:env[a-z_]*|environ\.get|getenv|environ\[)\(?\s*["']([A-Z][A-Z0-9_]+)["']""")
#: Variables of the machine rather than of Mendel, named where they are used.
NOT_SETTINGS = {"DJANGO_SETTINGS_MODULE", "CI", "HOME", "PATH", "TEST_REDIS_URL", "PYTHONUNBUFFERED"}


def settings_read() -> set[str]:
    names = set()
    for package in ("mendel", "breeding", "gallery", "frontend", "inference"):
        for path in (ROOT / package).rglob("*.py"):
            names |= set(READ.findall(path.read_text(encoding="utf-8")))
    return names - NOT_SETTINGS


def test_every_setting_read_from_the_environment_is_in_the_readme():
    names = settings_read()
    assert "DATABASE_URL" in names and "NEIGHBOURS_HNSW_M" in names  # the reader finds them
    missing = sorted(n for n in names if not re.search(rf"`\$?{n}\b", README))
    assert missing == [], f"add these to the README's settings table: {missing}"


def test_the_readme_counts_the_demo_works_the_demo_hangs():
    said = re.search(r"hangs (\d+) demo works", README)
    assert said and int(said.group(1)) == len(demo.TITLES) + len(demo.FIGURE_TITLES)


def test_the_readme_names_no_count_of_tests():
    assert not re.search(r"\b\d{3,} tests\b", README)
