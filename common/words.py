"""Words for people from code that does not always run inside the site, and words said later.

Two needs that Django's ``gettext`` does not meet by itself:

- **Outside the site.** Some modules also run where Django has no settings (``python -m
  breeding.trainsets`` reads a folder with the upload rules; gene discovery is pure torch).
  Django's ``gettext`` raises there. ``gettext``, ``ngettext`` and ``gettext_lazy`` here are
  Django's where the site runs and say the English as written elsewhere; ``gettext_noop``
  only marks a string for the catalogue (Django's own needs the settings even for that).
- **Said later.** A sentence made once and heard by many people, each in their own language
  (gene discovery's progress, sent to every open studio), cannot be translated where it is
  made. :class:`Words` is that sentence in English (a ``str``) that remembers its message and
  values; ``packed()`` travels through the channel layer and ``spoken(packed)`` says it in the
  language active where it arrives.

Every function and constructor here is named as ``makemessages`` (xgettext) looks for them,
so the strings they are given are extracted into the catalogue like any other.
"""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.conf import settings
from django.utils import translation
from django.utils.functional import lazy

__all__ = ["Words", "gettext", "gettext_lazy", "gettext_noop", "ngettext", "spoken"]


def _site_speaks() -> bool:
    """Whether Django's translations can be used here (settings configured, apps loaded)."""
    return settings.configured and apps.ready


def gettext_noop(message: str) -> str:
    """Mark ``message`` for the catalogue and give it back unchanged (stored data stays
    English; it is translated where it is shown)."""
    return message


def gettext(message: str) -> str:
    """``message`` in the active language where the site runs; as written elsewhere."""
    if not _site_speaks():
        return message
    return translation.gettext(message)


def ngettext(singular: str, plural: str, number: int) -> str:
    """The form of ``singular``/``plural`` for ``number``, in the active language where the
    site runs; the English form elsewhere."""
    if not _site_speaks():
        return singular if number == 1 else plural
    return translation.ngettext(singular, plural, number)


#: ``gettext`` when the text is used, not when it is written: for module constants.
gettext_lazy = lazy(gettext, str)


class Words(str):
    """A sentence in English that can be said again in another language.

    ``Words.gettext("rendering samples")`` or ``Words.gettext("validating genes
    (%(done)s/%(total)s pictures)", done=3, total=10)``; for a count,
    ``Words.ngettext("found %(count)d gene", "found %(count)d genes", n, count=n)``. The
    object is the English text; ``packed()`` is what it was made of, as plain values."""

    message: str
    plural: str
    count: int | None
    values: dict[str, Any]

    def __new__(cls, message: str, plural: str = "", count: int | None = None,
                values: dict[str, Any] | None = None) -> Words:
        values = dict(values or {})
        form = plural if plural and count != 1 else message
        self = super().__new__(cls, form % values if values else form)
        self.message, self.plural, self.count, self.values = message, plural, count, values
        return self

    @classmethod
    def gettext(cls, message: str, /, **values: Any) -> Words:
        """``message % values``, to be said later in the reader's language."""
        return cls(message, values=values)

    @classmethod
    def ngettext(cls, singular: str, plural: str, number: int, /, **values: Any) -> Words:
        """The form for ``number`` of ``singular``/``plural``, ``% values``, to be said later."""
        return cls(singular, plural, number, values)

    def packed(self) -> dict[str, Any]:
        """What the words are made of, as JSON and msgpack carry it."""
        packed: dict[str, Any] = {"message": self.message, "values": self.values}
        if self.plural:
            packed.update(plural=self.plural, count=self.count)
        return packed


def spoken(packed: dict[str, Any]) -> str:
    """``Words.packed()`` said in the active language."""
    message, values = packed["message"], packed.get("values") or {}
    if packed.get("plural"):
        text = ngettext(message, packed["plural"], packed.get("count") or 0)
    else:
        text = gettext(message) if message else message
    return text % values if values else text
