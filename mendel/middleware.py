"""Requests no view can make sense of, refused up front with a sentence, not a 500 or a
guess: NUL characters (PostgreSQL cannot store them) and form bodies that do not parse.

This runs before the language middleware: a refusal speaks the request's language itself
(its address's prefix, the language cookie, ``Accept-Language``: ``languages.of_request``)."""

from __future__ import annotations

from urllib.parse import unquote

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.http import HttpResponse, JsonResponse
from django.utils import translation
from django.utils.cache import patch_vary_headers
from django.utils.http import parse_header_parameters
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from mendel.languages import of_request

NUL = gettext_lazy("Requests may not contain NUL characters.")
#: Room in a multipart body beyond its picture: boundaries, headers, a title.
MULTIPART_SLACK = 64 * 1024
UNREADABLE = gettext_lazy("The multipart body has no part that could be read.")


def _too_large(request) -> str | None:
    """A body larger than any upload may be, refused from its Content-Length before a byte
    of it is parsed (a sentence in the active language)."""
    from breeding.media import media_max_bytes
    from breeding.uploads import MAX_BYTES

    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return None
    if request.path == "/api/media/":  # a published film or sound may be larger
        if length > media_max_bytes() + MULTIPART_SLACK:
            return (_("The request is %(size)s MB; a published file may be at most %(most)s MB.")
                    % {"size": f"{length / 2**20:.1f}", "most": media_max_bytes() // 2**20})
        return None
    if length > MAX_BYTES + MULTIPART_SLACK:
        return (_("The request is %(size)s MB; an upload may be at most %(most)s MB.")
                % {"size": f"{length / 2**20:.1f}", "most": MAX_BYTES // 2**20})
    return None


def _problem(request) -> str | None:
    if "\x00" in request.path or "\x00" in unquote(request.META.get("QUERY_STRING", "")):
        return NUL
    content_type = request.META.get("CONTENT_TYPE", "")
    if request.method == "POST" and content_type.startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        # Django's multipart parser skips what it cannot read: a body with a broken
        # boundary comes out as an empty form, which a view would take for its defaults.
        if content_type.startswith("multipart/") and not request.POST and not request.FILES:
            _, params = parse_header_parameters(content_type)
            empty_form = len(f"--{params.get('boundary', '')}--\r\n")
            if int(request.META.get("CONTENT_LENGTH") or 0) > empty_form:
                return UNREADABLE
        if any("\x00" in k or "\x00" in v for k, values in request.POST.lists() for v in values):
            return NUL
    return None


def _refusal(request, message: str, status: int = 400):
    """The answer to a refused request, in its language (``message`` may be lazy)."""
    language = of_request(request)
    with translation.override(language):
        message = str(message)
    if request.path.startswith(("/api/", "/r/")):
        response = JsonResponse({"error": message}, status=status)
    else:
        response = HttpResponse(message, status=status, content_type="text/plain; charset=utf-8")
    response["Content-Language"] = language
    patch_vary_headers(response, ("Accept-Language", "Cookie"))
    return response


def refused(request):
    """The refusal of a request no view can make sense of, or None."""
    with translation.override(of_request(request)):
        if problem := _too_large(request):
            return _refusal(request, problem, 413)
        if problem := _problem(request):
            return _refusal(request, problem)
    return None


class RejectNulMiddleware:
    """A NUL byte in a path, query or form (``%00``) can never name anything here, and
    PostgreSQL refuses it in text; a multipart body with no readable part is a mistake.
    Answer 400 before any view sees them."""

    sync_capable = True
    async_capable = True

    def __init__(self, get_response):
        self.get_response = get_response
        if iscoroutinefunction(get_response):
            markcoroutinefunction(self)

    def __call__(self, request):
        if iscoroutinefunction(self):
            return self.__acall__(request)
        if (refusal := refused(request)) is not None:
            return refusal
        return self.get_response(request)

    async def __acall__(self, request):
        if (refusal := refused(request)) is not None:
            return refusal
        return await self.get_response(request)
