"""Likes (one per person per creation), follows (one per follower per artist), comments on
public works and the reports on them, and exhibitions."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy, pgettext_lazy

from breeding.jobs import Job, status_field, statuses
from breeding.models import Creation, Space, new_public_id


class Like(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="likes")
    creation = models.ForeignKey(Creation, on_delete=models.CASCADE, related_name="likes")
    created = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "creation"], name="like_once")]

    def __str__(self) -> str:
        return f"{self.user_id} likes {self.creation_id}"


class Follow(models.Model):
    """A breeder following an artist: the artist's works come into the breeder's "following"
    view of the gallery (``gallery.listings.following_works``)."""

    # No index of its own: the unique constraint's (follower, artist) serves the feed.
    follower = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                                 related_name="follows", db_index=False)
    # Its own index (a ForeignKey's): an artist's follower count, and deleting an account.
    artist = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="followers")
    created = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["follower", "artist"], name="follow_once"),
            models.CheckConstraint(condition=~models.Q(follower=models.F("artist")), name="follow_not_oneself"),
        ]

    def __str__(self) -> str:
        return f"{self.follower_id} follows {self.artist_id}"


#: The longest comment, in characters (after line ends are made ``\n``).
COMMENT_MAX_LENGTH = 2000
#: The longest reason a report gives.
REPORT_REASON_MAX_LENGTH = 500


class Comment(models.Model):
    """A breeder's plain-text words on a public work. Read only while the work is listed for
    everyone (``gallery.comments.shown``): they vanish with the work's visibility and come
    back with it. Its author edits or deletes it; the work's owner hides it (``hidden_at``:
    then only they and its author see it); staff remove it (``staff_removed_at``: seen by
    no one, kept for the reports on it)."""

    public_id = models.CharField(max_length=16, unique=True, default=new_public_id, editable=False)
    # No index of its own: ``comment_thread`` (creation, created, id) serves it.
    creation = models.ForeignKey(Creation, on_delete=models.CASCADE, related_name="comments",
                                 db_index=False)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="comments")
    text = models.TextField(max_length=COMMENT_MAX_LENGTH)
    created = models.DateTimeField(default=timezone.now)
    edited_at = models.DateTimeField(null=True, blank=True)
    hidden_at = models.DateTimeField(null=True, blank=True)
    staff_removed_at = models.DateTimeField(null=True, blank=True)
    staff_removed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                         null=True, blank=True, related_name="+")

    class Meta:
        ordering = ["created", "id"]
        indexes = [
            # a work's comments, oldest first (the API's pages, the work page)
            models.Index(fields=["creation", "created", "id"], name="comment_thread"),
        ]

    def __str__(self) -> str:
        return f"{self.author_id} on {self.creation_id}: {self.text[:40]}"


class CommentReport(models.Model):
    """Someone telling staff that a comment should not be there, and why. One per reporter
    per comment (a second report changes the reason); listed for staff in the admin until
    one of them deals with it (``resolved_at``)."""

    comment = models.ForeignKey(Comment, on_delete=models.CASCADE, related_name="reports",
                                db_index=False)  # the unique constraint's index serves it
    reporter = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                                 related_name="comment_reports")
    reason = models.TextField(max_length=REPORT_REASON_MAX_LENGTH)
    created = models.DateTimeField(default=timezone.now)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                    null=True, blank=True, related_name="+")

    class Meta:
        ordering = ["-created", "-id"]
        constraints = [models.UniqueConstraint(fields=["comment", "reporter"], name="report_once")]

    def __str__(self) -> str:
        return f"report by {self.reporter_id} on {self.comment_id}"


class ExhibitionStatus(models.TextChoices):
    # (The labels are shown: the curator's page chooses one.)
    DRAFT = "draft", gettext_lazy("Draft")  # seen by its curators only
    OPEN = "open", gettext_lazy("Open")
    CLOSED = "closed", gettext_lazy("Closed")


class ExhibitionQuerySet(models.QuerySet):
    def visible_to(self, user) -> ExhibitionQuerySet:
        """Open and closed exhibitions for everyone; drafts for their curators and staff."""
        if user is not None and user.is_authenticated:
            if user.is_staff:
                return self.all()
            return self.filter(~models.Q(status=ExhibitionStatus.DRAFT) | models.Q(curators=user)).distinct()
        return self.exclude(status=ExhibitionStatus.DRAFT)


class Exhibition(models.Model):
    """A curated show of public works, hung in order with wall texts, followed live.

    Every change a visitor would see (items, the guided tour, opening and closing, breeding
    rounds) is an ``ExhibitionEvent`` with the next ``seq`` of this exhibition, written in
    the transaction that makes the change (``gallery.exhibitions``).
    """

    slug = models.SlugField(max_length=80, unique=True)
    title = models.CharField(max_length=120)
    statement = models.TextField(max_length=4000, blank=True)
    cover = models.ForeignKey(Creation, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    status = models.CharField(max_length=8, choices=ExhibitionStatus.choices, default=ExhibitionStatus.DRAFT)
    opens_at = models.DateTimeField(null=True, blank=True)
    closes_at = models.DateTimeField(null=True, blank=True)
    curators = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="exhibitions")
    created = models.DateTimeField(default=timezone.now)
    #: The seq of the last event: the log's head, advanced under this row's lock.
    seq = models.PositiveBigIntegerField(default=0)
    #: The guided tour: the item the curator shows now (None: no tour under way).
    tour_item = models.ForeignKey("ExhibitionItem", on_delete=models.SET_NULL, null=True, blank=True,
                                  related_name="+")

    objects = ExhibitionQuerySet.as_manager()

    class Meta:
        ordering = ["-opens_at", "-created"]
        permissions = [("curate", "Can curate exhibitions")]

    def __str__(self) -> str:
        return self.title


class ExhibitionItem(models.Model):
    exhibition = models.ForeignKey(Exhibition, on_delete=models.CASCADE, related_name="items")
    creation = models.ForeignKey(Creation, on_delete=models.CASCADE, related_name="exhibition_items")
    position = models.PositiveIntegerField()
    wall_text = models.TextField(max_length=2000, blank=True)
    added = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["exhibition", "position"]
        constraints = [
            models.UniqueConstraint(fields=["exhibition", "creation"], name="exhibit_once"),
        ]

    def __str__(self) -> str:
        return f"{self.exhibition_id}#{self.position}: {self.creation_id}"


class ExhibitionEvent(models.Model):
    """The append-only log of an exhibition: what a reconnecting visitor missed."""

    exhibition = models.ForeignKey(Exhibition, on_delete=models.CASCADE, related_name="events")
    seq = models.PositiveBigIntegerField()
    kind = models.CharField(max_length=24)
    payload = models.JSONField()
    created = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["exhibition", "seq"]
        constraints = [models.UniqueConstraint(fields=["exhibition", "seq"], name="event_seq")]

    def __str__(self) -> str:
        return f"{self.exhibition_id}@{self.seq} {self.kind}"


class RoundStatus(models.TextChoices):
    VOTING = "voting", "Voting"
    CLOSED = "closed", "Closed"


class BreedingRound(models.Model):
    """A round of a live breeding show: children of ``parent``, voted on until ``ends_at``;
    the winner hangs in the exhibition and is the next round's parent."""

    exhibition = models.ForeignKey(Exhibition, on_delete=models.CASCADE, related_name="rounds")
    number = models.PositiveIntegerField()
    parent = models.ForeignKey(Creation, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=8, choices=RoundStatus.choices, default=RoundStatus.VOTING)
    started = models.DateTimeField(default=timezone.now)
    ends_at = models.DateTimeField()
    winner = models.ForeignKey(Creation, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")

    class Meta:
        ordering = ["exhibition", "number"]
        constraints = [models.UniqueConstraint(fields=["exhibition", "number"], name="round_number")]

    def __str__(self) -> str:
        return f"round {self.number} of {self.exhibition_id}"


class Candidate(models.Model):
    round = models.ForeignKey(BreedingRound, on_delete=models.CASCADE, related_name="candidates")
    creation = models.ForeignKey(Creation, on_delete=models.CASCADE, related_name="+")
    position = models.PositiveSmallIntegerField()

    class Meta:
        ordering = ["round", "position"]
        constraints = [models.UniqueConstraint(fields=["round", "position"], name="candidate_position")]

    def __str__(self) -> str:
        return f"candidate {self.position} of {self.round}"


class Vote(models.Model):
    """One per account, or per anonymous session, per round; changed, never added to, until
    the round ends. An anonymous vote keeps a keyed digest of its address (``address``, never
    the address itself) so that one address casts at most a few per round."""

    round = models.ForeignKey(BreedingRound, on_delete=models.CASCADE, related_name="votes")
    candidate = models.ForeignKey(Candidate, on_delete=models.CASCADE, related_name="votes")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True, blank=True)
    session_key = models.CharField(max_length=40, blank=True)
    address = models.CharField(max_length=64, blank=True)
    created = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["round", "user"], name="vote_once_per_account",
                                    condition=models.Q(user__isnull=False)),
            models.UniqueConstraint(fields=["round", "session_key"], name="vote_once_per_session",
                                    condition=models.Q(user__isnull=True)),
            models.CheckConstraint(condition=models.Q(user__isnull=False) | ~models.Q(session_key=""),
                                   name="vote_has_voter"),
        ]

    def __str__(self) -> str:
        return f"vote for {self.candidate_id}"


