from __future__ import annotations

from django.urls import path

from breeding import api, media_api, upload_api, video_api, views, word_api

api_urls = [
    path("spaces/", api.SpaceList.as_view(), name="spaces"),
    path("spaces/<slug:slug>/genes/", api.SpaceGenes.as_view(), name="space-genes"),
    path("spaces/<slug:slug>/random/", api.RandomCreations.as_view(), name="random"),
    path("spaces/<slug:slug>/words/", word_api.SpaceWords.as_view(), name="space-words"),
    path("spaces/<slug:slug>/genes/words/", word_api.WordGenes.as_view(), name="word-genes"),
    path("spaces/<slug:slug>/genes/words/<str:gene>/", word_api.WordGene.as_view(), name="word-gene"),
    path("creations/", api.MyCreations.as_view(), name="my-creations"),
    path("creations/<str:public_id>/", api.CreationDetail.as_view(), name="creation"),
    path("creations/<str:public_id>/children/", api.Children.as_view(), name="children"),
    path("creations/<str:public_id>/preview/", api.EditPreview.as_view(), name="preview"),
    path("creations/<str:public_id>/edit/", api.EditKeep.as_view(), name="edit"),
    path("creations/<str:public_id>/lineage/", api.Lineage.as_view(), name="lineage"),
    path("creations/<str:public_id>/restore/", api.Restore.as_view(), name="restore"),
    path("cross/", api.Cross.as_view(), name="cross"),
    path("uploads/", upload_api.Uploads.as_view(), name="uploads"),
    path("uploads/<str:public_id>/", upload_api.UploadDetail.as_view(), name="upload"),
    path("uploads/<str:public_id>/cancel/", upload_api.UploadCancel.as_view(), name="upload-cancel"),
    path("videos/", video_api.Videos.as_view(), name="videos"),
    path("videos/preview/", video_api.VideoPreview.as_view(), name="video-preview"),
    path("videos/<str:public_id>/", video_api.VideoDetail.as_view(), name="video"),
    path("videos/<str:public_id>/cancel/", video_api.VideoCancel.as_view(), name="video-cancel"),
    path("media/", media_api.MediaWorks.as_view(), name="media"),
    path("media/<str:public_id>/", media_api.MediaDetail.as_view(), name="media-detail"),
    path("media/<str:public_id>/cancel/", media_api.MediaCancel.as_view(), name="media-cancel"),
    path("techniques/", media_api.Techniques.as_view(), name="techniques"),
]

image_urls = [
    path("r/<slug:space>/<str:sha>/<str:size>.webp", views.image, name="image"),
    path("r/<slug:space>/<str:sha>/<str:size>.png", views.image, {"fmt": "png"}, name="image-png"),
    path("uploads/<str:public_id>/original", views.upload_file, {"which": "original"},
         name="upload-original"),
    path("uploads/<str:public_id>/thumb", views.upload_file, {"which": "thumb"}, name="upload-thumb"),
    path("videos/<str:public_id>/<str:name>", views.video_file, name="video-file"),
    path("m/<str:public_id>/<str:name>", views.media_file, name="media-file"),
]
