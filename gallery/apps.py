from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy


class GalleryConfig(AppConfig):
    name = "gallery"
    verbose_name = gettext_lazy("Gallery")  # (the admin's heading)

    def ready(self) -> None:
        from django.conf import settings
        from django.db.models.signals import pre_delete

        from breeding.signals import listing_changed, works_made
        from gallery.trending import start_scores

        listing_changed.connect(_listing_changed, dispatch_uid="gallery.listing_changed")
        # The map: a work that leaves the public leaves it at once, one that enters is placed.
        from django.db.models.signals import post_delete

        from gallery.models import MapPoint

        listing_changed.connect(_map_listing, dispatch_uid="gallery.map_listing")
        post_delete.connect(_map_point_gone, sender=MapPoint, dispatch_uid="gallery.map_point_gone")
        works_made.connect(start_scores, dispatch_uid="gallery.trending")
        pre_delete.connect(_account_deleted, sender=settings.AUTH_USER_MODEL,
                           dispatch_uid="gallery.account_deleted")
        # Notices: breeding from someone's work tells them; a log-out closes its sockets.
        from django.contrib.auth.signals import user_logged_out

        from gallery import notices

        works_made.connect(_works_bred, dispatch_uid="gallery.notices")
        user_logged_out.connect(notices.logged_out, dispatch_uid="gallery.notices_logout")


def _listing_changed(sender, creation, visible: bool, listed: bool, **kwargs) -> None:
    from gallery.exhibitions import announce_listing

    announce_listing([creation.pk], listed=listed, visible=visible)


def _map_listing(sender, creation, visible: bool, listed: bool, **kwargs) -> None:
    from gallery.maps import listing_changed

    listing_changed(creation, listed)


def _map_point_gone(sender, instance, **kwargs) -> None:
    from gallery.maps import point_gone

    point_gone(instance)


def _account_deleted(sender, instance, **kwargs) -> None:
    """An account's works go with it: the exhibitions that show them say so."""
    from breeding.models import Creation
    from gallery.exhibitions import announce_listing

    announce_listing(Creation.objects.filter(owner=instance).values_list("pk", flat=True))


def _works_bred(sender, works, parents=(), **kwargs) -> None:
    from gallery.notices import bred

    bred(works, parents)
