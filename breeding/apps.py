from __future__ import annotations

from django.apps import AppConfig


class BreedingConfig(AppConfig):
    name = "breeding"
    verbose_name = "Breeding"

    def ready(self) -> None:
        from breeding.spaces import resolve
        from inference.space import add_resolver

        add_resolver(resolve)  # spaces added by operators, found by slug
