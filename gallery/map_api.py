"""The map of a space (``gallery.maps``), for its page (``/map/<space>/``) and any client:
the map's state, its points as one binary answer, its atlas pages, a work by its order,
the requester's own works and a title search as orders, breeding from a place, and a
relayout for staff. Public works only: every answer asks ``Creation.objects.public()``."""

from __future__ import annotations

import threading

from cachetools import TTLCache
from django.core.files.storage import default_storage
from django.http import HttpResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import permissions, serializers, status
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.response import Response
from rest_framework.views import APIView

from breeding import budget, delivery, images, languages, spaces
from breeding.lookups import usable
from breeding.models import Creation, Space
from breeding.serializers import CreationSerializer, serialize
from common.errors import Refused
from common.params import parse
from gallery import maps
from gallery.models import MAP_CELLS, MapLayout

#: Seconds a browser or proxy may keep public map data (points, atlas pages), as pictures.
MAX_AGE = 300
CACHE = f"public, max-age={MAX_AGE}"
#: The longest title search.
MAX_QUERY = 100
#: Orders answered by a search, at most.
MAX_FOUND = 5000
#: The points of the latest (layout, state) of each space, kept in this process: public
#: data only, keyed on everything that changes it.
_points: TTLCache = TTLCache(maxsize=16, ttl=600)
_points_lock = threading.Lock()


def space_of(slug: str) -> Space:
    space = Space.objects.filter(slug=slug).first()
    if space is None:
        raise NotFound(_("There is no space %(slug)s.") % {"slug": repr(slug[:40])})
    return space


def layout_of(space: Space) -> MapLayout:
    layout = maps.current(space)
    if layout is None:
        raise NotFound(_("The %(space)s space has no map yet.") % {"space": spaces.title_of(space)})
    return layout


def can_breed(space: Space, user) -> bool:
    return bool(user.is_authenticated and spaces.availability(space).available)


class MapState(APIView):
    """A space's map: its layout, state, atlas pages, region labels and where to get its
    points; ``status`` says whether a relayout is under way (``progress``)."""

    @extend_schema(responses={200: OpenApiTypes.OBJECT})
    def get(self, request, space):
        space = space_of(space)
        layout = maps.current(space)
        build = maps.building(space)
        body = {
            "space": space.slug,
            "name": spaces.title_of(space),
            "layout": None,
            "status": "building" if build is not None else ("ready" if layout else "none"),
            "built": None,
            "works": 0,
            "state": 0,
            "cells": list(MAP_CELLS),
            "atlas": {},
            "points": None,
            "labels": [],
            "can_breed": can_breed(space, request.user) and layout is not None,
            "progress": build.fraction if build is not None else None,
        }
        if layout is not None:
            def url(cell, page, version):
                return reverse("api:map-atlas", args=[space.slug, layout.pk, cell, page]) + f"?v={version}"

            body.update({
                "layout": layout.pk,
                "built": layout.created.isoformat(),
                "works": layout.works,
                "state": layout.state,
                "atlas": maps.atlas_of(layout, url),
                "points": reverse("api:map-points", args=[space.slug])
                + f"?layout={layout.pk}&state={layout.state}",
                "labels": [{**label, "text": languages.shown(label["text"])}
                           for label in maps.labels_of(layout)],
            })
        return Response(body)


class MapPoints(APIView):
    """Every point of a space's map as one binary answer (application/octet-stream,
    little-endian): uint32 count, then per point uint32 order, float32 x, float32 y, uint32
    rgba. Always the map as it is now (``layout`` and ``state`` only make the address
    change when it does)."""

    @extend_schema(parameters=[OpenApiParameter("layout", int), OpenApiParameter("state", int)],
                   responses={(200, "application/octet-stream"): OpenApiTypes.BINARY})
    def get(self, request, space):
        layout = layout_of(space_of(space))
        key = (layout.pk, layout.state)
        with _points_lock:
            data = _points.get(key)
        if data is None:
            data = maps.points_binary(layout)
            with _points_lock:
                _points[key] = data
        response = HttpResponse(data, content_type="application/octet-stream")
        response["Cache-Control"] = CACHE
        return response


