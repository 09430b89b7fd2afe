from __future__ import annotations

from django.urls import path

from gallery import api, collection_api, comment_api, exhibition_api, notice_api

api_urls = [
    path("gallery/", api.gallery, name="gallery"),
    path("creations/<str:public_id>/like/", api.LikeView.as_view(), name="like"),
    path("creations/<str:public_id>/neighbours/", api.Neighbours.as_view(), name="neighbours"),
    path("creations/<str:public_id>/lookalikes/", api.Lookalikes.as_view(), name="lookalikes"),
    path("lookalikes/", api.PictureLookalikes.as_view(), name="picture-lookalikes"),
    path("creations/<str:public_id>/comments/", comment_api.Comments.as_view(), name="comments"),
    path("creations/<str:public_id>/comments/<str:comment_id>/", comment_api.CommentDetail.as_view(),
         name="comment"),
    path("creations/<str:public_id>/comments/<str:comment_id>/hidden/",
         comment_api.CommentHidden.as_view(), name="comment-hidden"),
    path("creations/<str:public_id>/comments/<str:comment_id>/report/",
         comment_api.CommentReportView.as_view(), name="comment-report"),
    path("users/<str:username>/", api.Profile.as_view(), name="profile"),
    path("users/<str:username>/follow/", api.FollowView.as_view(), name="follow"),
    path("collections/", collection_api.Collections.as_view(), name="collections"),
    path("collections/<str:collection_id>/", collection_api.CollectionDetail.as_view(), name="collection"),
    path("collections/<str:collection_id>/works/", collection_api.CollectionWorks.as_view(),
         name="collection-works"),
    path("collections/<str:collection_id>/works/<str:work_id>/", collection_api.CollectionWork.as_view(),
         name="collection-work"),
    path("collections/<str:collection_id>/exhibition/", collection_api.CollectionExhibition.as_view(),
         name="collection-exhibition"),
    path("notices/", notice_api.Notices.as_view(), name="notices"),
    path("notices/read/", notice_api.Read.as_view(), name="notices-read"),
    path("notices/settings/", notice_api.Settings.as_view(), name="notices-settings"),
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
