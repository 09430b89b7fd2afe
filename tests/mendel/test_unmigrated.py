"""A command run against a database that was never set up (``addspace`` before the first
``make run``, say) answers with a sentence that says what to run, not a traceback."""

from __future__ import annotations

import subprocess
import sys
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest

from mendel.processes import ROOT
from tests.inference.snapshots import snapshot_bytes, tiny_stylegan2
from tests.servers import child_env, database_url_for_children

pytestmark = pytest.mark.django_db


@pytest.fixture
def empty_database():
    url = urlsplit(database_url_for_children())
    # beside the test database (test_mendel, or test_mendel_gw1 for a worker of a parallel run)
    name = "mendel_never_migrated_" + url.path.strip("/")
    admin = urlunsplit(url._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as db:
        db.execute(f"DROP DATABASE IF EXISTS {name}")
        db.execute(f"CREATE DATABASE {name}")
    yield urlunsplit(url._replace(path=f"/{name}"))
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
