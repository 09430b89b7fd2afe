"""The breeding REST API (documented at /api/docs/)."""

from __future__ import annotations

import math
from contextlib import contextmanager

from django.core.validators import slug_re
from django.db.models import Prefetch, Q
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import permissions, serializers, status
from rest_framework.exceptions import APIException, NotFound, PermissionDenied, ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from breeding import actions, budget, images, spaces
from breeding.genetics import MAX_CHAOS
from breeding.models import (
    MAX_LINEAGE_DEPTH,
    Creation,
    Gene,
    Origin,
    Parentage,
    Space,
    Video,
    Visibility,
    lineage,
    viewer_id,
)
from mendel.schema import whole_number_parameter

MAX_N = 16
MAX_CROSS_N = 8
MAX_CHILD_CHAOS = 1.5
MAX_WEIGHT = 100.0
assert MAX_CHILD_CHAOS <= MAX_CHAOS  # the math accepts everything the API does
#: A preview is for a slider: at most the size the studio shows a work at (its stage is the
#: 1024 px picture, and a smaller one at rest would blur on a high-density screen).
PREVIEW_SIZES = tuple(size for size in images.SIZES if size <= 1024)


class FiniteFloat(serializers.FloatField):
    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        if not math.isfinite(value):
            raise ValidationError("must be a finite number.")
        return value


# -- output ---------------------------------------------------------------------------


class ParentLinkSerializer(serializers.Serializer):
    """A parent as its child shows it: a removed one is only ``{"removed": true}``."""

    id = serializers.CharField(required=False)
    content_weight = serializers.FloatField(required=False)
    style_weight = serializers.FloatField(required=False)
    removed = serializers.BooleanField(required=False)


class VideoOfWorkSerializer(serializers.Serializer):
    mp4 = serializers.CharField()
    webm = serializers.CharField()
    poster = serializers.CharField()
    duration_s = serializers.FloatField()
    fps = serializers.IntegerField()
    size = serializers.IntegerField()


class CreationSerializer(serializers.ModelSerializer):
    id = serializers.CharField(source="public_id", read_only=True)
    space = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    owner = serializers.CharField(source="owner.username", read_only=True)
    images = serializers.SerializerMethodField()
    parents = serializers.SerializerMethodField()
    genes = serializers.SerializerMethodField()
    video = serializers.SerializerMethodField(
        help_text="For a video (origin \"video\"): its files, length and frame rate.")

    class Meta:
        model = Creation
        fields = ["id", "space", "owner", "title", "visibility", "origin", "seed", "genes",
                  "depth", "created", "kept_at", "images", "parents", "video"]
        read_only_fields = fields  # an answer: every field is always there

    def get_images(self, creation) -> dict[str, str]:
        return images.urls(creation.space.slug, creation.latent_sha)

    def _known(self, creation) -> dict[int, bool]:
        known = self.context.get("known_parents")
        return known if known is not None else known_parents([creation], self.context.get("viewer"))

    @extend_schema_field(ParentLinkSerializer(many=True))
    def get_parents(self, creation) -> list[dict]:
        """Parents the viewer may see (``family_parents``)."""
        return family_parents(creation, self.context.get("viewer"), self._known(creation))

    @extend_schema_field(VideoOfWorkSerializer(allow_null=True))
    def get_video(self, creation) -> dict | None:
        if creation.origin != Origin.VIDEO:
            return None  # no query for pictures
        from breeding.video_api import files_of

        video = Video.objects.filter(creation=creation).first()
        if video is None:
            return None
        return {**files_of(video), "duration_s": video.duration_s, "fps": video.settings["fps"],
                "size": video.settings["size"]}

    def get_genes(self, creation) -> dict[str, float]:
        """The gene amounts of an edit, for those who may see what it was edited from: with
        the amounts and the edit, anyone could step back to a hidden source."""
        viewer = self.context.get("viewer")
        if viewer_id(viewer) == creation.owner_id:
            return creation.genes
        known = self._known(creation)
        if all(link.parent_id in known for link in _links(creation)):
            return creation.genes
        return {}


