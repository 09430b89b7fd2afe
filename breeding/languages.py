"""The languages Mendel speaks, and which one it speaks to a person.

Pages choose by their address (``/zh-hans/…``), then a signed-in person's choice, then the
language cookie, then the browser's ``Accept-Language`` (Django's ``LocaleMiddleware`` and
``mendel.middleware.PersonLanguageMiddleware``). Sockets choose the same way from their
handshake, and a job speaks its owner's language, so a progress line or a failure written by
a worker reads in the language of the person who started it.
"""

from __future__ import annotations

from contextlib import contextmanager
from urllib.parse import parse_qs

from django.conf import settings
from django.utils import translation
from django.utils.translation.trans_real import parse_accept_lang_header

from breeding.models import Preferences


def supported(code: str | None) -> str | None:
    """The language Mendel speaks for ``code`` (``zh-CN`` → ``zh-hans``), or None."""
    if not code:
        return None
    try:
        return translation.get_supported_language_variant(code.strip().lower())
    except LookupError:
        return None


def chosen_by(user) -> str | None:
    """The language ``user`` chose on their profile, or None (anonymous, or never chose)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    language = Preferences.objects.filter(user=user).values_list("language", flat=True).first()
    return supported(language)


def choose(user, code: str) -> None:
    """Remember ``code`` as ``user``'s language."""
    Preferences.objects.update_or_create(user=user, defaults={"language": supported(code) or ""})


def of_handshake(scope: dict) -> str:
    """The language of a WebSocket: the page's (``?lang=``, which holds a person's choice
    already), else the language cookie, else ``Accept-Language``, else the site's default."""
    query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
    if language := supported((query.get("lang") or [""])[0]):
        return language
    headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
    cookies = {}
    for part in headers.get("cookie", "").split(";"):
        name, _sep, value = part.strip().partition("=")
        cookies[name] = value
    if language := supported(cookies.get(settings.LANGUAGE_COOKIE_NAME)):
        return language
    for code, _quality in parse_accept_lang_header(headers.get("accept-language", "")):
        if code != "*" and (language := supported(code)):
            return language
    return settings.LANGUAGE_CODE


@contextmanager
def speaking(language: str | None):
    """Speak ``language`` (or the site's default) inside the block."""
    with translation.override(supported(language) or settings.LANGUAGE_CODE):
        yield


#: The gettext context of the demo gallery's own words (titles, statements, wall texts): the
#: project wrote them, so they are translated like the rest of Mendel; what people write is
#: shown as they wrote it.
DEMO = "demo content"


def shown(text: str | None) -> str | None:
    """``text`` as a reader of the active language sees it: the demo gallery's words in that
    language (``pgettext(DEMO, …)``), anything else as it was written."""
    return translation.pgettext(DEMO, text) if text else text
