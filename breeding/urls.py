from __future__ import annotations

from django.urls import path

from breeding import api, upload_api, views

api_urls = [
    path("spaces/", api.SpaceList.as_view(), name="spaces"),
    path("spaces/<slug:slug>/genes/", api.SpaceGenes.as_view(), name="space-genes"),
    path("spaces/<slug:slug>/random/", api.RandomCreations.as_view(), name="random"),
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
]

image_urls = [
    path("r/<slug:space>/<str:sha>/<str:size>.webp", views.image, name="image"),
    path("r/<slug:space>/<str:sha>/<str:size>.png", views.image, {"fmt": "png"}, name="image-png"),
    path("uploads/<str:public_id>/original", views.upload_file, {"which": "original"},
         name="upload-original"),
    path("uploads/<str:public_id>/thumb", views.upload_file, {"which": "thumb"}, name="upload-thumb"),
]
