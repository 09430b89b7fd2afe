from __future__ import annotations

from django.apps import AppConfig


class GalleryConfig(AppConfig):
    name = "gallery"
    verbose_name = "Gallery"

    def ready(self) -> None:
        from breeding.signals import works_made
        from gallery.trending import start_scores

        works_made.connect(start_scores, dispatch_uid="gallery.trending")
