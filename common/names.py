"""User names that cannot pass for someone else's, or for the site's, and never break a link.

Django already folds a name to NFKC and allows letters, digits and ``@ . + - _``. On top of
that a new name must

1. hold at least one letter or digit (``.`` and ``..`` would break ``/u/<name>/``);
2. keep to one script, as Unicode TR39 §5.2 "highly restrictive" puts it: Latin may join
   Han with Hiragana and Katakana, with Bopomofo or with Hangul, and nothing else mixes;
3. not be, or look like, a reserved word (``admin``, ``support``, ``mendel``…);
4. not look like a name already taken: the same TR39 skeleton, whatever the case and the
   accents (``Alice``, ``aIice`` with a capital i, ``аlice`` with a Cyrillic a and
   ``alicé`` are all ``alice``).

``validate_username`` applies all four. ``install()`` (from ``MendelConfig.ready``) adds it
to the user model's username field, so the sign-up form, the admin and ``createsuperuser``
all refuse the same names with the same sentences.

The confusable and script tables are Unicode's (confusables.txt and Scripts.txt), as
shipped by ``confusable_homoglyphs``.
"""

from __future__ import annotations

import unicodedata
from functools import cache, lru_cache

from confusable_homoglyphs import categories, confusables
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

RESERVED = frozenset({
    "about", "abuse", "account", "accounts", "admin", "administrator", "anonymous", "api",
    "contact", "docs", "gallery", "healthz", "help", "hostmaster", "info", "library", "login",
    "logout", "me", "media", "mendel", "moderator", "none", "null", "official", "owner",
    "postmaster", "root", "security", "settings", "signup", "staff", "static", "studio",
    "support", "system", "undefined", "webmaster", "www",
})

# TR39 §5.2: the only script mixes a "highly restrictive" identifier may have.
SCRIPT_MIXES = (
    frozenset({"LATIN", "HAN", "HIRAGANA", "KATAKANA"}),
    frozenset({"LATIN", "HAN", "BOPOMOFO"}),
    frozenset({"LATIN", "HAN", "HANGUL"}),
)
# Characters of every script (digits, punctuation) and combining marks, which take the
# script of the letter they sit on.
NEUTRAL_SCRIPTS = frozenset({"COMMON", "INHERITED"})
# The accents of Latin, Greek and Cyrillic letters (U+0300..U+036F after NFD): "alicé" is
# "alice" to a reader. Other scripts' marks are letters of their own and stay.
ACCENTS = range(0x300, 0x370)
EDGE_PUNCTUATION = "._-+@"  # (and within a name: they never tell two names apart)

RULES = gettext_lazy(
    "Letters, digits and @ . + - _ only, with at least one letter or digit, all in one "
    "script. A name may not look like someone else's name, whatever its case or accents."
)

_BIDI_MARKS = "\u200e\u200f"  # the data file wraps right-to-left characters in these


@cache
def _prototypes() -> dict[str, str]:
    """confusables.txt as a map from a character to its prototype (TR39 §4).

    ``confusable_homoglyphs`` keeps the file as a two-way table: a source character has
    one partner, its prototype; a prototype lists its sources. Where two single characters
    list only each other, either may be the prototype: the smaller stands for both, which
    keeps every confusable pair on one skeleton.
    """
    table: dict[str, list[str]] = {}
    for char, homoglyphs in confusables.confusables_data.items():
        table.setdefault(char.strip(_BIDI_MARKS), []).extend(h["c"].strip(_BIDI_MARKS) for h in homoglyphs)
    prototypes = {}
    for char, partners in table.items():
        if len(char) != 1 or len(partners) != 1:
            continue  # a prototype: it stands for itself
        partner = partners[0]
        if len(partner) == 1 and table.get(partner) == [char]:
            prototypes[char] = min(char, partner)
        else:
            prototypes[char] = partner
    # Choosing within pairs can leave a prototype holding a character that maps on: follow
    # the map until nothing changes, so that a skeleton of a skeleton is itself.
    for char, prototype in prototypes.items():
        for _round in range(4):
            mapped = "".join(prototypes.get(c, c) for c in prototype)
            if mapped == prototype:
                break
            prototype = mapped
        prototypes[char] = prototype
    return prototypes


def skeleton(text: str) -> str:
    """The TR39 §4 skeleton: NFD, each character replaced by its prototype, NFD again."""
    prototypes = _prototypes()
    mapped = "".join(prototypes.get(c, c) for c in unicodedata.normalize("NFD", text))
    return unicodedata.normalize("NFD", mapped)


