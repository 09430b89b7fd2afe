"""Comments on public works (``gallery.comments`` decides who may do what):

- ``GET /api/creations/<id>/comments/``: the comments the requester may read, oldest first;
- ``POST`` there: a new one (``{"text": …}``), from an account a few minutes old;
- ``PATCH``/``DELETE /api/creations/<id>/comments/<comment>/``: its author edits or deletes
  it; staff ``DELETE`` to remove someone else's;
- ``PUT``/``DELETE …/<comment>/hidden/``: the work's owner hides it or shows it again;
- ``POST …/<comment>/report/`` (``{"reason": …}``): tell staff.

A work that is not public, or not there, answers one 404 sentence whatever it is.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy
from drf_spectacular.utils import extend_schema
from rest_framework import permissions, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from breeding.limits import client_address
from gallery import comments
from gallery.listings import GalleryPage
from gallery.models import COMMENT_MAX_LENGTH, REPORT_REASON_MAX_LENGTH


class CommentSerializer(serializers.Serializer):
    id = serializers.CharField()
    author = serializers.CharField(help_text="The author's username.")
    text = serializers.CharField(help_text="What the author wrote, as plain text.")
    html = serializers.CharField(help_text="The text as HTML to show: every character escaped, "
                                 "web addresses made links that open apart (rel=\"nofollow ugc "
                                 "noopener noreferrer\").")
    created = serializers.DateTimeField()
    edited = serializers.DateTimeField(allow_null=True, help_text="When its author last changed it.")
    hidden = serializers.BooleanField(help_text="Hidden by the work's owner: only they, its "
                                      "author and staff see it.")
    yours = serializers.BooleanField(help_text="Whether the requester wrote it.")


class CommentTextSerializer(serializers.Serializer):
    text = serializers.CharField(max_length=COMMENT_MAX_LENGTH,
                                 help_text="Plain text; web addresses become links.")


class ReportSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=REPORT_REASON_MAX_LENGTH,
                                   help_text="Why staff should look at the comment.")


class CommentPage(GalleryPage):
    page_size = 50
    max_page_size = 100
    invalid_cursor_message = gettext_lazy("No such page: the cursor was not made for these comments.")
    page_size_query_description = f"Comments per page (default {page_size}, at most {max_page_size})."


def _text(request, serializer_class, name: str) -> str:
    given = serializer_class(data=request.data)
    given.is_valid(raise_exception=True)
    return given.validated_data[name]


class Comments(APIView):
    """The comments of a public work, oldest first; or a new one."""

    permission_classes = [permissions.IsAuthenticatedOrReadOnly]
    pagination_class = CommentPage
    rate_limited = True  # writing: COMMENTS_PER_HOUR per account and per address

    @extend_schema(responses={200: CommentSerializer(many=True)})
    def get(self, request, public_id):
        work = comments.open_work(public_id)
        paginator = self.pagination_class(("created", "id"))
        page = paginator.paginate_queryset(comments.shown(work, request.user), request, view=self)
        return paginator.get_paginated_response([comments.as_dict(c, request.user) for c in page])

    @extend_schema(request=CommentTextSerializer, responses={201: CommentSerializer})
    def post(self, request, public_id):
        work = comments.open_work(public_id)
        text = _text(request, CommentTextSerializer, "text")
        made = comments.do_comment(request.user, work, text, client_address(request))
        return Response(comments.as_dict(made, request.user), status=status.HTTP_201_CREATED)


class CommentDetail(APIView):
    """Its author edits (``PATCH``) or deletes a comment; staff remove one (``DELETE``)."""

    permission_classes = [permissions.IsAuthenticated]
    rate_limited = True  # an edit counts as a comment written

    @extend_schema(request=CommentTextSerializer, responses={200: CommentSerializer})
    def patch(self, request, public_id, comment_id):
        comment = comments.find(comments.open_work(public_id), request.user, comment_id)
        text = _text(request, CommentTextSerializer, "text")
        comments.do_edit(request.user, comment, text, client_address(request))
        return Response(comments.as_dict(comment, request.user))

    @extend_schema(responses={204: None})
    def delete(self, request, public_id, comment_id):
        comment = comments.find(comments.open_work(public_id), request.user, comment_id)
        comments.do_delete(request.user, comment)
        return Response(status=status.HTTP_204_NO_CONTENT)


class CommentHidden(APIView):
    """The work's owner hides a comment (``PUT``) or shows it again (``DELETE``)."""

    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(request=None, responses={200: CommentSerializer})
    def put(self, request, public_id, comment_id):
        return self.hide(request, public_id, comment_id, True)

    @extend_schema(responses={200: CommentSerializer})
    def delete(self, request, public_id, comment_id):
        return self.hide(request, public_id, comment_id, False)

    @staticmethod
    def hide(request, public_id, comment_id, hidden: bool):
        comment = comments.find(comments.open_work(public_id), request.user, comment_id)
        comments.do_hide(request.user, comment, hidden)
        return Response(comments.as_dict(comment, request.user))


class CommentReportView(APIView):
    """Tell staff why a comment should not be there (they see it in the admin)."""

    permission_classes = [permissions.IsAuthenticated]
    rate_limited = True  # REPORTS_PER_HOUR per account

    @extend_schema(request=ReportSerializer, responses={204: None})
    def post(self, request, public_id, comment_id):
        comment = comments.find(comments.open_work(public_id), request.user, comment_id)
        reason = _text(request, ReportSerializer, "reason")
        comments.do_report(request.user, comment, reason)
        return Response(status=status.HTTP_204_NO_CONTENT)
