from __future__ import annotations

from django.urls import path

from gallery.consumers import ExhibitionConsumer
from gallery.notice_consumers import NoticeConsumer

websocket_urlpatterns = [
    path("ws/exhibitions/<slug:slug>/", ExhibitionConsumer.as_asgi()),
    path("ws/notices/", NoticeConsumer.as_asgi()),
]
