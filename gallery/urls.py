from __future__ import annotations

from django.urls import path

from gallery import api

api_urls = [
    path("gallery/", api.gallery, name="gallery"),
    path("creations/<str:public_id>/like/", api.LikeView.as_view(), name="like"),
    path("creations/<str:public_id>/neighbours/", api.Neighbours.as_view(), name="neighbours"),
    path("users/<str:username>/", api.Profile.as_view(), name="profile"),
]
