"""``manage.py curator <username> [--remove]``: let someone curate exhibitions (or not)."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Grant (or with --remove, take back) the permission to curate exhibitions."

    def add_arguments(self, parser) -> None:
        parser.add_argument("username")
        parser.add_argument("--remove", action="store_true", help="take the permission back")

    def handle(self, username: str, remove: bool = False, **options) -> None:
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No one called {username!r} here.")
        permission = Permission.objects.get(codename="curate", content_type__app_label="gallery")
        if remove:
            user.user_permissions.remove(permission)
            self.stdout.write(f"{username} can no longer curate exhibitions.")
        else:
            user.user_permissions.add(permission)
            self.stdout.write(f"{username} can now curate exhibitions.")
