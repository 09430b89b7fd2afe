"""Morph videos over the API: ask for one, follow its rendering, cancel it, preview it.

``POST /api/videos/`` takes keyframes (works the requester can see, in one space, in order)
and how to draw the path; it answers 202 with the video, whose rendering is a job.
Progress comes to the owner's studio socket (``{"type": "video", ...}``) and is also in
``GET /api/videos/<id>/``. Once done the video is a work (``creation``), and its files are
served at ``/videos/<id>/video.mp4``, ``video.webm`` and ``poster.webp`` to whoever may
see that work. ``POST /api/videos/preview/`` answers a small WebM at once.
"""

from __future__ import annotations

from django.core.cache import cache
from django.db import transaction
from django.http import HttpResponse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import permissions, serializers, status
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from breeding import budget, videos
from breeding.jobs import release_connection
from breeding.models import Space, Video
from breeding.videos import files_of
from common.errors import Refused as Refusal
from inference import video as engine

HOUR_S = 3600
#: A preview still marked as being made after this long is taken to have died with its process.
PREVIEW_BUSY_S = 120


class VideoFilesSerializer(serializers.Serializer):
    mp4 = serializers.CharField(help_text="H.264 in MP4 (yuv420p, fast start).")
    webm = serializers.CharField(help_text="VP9 in WebM.")
    poster = serializers.CharField(help_text="The first frame, as WebP.")


class VideoSerializer(serializers.ModelSerializer):
    id = serializers.CharField(source="public_id", read_only=True)
    space = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    fraction = serializers.FloatField(read_only=True, help_text="Progress of the rendering, 0 to 1.")
    creation = serializers.SerializerMethodField(
        help_text="The id of the work the video became, once it is done.")
    files = serializers.SerializerMethodField()

    class Meta:
        model = Video
        fields = ["id", "space", "title", "keyframes", "settings", "status", "frames_done",
                  "frames_total", "fraction", "eta_s", "duration_s", "error", "creation",
                  "files", "created", "finished"]
        read_only_fields = fields  # an answer: every field is always there

    def get_creation(self, video) -> str | None:
        return video.creation.public_id if video.creation_id else None

    @extend_schema_field(VideoFilesSerializer(allow_null=True))
    def get_files(self, video) -> dict | None:
        return files_of(video)


class VideoIn(serializers.Serializer):
    keyframes = serializers.ListField(
        child=serializers.RegexField(r"^[a-z0-9]{4,16}$", max_length=16),
        min_length=1, max_length=engine.MAX_KEYFRAMES,
        help_text=f"Ids of the works to pass through, in order: {engine.MIN_KEYFRAMES} to "
        f"{engine.MAX_KEYFRAMES} for a morph, one for a camera move.")
    title = serializers.CharField(max_length=120, allow_blank=True, required=False, default="")
    seconds_per_step = serializers.FloatField(
        min_value=0.1, max_value=engine.MAX_SECONDS, required=False,
        help_text="Seconds from one keyframe to the next (2 if neither this nor duration is given).")
    duration = serializers.FloatField(
        min_value=0.1, max_value=engine.MAX_SECONDS, required=False,
        help_text="The whole video's length in seconds, instead of seconds_per_step; a "
        "camera move's length.")
    fps = serializers.ChoiceField(choices=engine.FPS, default=30)
    size = serializers.ChoiceField(choices=engine.SIZES, default=512, help_text="Side in pixels.")
    loop = serializers.BooleanField(default=False, help_text="Return to the first keyframe.")
    easing = serializers.ChoiceField(choices=engine.EASINGS, default="ease-in-out")
    even_speed = serializers.BooleanField(
        default=True, help_text="Space the frames by how much the picture changes, so the "
        "motion looks steady.")
    camera = serializers.ChoiceField(
        choices=videos.CAMERAS, default="none",
        help_text="A camera move over one picture instead of a morph (spaces that paint an "
        "unbounded canvas).")
    zoom = serializers.FloatField(min_value=1.25, max_value=engine.MAX_ZOOM, default=2.0,
                                  help_text="How far a camera move zooms.")

    def validate(self, data):
        if "seconds_per_step" in data and "duration" in data:
            raise ValidationError({"duration": [_("give seconds_per_step or duration, not "
                                                  "both.")]})
        if data["camera"] != "none" and "seconds_per_step" in data:
            raise ValidationError({"duration": [_("a camera move takes a duration.")]})
        if "seconds_per_step" not in data and "duration" not in data:
            if data["camera"] != "none":
                data["duration"] = 4.0
            else:
                data["seconds_per_step"] = 2.0
        return data


