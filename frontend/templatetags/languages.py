"""Words in the reader's language that the catalogue alone cannot give a template."""

from __future__ import annotations

from django import template

from breeding import languages, spaces

register = template.Library()


@register.filter
def shown(text):
    """``{{ work.title|shown }}``: the demo gallery's words in the page's language; what a
    person wrote, as they wrote it (``breeding.languages.shown``)."""
    return languages.shown(text)


@register.filter
def space_name(space):
    """``{{ work.space|space_name }}``: a space (or its slug) by the name its reader uses."""
    return spaces.name_of(str(getattr(space, "slug", space)))
