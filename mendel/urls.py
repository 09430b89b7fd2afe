from __future__ import annotations

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from breeding.urls import api_urls, image_urls
from gallery.urls import api_urls as gallery_api_urls
from mendel.accounts import AuthToken
from mendel.health import healthz

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("api/", include((api_urls + gallery_api_urls, "api"))),
    path("api/token/", AuthToken.as_view(), name="api-token"),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # Swagger UI with its script and style in files, for the Content-Security-Policy.
    path("api/docs/", SpectacularSwaggerSplitView.as_view(
        url_name="schema", template_name="mendel/swagger_ui.html", http_method_names=["get", "head"]),
         name="api-docs"),
    *image_urls,
    path("", include("frontend.urls")),
]

handler400 = "mendel.errors.bad_request"
handler403 = "mendel.errors.forbidden"
handler404 = "mendel.errors.not_found"
handler500 = "mendel.errors.server_error"
