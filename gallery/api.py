"""The public gallery API: lists, likes, follows, neighbours, profiles. Public works only."""

from __future__ import annotations

import re
import threading

from asgiref.sync import sync_to_async
from cachetools import TTLCache
from django.conf import settings
from django.db.models import Q
from django.http import HttpResponse
from django.utils import translation
from django.utils.cache import patch_cache_control, patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import permissions, serializers, status
from rest_framework.exceptions import NotAuthenticated, ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from breeding import images, languages, looks
from breeding.limits import client_address
from breeding.lookups import visible_creation
from breeding.models import Creation, Origin
from common.params import int_param
from common.parsers import MultiPartParser
from common.schema import error_response, whole_number_parameter
from gallery import actions, follows
from gallery.listings import (
    KINDS,
    MADE,
    ORDERS,
    GalleryPage,
    following_works,
    listed_works,
    made,
    near_phrase,
    of_kind,
    public_works,
    with_technique,
    work,
)
from gallery.neighbours import neighbour_ids

MAX_NEIGHBOURS = 48


class WorkSerializer(serializers.ModelSerializer):
    """A work as lists show it: no lineage, so a page is one query."""

    id = serializers.CharField(source="public_id")
    space = serializers.CharField(source="space.slug", allow_null=True,
                                  help_text="Its space's slug; null for a published work.")
    owner = serializers.CharField(source="owner.username")
    images = serializers.SerializerMethodField()
    kind = serializers.SerializerMethodField(
        help_text='Its medium: "picture", "video" (a morph video\'s images are its first '
                  'keyframe\'s), "sound" or "text" (a published work\'s images are its cover: '
                  'a poster, a waveform, its first lines).')
    published = serializers.SerializerMethodField(
        help_text="Whether it was published as it is (a picture, video, sound or text made "
                  "anywhere) rather than bred in Mendel.")

    class Meta:
        model = Creation
        fields = ["id", "title", "owner", "space", "like_count", "created", "images", "kind",
                  "published"]
        read_only_fields = fields  # an answer: every field is always there

    def to_representation(self, creation) -> dict:
        data = super().to_representation(creation)
        data["title"] = languages.shown(data["title"])  # the demo's titles in the reader's language
        return data

    def get_images(self, creation) -> dict[str, str]:
        return images.of(creation)

    def get_kind(self, creation) -> str:
        return creation.medium

    def get_published(self, creation) -> bool:
        return creation.origin == Origin.MEDIA


#: A technique's slug as ``breeding.media.techniques_of`` makes it (Unicode letters too).
TECHNIQUE = re.compile(r"[-\w]{1,48}")


def technique_param(request) -> str:
    """The ``technique`` asked for: a slug, or "" for any; a 400 for what cannot be one."""
    value = request.query_params.get("technique", "")
    if value and not TECHNIQUE.fullmatch(value):
        raise ValidationError({"technique": [_("must be a technique's slug: letters, digits "
                                               "and hyphens, at most 48 of them.")]})
    return value


#: Pages of the public lists as JSON, kept for GALLERY_CACHE_SECONDS in each web process:
#: the first pages are asked for by every visitor, and a public list may be a second or two
#: old. Only JSON is kept (never the browsable HTML page, which names its viewer), under a
#: key of everything that can change the response: host and scheme, the whole query string
#: (``format`` included), the Accept header and the language it speaks (the demo's titles
#: and any sentence are in the reader's language; the answer says ``Vary: Accept-Language``).
_pages = TTLCache(maxsize=1024, ttl=1)
_pages_lock = threading.Lock()


def _kept_pages(ttl: int) -> TTLCache:
    global _pages
    if _pages.ttl != ttl:  # the setting changed (tests do this)
        _pages = TTLCache(maxsize=1024, ttl=ttl)
    return _pages


def page_key(request) -> tuple:
    # the host too: a page's next link is absolute
    query = tuple(sorted((k, tuple(v)) for k, v in request.GET.lists()))
    return (request.build_absolute_uri("/"), query, request.headers.get("Accept", ""),
            translation.get_language())


