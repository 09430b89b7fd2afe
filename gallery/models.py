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
