"""Accounts beyond Django's own views: locked-out logins, API tokens and their revocation.

Failed logins are counted by django-axes (settings: ``AXES_*``) on the login form, the
admin's and ``POST /api/token/``; a locked-out pair of account and address is answered
with a sentence that says how long to wait: a page for people, JSON for the API.

A breeder's API token is deleted by ``DELETE /api/token/``, whenever they log out of the
site and whenever their password changes (by any way: a form, the admin, ``manage.py
changepassword``): logging out and changing one's password are what a person does after a
token or the password has leaked. A token given for the right password is a login: it clears
that account's and address's failed logins, as the login form does.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in, user_logged_out
from django.db.models.signals import post_save, pre_save
from django.dispatch import receiver
from django.http import JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import permissions, status
from rest_framework.authtoken.models import Token
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from breeding.events import close_session_sockets
from breeding.limits import in_words
from common.parsers import PARSERS


def lockout_message() -> str:
    wait = in_words(int(settings.AXES_COOLOFF_TIME.total_seconds()))
    return (_("Too many failed logins for this account from your address. Try again in %(wait)s.")
            % {"wait": wait})


def lockout_json() -> JsonResponse:
    seconds = int(settings.AXES_COOLOFF_TIME.total_seconds())
    return JsonResponse({"error": lockout_message(), "retry_after": seconds},
                        status=status.HTTP_429_TOO_MANY_REQUESTS,
                        headers={"Retry-After": str(seconds)})


def locked_out(request, original_response=None, credentials=None):
    """``AXES_LOCKOUT_CALLABLE``: the answer to a login refused for a locked-out pair.

    Every refused try starts the cool-off again, so the whole cool-off is the wait."""
    if request.path.startswith("/api/"):
        return lockout_json()
    return render(request, "registration/locked_out.html", {"message": lockout_message()},
                  status=status.HTTP_429_TOO_MANY_REQUESTS)


class AuthToken(ObtainAuthToken):
    """``POST``: a username and password give the account's API token (failed tries count
    towards a lockout, as on the login form). ``DELETE``: revoke one's token."""

    parser_classes = PARSERS  # DRF's token view names its own parsers: the guarded ones
    rate_limited = True  # 429 while locked out (documented by common.schema)

    def get_permissions(self):
        if self.request.method == "DELETE":
            return [permissions.IsAuthenticated()]
        return super().get_permissions()

    def post(self, request, *args, **kwargs):
        try:
            serializer = self.get_serializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            user = serializer.validated_data["user"]
            token, _made = Token.objects.get_or_create(user=user)
            # A login (django-axes clears the pair's failures on it; last_login is kept).
            user_logged_in.send(sender=user.__class__, request=request, user=user)
            return Response({"token": token.key})
        except ValidationError:
            # axes marks the request it was given: DRF's, not Django's
            if getattr(request, "axes_locked_out", False):
                return lockout_json()
            raise

    @extend_schema(request=None, responses={204: None})
    def delete(self, request, *args, **kwargs):
        Token.objects.filter(user=request.user).delete()
        return Response(status=status.HTTP_204_NO_CONTENT)


@receiver(user_logged_out)
def revoke_tokens_on_logout(sender, request, user, **kwargs):
    if user is not None:
        Token.objects.filter(user=user).delete()
        session = getattr(request, "session", None)
        close_session_sockets(user.pk, session.session_key if session is not None else None)


@receiver(pre_save, sender=get_user_model())
def notice_password_change(sender, instance, update_fields=None, **kwargs):
    if instance.pk is None or (update_fields is not None and "password" not in update_fields):
        return
    before = sender.objects.filter(pk=instance.pk).values_list("password", flat=True).first()
    instance._password_changed = before is not None and before != instance.password


@receiver(post_save, sender=get_user_model())
def revoke_tokens_on_password_change(sender, instance, **kwargs):
    """A new password ends the account's API tokens (in the transaction that saves it)."""
    if getattr(instance, "_password_changed", False):
        instance._password_changed = False
        Token.objects.filter(user=instance).delete()


#: Longer than any name Mendel accepts (150), short enough for axes' column (255).
ATTEMPTED_NAME_MAX = 160


def attempted_username(request, credentials=None) -> str | None:
    """The name a login tried, as django-axes records it: cut to a length its table holds,
    so a made-up name of a thousand characters is a failed login, not a failed request."""
    if credentials:
        name = credentials.get("username")
    else:
        name = getattr(request, "data", request.POST).get("username")
    return name[:ATTEMPTED_NAME_MAX] if isinstance(name, str) else name
