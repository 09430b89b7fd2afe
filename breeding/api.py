"""The breeding REST API (documented at /api/docs/): its views. What they answer and take is
in ``breeding.serializers``, what they look up in ``breeding.lookups``, the family tree in
``breeding.lineage``."""

from __future__ import annotations

from django.db.models import Q
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import permissions, status
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from breeding import actions, budget, delivery, words
from breeding.delivery import PICTURES_PARAMETER
from breeding.lineage import lineage_tree
from breeding.lookups import (
    breedable,
    checked_genes,
    owned_creation,
    refused_as_400,
    usable,
    visible_creation,
)
from breeding.models import MAX_LINEAGE_DEPTH, Creation, Gene, Space, Visibility
from breeding.serializers import (
    ChildrenIn,
    CreationSerializer,
    CrossIn,
    GeneSerializer,
    GenesIn,
    LineageSerializer,
    PreviewSerializer,
    RandomIn,
    SpaceSerializer,
    UpdateIn,
    creation_queryset,
    serialize,
)
from common.params import int_param, parse
from common.schema import whole_number_parameter


def respond(creations, request, status_code=status.HTTP_200_OK, many=True) -> Response:
    return Response(serialize(creations, request.user, many), status=status_code)


def respond_made(made, request, pictures: int | None):
    """New works: as JSON, or with their ``pictures`` px pictures in the same answer as each
    is painted (``breeding.delivery``)."""
    body = serialize(made, request.user, True)
    if pictures is None:
        return Response(body, status=status.HTTP_201_CREATED)
    return delivery.answer(body, made, pictures, status.HTTP_201_CREATED, request.user.pk)


#: What the views that make works answer: JSON, or with ``?pictures=`` a stream of lines.
MADE_RESPONSES = {(201, "application/json"): CreationSerializer(many=True),
                  (201, delivery.CONTENT_TYPE): OpenApiTypes.STR}
# -- views ----------------------------------------------------------------------------


class Breeding(APIView):
    # Makes pictures: each view charges its renders to the breeder's budget (budget.py).
    permission_classes = [permissions.IsAuthenticated]
    rate_limited = True  # 429 when the budget is spent (documented by common.schema)


class SpaceList(APIView):
    @extend_schema(responses=SpaceSerializer(many=True))
    def get(self, request):
        return Response(SpaceSerializer(words.knowing_words(Space.objects.all()), many=True).data)


class SpaceGenes(APIView):
    @extend_schema(responses=GeneSerializer(many=True))
    def get(self, request, slug):
        space = get_object_or_404(Space, slug=slug)
        genes = Gene.objects.offered_to(request.user, space)
        return Response(GeneSerializer(genes, many=True).data)


class RandomCreations(Breeding):
    @extend_schema(request=RandomIn, responses=MADE_RESPONSES,
                   parameters=[PICTURES_PARAMETER])
    def post(self, request, slug):
        pictures = delivery.wanted_size(request)
        space = Space.objects.filter(slug=slug).first()
        if space is None:
            raise NotFound(_("No space %(slug)s.") % {"slug": repr(slug)})
        data = parse(RandomIn, request)
        usable(space)
        budget.charge(request, budget.creations(data["n"], space.slug))
        made = actions.do_random(request.user, space, data["n"], data.get("seed"))
        return respond_made(made, request, pictures)


class Children(Breeding):
    @extend_schema(request=ChildrenIn, responses=MADE_RESPONSES,
                   parameters=[PICTURES_PARAMETER])
    def post(self, request, public_id):
        pictures = delivery.wanted_size(request)
        parent = breedable(visible_creation(request, public_id))
        data = parse(ChildrenIn, request)
        usable(parent.space)
        budget.charge(request, budget.creations(data["n"], parent.space.slug))
        with refused_as_400():
            made = actions.do_children(request.user, parent, data["n"], data["chaos"], data.get("seed"))
        return respond_made(made, request, pictures)


class Cross(Breeding):
    @extend_schema(request=CrossIn, responses=MADE_RESPONSES,
                   parameters=[PICTURES_PARAMETER])
    def post(self, request):
        pictures = delivery.wanted_size(request)
        data = parse(CrossIn, request)
        ids = [p["id"] for p in data["parents"]]
        found = {c.public_id: c
                 for c in creation_queryset().visible_to(request.user).filter(public_id__in=ids)}
        parents = []
        for i, p in enumerate(data["parents"]):
            creation = found.get(p["id"])
            if creation is None:
                raise ValidationError({f"parents[{i}].id": [
                    _("no creation with id %(id)s.") % {"id": repr(p["id"])}]})
            breedable(creation, f"parents[{i}].id")
            parents.append(actions.ParentWeight(creation, p["content"], p["style"], p.get("middle")))
        space_ids = {p.creation.space_id for p in parents}
        if len(space_ids) > 1:
            raise ValidationError({"parents": [_("all parents must come from the same space.")]})
        space = usable(parents[0].creation.space)
        if parents[0].middle is not None and "groups" not in space.settings:
            raise ValidationError({"parents": [_("the %(space)s space has no middle layers: "
                                                 "give content and style weights only.")
                                               % {"space": space.slug}]})
        budget.charge(request, budget.creations(data["n"], space.slug))
        with refused_as_400():
            made = actions.do_cross(request.user, parents, data["n"], data["mutation"], data.get("seed"))
        return respond_made(made, request, pictures)


