from __future__ import annotations

from django.conf.urls.i18n import i18n_patterns
from django.contrib import admin
from django.urls import include, path
from django.views.decorators.cache import cache_control
from django.views.i18n import JavaScriptCatalog
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from breeding.urls import api_urls, image_urls
from gallery.urls import api_urls as gallery_api_urls
from mendel.accounts import AuthToken
from mendel.health import healthz
from mendel.languages import choose_language

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
    path("i18n/setlang/", choose_language, name="set_language"),
]
# Pages, at their English address and under /zh-hans/ (mendel/languages.py); the scripts'
# catalogue too, so each language's has an address of its own that caches may keep.
urlpatterns += i18n_patterns(
    path("jsi18n/", cache_control(max_age=300)(JavaScriptCatalog.as_view()), name="javascript-catalog"),
    path("", include("frontend.urls")),
    prefix_default_language=False,
)

handler400 = "mendel.errors.bad_request"
handler403 = "mendel.errors.forbidden"
handler404 = "mendel.errors.not_found"
handler500 = "mendel.errors.server_error"
