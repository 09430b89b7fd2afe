"""Exhibitions over the REST API: read them; curators make and change them.

What a visitor would see changes through ``gallery.exhibitions`` (the same functions the
socket calls), so every change is in the exhibition's event log and reaches its sockets.
"""

from __future__ import annotations

from django.db.models import Q
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import permissions, serializers, status
from rest_framework.exceptions import NotFound, PermissionDenied, ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from breeding import languages
from common.params import parse
from gallery import exhibitions
from gallery.models import Exhibition, ExhibitionStatus, RoundStatus


class WorkOut(serializers.Serializer):
    id = serializers.CharField()
    title = serializers.CharField()
    owner = serializers.CharField()
    space = serializers.CharField()
    images = serializers.DictField(child=serializers.CharField())


class ItemOut(serializers.Serializer):
    id = serializers.IntegerField()
    position = serializers.IntegerField()
    wall_text = serializers.CharField()
    work = WorkOut()


class CandidateOut(serializers.Serializer):
    position = serializers.IntegerField()
    work = WorkOut()


class RoundOut(serializers.Serializer):
    number = serializers.IntegerField()
    status = serializers.ChoiceField(choices=RoundStatus.choices)
    parent = WorkOut()
    ends_at = serializers.DateTimeField()
    candidates = CandidateOut(many=True)
    winner = serializers.CharField(allow_null=True)
    votes = serializers.ListField(child=serializers.IntegerField(), required=False)
    tie = serializers.ListField(child=serializers.IntegerField(), required=False,
                                help_text="Once closed: the positions that tied for the most votes "
                                          "(empty when none did); ``tie_rule`` says who won.")
    tie_rule = serializers.CharField(help_text="How a tie is settled, in a sentence.")


class ExhibitionOut(serializers.Serializer):
    slug = serializers.CharField()
    title = serializers.CharField()
    statement = serializers.CharField()
    status = serializers.ChoiceField(choices=ExhibitionStatus.choices)
    opens_at = serializers.DateTimeField(allow_null=True)
    closes_at = serializers.DateTimeField(allow_null=True)
    cover = WorkOut(allow_null=True)
    curators = serializers.ListField(child=serializers.CharField())
    items = ItemOut(many=True)
    tour = serializers.IntegerField(allow_null=True, help_text="The item the guided tour shows.")
    round = RoundOut(allow_null=True)


class SnapshotOut(serializers.Serializer):
    seq = serializers.IntegerField(help_text="The last event: reconnect the socket with ?since=<seq>.")
    exhibition = ExhibitionOut()


class ExhibitionSummary(serializers.Serializer):
    slug = serializers.CharField()
    title = serializers.CharField()
    status = serializers.CharField()
    opens_at = serializers.DateTimeField(allow_null=True)
    closes_at = serializers.DateTimeField(allow_null=True)
    items = serializers.IntegerField()


class ExhibitionIn(serializers.Serializer):
    title = serializers.CharField(max_length=120)
    statement = serializers.CharField(max_length=4000, allow_blank=True, required=False)
    cover = serializers.CharField(max_length=16, allow_blank=True, required=False,
                                  help_text="The id of a public work.")
    status = serializers.ChoiceField(choices=ExhibitionStatus.choices, required=False)
    opens_at = serializers.DateTimeField(allow_null=True, required=False)
    closes_at = serializers.DateTimeField(allow_null=True, required=False)

    def validate(self, data):
        opens, closes = data.get("opens_at"), data.get("closes_at")
        if opens and closes and closes <= opens:
            raise ValidationError({"closes_at": [_("must come after opens_at.")]})
        return data


class ExhibitionPatch(ExhibitionIn):
    title = serializers.CharField(max_length=120, required=False)


class ItemIn(serializers.Serializer):
    work = serializers.CharField(max_length=16, help_text="The id of a public work.")
    wall_text = serializers.CharField(max_length=2000, allow_blank=True, required=False, default="")
    position = serializers.IntegerField(min_value=0, max_value=exhibitions.MAX_ITEMS, required=False)


class ItemPatch(serializers.Serializer):
    wall_text = serializers.CharField(max_length=2000, allow_blank=True, required=False)
    position = serializers.IntegerField(min_value=0, max_value=exhibitions.MAX_ITEMS, required=False)


class TourIn(serializers.Serializer):
    item = serializers.IntegerField(min_value=1, allow_null=True)


class RoundIn(serializers.Serializer):
    work = serializers.CharField(max_length=16, required=False, allow_blank=True,
                                 help_text="The work to breed from; by default the last winner.")
    n = serializers.IntegerField(min_value=exhibitions.ROUND_CHILDREN[0],
                                 max_value=exhibitions.ROUND_CHILDREN[1], default=4)
    seconds = serializers.IntegerField(min_value=exhibitions.ROUND_SECONDS[0],
                                       max_value=exhibitions.ROUND_SECONDS[1], default=60)


def visible(request, slug: str) -> Exhibition:
    exhibition = Exhibition.objects.visible_to(request.user).filter(slug=slug).first()
    if exhibition is None:
        raise NotFound(_("No exhibition %(slug)s.") % {"slug": repr(slug)})
    return exhibition


def curated(request, slug: str) -> Exhibition:
    exhibition = visible(request, slug)
    if not exhibitions.can_curate(request.user, exhibition):
        raise PermissionDenied(_("Only this exhibition's curators can change it."))
    return exhibition


