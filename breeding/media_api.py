"""Published works over the API: publish a picture, a video, a sound or a text made
anywhere, follow a video's or a sound's transcoding, cancel it.

``POST /api/media/`` takes the work (multipart with ``file`` for a picture, a video or a
sound; JSON or a form for a text) with its title, statement, techniques, credits, links,
licence, visibility and the bred work it was made with. A text or a picture is a work at
once (201); a video or a sound is checked at once (a file that is not one is refused with
the reason) and transcoded by a job (202): progress comes to the owner's studio socket
(``{"type": "media", ...}``) and is in ``GET /api/media/<id>/``. The rows of the job are
their owner's alone; the work it becomes follows the privacy rule of every work.
"""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import permissions, serializers, status
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from breeding import media
from breeding.models import Licence, MediaWork, Medium, Technique
from breeding.serializers import MediaSerializer
from common.parsers import JSONParser, MultiPartParser


class MediaIn(serializers.Serializer):
    """What ``POST /api/media/`` takes (documentation: ``breeding.media`` checks it)."""

    kind = serializers.ChoiceField(choices=Medium.choices)
    title = serializers.CharField(max_length=media.TITLE_MAX)
    file = serializers.FileField(required=False, help_text=(
        "A picture (JPEG, PNG, WebP, GIF), a video (MP4, MOV, WebM, MKV) or a sound (M4A, MP3, "
        "Ogg, Opus, FLAC, WAV); judged by its content, not its name."))
    text = serializers.CharField(required=False, max_length=media.TEXT_MAX,
                                 help_text="A text work's words.")
    markdown = serializers.BooleanField(required=False, help_text=(
        "Read the text as Markdown (emphasis, headings, lists, quotes, rules; no links, "
        "pictures or HTML)."))
    statement = serializers.CharField(required=False, max_length=media.STATEMENT_MAX)
    techniques = serializers.ListField(child=serializers.CharField(max_length=media.TECHNIQUE_MAX),
                                       required=False, max_length=media.TECHNIQUES_MAX)
    credits = serializers.CharField(required=False, max_length=media.CREDITS_MAX)
    links = serializers.ListField(child=serializers.DictField(), required=False,
                                  max_length=media.LINKS_MAX,
                                  help_text='[{"url": "https://...", "label": "..."}]')
    licence = serializers.ChoiceField(choices=Licence.choices, required=False)
    visibility = serializers.ChoiceField(choices=media.PUBLISHABLE, required=False)
    made_with = serializers.CharField(required=False, max_length=16,
                                      help_text="The id of a bred work it was made with.")


def own_media(request, public_id: str) -> MediaWork:
    job = MediaWork.own(request.user, public_id, "creation")
    if job is None:
        raise NotFound(_("No published file with id %(id)s.") % {"id": repr(public_id)})
    return job


class MediaWorks(APIView):
    permission_classes = [permissions.IsAuthenticated]
    parser_classes = [MultiPartParser, JSONParser]
    rate_limited = True  # 429 past the hourly allowance (documented by common.schema)

    @extend_schema(responses=MediaSerializer(many=True))
    def get(self, request):
        mine = MediaWork.objects.select_related("creation").filter(owner=request.user)
        return Response(MediaSerializer(mine[:100], many=True).data)

    @extend_schema(request={"multipart/form-data": MediaIn, "application/json": MediaIn},
                   responses={201: MediaSerializer, 202: MediaSerializer})
    def post(self, request):
        if not hasattr(request.data, "get"):
            raise ValidationError(_("The body must be a form or a JSON object naming the work's "
                                    "kind and title."))
        job = media.publish(request.user, request.data, request.FILES)
        done = job.status == MediaWork.Status.DONE
        return Response(MediaSerializer(job).data,
                        status=status.HTTP_201_CREATED if done else status.HTTP_202_ACCEPTED)


class MediaDetail(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(responses=MediaSerializer)
    def get(self, request, public_id):
        return Response(MediaSerializer(own_media(request, public_id)).data)


class MediaCancel(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(request=None, responses=MediaSerializer)
    def post(self, request, public_id):
        job = own_media(request, public_id)
        with transaction.atomic():
            if not job.cancel():
                raise ValidationError(_("This file is %(status)s already: there is nothing "
                                        "to cancel.") % {"status": job.get_status_display().lower()})
        job.source.delete(save=True)
        return Response(MediaSerializer(job).data)


class TechniqueSerializer(serializers.ModelSerializer):
    class Meta:
        model = Technique
        fields = ["slug", "name"]


class Techniques(APIView):
    """The techniques and tools works were made with, a list that grows: the built-in ones
    and those of the works the asker may list."""

    permission_classes = [permissions.AllowAny]

    @extend_schema(responses=TechniqueSerializer(many=True))
    def get(self, request):
        offered = Technique.objects.offered_to(request.user).order_by("name")[:500]
        return Response(TechniqueSerializer(offered, many=True).data)