def _links(creation: Creation):
    links = getattr(creation, "prefetched_parent_links", None)
    return links if links is not None else creation.parent_links.all()


def known_parents(creations, viewer) -> dict[int, bool]:
    """Of the parents of ``creations``, those known to the viewer (``known_to``): pk ->
    removed? One query for a whole list."""
    pks = {link.parent_id for c in creations for link in _links(c) if link.parent_id is not None}
    if not pks:
        return {}
    rows = Creation.objects.known_to(viewer).filter(pk__in=pks).only("pk", "removed_at")
    return {row.pk: row.is_removed for row in rows}


def family_parents(creation: Creation, viewer, known: dict[int, bool]) -> list[dict]:
    """A work's parents as the viewer may see them: the listed ones with their weights, a
    bare ``{"removed": true}`` for one the viewer knew before it was removed (or, for the
    work's owner, one of their own drafts purged since); others not at all, not even
    counted."""
    out = []
    for link in _links(creation):
        if link.parent_id is None:
            if viewer_id(viewer) == creation.owner_id:
                out.append({"removed": True})
        elif link.parent_id in known:
            if known[link.parent_id]:
                out.append({"removed": True})
            else:
                out.append({"id": link.parent.public_id, "content_weight": link.content_weight,
                            "style_weight": link.style_weight})
    return out


def creation_queryset():
    parents = Parentage.objects.select_related("parent")
    return Creation.objects.select_related("space", "owner").prefetch_related(
        Prefetch("parent_links", queryset=parents)
    )


def respond(creations, request, status_code=status.HTTP_200_OK, many=True) -> Response:
    return Response(serialize(creations, request.user, many), status=status_code)


def serialize(creations, viewer, many=True):
    listed = list(creations) if many else [creations]
    context = {"viewer": viewer, "known_parents": known_parents(listed, viewer)}
    return CreationSerializer(listed if many else creations, many=many, context=context).data


class SpaceSerializer(serializers.ModelSerializer):
    title = serializers.SerializerMethodField(help_text="The space's name, for people.")
    can_project = serializers.SerializerMethodField(
        help_text="Whether pictures can be uploaded into this space.")
    can_move_camera = serializers.SerializerMethodField(
        help_text="Whether videos can move a camera over a picture (zoom) in this space.")
    available = serializers.SerializerMethodField(
        help_text="Whether the space can be bred in now (its weights are there and unchanged, "
        "and something can render it).")
    reason = serializers.SerializerMethodField(
        help_text="Why the space is unavailable, in a sentence; empty when it is available.")

    class Meta:
        model = Space
        fields = ["slug", "title", "kind", "version", "layers", "dim", "coarse_layers",
                  "can_project", "can_move_camera", "available", "reason"]
        read_only_fields = fields  # an answer: every field is always there

    def get_title(self, space) -> str:
        return spaces.title_of(space)

    def get_can_project(self, space) -> bool:
        from breeding.upload_api import can_project

        return can_project(space)

    def get_can_move_camera(self, space) -> bool:
        if not self._availability(space).available or spaces.is_added(space):
            return False  # added kinds (StyleGAN, diffusion) draw a frame, not a canvas
        try:
            return hasattr(space.generator(), "render_view")
        except KeyError:  # a space this process cannot load
            return False

    def get_available(self, space) -> bool:
        return self._availability(space).available

    def get_reason(self, space) -> str:
        return self._availability(space).reason

    def _availability(self, space) -> spaces.Availability:
        cache = self.context.setdefault("availability", {})
        if space.slug not in cache:
            cache[space.slug] = spaces.availability(space)
        return cache[space.slug]


class SpaceUnavailable(APIException):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_code = "space_unavailable"


