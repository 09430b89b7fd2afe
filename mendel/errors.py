"""Error pages: JSON for the API and pictures, a plain page for people; never a trace."""

from __future__ import annotations

from django.http import HttpResponse, JsonResponse
from django.shortcuts import render
from django.template import loader

MACHINE_PREFIXES = ("/api/", "/r/")


def _wants_json(request) -> bool:
    return request.path.startswith(MACHINE_PREFIXES) or "application/json" in request.headers.get("Accept", "")


def not_found(request, exception=None):
    if _wants_json(request):
        return JsonResponse({"error": f"Nothing at {request.path}."}, status=404)
    return render(request, "mendel/404.html", status=404)


def server_error(request):
    if _wants_json(request):
        return JsonResponse({"error": "Something went wrong on our side. Try again shortly."}, status=500)
    return HttpResponse(loader.get_template("mendel/500.html").render(), status=500)
