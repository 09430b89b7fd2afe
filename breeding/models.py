"""Spaces, creations, their parentage, and genes. Latents live in pgvector columns."""

from __future__ import annotations

import hashlib
import secrets
import string

import numpy as np
import torch
from django.conf import settings
from django.db import connection, models
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext, pgettext_lazy
from pgvector.django import VectorField

from breeding.jobs import Job, status_field, statuses
from breeding.limits import in_words
from inference.look import DIMS as LOOK_DIMS

PUBLIC_ID_ALPHABET = string.ascii_lowercase + string.digits
PUBLIC_ID_LENGTH = 10
MAX_LINEAGE_DEPTH = 12


def new_public_id() -> str:
    """A short, unguessable public id (36^10 ~ 3.7e15 values)."""
    return "".join(secrets.choice(PUBLIC_ID_ALPHABET) for _ in range(PUBLIC_ID_LENGTH))


def new_seed_key() -> str:
    return secrets.token_hex(32)


class SeedKey(models.Model):
    """A breeder's secret that turns their seeds into random streams (``actions.stream``).

    Seeds are shown in public, and siblings of one batch share theirs: without a secret,
    anyone could replay a public work's seed and get its owner's hidden siblings. With it,
    a seed reproduces its own breeder's results only.
    """

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                                primary_key=True, related_name="seed_key")
    key = models.CharField(max_length=64, default=new_seed_key, editable=False)

    def __str__(self) -> str:
        return f"seed key of {self.user_id}"