def usable(space: Space) -> Space:
    """``space``, if it can be bred in now; otherwise a 503 that says why."""
    found = spaces.availability(space)
    if not found.available:
        raise SpaceUnavailable(f"The {spaces.title_of(space)} space is unavailable. {found.reason}")
    return space


class GeneSerializer(serializers.ModelSerializer):
    class Meta:
        model = Gene
        fields = ["slug", "label", "source", "low", "high", "rho"]
        read_only_fields = fields  # an answer: every field is always there


class PreviewSerializer(serializers.Serializer):
    image = serializers.CharField(help_text="The URL of the edited picture, rendered on request.")


class LineageNodeSerializer(serializers.Serializer):
    """A work of the tree; a removed one is only ``id``, ``removed`` and ``generation``."""

    id = serializers.CharField()
    generation = serializers.IntegerField()
    title = serializers.CharField(required=False)
    owner = serializers.CharField(required=False)
    images = serializers.DictField(child=serializers.CharField(), required=False)
    removed = serializers.BooleanField(required=False)
    upload = serializers.BooleanField(
        required=False, help_text="An uploaded picture the work was projected from; its "
        "picture (``images``) is shown to its owner only.")


class LineageLinkSerializer(serializers.Serializer):
    child = serializers.CharField()
    parent = serializers.CharField()


class LineageSerializer(serializers.Serializer):
    root = serializers.CharField()
    direction = serializers.ChoiceField(choices=["up", "down"])
    depth = serializers.IntegerField()
    nodes = LineageNodeSerializer(many=True)
    links = LineageLinkSerializer(many=True)


# -- input ----------------------------------------------------------------------------


class RandomIn(serializers.Serializer):
    n = serializers.IntegerField(min_value=1, max_value=MAX_N, default=1)
    seed = serializers.IntegerField(min_value=0, max_value=2**62, required=False)


class ChildrenIn(serializers.Serializer):
    n = serializers.IntegerField(min_value=1, max_value=MAX_N, default=8)
    chaos = FiniteFloat(min_value=0.0, max_value=MAX_CHILD_CHAOS, default=0.3)
    seed = serializers.IntegerField(min_value=0, max_value=2**62, required=False)


class ParentIn(serializers.Serializer):
    id = serializers.CharField(max_length=16)
    content = FiniteFloat(min_value=0.0, max_value=MAX_WEIGHT, default=1.0)
    style = FiniteFloat(min_value=0.0, max_value=MAX_WEIGHT, default=1.0)
    middle = FiniteFloat(
        min_value=0.0, max_value=MAX_WEIGHT, required=False,
        help_text="Spaces with three layer groups (StyleGAN): the weight of this parent in "
        "the middle layers; ``content`` then weighs the coarse layers only. Give it for every "
        "parent or none.")


class CrossIn(serializers.Serializer):
    parents = ParentIn(many=True)
    n = serializers.IntegerField(min_value=1, max_value=MAX_CROSS_N, default=1)
    mutation = FiniteFloat(min_value=0.0, max_value=0.5, default=0.0)
    seed = serializers.IntegerField(min_value=0, max_value=2**62, required=False)

    def validate_parents(self, parents):
        if not 2 <= len(parents) <= 6:
            raise ValidationError(f"a cross takes 2 to 6 parents, got {len(parents)}.")
        if sum(p["content"] for p in parents) <= 0:
            raise ValidationError("content weights must not all be zero.")
        if sum(p["style"] for p in parents) <= 0:
            raise ValidationError("style weights must not all be zero.")
        given = sum("middle" in p for p in parents)
        if given not in (0, len(parents)):
            raise ValidationError("give a middle weight for every parent or for none.")
        if given and sum(p["middle"] for p in parents) <= 0:
            raise ValidationError("middle weights must not all be zero.")
        return parents

    def validate(self, data):
        if data["n"] > 1 and data["mutation"] == 0:
            raise ValidationError({"n": ["without mutation every child of a cross is the same: "
                                         "ask for one, or add some mutation."]})
        return data