class CollectionQuerySet(models.QuerySet):
    def readable_by(self, user) -> CollectionQuerySet:
        """The collections ``user`` may open: their own, and the public ones of active
        accounts. A private collection is its owner's alone (staff included: it is a
        person's list, not the site's)."""
        shared = models.Q(public=True, owner__is_active=True)
        if user is not None and user.is_authenticated:
            return self.filter(shared | models.Q(owner=user))
        return self.filter(shared)


class Collection(models.Model):
    """A named, ordered list of works a breeder keeps: their own or others' (``items``),
    public or private, with a cover (one of its works). What a viewer is shown of it is
    ``gallery.collections``: only the works listed for that viewer, the cover included."""

    public_id = models.CharField(max_length=16, unique=True, default=new_public_id, editable=False)
    # Its own index (a ForeignKey's): a breeder's collections, on their profile and pages.
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="collections")
    title = models.CharField(max_length=120)
    description = models.TextField(max_length=2000, blank=True)
    public = models.BooleanField(default=False)
    cover = models.ForeignKey(Creation, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    created = models.DateTimeField(default=timezone.now)
    updated = models.DateTimeField(default=timezone.now)

    objects = CollectionQuerySet.as_manager()

    class Meta:
        ordering = ["-updated", "-id"]

    def __str__(self) -> str:
        return self.title


class CollectionItem(models.Model):
    # No index of its own: the constraint's (collection, creation) and the order's index serve it.
    collection = models.ForeignKey(Collection, on_delete=models.CASCADE, related_name="items",
                                   db_index=False)
    # Its own index (a ForeignKey's): a purged work leaves every collection at once.
    creation = models.ForeignKey(Creation, on_delete=models.CASCADE, related_name="collection_items")
    position = models.PositiveIntegerField()
    added = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["collection", "position"]
        constraints = [
            models.UniqueConstraint(fields=["collection", "creation"], name="collect_once"),
        ]
        # a collection's works in order, a page at a time (``gallery.collections.items``)
        indexes = [models.Index(fields=["collection", "position", "id"], name="collection_order")]

    def __str__(self) -> str:
        return f"{self.collection_id}#{self.position}: {self.creation_id}"


class NoticeKind(models.TextChoices):
    LIKED = "liked", "Liked"
    BRED = "bred", "Bred from"
    HUNG = "hung", "Hung in an exhibition"
    COMMENTED = "commented", "Commented"
    FOLLOWED = "followed", "Followed"


class Notice(models.Model):
    """Something that happened to a breeder's work or to them (``gallery.notices``): made at
    most once per kind, actor and subject a day, read at the time it is shown, so a work the
    recipient may no longer see leaves their list (``notices.shown``)."""

    # No index of its own: ``notice_list`` (recipient, -id) serves it.
    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                                  related_name="notices", db_index=False)
    kind = models.CharField(max_length=12, choices=NoticeKind.choices)
    # Who did it (none for "hung": the exhibition speaks for itself).
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True,
                              blank=True, related_name="+")
    # The recipient's own work it is about (none for "followed").
    work = models.ForeignKey(Creation, on_delete=models.CASCADE, null=True, blank=True,
                             related_name="+")
    exhibition = models.ForeignKey(Exhibition, on_delete=models.CASCADE, null=True, blank=True,
                                   related_name="+")
    day = models.DateField()  # (UTC) the once-a-day of the constraints below
    created = models.DateTimeField(default=timezone.now)
    read = models.BooleanField(default=False)

    class Meta:
        ordering = ["-id"]
        constraints = [
            # liked, bred, commented: once per actor and work a day (a like-unlike loop, a
            # burst of 50 children)
            models.UniqueConstraint(fields=["recipient", "kind", "actor", "work", "day"],
                                    name="notice_once_a_day",
                                    condition=models.Q(work__isnull=False, exhibition__isnull=True)),
            # followed: once per follower a day
            models.UniqueConstraint(fields=["recipient", "kind", "actor", "day"],
                                    name="notice_follow_once_a_day", condition=models.Q(work__isnull=True)),
            # hung: once per exhibition and work, ever
            models.UniqueConstraint(fields=["recipient", "exhibition", "work"], name="notice_hung_once",
                                    condition=models.Q(exhibition__isnull=False)),
        ]
        indexes = [
            # a breeder's notices, newest first, a page at a time
            models.Index(fields=["recipient", "-id"], name="notice_list"),
            # the unread count (capped: ``notices.UNREAD_MAX``)
            models.Index(fields=["recipient", "-id"], name="notice_unread", condition=models.Q(read=False)),
        ]

    def __str__(self) -> str:
        return f"{self.kind} for {self.recipient_id}"


