"""A command run against a database that was never set up (``addspace`` before the first
``make run``, say) answers with a sentence that says what to run, not a traceback."""

from __future__ import annotations

import subprocess
import sys

import psycopg
import pytest

from tests.inference.snapshots import snapshot_bytes, tiny_stylegan2
from tests.servers import ROOT, child_env, database_url_for_children

pytestmark = pytest.mark.django_db


@pytest.fixture
def empty_database():
    url = database_url_for_children()
    name = "mendel_never_migrated"
    admin = url.replace("/test_mendel?", "/postgres?") if "/test_mendel?" in url else None
    assert admin, url
    with psycopg.connect(admin, autocommit=True) as db:
        db.execute(f"DROP DATABASE IF EXISTS {name}")
        db.execute(f"CREATE DATABASE {name}")
    yield url.replace("/test_mendel?", f"/{name}?")
    with psycopg.connect(admin, autocommit=True) as db:
        db.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.mark.parametrize("command", [
    ["curator", "alice"],
    ["addspace", "--kind", "stylegan", "--path", "{snapshot}", "--slug", "faces", "--title", "Faces"],
    ["createsuperuser", "--noinput", "--username", "root", "--email", "root@example.org"],
])
def test_a_command_before_the_first_migration_says_what_to_run(empty_database, command, tmp_path):
    snapshot = tmp_path / "faces.pkl"
    snapshot.write_bytes(snapshot_bytes(tiny_stylegan2()))
    command = [part.format(snapshot=snapshot) for part in command]
    done = subprocess.run([sys.executable, "manage.py", *command], cwd=ROOT, capture_output=True,
                          text=True, timeout=120, env=child_env(
                              DATABASE_URL=empty_database, DJANGO_SUPERUSER_PASSWORD="a long pass 9"))
    assert done.returncode == 1
    assert done.stderr.strip().splitlines()[-1] == (
        "Mendel's database is not set up yet: run `make run` once, or "
        "`.venv/bin/python manage.py migrate`, then try again.")
    assert "Traceback" not in done.stderr
