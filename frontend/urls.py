from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.urls import path

from frontend import collections, exhibitions, looks, notices, training, views

app_name = "frontend"

urlpatterns = [
    path("", views.home, name="home"),
    path("gallery/", views.gallery, name="gallery"),
    path("u/<str:username>/", views.profile, name="profile"),
    path("w/<str:public_id>/", views.work_page, name="work"),
    path("w/<str:public_id>/lineage/", views.lineage_page, name="lineage"),
    path("w/<str:public_id>/breed/", views.breed_from, name="breed-from"),
    path("map/<slug:space>/", views.map_page, name="map"),
    path("studio/", views.studio_start, name="studio-start"),
    path("studio/<str:public_id>/", views.studio, name="studio"),
    path("library/", views.library, name="library"),
    path("notices/", notices.notices_page, name="notices"),
    path("upload/", views.upload_page, name="upload"),
    path("looks/", looks.looks_page, name="looks"),
    path("publish/", views.publish_page, name="publish"),
    path("c/<str:collection_id>/", collections.collection_page, name="collection"),
    path("c/<str:collection_id>/exhibition/", collections.collection_exhibition,
         name="collection-exhibition"),
    path("exhibitions/", exhibitions.exhibition_list, name="exhibitions"),
    path("exhibitions/new/", exhibitions.exhibition_new, name="exhibition-new"),
    path("exhibitions/<slug:slug>/", exhibitions.exhibition_page, name="exhibition"),
    path("exhibitions/<slug:slug>/walk/", exhibitions.exhibition_walk, name="exhibition-walk"),
    path("exhibitions/<slug:slug>/vote/", exhibitions.exhibition_vote, name="exhibition-vote"),
    path("exhibitions/<slug:slug>/curate/", exhibitions.exhibition_curate, name="exhibition-curate"),
    path("training/", training.trainings, name="trainings"),
    path("training/<str:public_id>.json", training.training_state, name="training-state"),
    path("training/<str:public_id>/samples.png", training.training_samples, name="training-samples"),
    path("training/<str:public_id>/cancel/", training.training_cancel, name="training-cancel"),
    path("accounts/signup/", views.signup, name="signup"),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
]
