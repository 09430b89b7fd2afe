"""Logging filters (``LOGGING`` in settings)."""

from __future__ import annotations

import logging


class OneLineSecurity(logging.Filter):
    """Django's ``django.security.*`` records (a bad ``Host``, too many form fields, a form
    over ``DATA_UPLOAD_MAX_MEMORY_SIZE``) are written as their one sentence: they carry the
    traceback of an exception Django raised on purpose and answered with a 400, thirty lines
    a request that say nothing more and let anyone fill the log."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name.startswith("django.security."):
            record.exc_info = None
            record.exc_text = None
            record.stack_info = None
        return True
