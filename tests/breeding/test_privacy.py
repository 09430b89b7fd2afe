"""Drafts and private works are seen by their owner only: in every endpoint, picture and tree.

Alice owns things; Bob is another breeder who should have no access to Alice's drafts and
private works; anonymous visitors are not logged in.
"""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from breeding import actions
from breeding.models import Creation, Visibility

pytestmark = pytest.mark.django_db


@pytest.fixture
def works(alice, space):
    """One of Alice's creations per visibility."""
    made = {}
    for visibility in Visibility.values:
        creation = actions.do_random(alice, space, 1, seed=len(made))[0]
        if visibility != Visibility.DRAFT:
            actions.do_update(creation, visibility=visibility)
        made[visibility] = creation
    return made


@pytest.fixture
def viewers(as_alice, as_bob):
    return {"alice": as_alice, "bob": as_bob, "anonymous": APIClient()}


HIDDEN = (Visibility.DRAFT, Visibility.PRIVATE)


@pytest.mark.parametrize("viewer", ["alice", "bob", "anonymous"])
@pytest.mark.parametrize("visibility", Visibility.values)
def test_detail_and_picture_follow_visibility(viewers, works, viewer, visibility):
    client = viewers[viewer]
    creation = works[visibility]
    may_see = viewer == "alice" or visibility not in HIDDEN
    detail = client.get(f"/api/creations/{creation.public_id}/")
    assert detail.status_code == (200 if may_see else 404)
    picture = client.get(f"/r/abstract/{creation.latent_sha}/64.webp")
    assert picture.status_code == (200 if may_see else 404)
    if may_see:
        expected = "private" if visibility in HIDDEN else "public"
        assert picture["Cache-Control"].startswith(expected)
    lineage = client.get(f"/api/creations/{creation.public_id}/lineage/")
    assert lineage.status_code == (200 if may_see else 404)


@pytest.mark.parametrize("visibility", HIDDEN)
def test_others_cannot_breed_from_hidden_works(as_bob, works, visibility):
    hidden = works[visibility]
    assert as_bob.post(f"/api/creations/{hidden.public_id}/children/", {}, format="json").status_code == 404
    public = works[Visibility.PUBLIC]
    cross = as_bob.post("/api/cross/", {"parents": [{"id": public.public_id}, {"id": hidden.public_id}]}, format="json")
    assert cross.status_code == 400
    assert cross.json()["error"] == f"parents[1].id: no creation with id '{hidden.public_id}'."
    assert as_bob.post(f"/api/creations/{hidden.public_id}/preview/", {"genes": {}}, format="json").status_code == 404


def test_others_cannot_change_or_remove_even_public_works(as_bob, works):
    public = works[Visibility.PUBLIC]
    assert as_bob.patch(f"/api/creations/{public.public_id}/", {"title": "mine"}, format="json").status_code == 403
    assert as_bob.delete(f"/api/creations/{public.public_id}/").status_code == 403
    assert APIClient().delete(f"/api/creations/{public.public_id}/").status_code == 404
    public.refresh_from_db()
    assert public.title == "" and public.removed_at is None


def test_hidden_parents_never_show_in_a_public_childs_lineage(as_alice, as_bob, works, bob):
    # Bob breeds from Alice's public work; Alice crosses it with her private one, and publishes.
    public, private = works[Visibility.PUBLIC], works[Visibility.PRIVATE]
    child = actions.do_cross(public.owner, [actions.ParentWeight(public, 1, 1), actions.ParentWeight(private, 1, 1)])[0]
    actions.do_update(child, visibility=Visibility.PUBLIC)
    grandchild = actions.do_children(bob, child, 1, 0.3)[0]
    actions.do_update(grandchild, visibility=Visibility.PUBLIC)

    for client, sees_private in ((as_alice, True), (as_bob, False), (APIClient(), False)):
        tree = client.get(f"/api/creations/{grandchild.public_id}/lineage/?direction=up&depth=3").json()
        ids = {n["id"] for n in tree["nodes"]}
        assert {grandchild.public_id, child.public_id, public.public_id} <= ids
        assert (private.public_id in ids) is sees_private
        detail = client.get(f"/api/creations/{child.public_id}/").json()
        assert (private.public_id in [p.get("id") for p in detail["parents"]]) is sees_private

    down = as_bob.get(f"/api/creations/{public.public_id}/lineage/?direction=down&depth=3").json()
    assert {n["id"] for n in down["nodes"]} == {public.public_id, child.public_id, grandchild.public_id}


def test_nobody_else_sees_a_draft_child_in_a_tree(as_bob, works, alice):
    public = works[Visibility.PUBLIC]
    actions.do_children(alice, public, 2, 0.3)  # drafts
    down = as_bob.get(f"/api/creations/{public.public_id}/lineage/?direction=down").json()
    assert [n["id"] for n in down["nodes"]] == [public.public_id]


def test_the_library_and_previews_are_the_owners_alone(as_alice, as_bob, works, warm_gene):
    assert as_bob.get("/api/creations/").json() == []
    assert APIClient().get("/api/creations/").status_code in (401, 403)
    draft = works[Visibility.DRAFT]
    url = as_alice.post(f"/api/creations/{draft.public_id}/preview/", {"genes": {"warmth": 1.0}, "size": 64},
                        format="json").json()["image"]
    assert as_alice.get(url).status_code == 200
    assert as_bob.get(url).status_code == 404
    assert APIClient().get(url).status_code == 404


def test_a_removed_work_disappears_for_everyone(as_alice, as_bob, works):
    public = works[Visibility.PUBLIC]
    actions.do_remove(public)
    for client in (as_alice, as_bob, APIClient()):
        assert client.get(f"/api/creations/{public.public_id}/").status_code == 404
        assert client.get(f"/r/abstract/{public.latent_sha}/64.webp").status_code == 404
    assert Creation.objects.filter(pk=public.pk).exists()