class Gallery(APIView):
    """Public works, newest or trending, filtered by space, owner, medium (``kind``), how
    they were made (``made``), technique or a title search; or,
    for a logged-in breeder, ``following``: the works of the artists they follow, newest
    first.

    The newest and trending pages are the same for everyone, so they are kept for a moment
    (``GALLERY_CACHE_SECONDS``); a breeder's own "following" pages never are.
    """

    pagination_class = GalleryPage

    @extend_schema(
        parameters=[
            OpenApiParameter("order", str, enum=list(ORDERS), default="newest",
                             description="`following`: the works of the artists the requester "
                             "follows, newest first (log in first)."),
            OpenApiParameter("space", str, description="Only works of this space (its slug)."),
            OpenApiParameter("owner", str, description="Only works of this user (a username)."),
            OpenApiParameter("kind", str, enum=list(KINDS),
                             description="Only works of one medium: pictures, videos, sounds or "
                             "texts, bred or published alike."),
            OpenApiParameter("made", str, enum=list(MADE),
                             description="`bred`: only works bred in Mendel; `published`: only "
                             "works published as they are (made anywhere)."),
            OpenApiParameter("technique", {"type": "string", "maxLength": 48, "pattern": r"^[-\w]*$"},
                             description="Only published works made with this technique (its "
                             "slug, such as `stylegan2`)."),
            OpenApiParameter("q", {"type": "string", "maxLength": 100},
                             description="Only works whose title contains this."),
        ],
        responses={200: WorkSerializer(many=True), 404: error_response("The cursor is invalid.")},
    )
    def get(self, request):
        order = request.query_params.get("order", "newest")
        if order not in ORDERS:
            raise ValidationError({"order": [_("must be one of %(choices)s.") % {"choices": ", ".join(ORDERS)}]})
        if order == "following":
            if not request.user.is_authenticated:
                raise NotAuthenticated()
            works = following_works(request.user)
        else:
            works = public_works()
        if space := request.query_params.get("space"):
            works = works.filter(space__slug=space)
        if owner := request.query_params.get("owner"):
            works = works.filter(owner__username=owner)
        works = of_kind(works, request.query_params.get("kind"))
        works = made(works, request.query_params.get("made"))
        works = with_technique(works, technique_param(request))
        if query := request.query_params.get("q", "").strip():
            if len(query) > 100:
                raise ValidationError({"q": [_("must be at most %(most)s characters.") % {"most": 100}]})
            works = works.filter(Q(title__icontains=query))
        paginator = self.pagination_class(ORDERS[order])
        page = paginator.paginate_queryset(works, request, view=self)
        response = paginator.get_paginated_response([work(c) for c in page])
        if order == "following":  # one breeder's page: no shared cache keeps it
            patch_cache_control(response, private=True)
        return response


class WordSearch(APIView):
    """Works near a phrase, in a space that knows words: not titles that contain the words,
    but works whose place in the space is near where the words' pictures are
    (``breeding.words``). Public works, as in the gallery's other lists."""

    @extend_schema(
        parameters=[
            OpenApiParameter("space", str, required=True, description="The space's slug."),
            OpenApiParameter("q", {"type": "string", "maxLength": 100}, required=True,
                             description="A few words, such as `red cat`."),
            whole_number_parameter("limit", 24, 1, 96, "Works to answer, nearest first."),
        ],
        responses={200: inline_serializer("WordSearchAnswer", {
            "reading": serializers.DictField(help_text="The words known, and those not, with notes."),
            "results": WorkSerializer(many=True)})},
    )
    def get(self, request):
        from breeding.models import Space

        space = Space.objects.filter(slug=request.query_params.get("space", "")).first()
        if space is None:
            raise ValidationError({"space": [_("No space %(slug)s.") % {
                "slug": repr(request.query_params.get("space", ""))}]})
        limit = int_param(request, "limit", 24, 1, 96)
        reading, results = near_phrase(space, request.query_params.get("q", ""), limit)
        return Response({"reading": reading, "results": results})


_gallery_view = Gallery.as_view()


def _rendered_gallery(request):
    response = _gallery_view(request)
    response.render()
    return response


async def gallery(request):
    """``GET /api/gallery/``: ``Gallery``, with its JSON pages kept for a moment. A kept page
    is answered from the event loop itself, without a thread, a query or a serializer."""
    ttl = settings.GALLERY_CACHE_SECONDS
    personal = request.GET.get("order") == "following"  # one breeder's: kept for no one
    keep = ttl > 0 and request.method == "GET" and not personal
    if keep:
        key = page_key(request)
        with _pages_lock:
            body = _kept_pages(ttl).get(key)
        if body is not None:
            response = HttpResponse(body, content_type="application/json")
            response["Vary"] = "Accept"
            patch_vary_headers(response, ("Accept-Language",))
            return response
    response = await sync_to_async(_rendered_gallery)(request)
    patch_vary_headers(response, ("Accept-Language",))
    if keep and response.status_code == 200 and response["Content-Type"] == "application/json":
        with _pages_lock:
            _kept_pages(ttl)[key] = response.content
    return response


# Documented (OpenAPI) and treated as the DRF view it fronts.
gallery.cls = Gallery
gallery.initkwargs = {}
gallery = csrf_exempt(gallery)


class LikeStateSerializer(serializers.Serializer):
    liked = serializers.BooleanField(help_text="Whether the requester likes the work now.")
    like_count = serializers.IntegerField()


