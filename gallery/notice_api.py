"""A breeder's notices over the REST API: the list (newest first, a cursor page at a time,
with the unread count), marking them read, and which kinds they are told of.

What is listed follows ``gallery.notices.shown``: never a notice about a work the breeder
may no longer see. The same notices are pushed live on ``/ws/notices/``.
"""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import permissions, serializers
from rest_framework.exceptions import NotFound
from rest_framework.pagination import Cursor
from rest_framework.response import Response
from rest_framework.views import APIView

from common.errors import Refused
from common.fields import StrictBoolean
from common.numbers import DIGITS
from common.schema import error_response, whole_number_parameter
from gallery import notices
from gallery.listings import LimitedPage
from gallery.models import NoticeKind


class NoticeWorkOut(serializers.Serializer):
    id = serializers.CharField()
    title = serializers.CharField()
    images = serializers.DictField(child=serializers.CharField())


class NoticeExhibitionOut(serializers.Serializer):
    slug = serializers.CharField()
    title = serializers.CharField()


class NoticeOut(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=NoticeKind.choices)
    read = serializers.BooleanField()
    created = serializers.DateTimeField()
    text = serializers.CharField(help_text="The notice in a sentence, in the requester's language.")
    link = serializers.CharField(help_text="The page it is about (a path on this site).")
    actor = serializers.CharField(allow_null=True, help_text="Who did it (none for `hung`).")
    work = NoticeWorkOut(allow_null=True, help_text="The requester's own work it is about.")
    child = NoticeWorkOut(allow_null=True, help_text="For `bred`: the newest work bred from theirs that "
                    "is listed for them (a draft or private one never is).")
    exhibition = NoticeExhibitionOut(allow_null=True)


class NoticePageOut(serializers.Serializer):
    unread = serializers.IntegerField(help_text=f"Unread notices, counted up to {notices.UNREAD_MAX}.")
    next = serializers.CharField(allow_null=True)
    previous = serializers.CharField(allow_null=True)
    results = NoticeOut(many=True)


class NoticePage(LimitedPage):
    """The cursor of the notice list: a notice's id, and which way from it. Pages are read by
    ``gallery.notices.rows_page`` (a statement compiled once), not by slicing a queryset."""

    ordering = ("-id",)
    page_size = notices.PAGE_SIZE
    max_page_size = 100
    page_size_query_param = "limit"
    invalid_cursor_message = gettext_lazy("No such page: the cursor was not made by this list.")
    page_size_query_description = f"Notices per page (default {page_size}, at most {max_page_size})."

    def decode_cursor(self, request):
        """A position made by hand that is not a notice's id is a 404, not a 500."""
        cursor = super().decode_cursor(request)
        position = None if cursor is None else cursor.position
        if position is not None and not (DIGITS.fullmatch(position) and len(position) <= 18):
            raise NotFound(self.invalid_cursor_message)
        return cursor

    def respond(self, request) -> Response:
        """The page the request's cursor names: ``{"next", "previous", "results"}``, newest
        first; ``next`` goes to older notices, ``previous`` to newer ones."""
        self.base_url = request.build_absolute_uri()
        size = self.get_page_size(request)
        cursor = self.decode_cursor(request)
        position = int(cursor.position) if cursor is not None and cursor.position is not None else None
        newer = bool(cursor and cursor.reverse and position is not None)
        rows, more = notices.rows_page(request.user, position, size, newer=newer)
        older = True if newer else more
        newer_ones = more if newer else position is not None

        def link(row, back: bool) -> str:
            return self.encode_cursor(Cursor(offset=0, reverse=back, position=str(row.id)))

        return Response({
            "next": link(rows[-1], False) if rows and older else None,
            "previous": link(rows[0], True) if rows and newer_ones else None,
            "results": notices.describe(rows),
        })


class Notices(APIView):
    """The requester's notices, newest first, and how many are unread."""

    permission_classes = [permissions.IsAuthenticated]
    pagination_class = NoticePage

    @extend_schema(
        parameters=[
            OpenApiParameter("cursor", str, description="A page's `next` or `previous` cursor."),
            whole_number_parameter("limit", NoticePage.page_size, 1, NoticePage.max_page_size,
                                   "Notices per page."),
        ],
        responses={200: NoticePageOut, 404: error_response("The cursor is invalid.")},
    )
    def get(self, request):
        response = self.pagination_class().respond(request)
        response.data = {"unread": notices.unread_count(request.user), **response.data}
        return response


class ReadIn(serializers.Serializer):
    all = StrictBoolean(required=False, help_text="Mark every notice read.")
    ids = serializers.ListField(child=serializers.IntegerField(min_value=1, max_value=2**63 - 1), required=False,
                                max_length=notices.PAGE_SIZE * 4,
                                help_text="Mark these notices read (others' ids are passed over).")


class UnreadOut(serializers.Serializer):
    unread = serializers.IntegerField()


class Read(APIView):
    """Mark notices read: ``{"all": true}``, or ``{"ids": [...]}``."""

    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(request=ReadIn, responses={200: UnreadOut})
    def post(self, request):
        body = ReadIn(data=request.data)
        body.is_valid(raise_exception=True)
        every, ids = body.validated_data.get("all", False), body.validated_data.get("ids")
        if every == (ids is not None):
            raise Refused(_('Say which notices to mark read: {"all": true}, or {"ids": [...]}.'))
        notices.mark_read(request.user, None if every else ids)
        return Response({"unread": notices.unread_count(request.user)})


class SettingsOut(serializers.Serializer):
    liked = serializers.BooleanField()
    bred = serializers.BooleanField()
    hung = serializers.BooleanField()
    commented = serializers.BooleanField()
    followed = serializers.BooleanField()


class SettingsIn(serializers.Serializer):
    liked = StrictBoolean(required=False)
    bred = StrictBoolean(required=False)
    hung = StrictBoolean(required=False)
    commented = StrictBoolean(required=False)
    followed = StrictBoolean(required=False)


class Settings(APIView):
    """Which kinds of notice the requester is told of (true) or not (false). ``PUT`` changes
    the kinds it names and leaves the others."""

    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(responses={200: SettingsOut})
    def get(self, request):
        return Response(notices.wanted(request.user))

    @extend_schema(request=SettingsIn, responses={200: SettingsOut})
    def put(self, request):
        if not isinstance(request.data, dict):
            raise Refused(_("Send an object of kinds, each true or false."))
        return Response(notices.set_wanted(request.user, dict(request.data)))