def refused_as_400(action, *args, **kwargs):
    try:
        return action(*args, **kwargs)
    except exhibitions.Refused as refused:
        raise ValidationError(refused.message) from None


def snapshot_response(request, exhibition: Exhibition, code=status.HTTP_200_OK) -> Response:
    """The exhibition as the requester is shown it (``exhibitions.worded``: a curator gets the
    words as they are kept)."""
    state = exhibitions.snapshot(exhibition)
    curator = exhibitions.can_curate(request.user, exhibition)
    return Response({"seq": state["seq"],
                     "exhibition": exhibitions.worded(state["exhibition"], content=not curator)}, status=code)


class Exhibitions(APIView):
    @extend_schema(
        parameters=[OpenApiParameter("status", str, enum=ExhibitionStatus.values)],
        responses=ExhibitionSummary(many=True),
    )
    def get(self, request):
        shown = Exhibition.objects.visible_to(request.user)
        if wanted := request.query_params.get("status"):
            if wanted not in ExhibitionStatus.values:
                raise ValidationError({"status": [_("must be one of %(choices)s.")
                                                  % {"choices": ", ".join(ExhibitionStatus.values)}]})
            shown = shown.filter(status=wanted)
        from django.db.models import Count

        from breeding.models import Creation

        public = Creation.objects.public()
        rows = shown.annotate(n=Count("items", filter=Q(items__creation__in=public)))[:200]
        return Response([{"slug": e.slug, "title": languages.shown(e.title), "status": e.status,
                          "opens_at": e.opens_at, "closes_at": e.closes_at, "items": e.n}
                         for e in rows])

    @extend_schema(request=ExhibitionIn, responses={201: SnapshotOut})
    def post(self, request):
        if not request.user.is_authenticated:
            raise PermissionDenied(_("Log in first: this needs an account."))
        if not exhibitions.can_create(request.user):
            raise PermissionDenied(_("Only curators can make exhibitions."))
        data = parse(ExhibitionIn, request)
        cover = data.pop("cover", "")
        wanted_status = data.pop("status", None)
        exhibition = exhibitions.do_create(request.user, **data)
        if cover or wanted_status:
            refused_as_400(exhibitions.do_update, exhibition,
                           **({"cover": cover} if cover else {}),
                           **({"status": wanted_status} if wanted_status else {}))
        return snapshot_response(request, exhibition, status.HTTP_201_CREATED)


class ExhibitionDetail(APIView):
    @extend_schema(responses=SnapshotOut)
    def get(self, request, slug):
        return snapshot_response(request, visible(request, slug))

    @extend_schema(request=ExhibitionPatch, responses=SnapshotOut)
    def patch(self, request, slug):
        exhibition = curated(request, slug)
        data = parse(ExhibitionPatch, request)
        refused_as_400(exhibitions.do_update, exhibition, **data)
        return snapshot_response(request, exhibition)


class Items(APIView):
    @extend_schema(request=ItemIn, responses={201: SnapshotOut})
    def post(self, request, slug):
        exhibition = curated(request, slug)
        data = parse(ItemIn, request)
        refused_as_400(exhibitions.do_add, exhibition, data["work"], data["wall_text"], data.get("position"))
        return snapshot_response(request, exhibition, status.HTTP_201_CREATED)


class ItemDetail(APIView):
    @extend_schema(request=ItemPatch, responses=SnapshotOut)
    def patch(self, request, slug, item):
        exhibition = curated(request, slug)
        data = parse(ItemPatch, request)
        if "wall_text" in data:
            refused_as_400(exhibitions.do_edit_item, exhibition, item, data["wall_text"])
        if "position" in data:
            refused_as_400(exhibitions.do_move, exhibition, item, data["position"])
        return snapshot_response(request, exhibition)

    @extend_schema(responses=SnapshotOut)
    def delete(self, request, slug, item):
        exhibition = curated(request, slug)
        refused_as_400(exhibitions.do_remove, exhibition, item)
        return snapshot_response(request, exhibition)


class Tour(APIView):
    @extend_schema(request=TourIn, responses=SnapshotOut)
    def post(self, request, slug):
        exhibition = curated(request, slug)
        refused_as_400(exhibitions.do_tour, exhibition, parse(TourIn, request)["item"])
        return snapshot_response(request, exhibition)


class Rounds(APIView):
    permission_classes = [permissions.IsAuthenticated]
    rate_limited = True  # breeding a round spends the curator's render budget

    @extend_schema(request=RoundIn, responses={201: SnapshotOut})
    def post(self, request, slug):
        from breeding import budget

        exhibition = curated(request, slug)
        data = parse(RoundIn, request)
        refused_as_400(exhibitions.check_round_parent, data.get("work") or None)
        budget.charge(request, budget.creations(data["n"]))
        refused_as_400(exhibitions.do_start_round, exhibition, request.user, data.get("work") or None,
                       data["n"], data["seconds"])
        return snapshot_response(request, exhibition, status.HTTP_201_CREATED)


class RoundEnd(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(request=None, responses=SnapshotOut)
    def post(self, request, slug):
        exhibition = curated(request, slug)
        refused_as_400(exhibitions.do_end_round, exhibition)
        return snapshot_response(request, exhibition)