class GenesIn(serializers.Serializer):
    genes = serializers.DictField(child=FiniteFloat(), allow_empty=True)
    size = serializers.ChoiceField(choices=PREVIEW_SIZES, default=256, error_messages={
        "invalid_choice": f"must be one of {', '.join(map(str, PREVIEW_SIZES))} (a preview is at most 1024 px).",
    })

    def validate_genes(self, genes):
        for slug in genes:
            if not slug_re.match(slug):  # never a gene, and PostgreSQL refuses some (NUL)
                raise ValidationError(f"{slug!r} is not a gene name.")
        return genes


class UpdateIn(serializers.Serializer):
    title = serializers.CharField(max_length=120, allow_blank=True, required=False)
    visibility = serializers.ChoiceField(
        choices=[Visibility.PRIVATE, Visibility.UNLISTED, Visibility.PUBLIC], required=False
    )


def int_param(request, name: str, default: int, low: int, high: int) -> int:
    """A whole-number query parameter within [low, high], or a 400 naming it."""
    try:
        value = int(request.query_params.get(name, default))
    except ValueError:
        raise ValidationError({name: ["must be a whole number."]}) from None
    if not low <= value <= high:
        raise ValidationError({name: [f"must be between {low} and {high}."]})
    return value


def parse(serializer_class, request):
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def visible_creation(request, public_id: str, queryset=None) -> Creation:
    """The creation if the requester may see it, else 404. Breeding endpoints need only the
    row; pass ``creation_queryset()`` where its parents are shown."""
    queryset = queryset if queryset is not None else Creation.objects.select_related("space", "owner")
    creation = queryset.visible_to(request.user).filter(public_id=public_id).first()
    if creation is None:
        raise NotFound(f"No creation with id {public_id!r}.")
    return creation


def breedable(creation: Creation, field: str | None = None) -> Creation:
    """The creation, if it can be bred from (not a video), else a 400 with the reason."""
    try:
        actions.check_breedable(creation)
    except actions.NotBreedable as refused:
        raise ValidationError({field: [str(refused)]} if field else [str(refused)]) from None
    return creation


@contextmanager
def refused_as_400(field: str | None = None):
    """An action refused for a reason people can act on: a 400 with its sentence."""
    try:
        yield
    except (actions.NotBreedable, actions.NotShareable) as refused:
        raise ValidationError({field: [str(refused)]} if field else [str(refused)]) from None


def owned_creation(request, public_id: str) -> Creation:
    creation = visible_creation(request, public_id)
    if creation.owner_id != request.user.pk:
        raise PermissionDenied("Only the owner can change this creation.")
    return creation


def checked_genes(space: Space, amounts: dict[str, float]) -> dict[str, Gene]:
    genes = {g.slug: g for g in Gene.objects.filter(space=space, slug__in=list(amounts))}
    for slug, amount in amounts.items():
        if slug not in genes:
            raise ValidationError({"genes": [f"unknown gene {slug!r} in space {space.slug}."]})
        gene = genes[slug]
        # The slider's range: where a gene was checked to do what its name says.
        if not gene.low <= amount <= gene.high:
            raise ValidationError({"genes": [
                f"{slug} must be between {gene.low:g} and {gene.high:g}, got {amount:g}."
            ]})
    return genes


# -- views ----------------------------------------------------------------------------


class Breeding(APIView):
    # Makes pictures: each view charges its renders to the breeder's budget (budget.py).
    permission_classes = [permissions.IsAuthenticated]
    rate_limited = True  # 429 when the budget is spent (documented by mendel.schema)


class SpaceList(APIView):
    @extend_schema(responses=SpaceSerializer(many=True))
    def get(self, request):
        return Response(SpaceSerializer(Space.objects.all(), many=True).data)


