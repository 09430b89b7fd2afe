"""Uploads over the API: bring a picture in, follow its projection, cancel it.

``POST /api/uploads/`` takes one picture (multipart, field ``file``) and a space; it is
decoded and checked at once (``breeding.uploads``), so a bad file is refused with a sentence
before anything is kept, and its projection is queued as a job. Progress comes to the
owner's studio socket (``{"type": "upload", ...}``) and is also in
``GET /api/uploads/<id>/``. Uploads are their owner's alone: anyone else gets 404.
"""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import permissions, serializers, status
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from breeding import actions, spaces
from breeding.errors import Refused
from breeding.jobs import Gate, release_connection
from breeding.models import Space, Upload
from breeding.uploads import MAX_BYTES, UploadRefused, check_files, decode, read_limited
from mendel.parsers import MultiPartParser
from mendel.schema import error_response


def can_project(space: Space) -> bool:
    from inference.projection import can_project as space_can_project

    if not spaces.availability(space).available:
        return False
    if spaces.is_added(space):  # known by kind, without loading its weights here
        return space.kind in spaces.PROJECTING_KINDS
    try:
        return space_can_project(space.generator())
    except KeyError:  # a space this process cannot load
        return False


class UploadSerializer(serializers.ModelSerializer):
    id = serializers.CharField(source="public_id", read_only=True)
    space = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    creation = serializers.SerializerMethodField(
        help_text="The id of the work projected from the picture, once it is done.")
    original = serializers.SerializerMethodField(
        help_text="The uploaded picture as Mendel keeps it (re-encoded, without metadata); "
        "for its owner only.")
    thumb = serializers.SerializerMethodField(
        help_text="The uploaded picture within 640 px (WebP); for its owner only.")
    fraction = serializers.FloatField(read_only=True, help_text="Progress of the projection, 0 to 1.")

    class Meta:
        model = Upload
        fields = ["id", "space", "title", "status", "width", "height", "source_format", "step",
                  "steps", "fraction", "loss", "eta_s", "psnr_db", "error", "creation",
                  "original", "thumb", "created", "finished"]
        read_only_fields = fields  # an answer: every field is always there

    def get_creation(self, upload) -> str | None:
        return upload.creation.public_id if upload.creation_id else None

    def get_original(self, upload) -> str:
        return f"/uploads/{upload.public_id}/original"

    def get_thumb(self, upload) -> str:
        return f"/uploads/{upload.public_id}/thumb"


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
    upload = Upload.own(request.user, public_id, "space", "creation")
    if upload is None:
        raise NotFound(f"No upload with id {public_id!r}.")
    return upload


#: Pictures decoded at once in this process (decoding a large one takes a core and up to
#: 150 MB for a while): one a core, and another upload waits its turn for a while.
DECODING = Gate(settings.UPLOAD_DECODES)


def busy() -> Refused:
    return Refused(_("Mendel is busy reading other pictures just now. Try again in a "
                     "moment."), 503, wait=5)


def receive(user, files: list, space_slug: str, title: str = "") -> Upload:
    """Check, decode and keep one uploaded picture, and queue its projection; or ``Refused``.

    The cheap checks come first (which space, how many files, their size), then the
    breeder's allowance (``Upload.admit``: a place held while the picture is read), then the
    decoding (``breeding.uploads``), with no database connection held and at most
    ``UPLOAD_DECODES`` at once; only a picture that decodes counts against the allowance.
    """
    space = Space.objects.filter(slug=space_slug).first()
    if space is None:
        raise Refused(f"There is no space {space_slug[:40]!r}.", field="space")
    state = spaces.availability(space)
    if not state.available:
        raise Refused(f"The {space.slug} space is unavailable. {state.reason}", 503, field="space")
    if not can_project(space):
        raise Refused(f"The {space.slug} space cannot take uploads.", field="space")
    try:
        file = check_files(files)
    except UploadRefused as refused:
        raise Refused(refused.message, 413 if refused.code == "too-large" else 400,
                      field="file") from None
    with Upload.admit(user):  # a refusal from here on does not count against it
        data = read_limited(file)
        release_connection()
        try:
            with DECODING.slot(settings.UPLOAD_DECODE_WAIT_S, busy):
                decoded = decode(data, file.name, file.content_type)
                thumb = actions.thumb_of(decoded.image)
        except UploadRefused as refused:
            raise Refused(refused.message, 413 if refused.code == "too-large" else 400,
                          field="file") from None
        return actions.do_upload(user, space, decoded, title, thumb=thumb)


class Uploads(APIView):
    permission_classes = [permissions.IsAuthenticated]
    parser_classes = [MultiPartParser]
    rate_limited = True  # 429 past the hourly allowance (documented by mendel.schema)

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
        made = receive(request.user, files, data["space"], data["title"])
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
            if not actions.do_cancel_upload(upload):
                raise ValidationError(f"This upload is {upload.status} already: there is "
                                      f"nothing to cancel.")
        return Response(UploadSerializer(upload).data)
