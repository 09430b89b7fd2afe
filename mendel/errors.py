"""Error pages: JSON for the API and pictures, a plain page for people; never a trace."""

from __future__ import annotations

import sys

from django.core.exceptions import BadRequest
from django.http import HttpResponse, JsonResponse
from django.shortcuts import render
from django.template import loader
from django.utils.translation import gettext as _
from psycopg_pool import PoolClosed, PoolTimeout, TooManyRequests

from mendel.languages import in_readers_language

MACHINE_PREFIXES = ("/api/", "/r/")

#: Seconds a client is asked to wait when the database has no connection free.
BUSY_RETRY_S = 5


def database_busy(exc: BaseException) -> bool:
    """Whether ``exc`` is the database pool having no connection free in time (psycopg's
    ``PoolTimeout``, or a pool that is full or closing), as opposed to a broken query."""
    seen = exc
    for _depth in range(4):
        if isinstance(seen, PoolTimeout | TooManyRequests | PoolClosed):
            return True
        seen = seen.__cause__ or seen.__context__
        if seen is None:
            return False
    return False


def busy_message() -> str:
    return _("Mendel is too busy to answer just now. Try again in a few seconds.")


def _wants_json(request) -> bool:
    return request.path.startswith(MACHINE_PREFIXES) or "application/json" in request.headers.get("Accept", "")


def _page(title: str, text: str, status: int) -> HttpResponse:
    """A plain page, rendered without the request (it may be what is broken)."""
    page = loader.get_template("mendel/500.html").render({"title": title, "message": text})
    return HttpResponse(page, status=status)


@in_readers_language
def bad_request(request, exception=None):
    """Requests Django refuses before any view: too many form fields, a body that does not
    parse, a forged host."""
    message = _("The request could not be read: it is malformed or too large.")
    if isinstance(exception, BadRequest) and str(exception):
        message = str(exception)  # a view's own refusal, written for people
    if _wants_json(request):
        return JsonResponse({"error": message}, status=400)
    return _page(_("Bad request"), message, 400)


@in_readers_language
def forbidden(request, exception=None):
    message = _("You may not do this.")
    if _wants_json(request):
        return JsonResponse({"error": message}, status=403)
    return _page(_("Not allowed"), message, 403)


@in_readers_language
def csrf_failure(request, reason=""):
    message = _("The request was refused because its CSRF token is missing or wrong. Reload "
                "the page and try again.")
    if _wants_json(request):
        return JsonResponse({"error": message}, status=403)
    return render(request, "403_csrf.html", status=403)


@in_readers_language
def not_found(request, exception=None):
    if _wants_json(request):
        return JsonResponse({"error": _("Nothing at %(path)s.") % {"path": request.path}}, status=404)
    return render(request, "mendel/404.html", status=404)


@in_readers_language
def server_error(request):
    """Django's answer to an exception no view handled; a database with no connection free
    (raised before any view: reading the session, say) is a 503 with a sentence."""
    exc = sys.exc_info()[1]
    if exc is not None and database_busy(exc):
        headers = {"Retry-After": str(BUSY_RETRY_S)}
        if _wants_json(request):
            return JsonResponse({"error": busy_message(), "retry_after": BUSY_RETRY_S},
                                status=503, headers=headers)
        response = _page(_("Busy"), busy_message(), 503)
        response["Retry-After"] = str(BUSY_RETRY_S)
        return response
    if _wants_json(request):
        return JsonResponse({"error": _("Something went wrong on our side. Try again shortly.")}, status=500)
    return HttpResponse(loader.get_template("mendel/500.html").render(), status=500)
