from __future__ import annotations

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.authtoken.views import obtain_auth_token

from breeding.urls import api_urls, image_urls
from gallery.urls import api_urls as gallery_api_urls
from mendel.health import healthz

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("api/", include((api_urls + gallery_api_urls, "api"))),
    path("api/token/", obtain_auth_token, name="api-token"),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    *image_urls,
    path("", include("frontend.urls")),
]

handler400 = "mendel.errors.bad_request"
handler404 = "mendel.errors.not_found"
handler500 = "mendel.errors.server_error"
