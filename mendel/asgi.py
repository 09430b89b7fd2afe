"""The ASGI application: HTTP through Django, WebSockets through Channels.

``application`` also answers the ASGI lifespan protocol, which is where the in-process
procrastinate worker of the embedded run starts and stops with the server.
"""

from __future__ import annotations

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mendel.settings")

import django  # noqa: E402
from asgiref.sync import sync_to_async  # noqa: E402
from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler  # noqa: E402
from django.core.handlers.asgi import ASGIHandler  # noqa: E402
from django.utils.translation import gettext as _  # noqa: E402


class OneTripHandler(ASGIHandler):
    """Django's ASGI handler, with the middleware run as one synchronous chain in the
    request's thread: one trip from the event loop and back per request.

    Django's own handler runs each middleware written for threads (all of the site's) as an
    async step that moves the request to the request's thread and back: two trips per
    middleware, 21 in all per request. That cost about 3 ms of CPU a request
    (``bench/handler.py``, docs/benchmarks.md: ``/healthz`` 6.8 ms against 3.3, a work's
    look-alikes 9.7 against 6.7, at p50). Views written as coroutines (the pictures, files,
    the gallery's kept pages) still run on the event loop (``async_to_sync``), and their
    thread-bound calls in the request's thread, as under a WSGI server."""

    def load_middleware(self, is_async=False):
        super().load_middleware(is_async=False)

    async def get_response_async(self, request):
        return await sync_to_async(self.get_response, thread_sensitive=True)(request)


django.setup(set_prefix=False)
django_asgi_app = ASGIStaticFilesHandler(OneTripHandler())

# Consumers import models: only after the app registry is ready.
from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from breeding.media import media_max_bytes  # noqa: E402
from breeding.routing import websocket_urlpatterns as breeding_websockets  # noqa: E402
from breeding.uploads import MAX_BYTES  # noqa: E402
from gallery.routing import websocket_urlpatterns as gallery_websockets  # noqa: E402
from mendel.bodylimit import BodyLimit  # noqa: E402
from mendel.lifespan import Lifespan  # noqa: E402
from mendel.middleware import MULTIPART_SLACK  # noqa: E402
from mendel.pictures import Pictures  # noqa: E402
from mendel.websocket import SameOriginValidator  # noqa: E402

router = ProtocolTypeRouter(
    {
        # Nothing larger than an upload (and its form) is read at all.
        # Pictures past the page middleware (mendel.pictures), everything else through Django.
        "http": BodyLimit(Pictures(django_asgi_app), MAX_BYTES + MULTIPART_SLACK,
                          lambda: _("The request is too large: an upload may be at most %(most)s MB.")
                          % {"most": MAX_BYTES // 2**20},
                          # a published film or sound may be larger than a picture
                          larger={"/api/media/": (media_max_bytes() + MULTIPART_SLACK, lambda: (
                              _("The request is too large: a published file may be at most "
                                "%(most)s MB.") % {"most": media_max_bytes() // 2**20}))}),
        # Only pages of this site (scheme, host and port) or CSRF_TRUSTED_ORIGINS.
        "websocket": SameOriginValidator(AuthMiddlewareStack(URLRouter([*breeding_websockets, *gallery_websockets]))),
    }
)

application = Lifespan(router)
