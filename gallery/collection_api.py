"""Collections over the REST API: a breeder's named lists of works, public or private.

What a viewer is shown of a collection (its works, its count, its cover) is decided in
``gallery.collections``, by the one privacy rule; these views read the request, call it and
answer. A private collection of someone else's answers exactly as one that does not exist.
"""

from __future__ import annotations

from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import NotAuthenticated, ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from common.fields import StrictBoolean
from common.params import parse
from common.schema import error_response, whole_number_parameter
from gallery import collections, follows
from gallery.listings import GalleryPage, work


class CollectedWork(serializers.Serializer):
    """A work as lists show it (``gallery.listings.work``)."""

    id = serializers.CharField()
    title = serializers.CharField()
    owner = serializers.CharField()
    space = serializers.CharField()
    like_count = serializers.IntegerField()
    created = serializers.DateTimeField()
    images = serializers.DictField(child=serializers.CharField())
    kind = serializers.CharField(help_text='"picture" or "video".')


class Text(serializers.CharField):
    """A string, and only a string: DRF's own field would take ``0`` for ``"0"``."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            raise ValidationError(_("must be a string."))
        return super().to_internal_value(data)


class CollectionOut(serializers.Serializer):
    id = serializers.CharField()
    title = serializers.CharField()
    description = serializers.CharField()
    public = serializers.BooleanField(help_text="Anyone may open it; else only its owner.")
    owner = serializers.CharField()
    count = serializers.IntegerField(help_text="The works in it the requester is shown.")
    cover = CollectedWork(allow_null=True, help_text="The chosen cover, or the first work shown; "
                    "only ever a work the requester is shown.")
    created = serializers.DateTimeField()
    updated = serializers.DateTimeField()


class CollectionListed(CollectionOut):
    holds = serializers.BooleanField(required=False,
                                     help_text="With ?work=: whether it holds that work.")


class WorksPageOut(serializers.Serializer):
    next = serializers.CharField(allow_null=True)
    previous = serializers.CharField(allow_null=True)
    results = CollectedWork(many=True)


class CollectionIn(serializers.Serializer):
    # blank passes here so that the refusal is the collection's own sentence
    title = Text(max_length=120, allow_blank=True)
    description = Text(max_length=2000, allow_blank=True, required=False, default="")
    public = StrictBoolean(required=False, default=False)


class CollectionPatch(serializers.Serializer):
    title = Text(max_length=120, allow_blank=True, required=False)
    description = Text(max_length=2000, allow_blank=True, required=False)
    public = StrictBoolean(required=False)
    cover = Text(max_length=16, allow_blank=True, allow_null=True, required=False,
                 help_text="The id of a work in it; empty or null: the first work.")


class AddIn(serializers.Serializer):
    work = Text(max_length=16, help_text="The id of a public work, or of one of yours.")
    position = serializers.IntegerField(min_value=0, max_value=collections.MAX_ITEMS, required=False,
                                        help_text="Where among its works (from 0); by default last.")


class MoveIn(serializers.Serializer):
    position = serializers.IntegerField(min_value=0, max_value=collections.MAX_ITEMS,
                                        help_text="Where among its works (from 0).")


class ExhibitionMade(serializers.Serializer):
    exhibition = serializers.CharField(help_text="The new draft's slug.")
    title = serializers.CharField()
    hung = serializers.IntegerField(help_text="The works hung, in the collection's order.")
    left_out = serializers.IntegerField(help_text="Works of it the curator is shown that may not "
                                        "hang (not public).")


def logged_in(request) -> None:
    if not request.user.is_authenticated:
        raise NotAuthenticated()


def detail(request, collection) -> Response:
    return Response(collections.summary(collection, request.user))


class Collections(APIView):
    """A breeder's collections: the requester's own (logged in), or those of ``owner`` the
    requester may open."""

    rate_limited = True  # making collections is counted (COLLECTIONS_PER_HOUR)

    @extend_schema(
        parameters=[
            OpenApiParameter("owner", str, description="Their collections (public ones, or all "
                             "of them for yourself); by default your own (log in first)."),
            OpenApiParameter("work", {"type": "string", "maxLength": 16},
                             description="Say of each collection whether it holds this work (`holds`)."),
        ],
        responses={200: CollectionListed(many=True),
                   404: error_response("There is no one called `owner` here.")},
    )
    def get(self, request):
        if name := request.query_params.get("owner"):
            person = follows.person(name)
        else:
            logged_in(request)
            person = request.user
        work_id = request.query_params.get("work") or None
        if work_id is not None and len(work_id) > 16:
            raise ValidationError({"work": [_("must be at most %(most)s characters.") % {"most": 16}]})
        return Response(collections.summaries(collections.of_person(person, request.user),
                                              request.user, holding=work_id))

    @extend_schema(request=CollectionIn, responses={201: CollectionOut})
    def post(self, request):
        logged_in(request)
        data = parse(CollectionIn, request)
        made = collections.do_create(request.user, data["title"], data["description"], data["public"])
        return Response(collections.summary(made, request.user), status=status.HTTP_201_CREATED)


class CollectionDetail(APIView):
    """One collection (its works are ``works/``); its owner renames, describes, shares,
    covers and deletes it."""

    @extend_schema(responses=CollectionOut)
    def get(self, request, collection_id):
        return detail(request, collections.readable(request.user, collection_id))

    @extend_schema(request=CollectionPatch, responses=CollectionOut)
    def patch(self, request, collection_id):
        logged_in(request)
        collection = collections.owned(request.user, collection_id)
        data = parse(CollectionPatch, request)
        if "cover" in data:
            data["cover"] = data["cover"] or None
        collections.do_update(collection, **data)
        return detail(request, collection)

    @extend_schema(responses={204: None})
    def delete(self, request, collection_id):
        logged_in(request)
        collections.do_delete(collections.owned(request.user, collection_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


class CollectionWorks(APIView):
    """The works of a collection shown to the requester, in order, a cursor page at a time;
    its owner adds one (``POST``: a public work, or one of their own)."""

    rate_limited = True  # adding works is counted (COLLECTION_ADDS_PER_HOUR)
    pagination_class = GalleryPage

    @extend_schema(
        parameters=[
            OpenApiParameter("cursor", str, description="The page: the `next` or `previous` of "
                             "an earlier answer."),
            whole_number_parameter("limit", GalleryPage.page_size, 1, GalleryPage.max_page_size,
                                   "Works per page."),
        ],
        responses=WorksPageOut,
    )
    def get(self, request, collection_id):
        collection = collections.readable(request.user, collection_id)
        paginator = self.pagination_class(("position", "id"))
        page = paginator.paginate_queryset(collections.shown_items(collection, request.user),
                                           request, view=self)
        return paginator.get_paginated_response([work(item.creation) for item in page])

    @extend_schema(request=AddIn, responses={200: CollectionOut, 201: CollectionOut})
    def post(self, request, collection_id):
        """201 when the work was added, 200 when it was in the collection already."""
        logged_in(request)
        collection = collections.owned(request.user, collection_id)
        data = parse(AddIn, request)
        added = collections.do_add(collection, request.user, data["work"], data.get("position"))
        response = detail(request, collection)
        response.status_code = status.HTTP_201_CREATED if added else status.HTTP_200_OK
        return response


class CollectionWork(APIView):
    """A work in a collection: its owner moves it (``PATCH``) or takes it out (``DELETE``)."""

    @extend_schema(request=MoveIn, responses=CollectionOut)
    def patch(self, request, collection_id, work_id):
        logged_in(request)
        collection = collections.owned(request.user, collection_id)
        collections.do_move(collection, work_id, parse(MoveIn, request)["position"])
        return detail(request, collection)

    @extend_schema(responses=CollectionOut)
    def delete(self, request, collection_id, work_id):
        logged_in(request)
        collection = collections.owned(request.user, collection_id)
        collections.do_remove(collection, work_id)
        return detail(request, collection)


class CollectionExhibition(APIView):
    """A curator makes a draft exhibition of a collection they may open, in one step."""

    @extend_schema(request=None, responses={201: ExhibitionMade})
    def post(self, request, collection_id):
        logged_in(request)
        collection = collections.readable(request.user, collection_id)
        made = collections.do_to_exhibition(collection, request.user)
        return Response(made, status=status.HTTP_201_CREATED)
