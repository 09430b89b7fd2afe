from __future__ import annotations

from django.urls import path

from breeding.consumers import StudioConsumer

websocket_urlpatterns = [
    path("ws/studio/", StudioConsumer.as_asgi()),
]
