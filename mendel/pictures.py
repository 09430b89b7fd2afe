"""Pictures (``GET /r/...``) served past the page middleware, with the rules that apply to them.

A gallery page asks for dozens of pictures at once. Django's middleware is written for
threads: under ASGI each of the site's eleven moves every request to a thread and back (18
trips, and a thread started for each request), which cost 5-6 ms of CPU a stored picture,
most of a picture's cost. A picture needs little of what they do (no session is written, no
form is checked for CSRF, no message shown, no login locked out), so ``Pictures`` serves it
here, doing in place, without a thread, what does apply:

- what ``RejectNulMiddleware`` refuses;
- the page middleware that only reads the request and writes headers, run in the order of
  ``settings.MIDDLEWARE`` (``INLINE``): the host checked against ``ALLOWED_HOSTS``, HTTPS
  enforced as the site does, and the security, Content-Security-Policy, permissions-policy
  and frame headers every answer carries;
- the signed-in person, read from the session cookie by Django's own ``get_user`` (a password
  changed elsewhere ends the session here too) in the same trip to the database that asks
  whether they may see the picture (``breeding.views.find``).

Every other request, and any picture request other than a GET, goes to Django as before.
"""

from __future__ import annotations

import io
import logging
import re
from importlib import import_module

from django.conf import settings
from django.contrib.auth import get_user
from django.core.exceptions import SuspiciousOperation
from django.core.handlers.asgi import ASGIHandler
from django.http import HttpResponseBadRequest
from django.utils import translation
from django.utils.cache import patch_vary_headers
from django.utils.functional import SimpleLazyObject
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

from breeding import views
from mendel import languages, middleware

log = logging.getLogger(__name__)

PATH = re.compile(r"/r/(?P<space>[-a-zA-Z0-9_]+)/(?P<sha>[^/]+)/(?P<size>[^/.]+)\.(?P<fmt>webp|png)")
#: The page middleware run in place for pictures: each only reads the request and writes
#: headers (no database, no session, no thread).
INLINE = (
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_permissions_policy.PermissionsPolicyMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
)


class _Onward(Exception):
    """The inline middleware let the request through to the picture."""


def _answer(request):
    """The innermost layer of the inline middleware: the picture's answer once there is one."""
    answer = getattr(request, "picture_answer", None)
    if answer is None:
        raise _Onward
    return answer


class Pictures:
    """ASGI: ``GET /r/...`` answered here (see the module), everything else by ``app``."""

    def __init__(self, app) -> None:
        self.app = app
        self.django = ASGIHandler()  # its request and response conversions
        # The inline middleware as Django would chain them, but synchronous (none does I/O):
        # called once for the request's side (a redirect or a refusal comes back; a request
        # let through raises _Onward), then again around the picture's answer.
        chain = _answer
        for path in reversed([path for path in settings.MIDDLEWARE if path in INLINE]):
            chain = import_string(path)(chain)
        self.inline = chain
        self.sessions = import_module(settings.SESSION_ENGINE).SessionStore

    async def __call__(self, scope, receive, send) -> None:
        match = PATH.fullmatch(scope.get("path", "")) if scope["type"] == "http" else None
        if match is None or scope.get("method") != "GET":
            return await self.app(scope, receive, send)
        request, refused = self.django.create_request(scope, io.BytesIO())
        response = refused if request is None else await self.respond(request, match)
        await self.django.send_response(response, send)

    async def respond(self, request, match):
        if problem := middleware._problem(request):
            return self.inline_around(request, middleware._refusal(request, problem))
        try:
            try:
                return self.inline(request)  # a redirect to HTTPS, say
            except _Onward:
                pass
            # Read only when the view asks, in its trip to the database.
            request.session = self.sessions(request.COOKIES.get(settings.SESSION_COOKIE_NAME))
            request.user = SimpleLazyObject(lambda: get_user(request))
            kwargs = match.groupdict()
            # No language middleware here: a refusal speaks the request's language all the same.
            with translation.override(languages.of_request(request)):
                response = await views.image(request, **kwargs, lookup=views.find_anywhere)
            if request.session.accessed:
                patch_vary_headers(response, ("Cookie",))  # as SessionMiddleware says it
        except SuspiciousOperation as e:
            return _bad_request(request, e)
        except Exception:
            log.exception("picture %s failed", request.path)
            with translation.override(languages.of_request(request)):
                response = views.refusal(_("The picture could not be served. Try again shortly."), 500)
        return self.inline_around(request, response)

    def inline_around(self, request, response):
        request.picture_answer = response
        try:
            return self.inline(request)
        except SuspiciousOperation as e:
            return _bad_request(request, e)


def _bad_request(request, e: SuspiciousOperation):
    """What Django answers a suspicious request (a host not allowed, say): 400, and a line
    in its security log."""
    logging.getLogger(f"django.security.{e.__class__.__name__}").error(str(e))
    with translation.override(languages.of_request(request)):
        return HttpResponseBadRequest(_("Bad Request"), content_type="text/plain")
