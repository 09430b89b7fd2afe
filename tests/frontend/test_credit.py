"""Work pages credit a work's family, and every page counts the same children: the ones
listed for the viewer, removed ones left out (unless the tree is asked to show them)."""

from __future__ import annotations

import re
from html import unescape

import pytest

from breeding import actions
from breeding.models import Creation, Origin, Visibility

pytestmark = pytest.mark.django_db


@pytest.fixture
def space(db):
    return actions.sync_spaces()[0]


@pytest.fixture
def carol(django_user_model):
    return django_user_model.objects.create_user("carol")


def publish(creation, title=""):
    return actions.do_update(creation, title=title, visibility=Visibility.PUBLIC)


def family_line(html: str) -> str | None:
    found = re.search(r'<p class="credit" data-family>(.*?)</p>', html, re.S)
    return re.sub(r"<[^>]+>", "", unescape(found.group(1))) if found else None


def credit_line(html: str) -> str | None:
    found = re.search(r'<p class="credit" data-credit>(.*?)</p>', html, re.S)
    return " ".join(re.sub(r"<[^>]+>", "", unescape(found.group(1))).split()) if found else None


def test_breed_from_this_titles_the_copy_after_the_original_and_credits_it(client, space, alice, bob):
    rose = publish(actions.do_random(alice, space, 1, seed=1)[0], "Rose Tide")
    plain = publish(actions.do_random(alice, space, 1, seed=2)[0])
    client.force_login(bob)
    client.post(f"/w/{rose.public_id}/breed/")
    client.post(f"/w/{plain.public_id}/breed/")
    copies = Creation.objects.filter(owner=bob, origin=Origin.CHILDREN).order_by("id")
    assert [c.title for c in copies] == ["after Rose Tide", ""]
    html = client.get(f"/w/{copies[0].public_id}/").content.decode()
    assert "<h1>after Rose Tide</h1>" in html
    assert credit_line(html) == "after Rose Tide by alice"
    assert family_line(html) == "Family: alice"
    assert credit_line(client.get(f"/w/{copies[1].public_id}/").content.decode()) is None
    # The original's own page credits no one: it has no ancestors.
    html = client.get(f"/w/{rose.public_id}/").content.decode()
    assert credit_line(html) is None and family_line(html) is None


def test_a_title_near_the_limit_still_fits_after_after(client, space, alice, bob):
    long = publish(actions.do_random(alice, space, 1, seed=1)[0], "x" * 120)
    client.force_login(bob)
    client.post(f"/w/{long.public_id}/breed/")
    assert Creation.objects.get(owner=bob).title == ("after " + "x" * 120)[:120]


def test_the_family_credits_every_ancestor_listed_for_the_viewer_and_no_other(client, space, alice, bob, carol):
    grand = publish(actions.do_random(carol, space, 1, seed=1)[0], "Grand")
    hidden = actions.do_children(bob, grand, 1, 0.3, seed=2)[0]
    actions.do_update(hidden, title="Bob's secret", visibility=Visibility.PRIVATE)
    other = publish(actions.do_random(alice, space, 1, seed=3)[0], "Other")
    cross = publish(actions.do_cross(alice, [actions.ParentWeight(hidden, 1.0, 1.0),
                                           actions.ParentWeight(other, 1.0, 1.0)])[0], "Cross")
    url = f"/w/{cross.public_id}/"
    # Bob's private work is listed neither for a visitor nor for Alice: neither its author
    # nor Carol, whose work is reached only through it, is credited.
    assert family_line(client.get(url).content.decode()) == "Family: alice"
    client.force_login(alice)
    assert family_line(client.get(url).content.decode()) == "Family: alice"
    client.force_login(bob)  # his own work is listed for him, and the tree goes on through it
    assert family_line(client.get(url).content.decode()) == "Family: alice, bob, carol"


def test_a_removed_ancestors_author_is_not_credited(client, space, alice, bob):
    parent = publish(actions.do_random(bob, space, 1, seed=1)[0], "Gone")
    child = publish(actions.do_children(alice, parent, 1, 0.3, seed=2)[0], "Left")
    url = f"/w/{child.public_id}/"
    assert family_line(client.get(url).content.decode()) == "Family: bob"
    actions.do_remove(parent)
    assert family_line(client.get(url).content.decode()) is None


def children_shown(html: str) -> int:
    return int(re.search(r'<span class="num">(\d+)</span> child(?:ren)? you can see', html).group(1))


def test_the_work_page_and_the_tree_count_the_same_children(client, space, alice, bob):
    mother = publish(actions.do_random(alice, space, 1, seed=1)[0], "Mother")
    for kid in actions.do_children(bob, mother, 3, 0.3, seed=2):
        publish(kid, "Bob's kid")
    actions.do_children(alice, mother, 2, 0.3, seed=3)  # Alice's drafts, kept as drafts
    for draft in actions.do_children(alice, mother, 8, 0.3, seed=4):  # and discarded ones
        actions.do_remove(draft)
    work_url, tree_url = f"/w/{mother.public_id}/", f"/w/{mother.public_id}/lineage/"

    def in_tree(html: str) -> int:
        tiles = html.count(", a descendant")
        more = re.search(r"\+(\d+) more</text>", html)
        return tiles + (int(more.group(1)) if more else 0)

    assert children_shown(client.get(work_url).content.decode()) == 3
    assert in_tree(client.get(tree_url).content.decode()) == 3
    client.force_login(alice)
    tree = client.get(tree_url).content.decode()
    assert children_shown(client.get(work_url).content.decode()) == 5 == in_tree(tree)
    assert ">removed</text>" not in tree and "Show 8 removed works" in tree
    shown = client.get(tree_url + "?removed=1").content.decode()
    assert "Hide removed works" in shown
    assert in_tree(shown) + shown.count(">removed</text>") == 5 + 8