class Preferences(models.Model):
    """What a person chose for themselves that pages, sockets and jobs all read: the
    language Mendel speaks to them (empty: their browser's). Kept here, at the bottom of
    the apps, because a job a breeding worker runs speaks its owner's language too."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                                primary_key=True, related_name="preferences")
    language = models.CharField(max_length=16, blank=True, default="")

    def __str__(self) -> str:
        return f"preferences of {self.user_id}"


def latent_sha(space_slug: str, version: str, latent: torch.Tensor) -> str:
    """The content address of a picture: space, weights version and latent, hashed.

    Images are cached under this key; a new version of a space's weights gives new keys,
    so an image URL never changes its picture.
    """
    digest = hashlib.sha256(f"{space_slug}:{version}:".encode())
    digest.update(latent.detach().to(torch.float32).contiguous().numpy().tobytes())
    return digest.hexdigest()[:32]


class Space(models.Model):
    """A latent space known to this site, synced from the inference registry."""

    slug = models.SlugField(max_length=40, unique=True)
    kind = models.CharField(max_length=40)
    version = models.CharField(max_length=64)
    layers = models.PositiveIntegerField()
    dim = models.PositiveIntegerField()
    coarse_layers = models.PositiveIntegerField()
    gaussian = models.BooleanField(default=True)
    settings = models.JSONField(default=dict, blank=True)
    created = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["slug"]

    def __str__(self) -> str:
        return self.slug

    @property
    def latent_size(self) -> int:
        return self.layers * self.dim

    def generator(self):
        from inference import get_space

        return get_space(self.slug)


class Visibility(models.TextChoices):
    DRAFT = "draft", gettext_lazy("Draft")  # bred, not kept yet; removed after a while
    PRIVATE = "private", gettext_lazy("Private")
    UNLISTED = "unlisted", gettext_lazy("Unlisted")  # anyone with the link
    PUBLIC = "public", gettext_lazy("Public")


#: Seen by anyone who has the link.
SHARED = (Visibility.PUBLIC, Visibility.UNLISTED)


class Origin(models.TextChoices):
    # How a work came to be, as its page names it ("A first generation: random.").
    RANDOM = "random", pgettext_lazy("origin of a work", "Random")
    CHILDREN = "children", pgettext_lazy("origin of a work", "Child")
    CROSS = "cross", pgettext_lazy("origin of a work", "Cross")
    EDIT = "edit", pgettext_lazy("origin of a work", "Edit")
    UPLOAD = "upload", pgettext_lazy("origin of a work", "Upload")
    VIDEO = "video", pgettext_lazy("origin of a work", "Video")
    # A finished work an artist brought in as it is (a picture, film, sound or text made
    # anywhere): no place in a space, nothing to breed from (``breeding.media``).
    MEDIA = "media", pgettext_lazy("origin of a work", "Published work")
    # Started from a phrase ("red cat"), in a space that knows words (``breeding.words``).
    WORDS = "words", pgettext_lazy("origin of a work", "From words")


class Medium(models.TextChoices):
    """What a work is to look at or listen to. A bred work is a picture, a morph video a
    video; a published work (``Origin.MEDIA``) is any of the four."""

    PICTURE = "picture", pgettext_lazy("medium", "Picture")
    VIDEO = "video", pgettext_lazy("medium", "Video")
    SOUND = "sound", pgettext_lazy("medium", "Sound")
    TEXT = "text", pgettext_lazy("medium", "Text")


def viewer_id(user) -> int | None:
    """The id of a viewer given as a user, an anonymous user, None or an id."""
    if user is None or isinstance(user, int):
        return user
    return user.pk if user.is_authenticated else None


#: Who may see a work, written once for querysets and single rows alike. Each rule names the
#: visibilities that let anyone do it, and whether a removed work still counts; a work's
#: owner always may, under the same removal rule.
#:
#: - ``visible``: may open it (its page, picture, detail; breed from it): their own works and
#:   others' public or unlisted ones, none removed.
#: - ``listed``: may find it in a list, a family, a count, an exhibition: their own and
#:   public ones. An unlisted work is for those who have its link.
#: - ``known``: may know it existed once it is removed (a "removed" tile in a family tree):
#:   what was listed for them before the removal.
RULES: dict[str, tuple[tuple[str, ...], bool]] = {
    "visible": (SHARED, False),
    "listed": ((Visibility.PUBLIC,), False),
    "known": ((Visibility.PUBLIC,), True),
}


#: ``Creation.objects.public()`` in SQL, for a partial index's predicate (the neighbour
#: indexes of ``gallery.neighbours``): a query must repeat the predicate for the planner to use
#: the index, and the test of their plan fails if the two ever differ.
PUBLIC_SQL = "visibility = 'public' AND removed_at IS NULL"


def may(rule: str, user) -> models.Q:
    """The rule as a condition on rows, for ``user`` (a user, an anonymous one, None, or a
    user's id: a request authenticated by its API token before Django knows its user, as
    the picture view does)."""
    anyone, removed_counts = RULES[rule]
    allowed = models.Q(visibility__in=anyone)
    if (uid := viewer_id(user)) is not None:
        allowed |= models.Q(owner_id=uid)
    return allowed if removed_counts else allowed & models.Q(removed_at__isnull=True)


def allows(rule: str, user, *, visibility: str, removed: bool, owner_id: int | None) -> bool:
    """The same rule for one row, given its fields (``Creation.may`` passes its own)."""
    anyone, removed_counts = RULES[rule]
    if removed and not removed_counts:
        return False
    uid = viewer_id(user)
    return visibility in anyone or (uid is not None and owner_id == uid)


def opens_to_anyone(visibility: str) -> bool:
    """Does this visibility open a work to anyone who has its address (``visible`` for a
    visitor)?"""
    return allows("visible", None, visibility=visibility, removed=False, owner_id=None)


class CreationQuerySet(models.QuerySet):
    """Who may see a work (``RULES``), for querysets. Every API view, page, picture,
    neighbour list, socket, exhibition and job asks one of these, or ``Creation.may`` for a
    row it holds; no other module tests ``visibility`` or ``removed_at`` for a viewer
    (``tests/breeding/test_one_rule.py`` fails when one does).
    """

    def alive(self) -> CreationQuerySet:
        return self.filter(removed_at__isnull=True)

    def removed(self) -> CreationQuerySet:
        return self.filter(removed_at__isnull=False)

    def visible_to(self, user) -> CreationQuerySet:
        return self.filter(may("visible", user))

    def known_to(self, user) -> CreationQuerySet:
        return self.filter(may("known", user))

    def listed_for(self, user) -> CreationQuerySet:
        return self.filter(may("listed", user))

    def public(self) -> CreationQuerySet:
        return self.listed_for(None)

    def with_shared(self) -> CreationQuerySet:
        """Each row's ``anyone``: may anyone with its address open it (a picture's cache
        rules follow that); ``order_by("-anyone")`` puts those first."""
        return self.annotate(anyone=models.ExpressionWrapper(
            may("visible", None), output_field=models.BooleanField()))

    # -- a breeder's own library: their works by state ----------------------------------

    def drafts(self) -> CreationQuerySet:
        return self.filter(visibility=Visibility.DRAFT)

    def kept(self) -> CreationQuerySet:
        return self.exclude(visibility=Visibility.DRAFT)

    def with_visibility(self, visibility: str) -> CreationQuerySet:
        return self.filter(visibility=visibility)


class Creation(models.Model):
    public_id = models.CharField(max_length=16, unique=True, default=new_public_id, editable=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="creations")
    # A published work (``Origin.MEDIA``) has neither a space nor a latent; its
    # ``latent_sha`` is its media's public id, which names its files (``images.urls``).
    space = models.ForeignKey(Space, on_delete=models.PROTECT, related_name="creations",
                              null=True, blank=True)
    # Dimensions differ per space; nearest-neighbour indexes are per space (partial, expression).
    latent = VectorField(null=True, blank=True)
    latent_sha = models.CharField(max_length=32, db_index=True)
    # How it looks (``inference.look``), found by a job once it is kept; its look-alike
    # index is per space (``breeding.looks``).
    look = VectorField(dimensions=LOOK_DIMS, null=True, blank=True)
    # (a default in the database too: rows written by SQL, as the benchmarks write them, are
    # bred pictures)
    medium = models.CharField(max_length=8, choices=Medium.choices, default=Medium.PICTURE,
                              db_default=Medium.PICTURE)
    # The version of its space it was made in (``Space.version`` then): a space retrained or
    # added again is a new version, and a work keeps rendering in its own while that
    # version's weights are at hand (``breeding.images.request``).
    version = models.CharField(max_length=64, blank=True, default="")
    origin = models.CharField(max_length=12, choices=Origin.choices)
    seed = models.BigIntegerField(null=True, blank=True)
    genes = models.JSONField(default=dict, blank=True)  # gene slug -> amount, for edits
    title = models.CharField(max_length=120, blank=True)
    # The words a work was started from (origin ``words``), as the breeder typed them.
    # (a default in the database too: rows written by SQL, as the benchmarks write them)
    phrase = models.CharField(max_length=200, blank=True, default="", db_default="")
    visibility = models.CharField(max_length=10, choices=Visibility.choices, default=Visibility.DRAFT)
    depth = models.PositiveIntegerField(default=0)  # generations from a random ancestor
    created = models.DateTimeField(default=timezone.now, db_index=True)
    kept_at = models.DateTimeField(null=True, blank=True)
    removed_at = models.DateTimeField(null=True, blank=True)
    like_count = models.PositiveIntegerField(default=0)
    # Trending order: log2 of the work's making and its likes, each weighed by its time
    # (HOT_HALF_LIFE), so recent likes outweigh old ones without any periodic recomputation.
    hot = models.FloatField(default=0.0)

    objects = CreationQuerySet.as_manager()

    class Meta:
        ordering = ["-created", "-id"]
        indexes = [
            # the breeder's library: their drafts and kept works, newest first
            models.Index(fields=["owner", "visibility", "-created"], name="creation_library"),
            # the draft clean-up job
            models.Index(fields=["visibility", "created"], name="creation_drafts",
                         condition=models.Q(visibility="draft")),
            # the public gallery: newest and trending
            models.Index(fields=["-created", "-id"], name="gallery_newest",
                         condition=models.Q(visibility="public", removed_at__isnull=True)),
            models.Index(fields=["-hot", "-id"], name="gallery_trending",
                         condition=models.Q(visibility="public", removed_at__isnull=True)),
            # the gallery of one medium (sound, text: few among many pictures)
            models.Index(fields=["medium", "-created", "-id"], name="gallery_medium",
                         condition=models.Q(visibility="public", removed_at__isnull=True)),
        ]

    def __str__(self) -> str:
        return self.title or self.public_id

    @property
    def is_removed(self) -> bool:
        return self.removed_at is not None

    @property
    def is_draft(self) -> bool:
        return self.visibility == Visibility.DRAFT

    def may(self, rule: str, user) -> bool:
        """``RULES[rule]`` for this row: ``work.may("listed", viewer)`` answers as
        ``Creation.objects.listed_for(viewer).filter(pk=work.pk).exists()`` would."""
        return allows(rule, user, visibility=self.visibility, removed=self.is_removed,
                      owner_id=self.owner_id)

    def visible_to(self, user) -> bool:
        return self.may("visible", user)

    def listed_for(self, user) -> bool:
        return self.may("listed", user)

    def known_to(self, user) -> bool:
        return self.may("known", user)

    @property
    def is_media(self) -> bool:
        """Is it a published work (a picture, film, sound or text brought in as it is)?"""
        return self.origin == Origin.MEDIA

    @property
    def is_shared(self) -> bool:
        """May anyone with its address open it?"""
        return self.may("visible", None)

    def tensor(self) -> torch.Tensor:
        return torch.from_numpy(np.asarray(self.latent, dtype=np.float32).copy()).view(
            self.space.layers, self.space.dim
        )


class Parentage(models.Model):
    child = models.ForeignKey(Creation, on_delete=models.CASCADE, related_name="parent_links")
    # A purged draft leaves its children intact: the link stays, pointing nowhere.
    parent = models.ForeignKey(
        Creation, on_delete=models.SET_NULL, null=True, related_name="child_links"
    )
    content_weight = models.FloatField(default=1.0)
    style_weight = models.FloatField(default=1.0)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["child", "position"]
        constraints = [
            models.UniqueConstraint(fields=["child", "position"], name="parentage_position"),
        ]
        indexes = [models.Index(fields=["parent"], name="parentage_parent")]

    def __str__(self) -> str:
        return f"{self.parent_id} -> {self.child_id}"


class GeneQuerySet(models.QuerySet):
    def offered_to(self, user, space: Space) -> GeneQuerySet:
        """The genes of ``space``'s present version a breeder's Genes tab shows: every gene
        found for the space, and the genes from words this breeder added."""
        mine = models.Q(added_by=user.pk) if user is not None and user.is_authenticated else models.Q(pk__in=[])
        words = Gene.objects.filter(mine, space=space, version=space.version, source="word").values("pk")
        return self.filter(space=space, version=space.version).filter(
            ~models.Q(source="word") | models.Q(pk__in=words))


class Gene(models.Model):
    """A named direction in a space: moving along it changes the picture steadily."""

    space = models.ForeignKey(Space, on_delete=models.CASCADE, related_name="genes")
    version = models.CharField(max_length=64)  # the space version it was found for
    # The discovery method it was found by (breeding.genes.DISCOVERY_VERSION); 1 before it
    # was recorded.
    discovery = models.PositiveSmallIntegerField(default=1)
    slug = models.SlugField(max_length=40)
    label = models.CharField(max_length=80)
    source = models.CharField(max_length=20)  # "attribute" or "pca"
    direction = VectorField()
    low = models.FloatField()
    high = models.FloatField()
    rho = models.FloatField()
    position = models.PositiveSmallIntegerField(default=0)
    # A gene made from a word (source "word", ``breeding.words``): the breeders who added it
    # to their Genes tab. It is offered to them, not to everyone: one breeder's words do
    # not crowd another's sliders.
    added_by = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="word_genes")

    objects = GeneQuerySet.as_manager()

    class Meta:
        ordering = ["space", "position"]
        constraints = [models.UniqueConstraint(fields=["space", "slug"], name="gene_slug")]

    def __str__(self) -> str:
        return f"{self.space.slug}:{self.slug}"

    @property
    def shown_label(self) -> str:
        """The label as the reader sees it: a built-in one (``breeding.genes.LABELS``, stored
        in English) in the active language, any other as it was stored."""
        return _(self.label) if self.label else self.label

    def tensor(self) -> torch.Tensor:
        return torch.from_numpy(np.asarray(self.direction, dtype=np.float32).copy()).view(
            self.space.layers, self.space.dim
        )


class Vocabulary(models.Model):
    """The words a space knows, for one version of its weights (``breeding.words``): made by
    a job from the pictures it was trained on and their labels. A space without labels has
    none."""

    space = models.ForeignKey(Space, on_delete=models.CASCADE, related_name="vocabularies")
    version = models.CharField(max_length=64)
    method = models.CharField(max_length=20)  # how its pictures got latents: "encoder"
    pictures = models.PositiveIntegerField()  # labelled pictures behind it
    mean = VectorField()  # (dim,) the mean w of those pictures: where no word pulls
    made = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["space", "version"], name="vocabulary_version")]

    def __str__(self) -> str:
        return f"{self.space.slug}@{self.version}"


class Word(models.Model):
    """A word of a vocabulary: where its pictures' latents meet (``point``), the way from
    the other pictures to them (``direction``, unit length), and how sure that is: how
    many pictures carry it and how tight they are (1: one place; 0: as scattered as all)."""

    vocabulary = models.ForeignKey(Vocabulary, on_delete=models.CASCADE, related_name="words")
    language = models.CharField(max_length=8)  # "en" or "zh"
    text = models.CharField(max_length=80)
    point = VectorField()
    direction = VectorField()
    count = models.PositiveIntegerField()
    tightness = models.FloatField()
    reach = models.FloatField()  # the distance from the other pictures' mean to the point

    class Meta:
        ordering = ["vocabulary", "text"]
        constraints = [models.UniqueConstraint(fields=["vocabulary", "text"], name="word_text")]

    def __str__(self) -> str:
        return self.text


def lineage(creation: Creation, direction: str, depth: int) -> list[dict]:
    """Ancestors (``up``) or descendants (``down``) of a creation, ``depth`` generations.

    One recursive query, parameterised; rows are (creation id or None for a purged one,
    the id of the node it links from, generation). Cycles cannot happen (a child is always
    newer than its parents) but the depth bound would stop one anyway.
    """
    if direction not in ("up", "down"):
        raise ValueError(f"direction must be up or down, got {direction!r}")
    if not 1 <= depth <= MAX_LINEAGE_DEPTH:
        raise ValueError(f"depth must be between 1 and {MAX_LINEAGE_DEPTH}, got {depth}")
    near, far = ("child_id", "parent_id") if direction == "up" else ("parent_id", "child_id")
    table = Parentage._meta.db_table
    sql = f"""
        WITH RECURSIVE tree(node, via, generation, position) AS (
            SELECT p.{far}, p.{near}, 1, p.position FROM {table} p WHERE p.{near} = %s
            UNION ALL
            SELECT p.{far}, p.{near}, t.generation + 1, p.position
            FROM {table} p JOIN tree t ON p.{near} = t.node
            WHERE t.generation < %s
        )
        SELECT node, via, generation, position FROM tree ORDER BY generation, via, position
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, [creation.pk, depth])
        return [
            {"node": node, "via": via, "generation": generation, "position": position}
            for node, via, generation, position in cursor.fetchall()
        ]