class NoticeSettings(models.Model):
    """The kinds of notice a breeder does not want (none until they say)."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                                primary_key=True, related_name="notice_settings")
    muted = models.JSONField(default=list, blank=True)  # NoticeKind values

    def __str__(self) -> str:
        return f"notice settings of {self.user_id}"


# -- the map of a space (``gallery.maps``) --------------------------------------------------

#: The cell sizes of a map's atlases, in px: a page is ``ATLAS_SIDE`` px square and holds
#: ``(ATLAS_SIDE / cell) ** 2`` thumbnails, row-major.
MAP_CELLS = (16, 32, 64, 128)
ATLAS_SIDE = 2048


def per_page(cell: int) -> int:
    return (ATLAS_SIDE // cell) ** 2


class MapLayout(models.Model):
    """One layout of a space's public works in [0, 1]^2 (``gallery.maps``): its points, its
    atlas pages and its region labels. The space's map is its newest ``ready`` layout; a
    relayout builds a new one beside it and the old one goes when the new one is ready.

    ``state`` bumps whenever a point is added or dropped (the points' cache key, and what a
    page polls); ``gone`` lists the orders whose atlas slots still wait to be painted blank.
    """

    space = models.ForeignKey(Space, on_delete=models.CASCADE, related_name="map_layouts")
    #: What the layout was computed from: "look" (look vectors) or "latent".
    basis = models.CharField(max_length=8, default="look")
    created = models.DateTimeField(default=timezone.now)
    ready = models.BooleanField(default=False)
    works = models.PositiveIntegerField(default=0)  # points on it now
    next_order = models.PositiveIntegerField(default=0)  # the order a new point gets
    state = models.PositiveBigIntegerField(default=0)
    # {"16": [{"v": version, "bbox": [x0, y0, x1, y1]}, ...], ...}: the pages of each cell size
    atlas = models.JSONField(default=dict, blank=True)
    gone = models.JSONField(default=list, blank=True)  # orders whose slots are to be blanked
    # [{"x", "y", "creation": pk}]: the densest regions and the work that shows each
    labels = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["-created", "-id"]
        indexes = [models.Index(fields=["space", "-created"], name="map_layout_newest",
                                condition=models.Q(ready=True))]

    def __str__(self) -> str:
        return f"map {self.pk} of {self.space_id}"


class MapPoint(models.Model):
    """A work's place on a layout: its ``order`` (its atlas slot) and mean colour."""

    # No index of its own: the constraints' (layout, order) and (layout, creation) serve it.
    layout = models.ForeignKey(MapLayout, on_delete=models.CASCADE, related_name="points",
                               db_index=False)
    # Its own index (a ForeignKey's): a work that leaves the public finds its points.
    creation = models.ForeignKey(Creation, on_delete=models.CASCADE, related_name="map_points")
    order = models.PositiveIntegerField()
    x = models.FloatField()
    y = models.FloatField()
    rgba = models.BigIntegerField(default=0xFFFFFFFF)  # uint32, r in the lowest byte

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["layout", "order"], name="map_point_order"),
            models.UniqueConstraint(fields=["layout", "creation"], name="map_point_once"),
        ]

    def __str__(self) -> str:
        return f"{self.creation_id} at {self.order} of {self.layout_id}"


