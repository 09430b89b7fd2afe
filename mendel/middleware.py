"""Requests PostgreSQL could not store: refused up front with a sentence, not a 500."""

from __future__ import annotations

from urllib.parse import unquote

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.http import HttpResponseBadRequest, JsonResponse

MESSAGE = "Requests may not contain NUL characters."


def _has_nul(request) -> bool:
    if "\x00" in request.path or "\x00" in unquote(request.META.get("QUERY_STRING", "")):
        return True
    content_type = request.META.get("CONTENT_TYPE", "")
    if request.method == "POST" and content_type.startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        return any("\x00" in k or "\x00" in v for k, values in request.POST.lists() for v in values)
    return False


def _refusal(request):
    if request.path.startswith(("/api/", "/r/")):
        return JsonResponse({"error": MESSAGE}, status=400)
    return HttpResponseBadRequest(MESSAGE, content_type="text/plain; charset=utf-8")


class RejectNulMiddleware:
    """A NUL byte in a path, query or form (``%00``) can never name anything here, and
    PostgreSQL refuses it in text: answer 400 before any view queries with it."""

    sync_capable = True
    async_capable = True

    def __init__(self, get_response):
        self.get_response = get_response
        if iscoroutinefunction(get_response):
            markcoroutinefunction(self)

    def __call__(self, request):
        if iscoroutinefunction(self):
            return self.__acall__(request)
        if _has_nul(request):
            return _refusal(request)
        return self.get_response(request)

    async def __acall__(self, request):
        if _has_nul(request):
            return _refusal(request)
        return await self.get_response(request)
