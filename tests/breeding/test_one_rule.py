"""Who may see a work is decided in one place: ``breeding.models`` (``RULES``), for
querysets and single rows alike.

Two checks: a row answers exactly as the queryset does, for every visibility, removed or
not, to its owner, another breeder and a visitor (by user, by id, anonymous); and no other
module of the site compares ``visibility`` or ``removed_at`` for a viewer, filters on them,
or spells the rule in SQL (the checker is shown to catch each shape it looks for).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from django.contrib.auth.models import AnonymousUser
from django.utils import timezone

from breeding import actions
from breeding.models import RULES, Creation, Visibility

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("breeding", "gallery", "frontend", "mendel", "inference", "common")
OWNER = Path("breeding/models.py")
FIELDS = {"visibility", "removed_at"}
#: What the rule compares with: who may see a work is said by these.
RULE_WORDS = {"SHARED", "PUBLIC", "UNLISTED", "public", "unlisted"}
#: Calls whose keywords are conditions on rows (a write such as ``update`` or ``create``
#: is not a viewer's rule).
CONDITIONS = {"filter", "exclude", "get", "Q", "When", "get_or_create", "update_or_create"}
SQL = re.compile(r"\b(visibility\s*(=|<>|!=|\bIN\b)|removed_at\s+IS\b)", re.IGNORECASE)


# -- one answer for rows and querysets -----------------------------------------------------


@pytest.mark.django_db
def test_a_row_answers_as_its_queryset_does(alice, bob, space):
    works = []
    for i, visibility in enumerate(Visibility.values):
        for removed in (False, True):
            work = actions.do_random(alice, space, 1, seed=100 + i)[0]
            Creation.objects.filter(pk=work.pk).update(
                visibility=visibility, removed_at=timezone.now() if removed else None)
            works.append(Creation.objects.get(pk=work.pk))
    viewers = [alice, bob, alice.pk, bob.pk, None, AnonymousUser()]
    for rule in RULES:
        for viewer in viewers:
            rows = {w.pk for w in works if w.may(rule, viewer)}
            queried = set(Creation.objects.filter(pk__in=[w.pk for w in works])
                          .filter(pk__in=getattr(Creation.objects, {
                              "visible": "visible_to", "listed": "listed_for",
                              "known": "known_to"}[rule])(viewer)).values_list("pk", flat=True))
            assert rows == queried, (rule, viewer)
    # And what the rule says, spelled out once: Bob opens Alice's shared works that are not
    # removed, finds her public ones, and knows of her removed public ones.
    named = {(w.visibility, w.is_removed) for w in works if w.visible_to(bob)}
    assert named == {("public", False), ("unlisted", False)}
    assert {(w.visibility, w.is_removed) for w in works if w.listed_for(None)} == {("public", False)}
    assert {(w.visibility, w.is_removed) for w in works if w.known_to(bob)} == {("public", False), ("public", True)}
    assert len([w for w in works if w.visible_to(alice)]) == len(Visibility.values)


# -- nowhere else ------------------------------------------------------------------------


def _name(node) -> str | None:
    if isinstance(node, ast.Attribute):
        return node.attr
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return None


def _words(node) -> set[str]:
    return {n for sub in ast.walk(node) if (n := _name(sub)) is not None}


def hand_checks(source: str) -> list[tuple[int, str]]:
    """Where ``source`` decides who may see a work by itself: (line, what)."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Compare):
            sides = [node.left, *node.comparators]
            fields = {_name(s) for s in sides} & FIELDS
            others = set().union(*(_words(s) for s in sides if _name(s) not in FIELDS))
            is_none = any(isinstance(s, ast.Constant) and s.value is None for s in sides)
            if fields and (others & RULE_WORDS or ("removed_at" in fields and is_none)):
                found.append((node.lineno, f"compares {', '.join(sorted(fields))}"))
        elif isinstance(node, ast.Call) and _name(node.func) in CONDITIONS:
            for keyword in node.keywords:
                if keyword.arg and keyword.arg.split("__")[0] in FIELDS:
                    found.append((node.lineno, f"{_name(node.func)}({keyword.arg}=...)"))
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and SQL.search(node.value):
            found.append((node.lineno, "spells the rule in SQL"))
    return found


def test_the_checker_finds_each_shape_of_a_hand_written_rule():
    shapes = {
        "ok = work.visibility == Visibility.PUBLIC": 1,
        "ok = work.visibility in SHARED and work.removed_at is None": 2,
        'ok = cover.visibility == "public"': 1,
        "rows = Creation.objects.filter(visibility=Visibility.PUBLIC, removed_at__isnull=True)": 2,
        "q = Q(visibility__in=SHARED)": 1,
        "sql = \"WHERE visibility = 'public' AND removed_at IS NULL\"": 1,
        "visibility, latent = row\nshared = visibility in SHARED": 1,
    }
    for source, count in shapes.items():
        assert len(hand_checks(source)) == count, source
    # Writing a visibility, or a breeder's state transitions, are not a viewer's rule.
    for source in ("actions.do_update(work, visibility=Visibility.PUBLIC)",
                   "Creation.objects.filter(pk=1).update(removed_at=None)",
                   "if visibility is not None and visibility != creation.visibility: pass"):
        assert hand_checks(source) == [], source


def test_no_module_but_the_rules_own_decides_who_may_see_a_work():
    offenders = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            relative = path.relative_to(ROOT)
            if relative == OWNER or "migrations" in relative.parts:
                continue
            for line, what in hand_checks(path.read_text(encoding="utf-8")):
                offenders.append(f"{relative}:{line}: {what}")
    assert offenders == [], (
        "Ask Creation.objects.visible_to / listed_for / known_to / public, or work.may(...), "
        "instead of:\n" + "\n".join(offenders))
