from __future__ import annotations

from django.apps import AppConfig


class MendelConfig(AppConfig):
    name = "mendel"
    verbose_name = "Mendel"

    def ready(self) -> None:
        from mendel import names

        names.install()
