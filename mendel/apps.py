from __future__ import annotations

from django.apps import AppConfig


class MendelConfig(AppConfig):
    name = "mendel"
    verbose_name = "Mendel"

    def ready(self) -> None:
        from common import (
            names,
            schema,  # noqa: F401 - drf-spectacular extensions register on import
        )
        from mendel import (
            accounts,  # noqa: F401 - connects the log-out signal
            languages,  # noqa: F401 - connects the log-in signal
        )

        names.install()