def _unaccented(text: str) -> str:
    return "".join(c for c in text if ord(c) not in ACCENTS)


@lru_cache(maxsize=65536)
def lookalike_keys(name: str) -> frozenset[str]:
    """What a name looks like, in two spellings: two names look alike when they share one.

    The skeleton of the name as written, then case-folded (so a capital ``I`` meets an
    ``l``: ``AIice`` is ``alice``), and the skeleton of the case-folded name (so ``ALICE`` is
    ``alice``); accents are dropped from both.
    """
    name = unicodedata.normalize("NFKC", name)
    as_written = _unaccented(skeleton(_unaccented(skeleton(name)).casefold()))
    folded = _unaccented(skeleton(name.casefold()))
    # Dots, dashes and underscores read as nothing: ``a.lice``, ``_alice`` and ``alice-``
    # are all ``alice`` to the eye of someone glancing at a credit line.
    return frozenset(_unpunctuated(key) for key in (as_written, folded))


def _unpunctuated(text: str) -> str:
    return "".join(c for c in text if c not in EDGE_PUNCTUATION)


@cache
def _reserved_keys() -> frozenset[str]:
    keys: set[str] = set()
    for word in RESERVED:
        keys |= lookalike_keys(word) | lookalike_keys(word.upper())
    return frozenset(keys)


def _script_name(alias: str) -> str:
    return alias.replace("_", " ").title()


def _scripts_problem(name: str) -> str | None:
    scripts = categories.unique_aliases(name) - NEUTRAL_SCRIPTS
    if len(scripts) <= 1 or any(scripts <= mix for mix in SCRIPT_MIXES):
        return None
    listed = sorted(_script_name(s) for s in scripts)  # Unicode's names of scripts, as they are
    return _("“%(name)s” mixes %(scripts)s and %(last)s letters: use the letters of one "
             "script.") % {"name": name, "scripts": ", ".join(listed[:-1]), "last": listed[-1]}


def _lookalike_of(name: str) -> str | None:
    """The name already taken that ``name`` looks like, if any.

    Every name is compared: sign-ups are rare and the keys of names seen before are cached.
    """
    keys = lookalike_keys(name)
    users = get_user_model()._default_manager.values_list(get_user_model().USERNAME_FIELD, flat=True)
    for other in users.iterator(chunk_size=2000):
        if keys & lookalike_keys(other):
            return other
    return None


def validate_username(value: str) -> None:
    """Refuse a new name that breaks a link, mixes scripts, is reserved, or looks like a name
    already taken. A name already taken exactly is left alone: it is either the user's own
    (an admin editing their profile) or refused as taken by the unique constraint."""
    name = unicodedata.normalize("NFKC", str(value)).strip()
    User = get_user_model()
    if User._default_manager.filter(**{User.USERNAME_FIELD: value}).exists():
        return
    if not any(c.isalnum() for c in name):
        raise ValidationError(_("A name needs at least one letter or digit."), code="no_letters")
    problem = _scripts_problem(name)
    if problem:
        raise ValidationError(problem, code="mixed_scripts")
    if lookalike_keys(name) & _reserved_keys():
        raise ValidationError(_("“%(name)s” is reserved for the site. Pick another name.")
                              % {"name": name}, code="reserved")
    other = _lookalike_of(name)
    if other is not None:
        if other.casefold() == name.casefold():
            raise ValidationError(
                _("Someone is already called “%(other)s”: names are the same whatever their "
                  "case.") % {"other": other},
                code="taken",
            )
        raise ValidationError(
            _("“%(name)s” looks too much like “%(other)s”, who is already here: letters that "
              "look alike (a capital I and a small l, a Cyrillic а and a Latin a, é and e) count "
              "as the same. Pick a name that reads differently.") % {"name": name, "other": other},
            code="lookalike",
        )


def install() -> None:
    """Add ``validate_username`` to the user model's username field.

    ``Field.validators`` is built once per field and extended in place (Django's own
    CharField adds its MaxLengthValidator the same way); the field's constructor arguments
    are left alone, so no migration of ``django.contrib.auth`` follows from it.
    """
    User = get_user_model()
    field = User._meta.get_field(User.USERNAME_FIELD)
    if validate_username not in field.validators:
        field.validators.append(validate_username)