def upload_path(upload: Upload, filename: str) -> str:
    """Where an upload's files are stored: named by its id and the kind of file Mendel made
    (``original.jpg``, ``original.png``, ``thumb.webp``), never by the name it came with."""
    return f"uploads/{upload.public_id[:2]}/{upload.public_id}/{filename}"


#: The longest side of an upload's thumbnail.
THUMB_SIDE = 640


UploadStatus = statuses("UploadStatus",
                        running=("PROJECTING", "projecting", pgettext_lazy("job status", "Projecting")))

#: An upload still on its way: a job will (or does) project it.
UNFINISHED = (UploadStatus.QUEUED, UploadStatus.PROJECTING)


class Upload(Job):
    """A picture a breeder brought in, and its projection into a space (a job:
    ``breeding.jobs``).

    The original (decoded, re-encoded, without metadata) is its owner's alone, whatever
    becomes of the work projected from it: ``creation``, made once by the projection job
    (``breeding.tasks.project_upload``), in the same transaction that marks this done.
    """

    Status = UploadStatus
    RUNNING = UploadStatus.PROJECTING
    TASK = "breeding.tasks.project_upload"
    TASK_ARG = "upload_id"
    WAITING_MAX_SETTING = "UPLOADS_WAITING_MAX"
    PER_HOUR_SETTING = "UPLOADS_PER_HOUR"
    PRIOR_S_PER_UNIT = 20.0  # before any was measured: the budget and the work around it

    public_id = models.CharField(max_length=16, unique=True, default=new_public_id, editable=False)
    space = models.ForeignKey(Space, on_delete=models.PROTECT, related_name="uploads")
    original = models.FileField(upload_to=upload_path, max_length=200)
    # What pages show: the picture within THUMB_SIDE px (an original may be 50 megapixels).
    thumb = models.FileField(upload_to=upload_path, max_length=200)
    sha256 = models.CharField(max_length=64)
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    source_format = models.CharField(max_length=8)
    title = models.CharField(max_length=120, blank=True)
    status = status_field(UploadStatus)
    # The projection's own steps and loss, written about once a second by the job (its
    # ``progress`` is the whole job's, over every phase).
    step = models.PositiveIntegerField(default=0)
    steps = models.PositiveIntegerField(default=0)
    loss = models.FloatField(null=True, blank=True)
    psnr_db = models.FloatField(null=True, blank=True)
    creation = models.OneToOneField(Creation, on_delete=models.SET_NULL, null=True, blank=True,
                                    related_name="upload")

    class Meta:
        ordering = ["-created", "-id"]
        indexes = [models.Index(fields=["owner", "-created"], name="upload_owner")]

    def __str__(self) -> str:
        return f"upload {self.public_id}"

    def event(self, **extra) -> dict:
        """What the owner's sockets hear of an upload."""
        return {
            "type": "upload",
            "upload": self.public_id,
            "status": self.status,
            "step": self.step,
            "steps": self.steps,
            "fraction": self.fraction,
            "loss": self.loss,
            "eta_s": None if self.eta_s is None else round(self.eta_s, 1),
            "creation": self.creation.public_id if self.creation_id else None,
            "error": self.error,
            **extra,
        }

    @classmethod
    def waiting_refusal(cls, waiting: int) -> str:
        return ngettext("You already have %(count)d picture waiting to be projected. Wait for "
                        "one to finish, or cancel one.",
                        "You already have %(count)d pictures waiting to be projected. Wait for "
                        "one to finish, or cancel one.", waiting) % {"count": waiting}

    @classmethod
    def hourly_refusal(cls, limit: int, wait: int) -> str:
        return _("You have uploaded %(limit)d pictures this hour, as many as Mendel projects "
                 "for one person. Try again in %(wait)s.") % {"limit": limit,
                                                             "wait": in_words(wait)}