class MapPlace(models.Model):
    """Where on a space's map a work was bred from (``gallery.maps.breed_here``)."""

    creation = models.OneToOneField(Creation, on_delete=models.CASCADE, primary_key=True,
                                    related_name="map_place")
    layout = models.ForeignKey(MapLayout, on_delete=models.SET_NULL, null=True, blank=True,
                               related_name="+")
    x = models.FloatField()
    y = models.FloatField()
    parents = models.PositiveSmallIntegerField(default=0)  # the works blended

    def __str__(self) -> str:
        return f"{self.creation_id} bred at ({self.x:.3f}, {self.y:.3f})"


MapBuildStatus = statuses("MapBuildStatus",
                          running=("BUILDING", "building", pgettext_lazy("job status", "Building")))


class MapBuild(Job):
    """A (re)layout of a space's map, asked for by staff or by the nightly job (no owner):
    ``gallery.maps.run_build`` lays out every public work with a look, builds the atlases,
    and makes the new layout the space's map."""

    Status = MapBuildStatus
    RUNNING = MapBuildStatus.BUILDING
    TASK = "gallery.tasks.build_map"
    TASK_ARG = "build_id"
    WAITING_MAX_SETTING = "MAP_BUILDS_WAITING_MAX"
    PER_HOUR_SETTING = "MAP_BUILDS_PER_HOUR"
    PRIOR_S_PER_UNIT = 0.01  # seconds per work on two cores (layout and atlases), measured
    SAVE_EVERY_S = 2.0
    EVENT_EVERY_S = 2.0

    # The nightly relayout is the site's own: no owner.
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True,
                              blank=True, related_name="mapbuilds")
    public_id = models.CharField(max_length=16, unique=True, default=new_public_id, editable=False)
    space = models.ForeignKey(Space, on_delete=models.CASCADE, related_name="map_builds")
    status = status_field(MapBuildStatus)
    basis = models.CharField(max_length=8, default="look")
    works_total = models.PositiveIntegerField(default=0)
    layout = models.ForeignKey(MapLayout, on_delete=models.SET_NULL, null=True, blank=True,
                               related_name="+")

    class Meta:
        ordering = ["-created", "-id"]

    def __str__(self) -> str:
        return f"map build {self.public_id} of {self.space_id}"

    def work_units(self) -> float:
        return max(1, self.works_total)

    def announce(self, **extra) -> None:
        if self.owner_id is not None:
            super().announce(**extra)

    def event(self, **extra) -> dict:
        return {
            "type": "map",
            "build": self.public_id,
            "space": self.space.slug,
            "status": self.status,
            "fraction": self.fraction,
            "eta_s": None if self.eta_s is None else round(self.eta_s),
            "error": self.error,
            **extra,
        }
