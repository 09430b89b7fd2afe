"""Likes: one per person per creation."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from breeding.models import Creation


class Like(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="likes")
    creation = models.ForeignKey(Creation, on_delete=models.CASCADE, related_name="likes")
    created = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "creation"], name="like_once")]

    def __str__(self) -> str:
        return f"{self.user_id} likes {self.creation_id}"


class ExhibitionStatus(models.TextChoices):
    DRAFT = "draft", "Draft"  # seen by its curators only
    OPEN = "open", "Open"
    CLOSED = "closed", "Closed"


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
