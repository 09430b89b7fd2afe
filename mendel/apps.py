from __future__ import annotations

from django.apps import AppConfig


class MendelConfig(AppConfig):
    name = "mendel"
    verbose_name = "Mendel"

    def ready(self):
        # drf-spectacular extensions register on import, and must before any schema is made.
        from mendel import schema  # noqa: F401