def video_path(video: Video, filename: str) -> str:
    """Where a video's files are stored: ``video.mp4``, ``video.webm``, ``poster.webp``."""
    return f"videos/{video.public_id[:2]}/{video.public_id}/{filename}"


VideoStatus = statuses("VideoStatus", running=("RENDERING", "rendering", pgettext_lazy("job status", "Rendering")))

#: A video still on its way: a job will (or does) render it.
VIDEO_UNFINISHED = (VideoStatus.QUEUED, VideoStatus.RENDERING)


class Video(Job):
    """A morph through keyframe works (or a camera move over one), rendered by a job
    (``breeding.jobs``).

    ``keyframes`` are the works' public ids in order; ``settings`` how the path is drawn
    (seconds per step, fps, size, loop, easing, even speed, camera). Once rendered, the
    video becomes a work (``creation``, origin ``video``, a child of its keyframes), made
    once by the job (``breeding.tasks.render_video``) in the transaction that marks this
    done: from then on who may see the video and its files is who may see that work.
    """

    Status = VideoStatus
    RUNNING = VideoStatus.RENDERING
    TASK = "breeding.tasks.render_video"
    TASK_ARG = "video_id"
    WAITING_MAX_SETTING = "VIDEOS_WAITING_MAX"
    PER_HOUR_SETTING = "VIDEOS_PER_HOUR"
    PRIOR_S_PER_UNIT = 0.05  # seconds per frame of 256 px, before any was measured

    public_id = models.CharField(max_length=16, unique=True, default=new_public_id, editable=False)
    space = models.ForeignKey(Space, on_delete=models.PROTECT, related_name="videos")
    keyframes = models.JSONField()
    settings = models.JSONField()
    title = models.CharField(max_length=120, blank=True)
    status = status_field(VideoStatus)
    frames_done = models.PositiveIntegerField(default=0)
    frames_total = models.PositiveIntegerField(default=0)
    mp4 = models.FileField(upload_to=video_path, max_length=200, blank=True)
    webm = models.FileField(upload_to=video_path, max_length=200, blank=True)
    poster = models.FileField(upload_to=video_path, max_length=200, blank=True)
    duration_s = models.FloatField(null=True, blank=True)
    creation = models.OneToOneField(Creation, on_delete=models.CASCADE, null=True, blank=True,
                                    related_name="video")

    class Meta:
        ordering = ["-created", "-id"]
        indexes = [models.Index(fields=["owner", "-created"], name="video_owner")]

    def __str__(self) -> str:
        return f"video {self.public_id}"

    def work_units(self) -> float:
        """Frames times area, in 256 px pictures."""
        size = (self.settings or {}).get("size", 256) if isinstance(self.settings, dict) else 256
        return max(1, self.frames_total) * (size / 256) ** 2

    def event(self, **extra) -> dict:
        """What the owner's sockets hear of a video."""
        return {
            "type": "video",
            "video": self.public_id,
            "status": self.status,
            "frames_done": self.frames_done,
            "frames_total": self.frames_total,
            "fraction": self.fraction,
            "eta_s": None if self.eta_s is None else round(self.eta_s, 1),
            "creation": self.creation.public_id if self.creation_id else None,
            "error": self.error,
            **extra,
        }

    @classmethod
    def waiting_refusal(cls, waiting: int) -> str:
        return ngettext("You already have %(count)d video being made. Wait for one to finish, "
                        "or cancel one.",
                        "You already have %(count)d videos being made. Wait for one to finish, "
                        "or cancel one.", waiting) % {"count": waiting}

    @classmethod
    def hourly_refusal(cls, limit: int, wait: int) -> str:
        return _("You have made %(limit)d videos this hour, as many as Mendel renders for one "
                 "person. Try again in %(wait)s.") % {"limit": limit, "wait": in_words(wait)}


