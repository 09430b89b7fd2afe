from __future__ import annotations

from django.shortcuts import render

from breeding import images
from gallery.api import public_works

WALL_SIZE = 24


def home(request):
    works = public_works().order_by("-created", "-id")[:WALL_SIZE]
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