class LikeView(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(request=None, responses={200: LikeStateSerializer})
    def put(self, request, public_id):
        creation = visible_creation(request, public_id)
        actions.do_like(request.user, creation)
        return self.state(request, creation)

    @extend_schema(responses={200: LikeStateSerializer})
    def delete(self, request, public_id):
        creation = visible_creation(request, public_id)
        actions.do_unlike(request.user, creation)
        return self.state(request, creation)

    @staticmethod
    def state(request, creation):
        creation.refresh_from_db(fields=["like_count"])
        liked = creation.likes.filter(user=request.user).exists()
        return Response({"liked": liked, "like_count": creation.like_count})


class FollowStateSerializer(serializers.Serializer):
    following = serializers.BooleanField(help_text="Whether the requester follows the user now.")
    followers = serializers.IntegerField(help_text="How many follow the user.")


class FollowView(APIView):
    """Follow an artist (``PUT``) or stop (``DELETE``): their works then come into, or
    leave, the requester's ``/api/gallery/?order=following``. Both are idempotent; nobody
    follows themselves."""

    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(request=None, responses={200: FollowStateSerializer})
    def put(self, request, username):
        artist = follows.person(username)
        follows.do_follow(request.user, artist)
        return self.state(request, artist)

    @extend_schema(responses={200: FollowStateSerializer})
    def delete(self, request, username):
        artist = follows.person(username)
        follows.do_unfollow(request.user, artist)
        return self.state(request, artist)

    @staticmethod
    def state(request, artist):
        now = follows.counts(artist, request.user)
        return Response({"following": now["followed"], "followers": now["followers"]})


class Neighbours(APIView):
    """The public works nearest to a work in latent space (within its space)."""

    @extend_schema(
        parameters=[whole_number_parameter("limit", 12, 1, MAX_NEIGHBOURS, "How many works.")],
        responses=WorkSerializer(many=True),
    )
    def get(self, request, public_id):
        creation = visible_creation(request, public_id)
        limit = int_param(request, "limit", 12, 1, MAX_NEIGHBOURS)
        ids = neighbour_ids(creation, limit)
        found = {c.pk: c for c in public_works().filter(pk__in=ids)}
        return Response([work(found[i]) for i in ids if i in found])


class Lookalikes(APIView):
    """The works that look most like a work (``breeding.looks``), in its space, of those the
    reader may list: public ones and the reader's own. Empty until the work is kept and
    measured (a few seconds)."""

    @extend_schema(
        parameters=[whole_number_parameter("limit", 8, 1, MAX_NEIGHBOURS, "How many works.")],
        responses=WorkSerializer(many=True),
    )
    def get(self, request, public_id):
        # Only what the search needs: a latent or a joined row would be read for nothing.
        creation = visible_creation(request, public_id, Creation.objects.only(*looks.SEARCHED_BY))
        limit = int_param(request, "limit", 8, 1, MAX_NEIGHBOURS)
        return Response(listed_works(request.user, looks.like(creation, request.user, limit)))


class PictureLookalikesFields(serializers.Serializer):
    space = serializers.SlugField(max_length=40, required=False, default="",
                                  help_text="Search this space only (all spaces when empty).")
    limit = serializers.IntegerField(min_value=1, max_value=MAX_NEIGHBOURS, default=12,
                                     help_text="How many works.")


class PictureLookalikesIn(PictureLookalikesFields):
    """What ``POST /api/lookalikes/`` takes (the file is read by ``looks.like_upload``)."""

    file = serializers.FileField(help_text="One picture: JPEG, PNG, WebP or GIF (its first frame).")


class PictureLookalikes(APIView):
    """The works that look most like a picture sent here, as it is (not projected into a
    space), of those the reader may list. The picture is not kept."""

    parser_classes = [MultiPartParser]

    @extend_schema(
        request={"multipart/form-data": PictureLookalikesIn},
        responses={200: WorkSerializer(many=True),
                   413: error_response("The picture is larger than an upload may be."),
                   429: error_response("The sender's render budget for this minute is spent.")},
    )
    def post(self, request):
        fields = PictureLookalikesFields(data=request.data)
        fields.is_valid(raise_exception=True)
        files = [f for name in request.FILES for f in request.FILES.getlist(name)]
        data = fields.validated_data
        ids, _picture = looks.like_upload(request.user, client_address(request), files,
                                          data["space"] or None, data["limit"])
        return Response(listed_works(request.user, ids))


class ProfileSerializer(serializers.Serializer):
    username = serializers.CharField()
    joined = serializers.DateTimeField()
    public_works = serializers.IntegerField()
    likes_received = serializers.IntegerField()
    followers = serializers.IntegerField(help_text="How many follow them.")
    following = serializers.IntegerField(help_text="How many they follow.")
    followed = serializers.BooleanField(help_text="Whether the requester follows them (false "
                                        "when not logged in).")


class Profile(APIView):
    @extend_schema(responses=ProfileSerializer)
    def get(self, request, username):
        user = follows.person(username)
        works = public_works().filter(owner=user)
        return Response({
            "username": user.username,
            "joined": user.date_joined,
            "public_works": works.count(),
            "likes_received": sum(works.values_list("like_count", flat=True)),
            **follows.counts(user, request.user),
        }, status=status.HTTP_200_OK)