TrainingStatus = statuses("TrainingStatus",
                          running=("TRAINING", "training", pgettext_lazy("job status", "Training")))


class Training(Job):
    """A generator trained from a folder of pictures on the server (``breeding.training``),
    asked for by staff; when it ends its weights are added as the space ``slug``, a space
    like any other. Checkpoints live in ``TRAINING_DIR``/<public id>, so a run taken up again
    after its worker died goes on from the last one."""

    Status = TrainingStatus
    RUNNING = TrainingStatus.TRAINING
    TASK = "breeding.tasks.train_space"
    TASK_ARG = "training_id"
    WAITING_MAX_SETTING = "TRAININGS_WAITING_MAX"
    PER_HOUR_SETTING = "TRAININGS_PER_HOUR"
    PRIOR_S_PER_UNIT = 1 / 25  # seconds per 64 px picture shown on two cores, measured
    SAVE_EVERY_S = 5.0
    EVENT_EVERY_S = 5.0

    public_id = models.CharField(max_length=16, unique=True, default=new_public_id, editable=False)
    folder = models.CharField(max_length=500)
    slug = models.SlugField(max_length=40)
    title = models.CharField(max_length=120, blank=True)
    resolution = models.PositiveSmallIntegerField(default=64)
    pictures_total = models.PositiveIntegerField()
    seed = models.BigIntegerField(default=0)
    status = status_field(TrainingStatus)
    pictures_read = models.PositiveIntegerField(default=0)
    skipped = models.JSONField(default=list, blank=True)  # [[file name, why], ...]
    pictures_shown = models.PositiveIntegerField(default=0)
    losses = models.JSONField(default=dict, blank=True)  # the last minibatch's
    pictures_per_s = models.FloatField(null=True, blank=True)
    checkpoint_at = models.PositiveIntegerField(default=0)  # pictures shown at the last checkpoint
    samples_at = models.PositiveIntegerField(default=0)  # ... and at the last sample grid
    space = models.ForeignKey(Space, on_delete=models.SET_NULL, null=True, blank=True,
                              related_name="trainings")

    class Meta:
        ordering = ["-created", "-id"]

    def __str__(self) -> str:
        return f"training {self.public_id} ({self.slug})"

    def work_units(self) -> float:
        """Pictures shown, in 64 px pictures."""
        return max(1, self.pictures_total) * (self.resolution / 64) ** 2

    def event(self, **extra) -> dict:
        return {
            "type": "training",
            "training": self.public_id,
            "status": self.status,
            "slug": self.slug,
            "pictures_shown": self.pictures_shown,
            "pictures_total": self.pictures_total,
            "fraction": self.fraction,
            "eta_s": None if self.eta_s is None else round(self.eta_s),
            "losses": self.losses,
            "error": self.error,
            **extra,
        }


