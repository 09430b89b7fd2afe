"""Jobs: draft clean-up, lineage queries, space sync."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from breeding import actions
from breeding.models import Creation, Parentage, Space, Visibility, lineage

pytestmark = pytest.mark.django_db


def test_old_drafts_are_purged_and_kept_children_survive(alice, space, settings):
    settings.DRAFT_TTL_HOURS = 24
    old_draft = actions.do_random(alice, space, 1)[0]
    kept_child = actions.do_children(alice, old_draft, 1, 0.3)[0]
    actions.do_update(kept_child, visibility=Visibility.PRIVATE)
    fresh_draft = actions.do_random(alice, space, 1)[0]
    kept = actions.do_random(alice, space, 1)[0]
    actions.do_update(kept, visibility=Visibility.PUBLIC)
    long_ago = timezone.now() - timedelta(hours=25)
    Creation.objects.filter(pk__in=[old_draft.pk, kept.pk, kept_child.pk]).update(created=long_ago)

    assert actions.purge_drafts() == 1
    assert not Creation.objects.filter(pk=old_draft.pk).exists()
    assert Creation.objects.filter(pk__in=[kept_child.pk, fresh_draft.pk, kept.pk]).count() == 3
    link = Parentage.objects.get(child=kept_child)
    assert link.parent is None
    assert lineage(kept_child, "up", 2) == [{"node": None, "via": kept_child.pk, "generation": 1, "position": 0}]


def test_lineage_goes_both_ways_to_the_depth_asked(alice, space):
    a = actions.do_random(alice, space, 1)[0]
    b = actions.do_children(alice, a, 1, 0.3)[0]
    c = actions.do_children(alice, b, 2, 0.3)
    d = actions.do_children(alice, c[0], 1, 0.3)[0]
    assert [(r["node"], r["generation"]) for r in lineage(d, "up", 5)] == [(c[0].pk, 1), (b.pk, 2), (a.pk, 3)]
    assert [r["node"] for r in lineage(d, "up", 2)] == [c[0].pk, b.pk]
    down = lineage(a, "down", 3)
    assert sorted((r["node"], r["generation"]) for r in down) == sorted(
        [(b.pk, 1), (c[0].pk, 2), (c[1].pk, 2), (d.pk, 3)]
    )
    assert d.depth == 3
    with pytest.raises(ValueError, match="depth must be between 1 and 12, got 13"):
        lineage(d, "up", 13)
    with pytest.raises(ValueError, match="direction must be up or down"):
        lineage(d, "sideways", 1)


def test_spaces_are_synced_from_the_inference_registry(db):
    synced = {space.slug: space for space in actions.sync_spaces()}
    assert sorted(synced) == ["abstract", "emoji", "figures"]
    abstract, figures, emoji = synced["abstract"], synced["figures"], synced["emoji"]
    from inference import get_space

    assert (abstract.slug, abstract.version, abstract.layers, abstract.dim) == ("abstract", get_space("abstract").version, 8, 64)
    assert (figures.slug, figures.version, figures.layers, figures.dim) == ("figures", get_space("figures").version, 8, 64)
    assert (emoji.version, emoji.layers, emoji.dim) == (get_space("emoji").version, 10, 256)
    actions.sync_spaces()
    assert Space.objects.count() == 3
