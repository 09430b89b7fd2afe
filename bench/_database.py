"""A throwaway database for the benchmarks that fill one with SQL (``bench/feed.py``,
``bench/notices.py``): made fresh on a Postgres server, migrated, dropped after."""

from __future__ import annotations

import os
import secrets
import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[1]


def log(message: str) -> None:
    """Progress, on stderr: stdout is the table or the JSON object."""
    print(message, file=sys.stderr, flush=True)


def server_url() -> str:
    """A URL of the PostgreSQL to use: ``DATABASE_URL``'s, or the embedded one's."""
    if url := os.environ.get("DATABASE_URL"):
        return url
    from mendel import embedded

    return embedded.database_url(ROOT)


def with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


def fresh_database(url: str, name: str) -> str:
    """Drop and create the database ``name`` on ``url``'s server; returns its URL."""
    import psycopg
    from psycopg import sql

    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return with_database(url, name)


def drop_database(url: str, name: str) -> None:
    import psycopg
    from psycopg import sql

    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def setup_django(database_url: str) -> None:
    """Django on the bench database, migrated."""
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(40))
    os.environ["DJANGO_SETTINGS_MODULE"] = "mendel.settings"
    os.environ.setdefault("INPROCESS_WORKER", "0")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
