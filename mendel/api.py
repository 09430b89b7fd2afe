"""One error shape for the whole API: ``{"error": "a sentence a person understands"}``,
plus ``"fields"`` (field -> messages) when the request body was invalid, and
``"retry_after"`` when waiting helps. Refusals of the site (``common.errors.Refused``)
and a database that has no connection free (503) come out in the same shape."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from breeding.budget import OverBudget
from common.errors import Refused
from mendel.errors import BUSY_RETRY_S, busy_message, database_busy


def _flatten(detail, prefix: str = "") -> dict[str, list[str]]:
    fields: dict[str, list[str]] = {}
    if isinstance(detail, dict):
        for key, value in detail.items():
            if isinstance(key, int):  # an item of a list field
                fields.update(_flatten(value, f"{prefix}[{key}]"))
                continue
            name = key if key != "non_field_errors" else ""
            fields.update(_flatten(value, f"{prefix}.{name}" if prefix and name else prefix or name))
    elif isinstance(detail, list):
        if all(isinstance(item, str) for item in detail):
            fields[prefix] = [str(item) for item in detail]
        else:
            for i, item in enumerate(detail):
                fields.update(_flatten(item, f"{prefix}[{i}]"))
    else:
        fields[prefix] = [str(detail)]
    return {k: v for k, v in fields.items() if v}


def exception_handler(exc, context):
    if isinstance(exc, RequestDataTooBig):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE // 1024
        return Response({"error": _("The request body is too large (limit %(limit)s KB).") % {"limit": limit}},
                        status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE)
    if isinstance(exc, Refused):
        return Response(exc.body(), status=exc.status_code, headers=exc.headers())
    if database_busy(exc):
        return Response({"error": busy_message(), "retry_after": BUSY_RETRY_S},
                        status=status.HTTP_503_SERVICE_UNAVAILABLE,
                        headers={"Retry-After": str(BUSY_RETRY_S)})
    response = drf_exception_handler(exc, context)
    if response is None:
        return None  # a real bug: Django's 500 handler answers
    if isinstance(exc, exceptions.ValidationError):
        fields = _flatten(exc.detail)
        first_field, messages = next(iter(fields.items()), ("", [_("Invalid request.")]))
        message = (_("%(field)s: %(message)s") % {"field": first_field, "message": messages[0]}
                   if first_field else messages[0])
        response.data = {"error": message, "fields": fields}
    elif isinstance(exc, exceptions.Throttled):
        wait = int(exc.wait or 1)
        if isinstance(exc, OverBudget):
            message = str(exc.detail)
        else:
            message = ngettext("Too many requests. Try again in %(wait)d second.",
                               "Too many requests. Try again in %(wait)d seconds.", wait) % {"wait": wait}
        response.data = {"error": message, "retry_after": wait}
    elif isinstance(exc, exceptions.NotAuthenticated):
        response.data = {"error": _("Log in first: this needs an account.")}
    else:
        detail = exc.detail if isinstance(exc, exceptions.APIException) else str(exc)
        response.data = {"error": str(detail)}
    return response

