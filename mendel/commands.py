"""What ``manage.py`` says when a command meets a database that was never set up."""

from __future__ import annotations

from django.utils.translation import gettext as _

#: PostgreSQL's code for a table that does not exist (``undefined_table``).
UNDEFINED_TABLE = "42P01"


def unmigrated(error: BaseException) -> str | None:
    """A sentence for an error that means the database has no tables yet (a command run
    before the first ``make run``), or None for any other error."""
    cause, seen = error, 0
    while cause is not None and seen < 10:  # Django's error wraps psycopg's, which has the code
        if getattr(cause, "sqlstate", None) == UNDEFINED_TABLE:
            break
        cause, seen = cause.__cause__ or cause.__context__, seen + 1
    else:
        return None
    return _("Mendel's database is not set up yet: run `make run` once, or "
             "`.venv/bin/python manage.py migrate`, then try again.")