def requested(request) -> tuple[Space, list, videos.Plan, str]:
    """The space, keyframes (as the requester may see them) and plan of a request; 400
    with a sentence when it cannot be made."""
    body = VideoIn(data=request.data)
    body.is_valid(raise_exception=True)
    data = dict(body.validated_data)
    title = data.pop("title")
    ids = data.pop("keyframes")
    data.setdefault("seconds_per_step", None)
    data.setdefault("duration", None)
    plan = videos.Plan(**data)
    try:
        keyframes = videos.keyframes_of(request.user, ids)
        space = keyframes[0].space
        videos.check(space, keyframes, plan)
    except Refusal as refused:
        raise ValidationError({"keyframes": [str(refused)]}) from None
    return space, keyframes, plan, title


def own_video(request, public_id: str) -> Video:
    video = Video.own(request.user, public_id, "space", "creation")
    if video is None:
        raise NotFound(_("No video with id %(id)s.") % {"id": repr(public_id)})
    return video


class Videos(APIView):
    permission_classes = [permissions.IsAuthenticated]
    rate_limited = True  # 429 past the hourly allowance (documented by common.schema)

    @extend_schema(responses=VideoSerializer(many=True))
    def get(self, request):
        mine = Video.objects.select_related("space", "creation").filter(owner=request.user)
        return Response(VideoSerializer(mine[:100], many=True).data)

    @extend_schema(request=VideoIn, responses={202: VideoSerializer})
    def post(self, request):
        space, keyframes, plan, title = requested(request)
        with Video.admit(request.user):  # refused (429) past the owner's allowance
            video = videos.do_video(request.user, space, keyframes, plan, title)
        return Response(VideoSerializer(video).data, status=status.HTTP_202_ACCEPTED)


class VideoDetail(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(responses=VideoSerializer)
    def get(self, request, public_id):
        return Response(VideoSerializer(own_video(request, public_id)).data)


class VideoCancel(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(request=None, responses=VideoSerializer)
    def post(self, request, public_id):
        video = own_video(request, public_id)
        with transaction.atomic():
            if not videos.do_cancel(video):
                # it has ended: done, failed or cancelled, named as its status is shown
                raise ValidationError(_("This video is %(status)s already: there is nothing "
                                        "to cancel.")
                                      % {"status": video.get_status_display().lower()})
        return Response(VideoSerializer(video).data)


class VideoPreview(APIView):
    permission_classes = [permissions.IsAuthenticated]
    rate_limited = True  # 429 past the render budget

    @extend_schema(request=VideoIn, responses={
        (200, "video/webm"): OpenApiResponse(OpenApiTypes.BINARY, description=(
            f"A {engine.PREVIEW_SIZE} px, {engine.PREVIEW_FPS} fps WebM of the video."))})
    def post(self, request):
        space, keyframes, plan, _title = requested(request)
        # One preview at a time per person (another waits for none: the render queue takes
        # people in turn), charged by the CPU seconds it measured (planning, rendering,
        # encoding), not by its pixels: a long preview costs far more than its frames' area.
        busy = f"video-preview:{request.user.pk}"
        if not cache.add(busy, 1, timeout=PREVIEW_BUSY_S):
            return Refusal(_("Your previous video preview is still being made. Wait for it, "
                             "then ask again."), 429, wait=2).response()
        try:
            with budget.metered(request):
                release_connection()  # rendering takes seconds and needs no database
                data = videos.preview(space, keyframes, plan)
        finally:
            cache.delete(busy)
        return HttpResponse(data, content_type="video/webm",
                            headers={"Cache-Control": "private, no-store"})