def edit_request(request, public_id: str):
    """The source creation, the validated body and the genes it moves, of an edit."""
    source = breedable(visible_creation(request, public_id))
    data = parse(GenesIn, request)
    usable(source.space)
    return source, data, checked_genes(source.space, data["genes"])


class EditPreview(Breeding):
    @extend_schema(request=GenesIn, responses={200: PreviewSerializer})
    def post(self, request, public_id):
        source, data, genes = edit_request(request, public_id)
        budget.charge(request, budget.picture(data["size"], source.space.slug))
        image = actions.preview(request.user, source, data["genes"], genes, data["size"])
        return Response({"image": image})


class EditKeep(Breeding):
    @extend_schema(request=GenesIn, responses={201: CreationSerializer(many=True)})
    def post(self, request, public_id):
        source, data, genes = edit_request(request, public_id)
        budget.charge(request, budget.creations(1, source.space.slug))
        with refused_as_400():
            made = actions.do_edit(request.user, source, data["genes"], genes)
        return respond([made], request, status.HTTP_201_CREATED)


class CreationDetail(APIView):
    @extend_schema(responses=CreationSerializer)
    def get(self, request, public_id):
        creation = visible_creation(request, public_id, creation_queryset())
        return respond(creation, request, many=False)

    @extend_schema(request=UpdateIn, responses=CreationSerializer)
    def patch(self, request, public_id):
        if not request.user.is_authenticated:
            raise NotFound(_("No creation with id %(id)s.") % {"id": repr(public_id)})
        creation = owned_creation(request, public_id)
        data = parse(UpdateIn, request)
        with refused_as_400("visibility"):
            actions.do_update(creation, title=data.get("title"), visibility=data.get("visibility"))
        return respond(creation, request, many=False)

    @extend_schema(responses={204: None})
    def delete(self, request, public_id):
        if not request.user.is_authenticated:
            raise NotFound(_("No creation with id %(id)s.") % {"id": repr(public_id)})
        actions.do_remove(owned_creation(request, public_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


class Restore(APIView):
    """Undo the removal of one's own creation (drafts are deleted for good by the clean-up
    job after ``DRAFT_TTL_HOURS``)."""

    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(request=None, responses=CreationSerializer)
    def post(self, request, public_id):
        creation = creation_queryset().removed().filter(
            public_id=public_id, owner=request.user
        ).first()
        if creation is None:
            raise NotFound(_("Nothing of yours to restore with id %(id)s.") % {"id": repr(public_id)})
        with refused_as_400():
            actions.do_restore(creation)
        return respond(creation, request, many=False)


class MyCreations(APIView):
    """The logged-in breeder's library: drafts and kept works, newest first. A picker pages
    through it with ``before`` (the last work it shows) and ``limit``, and finds a work by
    its title with ``q``."""

    permission_classes = [permissions.IsAuthenticated]
    max_limit = 200

    @extend_schema(
        parameters=[
            OpenApiParameter("space", str, description="Only works of this space (its slug)."),
            OpenApiParameter("visibility", str, enum=Visibility.values),
            OpenApiParameter("q", {"type": "string", "maxLength": 100},
                             description="Only works whose title contains this."),
            OpenApiParameter("before", str, description="Only works listed after this one of yours "
                                                        "(its id): the next page."),
            OpenApiParameter("limit", {"type": "integer", "minimum": 1, "maximum": max_limit, "default": max_limit},
                             description=f"Works in the answer (default and most {max_limit})."),
        ],
        responses=CreationSerializer(many=True),
    )
    def get(self, request):
        qs = creation_queryset().filter(owner=request.user).alive()
        if space := request.query_params.get("space"):
            qs = qs.filter(space__slug=space)
        if visibility := request.query_params.get("visibility"):
            if visibility not in Visibility.values:
                raise ValidationError({"visibility": [_("must be one of %(values)s.")
                                                      % {"values": ", ".join(Visibility.values)}]})
            qs = qs.with_visibility(visibility)
        if query := request.query_params.get("q", "").strip():
            if len(query) > 100:
                raise ValidationError({"q": [_("must be at most %(count)d characters.") % {"count": 100}]})
            qs = qs.filter(title__icontains=query)
        if before := request.query_params.get("before"):
            # one's own works only, removed ones too: a page's last work may be discarded since
            mark = Creation.objects.filter(owner=request.user, public_id=before[:16]).only("created").first()
            if mark is None:
                raise ValidationError({"before": [_("must be the id of one of your works.")]})
            qs = qs.filter(Q(created__lt=mark.created) | Q(created=mark.created, id__lt=mark.pk))
        limit = int_param(request, "limit", self.max_limit, 1, self.max_limit)
        return Response(serialize(qs[:limit], request.user))


class Lineage(APIView):
    @extend_schema(
        parameters=[
            OpenApiParameter("direction", str, enum=["up", "down"], default="up",
                             description="Up to the ancestors, or down to the descendants."),
            whole_number_parameter("depth", 3, 1, MAX_LINEAGE_DEPTH, "How many generations."),
        ],
        responses=LineageSerializer,
    )
    def get(self, request, public_id):
        creation = visible_creation(request, public_id)
        direction = request.query_params.get("direction", "up")
        if direction not in ("up", "down"):
            raise ValidationError({"direction": [_("must be up or down.")]})
        depth = int_param(request, "depth", 3, 1, MAX_LINEAGE_DEPTH)
        return Response(lineage_tree(creation, direction, depth, request.user))
