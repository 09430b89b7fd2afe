from __future__ import annotations

from django.shortcuts import render

from breeding import images
from breeding.models import Creation, Visibility

WALL_SIZE = 24


def home(request):
    works = (
        Creation.objects.filter(visibility=Visibility.PUBLIC, removed_at__isnull=True)
        .select_related("owner", "space")
        .order_by("-created", "-id")[:WALL_SIZE]
    )
    wall = [
        {
            "title": w.title or "Untitled",
            "owner": w.owner.username,
            "thumb": images.url(w.space.slug, w.latent_sha, 256),
            "large": images.url(w.space.slug, w.latent_sha, 512),
        }
        for w in works
    ]
    return render(request, "frontend/home.html", {"wall": wall})
