"""Uploads over the API: bring a picture in, follow its projection, cancel it.

``POST /api/uploads/`` takes one picture (multipart, field ``file``) and a space; it is
decoded and checked at once (``breeding.uploads``), so a bad file is refused with a sentence
before anything is kept, and its projection is queued as a job. Progress comes to the
owner's studio socket (``{"type": "upload", ...}``) and is also in
``GET /api/uploads/<id>/``. Uploads are their owner's alone: anyone else gets 404.
"""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import permissions, serializers, status
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from breeding import actions, projection
from breeding.models import Upload
from breeding.serializers import UploadSerializer
from breeding.uploads import MAX_BYTES
from common.parsers import MultiPartParser
from common.schema import error_response


class UploadFields(serializers.Serializer):
    space = serializers.SlugField(max_length=40, default="abstract",
                                  help_text="The space to project it into.")
    title = serializers.CharField(max_length=120, allow_blank=True, required=False, default="",
                                  help_text="The title of the work it becomes.")


class UploadIn(UploadFields):
    """What ``POST /api/uploads/`` takes (the file is read by ``receive``, not here)."""

    file = serializers.FileField(
        help_text=f"One picture: JPEG, PNG, WebP or GIF (its first frame), at most "
        f"{MAX_BYTES // 2**20} MB and 50 megapixels.")


def own_upload(request, public_id: str) -> Upload:
    upload = (Upload.objects.select_related("space", "creation")
              .filter(public_id=public_id, owner=request.user).first())
    if upload is None:
        raise NotFound(_("No upload with id %(id)s.") % {"id": repr(public_id)})
    return upload


class Uploads(APIView):
    permission_classes = [permissions.IsAuthenticated]
    parser_classes = [MultiPartParser]
    rate_limited = True  # 429 past the hourly allowance (documented by common.schema)

    @extend_schema(responses=UploadSerializer(many=True))
    def get(self, request):
        uploads = Upload.objects.select_related("space", "creation").filter(owner=request.user)
        return Response(UploadSerializer(uploads[:100], many=True).data)

    @extend_schema(
        request={"multipart/form-data": UploadIn},
        responses={202: UploadSerializer,
                   413: error_response("The picture is larger than an upload may be.")},
    )
    def post(self, request):
        files = [f for name in request.FILES for f in request.FILES.getlist(name)]
        fields = UploadFields(data=request.data)
        fields.is_valid(raise_exception=True)
        data = fields.validated_data
        made = actions.receive(request.user, files, data["space"], data["title"])
        return Response(UploadSerializer(made).data, status=status.HTTP_202_ACCEPTED)


class UploadDetail(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(responses=UploadSerializer)
    def get(self, request, public_id):
        return Response(UploadSerializer(own_upload(request, public_id)).data)


class UploadCancel(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(request=None, responses=UploadSerializer)
    def post(self, request, public_id):
        upload = own_upload(request, public_id)
        with transaction.atomic():
            if not projection.do_cancel_upload(upload):
                # it has ended: done, failed or cancelled, named as its status is shown
                raise ValidationError(_("This upload is %(status)s already: there is nothing "
                                        "to cancel.")
                                      % {"status": upload.get_status_display().lower()})
        return Response(UploadSerializer(upload).data)
