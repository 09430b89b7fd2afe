from __future__ import annotations

from django.urls import path

from gallery.consumers import ExhibitionConsumer

websocket_urlpatterns = [
    path("ws/exhibitions/<slug:slug>/", ExhibitionConsumer.as_asgi()),
]
