"""What the breeding API answers and takes: its serializers, and a work's parents as a viewer
may see them (``known_parents``, ``family_parents``), which the pages show too."""

from __future__ import annotations

import math

from django.core.validators import slug_re
from django.db.models import Prefetch
from django.utils.functional import lazy
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.exceptions import ValidationError

from breeding import images, spaces, words
from breeding.genetics import MAX_CHAOS
from breeding.models import (
    Creation,
    Gene,
    MediaWork,
    Origin,
    Parentage,
    Space,
    Upload,
    Video,
    Visibility,
    viewer_id,
)
from breeding.videos import files_of

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
            raise ValidationError(_("must be a finite number."))
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
    media = serializers.SerializerMethodField(
        help_text="For a published work (origin \"media\"): its statement, techniques, "
        "credits, links, licence, files, and a text's words.")

    class Meta:
        model = Creation
        fields = ["id", "space", "version", "owner", "title", "phrase", "visibility", "origin", "seed",
                  "genes", "depth", "created", "kept_at", "images", "parents", "video", "medium",
                  "media"]
        read_only_fields = fields  # an answer: every field is always there
        extra_kwargs = {"version": {"help_text": "The version of its space it was made in, and "
                                                 "renders in (a space trained or added again is "
                                                 "a new version)."}}

    def get_images(self, creation) -> dict[str, str]:
        return images.of(creation)

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
        video = Video.objects.filter(creation=creation).first()
        if video is None:
            return None
        return {**files_of(video), "duration_s": video.duration_s, "fps": video.settings["fps"],
                "size": video.settings["size"]}

    @extend_schema_field(serializers.DictField(allow_null=True))
    def get_media(self, creation) -> dict | None:
        if creation.origin != Origin.MEDIA:
            return None  # no query for bred works
        from breeding.media import describe

        job = MediaWork.objects.filter(creation=creation).select_related("made_with").first()
        return describe(job, self.context.get("viewer")) if job is not None else None

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
    has_words = serializers.SerializerMethodField(
        help_text="Whether pictures can be started from words and genes made from words here.")

    class Meta:
        model = Space
        fields = ["slug", "title", "kind", "version", "layers", "dim", "coarse_layers",
                  "can_project", "can_move_camera", "available", "reason", "has_words"]
        read_only_fields = fields  # an answer: every field is always there

    def get_title(self, space) -> str:
        return spaces.title_of(space)

    def get_has_words(self, space) -> bool:
        return words.has_words(space)

    def get_can_project(self, space) -> bool:
        return spaces.can_project(space, self._availability(space))

    def get_can_move_camera(self, space) -> bool:
        return spaces.can_move_camera(space, self._availability(space))

    def get_available(self, space) -> bool:
        return self._availability(space).available

    def get_reason(self, space) -> str:
        return self._availability(space).reason

    def _availability(self, space) -> spaces.Availability:
        cache = self.context.setdefault("availability", {})
        if space.slug not in cache:
            cache[space.slug] = spaces.availability(space)
        return cache[space.slug]


class GeneSerializer(serializers.ModelSerializer):
    label = serializers.CharField(source="shown_label", read_only=True,
                                  help_text="What the slider is called, in the reader's language.")

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


# -- input ----------------------------------------------------------------------------


class WordsIn(serializers.Serializer):
    phrase = serializers.CharField(max_length=1000, allow_blank=True, trim_whitespace=True,
                                   help_text="A few words, such as \"red cat\" or \"猫 笑\".")
    n = serializers.IntegerField(min_value=1, max_value=MAX_N, default=8)
    seed = serializers.IntegerField(min_value=0, max_value=2**62, required=False)


class WordGeneIn(serializers.Serializer):
    word = serializers.CharField(max_length=200, allow_blank=True, trim_whitespace=True,
                                 help_text="A word the space knows, as \"cat\", \"more cat\" or "
                                 "\"less smile\".")


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
            raise ValidationError(_("a cross takes 2 to 6 parents, got %(count)d.")
                                  % {"count": len(parents)})
        if sum(p["content"] for p in parents) <= 0:
            raise ValidationError(_("content weights must not all be zero."))
        if sum(p["style"] for p in parents) <= 0:
            raise ValidationError(_("style weights must not all be zero."))
        given = sum("middle" in p for p in parents)
        if given not in (0, len(parents)):
            raise ValidationError(_("give a middle weight for every parent or for none."))
        if given and sum(p["middle"] for p in parents) <= 0:
            raise ValidationError(_("middle weights must not all be zero."))
        return parents

    def validate(self, data):
        if data["n"] > 1 and data["mutation"] == 0:
            raise ValidationError({"n": [_("without mutation every child of a cross is the "
                                           "same: ask for one, or add some mutation.")]})
        return data


def _preview_sizes_refusal() -> str:
    return _("must be one of %(sizes)s (a preview is at most 1024 px).") % {
        "sizes": ", ".join(map(str, PREVIEW_SIZES))}


class GenesIn(serializers.Serializer):
    genes = serializers.DictField(child=FiniteFloat(), allow_empty=True)
    size = serializers.ChoiceField(choices=PREVIEW_SIZES, default=256, error_messages={
        # said when it is refused, in the asker's language (DRF then formats it with {input})
        "invalid_choice": lazy(_preview_sizes_refusal, str)(),
    })

    def validate_genes(self, genes):
        for slug in genes:
            if not slug_re.match(slug):  # never a gene, and PostgreSQL refuses some (NUL)
                raise ValidationError(_("%(name)s is not a gene name.") % {"name": repr(slug)})
        return genes


class UpdateIn(serializers.Serializer):
    title = serializers.CharField(max_length=120, allow_blank=True, required=False)
    visibility = serializers.ChoiceField(
        choices=[Visibility.PRIVATE, Visibility.UNLISTED, Visibility.PUBLIC], required=False
    )


class MediaSerializer(serializers.ModelSerializer):
    id = serializers.CharField(source="public_id", read_only=True)
    creation = serializers.SerializerMethodField()
    fraction = serializers.FloatField(read_only=True)

    class Meta:
        model = MediaWork
        fields = ["id", "kind", "title", "status", "fraction", "eta_s", "error", "duration_s",
                  "width", "height", "creation", "created"]
        read_only_fields = fields

    def get_creation(self, job) -> str | None:
        return job.creation.public_id if job.creation_id else None