class TechniqueQuerySet(models.QuerySet):
    def offered_to(self, user) -> TechniqueQuerySet:
        """The techniques ``user`` may be shown in a list: the built-in ones and those of
        works listed for them (``may("listed")``). A name typed for a private work is that
        work's: nobody else sees it offered."""
        listed = Creation.objects.listed_for(user).filter(origin=Origin.MEDIA).values("pk")
        return self.filter(models.Q(built_in=True) | models.Q(works__creation__in=listed)).distinct()

    def of_public_works(self) -> TechniqueQuerySet:
        """Those of the works anyone may list (the gallery's filter)."""
        listed = Creation.objects.public().filter(origin=Origin.MEDIA).values("pk")
        return self.filter(works__creation__in=listed).distinct()


class Technique(models.Model):
    """A technique or tool a published work was made with (StyleGAN2, GPT-3, JukeBox, ...):
    a list that grows as artists name new ones. Names are compared without case."""

    slug = models.SlugField(max_length=48, unique=True)
    name = models.CharField(max_length=40)
    # Known to every Mendel from its first start (StyleGAN2, GPT-3, ...): offered to anyone.
    built_in = models.BooleanField(default=False)
    created = models.DateTimeField(default=timezone.now)

    objects = TechniqueQuerySet.as_manager()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Licence(models.TextChoices):
    """The licences an artist may pick for a published work."""

    RESERVED = "all-rights-reserved", gettext_lazy("All rights reserved")
    CC_BY = "cc-by-4.0", "CC BY 4.0"
    CC_BY_SA = "cc-by-sa-4.0", "CC BY-SA 4.0"
    CC_BY_NC = "cc-by-nc-4.0", "CC BY-NC 4.0"
    CC_BY_NC_SA = "cc-by-nc-sa-4.0", "CC BY-NC-SA 4.0"
    CC_BY_ND = "cc-by-nd-4.0", "CC BY-ND 4.0"
    CC0 = "cc0-1.0", gettext_lazy("CC0 (public domain)")