class AtlasPage(APIView):
    """One page of a map's atlas, a WebP (``?v=`` changes when the page does)."""

    @extend_schema(responses={(200, "image/webp"): OpenApiTypes.BINARY})
    def get(self, request, space, layout, cell, page):
        space = space_of(space)
        found = MapLayout.objects.filter(pk=layout, space=space).first()
        if found is None or cell not in MAP_CELLS or page >= len(found.atlas.get(str(cell), [])):
            raise NotFound(_("There is no such page of this map."))
        name = maps.page_name(found, cell, page)
        if not default_storage.exists(name):
            raise NotFound(_("There is no such page of this map."))
        with default_storage.open(name) as file:
            data = file.read()
        response = HttpResponse(data, content_type="image/webp")
        response["Cache-Control"] = CACHE
        return response


def on_map(space: str, order: int) -> Creation:
    layout = layout_of(space_of(space))
    work = (Creation.objects.public().filter(map_points__layout=layout, map_points__order=order)
            .select_related("space").first())
    if work is None:
        raise NotFound(_("No work is at %(order)d on this map.") % {"order": order})
    return work


class MapWork(APIView):
    """The work at an order of a space's map (what a click or a hover shows)."""

    @extend_schema(responses={200: OpenApiTypes.OBJECT})
    def get(self, request, space, order):
        work = on_map(space, order)
        return Response({"public_id": work.public_id, "title": languages.shown(work.title),
                         "url": reverse("frontend:work", args=[work.public_id]),
                         "thumb": images.of(work)["256"]})


def orders_of(layout: MapLayout, works) -> list[int]:
    return list(maps.shown_points(layout).filter(creation__in=works).order_by("order")
                .values_list("order", flat=True)[:MAX_FOUND])


class MapMine(APIView):
    """The orders of the requester's own works on a space's map (none for a visitor)."""

    @extend_schema(responses={200: OpenApiTypes.OBJECT})
    def get(self, request, space):
        layout = layout_of(space_of(space))
        if not request.user.is_authenticated:
            return Response({"orders": []})
        response = Response({"orders": orders_of(layout, Creation.objects.filter(owner=request.user))})
        response["Cache-Control"] = "private, no-cache"
        return response


class MapSearch(APIView):
    """The orders of the works on a space's map whose title contains ``q``."""

    @extend_schema(parameters=[OpenApiParameter("q", {"type": "string", "maxLength": MAX_QUERY})],
                   responses={200: OpenApiTypes.OBJECT})
    def get(self, request, space):
        layout = layout_of(space_of(space))
        query = request.query_params.get("q", "").strip()
        if len(query) > MAX_QUERY:
            raise Refused(_("A search is at most %(count)d characters.") % {"count": MAX_QUERY},
                          field="q")
        if not query:
            return Response({"orders": []})
        return Response({"orders": orders_of(layout, Creation.objects.filter(title__icontains=query))})


class BreedIn(serializers.Serializer):
    x = serializers.FloatField(min_value=0.0, max_value=1.0)
    y = serializers.FloatField(min_value=0.0, max_value=1.0)
    n = serializers.IntegerField(min_value=1, max_value=16, default=8)


class MapBreed(APIView):
    """New works bred from a place on the map: their latents blend those of the works near
    it, weighed by their distance on the map; drafts in the breeder's studio, answered as
    the random endpoint answers (``?pictures=`` too)."""

    permission_classes = [permissions.IsAuthenticated]
    rate_limited = True

    @extend_schema(request=BreedIn, responses={(201, "application/json"): CreationSerializer(many=True),
                                               (201, delivery.CONTENT_TYPE): OpenApiTypes.STR})
    def post(self, request, space):
        pictures = delivery.wanted_size(request)
        space = space_of(space)
        data = parse(BreedIn, request)
        usable(space)
        layout_of(space)
        budget.charge(request, budget.creations(data["n"], space.slug))
        made = maps.breed_here(request.user, space, data["x"], data["y"], data["n"])
        body = serialize(made, request.user, True)
        if pictures is None:
            return Response(body, status=status.HTTP_201_CREATED)
        return delivery.answer(body, made, pictures, status.HTTP_201_CREATED, request.user.pk)


class MapBuildView(APIView):
    """Lay out a space's map again (staff): the job, as its owner's socket hears of it."""

    permission_classes = [permissions.IsAuthenticated]
    rate_limited = True  # 429 past the allowance of relayouts (MAP_BUILDS_*)

    @extend_schema(request=None, responses={202: OpenApiTypes.OBJECT})
    def post(self, request, space):
        if not request.user.is_staff:
            raise PermissionDenied(_("Only staff can lay out a map again."))
        space = space_of(space)
        job = maps.start_build(space, request.user)
        return Response(job.event(), status=status.HTTP_202_ACCEPTED)
