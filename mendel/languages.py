"""Which language a page speaks.

Addresses: English pages keep their addresses (``/gallery/``); every page also has a Chinese
address (``/zh-hans/gallery/``, Django's ``i18n_patterns``) that anyone can share and that
always speaks Chinese. An address without a prefix speaks the reader's language: the one a
signed-in person chose (``breeding.languages``), else the language cookie the footer's switch
sets, else the browser's ``Accept-Language`` (``zh-CN``, ``zh-SG`` and ``zh-Hans`` all lead
to Simplified Chinese), else English. Such a response says so in ``Vary`` and
``Content-Language``, so no cache hands a Chinese page to an English reader.

Why not a prefix for every language (``/en/…``): every address people have already shared
would become a redirect, and an address without a prefix can do what the prefix does.
"""

from __future__ import annotations

from functools import wraps

from django.conf import settings
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.middleware.locale import LocaleMiddleware
from django.utils import translation
from django.utils.cache import patch_vary_headers
from django.utils.translation import trans_real
from django.views.i18n import set_language

from breeding import languages

#: Answers that are the same in every language, so say nothing of one.
SAME_IN_EVERY_LANGUAGE = ("/r/", "/static/", "/media/")

#: The session's copy of a signed-in person's choice: read on every request without a query.
SESSION_KEY = "language"


def of_request(request) -> str:
    """The language of an answer no page negotiates (a refusal before the middleware, a
    picture's): the address's prefix, else the language cookie, else ``Accept-Language``;
    never the session, which such answers must not vary by."""
    return trans_real.get_language_from_request(request, check_path=True)


def negotiated(request) -> str:
    """The reader's language where the address names none."""
    session = getattr(request, "session", None)
    return (languages.supported(session.get(SESSION_KEY) if session is not None else None)
            or languages.supported(request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME))
            or trans_real.get_language_from_request(request, check_path=False))


def in_readers_language(handler):
    """An error handler that speaks the reader's language. A page that does not exist has
    no view, so the middleware never switched from the unprefixed addresses' default."""

    @wraps(handler)
    def speaking(request, *args, **kwargs):
        try:
            path = request.path_info
            if not path.startswith(SAME_IN_EVERY_LANGUAGE) and not trans_real.get_language_from_path(path):
                translation.activate(negotiated(request))
        except Exception:  # noqa: BLE001 - an error page is answered whatever the cookie holds
            pass
        return handler(request, *args, **kwargs)

    return speaking


class ReaderLanguageMiddleware(LocaleMiddleware):
    """Django's ``LocaleMiddleware``, except that a page address without a language prefix
    speaks the reader's language instead of always English.

    The address is resolved first in the default language (the unprefixed patterns are
    English's), then, before the view runs, the reader's language is switched on: links the
    page writes then carry its prefix, so the rest of a visit stays in that language.
    """

    def process_view(self, request, view, args, kwargs):
        if trans_real.get_language_from_path(request.path_info):
            return None
        if request.path_info.startswith(SAME_IN_EVERY_LANGUAGE):
            language = of_request(request)  # as the picture path says it (mendel/pictures.py)
        else:
            language = negotiated(request)
        if language != translation.get_language():
            translation.activate(language)
            request.LANGUAGE_CODE = language
        request.negotiated_language = True
        return None

    def process_response(self, request, response):
        if request.path_info.startswith(SAME_IN_EVERY_LANGUAGE):
            return response  # a picture's bytes: a shared cache keeps one copy for everyone
        response = super().process_response(request, response)
        if getattr(request, "negotiated_language", False):
            patch_vary_headers(response, ("Cookie",))
        return response


def choose_language(request):
    """``POST /i18n/setlang/``: Django's ``set_language`` (the cookie, and ``next`` in the
    chosen language), and for a signed-in person their profile's choice too."""
    response = set_language(request)
    chosen = languages.supported(request.POST.get("language"))
    if request.method == "POST" and chosen and request.user.is_authenticated:
        languages.choose(request.user, chosen)
        request.session[SESSION_KEY] = chosen
    return response


@receiver(user_logged_in, dispatch_uid="mendel.languages.remember")
def remember(sender, request, user, **kwargs):
    """A person who chose a language finds it again when they log in, on any device."""
    if request is not None and hasattr(request, "session"):
        if chosen := languages.chosen_by(user):
            request.session[SESSION_KEY] = chosen