class SpaceGenes(APIView):
    @extend_schema(responses=GeneSerializer(many=True))
    def get(self, request, slug):
        space = get_object_or_404(Space, slug=slug)
        genes = Gene.objects.filter(space=space, version=space.version)
        return Response(GeneSerializer(genes, many=True).data)


class RandomCreations(Breeding):
    @extend_schema(request=RandomIn, responses={201: CreationSerializer(many=True)})
    def post(self, request, slug):
        space = Space.objects.filter(slug=slug).first()
        if space is None:
            raise NotFound(f"No space {slug!r}.")
        data = parse(RandomIn, request)
        usable(space)
        budget.charge(request, budget.creations(data["n"], space.slug))
        made = actions.do_random(request.user, space, data["n"], data.get("seed"))
        return respond(made, request, status.HTTP_201_CREATED)


class Children(Breeding):
    @extend_schema(request=ChildrenIn, responses={201: CreationSerializer(many=True)})
    def post(self, request, public_id):
        parent = breedable(visible_creation(request, public_id))
        data = parse(ChildrenIn, request)
        usable(parent.space)
        budget.charge(request, budget.creations(data["n"], parent.space.slug))
        with refused_as_400():
            made = actions.do_children(request.user, parent, data["n"], data["chaos"], data.get("seed"))
        return respond(made, request, status.HTTP_201_CREATED)


class Cross(Breeding):
    @extend_schema(request=CrossIn, responses={201: CreationSerializer(many=True)})
    def post(self, request):
        data = parse(CrossIn, request)
        ids = [p["id"] for p in data["parents"]]
        found = {c.public_id: c
                 for c in creation_queryset().visible_to(request.user).filter(public_id__in=ids)}
        parents = []
        for i, p in enumerate(data["parents"]):
            creation = found.get(p["id"])
            if creation is None:
                raise ValidationError({f"parents[{i}].id": [f"no creation with id {p['id']!r}."]})
            breedable(creation, f"parents[{i}].id")
            parents.append(actions.ParentWeight(creation, p["content"], p["style"], p.get("middle")))
        space_ids = {p.creation.space_id for p in parents}
        if len(space_ids) > 1:
            raise ValidationError({"parents": ["all parents must come from the same space."]})
        space = usable(parents[0].creation.space)
        if parents[0].middle is not None and "groups" not in space.settings:
            raise ValidationError({"parents": [f"the {space.slug} space has no middle layers: "
                                               "give content and style weights only."]})
        budget.charge(request, budget.creations(data["n"], space.slug))
        with refused_as_400():
            made = actions.do_cross(request.user, parents, data["n"], data["mutation"], data.get("seed"))
        return respond(made, request, status.HTTP_201_CREATED)


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
            raise NotFound(f"No creation with id {public_id!r}.")
        creation = owned_creation(request, public_id)
        data = parse(UpdateIn, request)
        with refused_as_400("visibility"):
            actions.do_update(creation, title=data.get("title"), visibility=data.get("visibility"))
        return respond(creation, request, many=False)

    @extend_schema(responses={204: None})
    def delete(self, request, public_id):
        if not request.user.is_authenticated:
            raise NotFound(f"No creation with id {public_id!r}.")
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
            raise NotFound(f"Nothing of yours to restore with id {public_id!r}.")
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
                raise ValidationError({"visibility": [f"must be one of {', '.join(Visibility.values)}."]})
            qs = qs.with_visibility(visibility)
        if query := request.query_params.get("q", "").strip():
            if len(query) > 100:
                raise ValidationError({"q": ["must be at most 100 characters."]})
            qs = qs.filter(title__icontains=query)
        if before := request.query_params.get("before"):
            # one's own works only, removed ones too: a page's last work may be discarded since
            mark = Creation.objects.filter(owner=request.user, public_id=before[:16]).only("created").first()
            if mark is None:
                raise ValidationError({"before": ["must be the id of one of your works."]})
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
            raise ValidationError({"direction": ["must be up or down."]})
        depth = int_param(request, "depth", 3, 1, MAX_LINEAGE_DEPTH)
        return Response(lineage_tree(creation, direction, depth, request.user))


