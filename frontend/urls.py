from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.urls import path

from frontend import views

app_name = "frontend"

urlpatterns = [
    path("", views.home, name="home"),
    path("gallery/", views.gallery, name="gallery"),
    path("u/<str:username>/", views.profile, name="profile"),
    path("w/<str:public_id>/", views.work_page, name="work"),
    path("w/<str:public_id>/lineage/", views.lineage_page, name="lineage"),
    path("w/<str:public_id>/breed/", views.breed_from, name="breed-from"),
    path("studio/", views.studio_start, name="studio-start"),
    path("studio/<str:public_id>/", views.studio, name="studio"),
    path("library/", views.library, name="library"),
    path("upload/", views.upload_page, name="upload"),
    path("accounts/signup/", views.signup, name="signup"),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
]
