from __future__ import annotations

from django.urls import path

from gallery import api, exhibition_api

api_urls = [
    path("gallery/", api.gallery, name="gallery"),
    path("creations/<str:public_id>/like/", api.LikeView.as_view(), name="like"),
    path("creations/<str:public_id>/neighbours/", api.Neighbours.as_view(), name="neighbours"),
    path("users/<str:username>/", api.Profile.as_view(), name="profile"),
    path("exhibitions/", exhibition_api.Exhibitions.as_view(), name="exhibitions"),
    path("exhibitions/<slug:slug>/", exhibition_api.ExhibitionDetail.as_view(), name="exhibition"),
    path("exhibitions/<slug:slug>/items/", exhibition_api.Items.as_view(), name="exhibition-items"),
    path("exhibitions/<slug:slug>/items/<int:item>/", exhibition_api.ItemDetail.as_view(),
         name="exhibition-item"),
    path("exhibitions/<slug:slug>/tour/", exhibition_api.Tour.as_view(), name="exhibition-tour"),
    path("exhibitions/<slug:slug>/rounds/", exhibition_api.Rounds.as_view(), name="exhibition-rounds"),
    path("exhibitions/<slug:slug>/rounds/end/", exhibition_api.RoundEnd.as_view(),
         name="exhibition-round-end"),
]
