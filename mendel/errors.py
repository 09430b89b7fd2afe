"""Error pages: JSON for the API and pictures, a plain page for people; never a trace."""

from __future__ import annotations

from django.http import HttpResponse, JsonResponse
from django.views import defaults

MACHINE_PREFIXES = ("/api/", "/r/")


def _wants_json(request) -> bool:
    return request.path.startswith(MACHINE_PREFIXES) or "application/json" in request.headers.get("Accept", "")


def bad_request(request, exception=None):
    """A request Django itself could not read (a broken multipart body, a bad host...)."""
    if _wants_json(request):
        return JsonResponse({"error": "The request could not be read: check its headers and body."},
                            status=400)
    return defaults.bad_request(request, exception)


def not_found(request, exception=None):
    if _wants_json(request):
        return JsonResponse({"error": f"Nothing at {request.path}."}, status=404)
    return HttpResponse(
        "<!doctype html><title>Not found</title><body style='background:#101012;color:#ecebe8;"
        "font-family:system-ui;padding:3rem'><h1>Nothing here</h1><p>This page does not "
        "exist, or is not yours to see. <a style='color:#e0b36a' href='/'>Back to the "
        "gallery</a>.</p>",
        status=404,
    )


def server_error(request):
    if _wants_json(request):
        return JsonResponse({"error": "Something went wrong on our side. Try again shortly."}, status=500)
    return HttpResponse(
        "<!doctype html><title>Something went wrong</title><body style='background:#101012;"
        "color:#ecebe8;font-family:system-ui;padding:3rem'><h1>Something went wrong</h1><p>"
        "It is not your fault. Try again in a moment.</p>",
        status=500,
    )