def lineage_tree(root: Creation, direction: str, depth: int, viewer) -> dict:
    """Nodes and links of a family tree, as the viewer may see it.

    Only works listed for the viewer (``listed_for``) are shown, and the tree goes on only
    through them: others' drafts, private and unlisted works are left out, and so is
    everything reached only through them. A removed work the viewer knew before (``known_to``)
    shows as a bare "removed" node and the tree goes on through it; so does, for the owner
    of the work that links to it, one of their own drafts purged since.
    """
    rows = lineage(root, direction, depth)
    ids = {r["node"] for r in rows if r["node"] is not None}
    by_pk = {c.pk: c for c in Creation.objects.known_to(viewer).select_related("space", "owner")
             .filter(pk__in=ids)}
    nodes: dict = {root.pk: {**node_of(root), "owner_id": root.owner_id}}
    links = []
    removed = 0
    uid = viewer_id(viewer)
    for r in rows:
        near = nodes.get(r["via"])
        if near is None:
            continue  # reached only through something hidden
        if r["node"] is None:  # purged: a draft of the owner of the work linking to it
            if near.get("owner_id") is None or near["owner_id"] != uid:
                continue
            removed += 1
            key = f"purged-{removed}"
            node = {"id": f"removed-{removed}", "removed": True, "generation": r["generation"]}
        elif (creation := by_pk.get(r["node"])) is None:
            continue  # not known to the viewer
        elif creation.is_removed:
            key = creation.pk
            if key not in nodes:
                removed += 1
            node = nodes.get(key) or {
                "id": f"removed-{removed}", "removed": True, "generation": r["generation"],
                "owner_id": creation.owner_id,
            }
        else:
            key = creation.pk
            node = nodes.get(key) or {**node_of(creation), "generation": r["generation"],
                                      "owner_id": creation.owner_id}
        nodes[key] = node
        child, parent = (near, node) if direction == "up" else (node, near)
        links.append({"child": child["id"], "parent": parent["id"]})
    if direction == "up":
        links += _upload_nodes(nodes, by_pk | {root.pk: root}, depth, uid)
    return {
        "root": root.public_id,
        "direction": direction,
        "depth": depth,
        "nodes": [{k: v for k, v in n.items() if k != "owner_id"} for n in nodes.values()],
        "links": links,
    }


def _upload_nodes(nodes: dict, creations: dict, depth: int, uid: int | None) -> list[dict]:
    """The uploads the works of an upward tree were projected from, as their parents: with
    the picture for its owner, a bare "uploaded picture" for everyone else."""
    from breeding.models import Origin, Upload

    shown = {pk: node for pk, node in nodes.items()
             if isinstance(pk, int) and not node.get("removed")
             and creations[pk].origin == Origin.UPLOAD and node["generation"] < depth}
    links = []
    for upload in Upload.objects.filter(creation_id__in=list(shown)):
        near = shown[upload.creation_id]
        node = {"id": f"upload-{upload.public_id}" if upload.owner_id == uid else f"upload-{len(links) + 1}",
                "upload": True, "generation": near["generation"] + 1}
        if upload.owner_id == uid:
            node["title"] = upload.title
            node["images"] = {"256": f"/uploads/{upload.public_id}/thumb"}
        nodes[node["id"]] = node
        links.append({"child": near["id"], "parent": node["id"]})
    return links


def node_of(creation: Creation) -> dict:
    return {
        "id": creation.public_id,
        "title": creation.title,
        "owner": creation.owner.username,
        "generation": 0,
        "images": images.urls(creation.space.slug, creation.latent_sha),
    }