def media_path(media: MediaWork, filename: str) -> str:
    """Where a published work's files are stored, by its id and the kind of file Mendel made
    (``video.mp4``, ``sound.m4a``, ``picture.webp``, ``cover.webp``), never by the name it
    came with; the file as it came (``source``) only until it is transcoded."""
    return f"media/{media.public_id[:2]}/{media.public_id}/{filename}"


MediaStatus = statuses("MediaStatus",
                       running=("TRANSCODING", "transcoding", pgettext_lazy("job status", "Transcoding")))


class MediaWork(Job):
    """A finished work an artist publishes as it is: a picture, a video, a sound or a text,
    with its statement, techniques, credits, links and licence (``breeding.media``).

    A video or a sound is transcoded by a job (``breeding.tasks.transcode_media``) into what
    every browser plays; a picture is decoded and re-encoded and a text kept as text while
    the request is answered. Either way, once ready it becomes a work (``creation``, origin
    ``media``), made once in the transaction that marks this done: from then on who may see
    it and its files is who may see that work. Removing the work deletes its files.
    """

    Status = MediaStatus
    RUNNING = MediaStatus.TRANSCODING
    TASK = "breeding.tasks.transcode_media"
    TASK_ARG = "media_id"
    WAITING_MAX_SETTING = "MEDIA_WAITING_MAX"
    PER_HOUR_SETTING = "MEDIA_PER_HOUR"
    PRIOR_S_PER_UNIT = 0.5  # seconds per second of 1080p video or per 6 s of sound, before any was measured

    public_id = models.CharField(max_length=16, unique=True, default=new_public_id, editable=False)
    kind = models.CharField(max_length=8, choices=Medium.choices)
    title = models.CharField(max_length=120)
    statement = models.TextField(blank=True, max_length=4000)
    text = models.TextField(blank=True, max_length=20000)  # a text work's words
    markdown = models.BooleanField(default=False)  # a text in Mendel's small Markdown
    credits = models.TextField(blank=True, max_length=1000)
    links = models.JSONField(default=list, blank=True)  # [{"url": ..., "label": ...}]
    licence = models.CharField(max_length=24, choices=Licence.choices, default=Licence.RESERVED)
    techniques = models.ManyToManyField(Technique, blank=True, related_name="works")
    # A bred work it was made with: the published work becomes its child in the family tree.
    made_with = models.ForeignKey(Creation, on_delete=models.SET_NULL, null=True, blank=True,
                                  related_name="made_into")
    # Who may see the work once it is ready.
    visibility = models.CharField(max_length=10, choices=Visibility.choices, default=Visibility.PRIVATE)
    source = models.FileField(upload_to=media_path, max_length=200, blank=True)
    source_format = models.CharField(max_length=40, blank=True)
    source_bytes = models.PositiveBigIntegerField(default=0)
    file = models.FileField(upload_to=media_path, max_length=200, blank=True)
    cover = models.FileField(upload_to=media_path, max_length=200, blank=True)
    large = models.FileField(upload_to=media_path, max_length=200, blank=True)
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    duration_s = models.FloatField(null=True, blank=True)
    creation = models.OneToOneField(Creation, on_delete=models.CASCADE, null=True, blank=True,
                                    related_name="media")

    class Meta:
        ordering = ["-created", "-id"]
        indexes = [models.Index(fields=["owner", "-created"], name="media_owner")]

    def __str__(self) -> str:
        return f"{self.kind} {self.public_id}"

    def work_units(self) -> float:
        """Seconds of 1080p video, or of sound counted at a sixth."""
        seconds = self.duration_s or 60.0
        if self.kind == Medium.SOUND:
            return max(1.0, seconds / 6)
        pixels = (self.width or 1920) * (self.height or 1080)
        return max(1.0, seconds * pixels / (1920 * 1080))

    def event(self, **extra) -> dict:
        """What the owner's sockets hear of a published work on its way."""
        return {
            "type": "media",
            "media": self.public_id,
            "kind": self.kind,
            "status": self.status,
            "fraction": self.fraction,
            "eta_s": None if self.eta_s is None else round(self.eta_s, 1),
            "creation": self.creation.public_id if self.creation_id else None,
            "error": self.error,
            **extra,
        }

    @classmethod
    def waiting_refusal(cls, waiting: int) -> str:
        return ngettext("You already have %(count)d file being transcoded. Wait for it to "
                        "finish, or cancel it.",
                        "You already have %(count)d files being transcoded. Wait for one to "
                        "finish, or cancel one.", waiting) % {"count": waiting}

    @classmethod
    def hourly_refusal(cls, limit: int, wait: int) -> str:
        return _("You have published %(limit)d files this hour, as many as Mendel takes from "
                 "one person. Try again in %(wait)s.") % {"limit": limit, "wait": in_words(wait)}

    def delete_files(self) -> None:
        """Delete every file of this work (it was removed); the row stays for its history."""
        for field in (self.source, self.file, self.cover, self.large):
            if field:
                field.delete(save=False)
