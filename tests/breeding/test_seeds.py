"""Seeds are public; what they reproduce is not: a seed replays its own breeder's results only."""

from __future__ import annotations

import pytest
import torch

from breeding import actions
from breeding.models import Creation, Visibility

pytestmark = pytest.mark.django_db


def latents(made: list[dict]) -> list[torch.Tensor]:
    return [Creation.objects.get(public_id=c["id"]).tensor() for c in made]


def test_replaying_a_public_siblings_seed_does_not_recreate_hidden_siblings(as_alice, as_bob, space):
    made = as_alice.post("/api/spaces/abstract/random/", {"n": 4}, format="json").json()
    public, *hidden = made
    assert as_alice.patch(f"/api/creations/{public['id']}/", {"visibility": "public"},
                          format="json").status_code == 200
    assert as_alice.patch(f"/api/creations/{hidden[0]['id']}/", {"visibility": "private"},
                          format="json").status_code == 200

    seed = as_bob.get(f"/api/creations/{public['id']}/").json()["seed"]  # public data
    replay = as_bob.post("/api/spaces/abstract/random/", {"n": 4, "seed": seed}, format="json").json()
    theirs = {Creation.objects.get(public_id=c["id"]).latent_sha for c in made}
    assert not theirs & {Creation.objects.get(public_id=c["id"]).latent_sha for c in replay}
    for c in hidden:  # the hidden siblings' pictures stay out of Bob's reach
        sha = Creation.objects.get(public_id=c["id"]).latent_sha
        assert as_bob.get(f"/r/abstract/{sha}/64.webp").status_code == 404


def test_replaying_children_or_a_cross_of_a_public_work_does_not_recreate_anothers(as_alice, as_bob, space):
    parent = as_alice.post("/api/spaces/abstract/random/", {"n": 2}, format="json").json()
    for p in parent:
        as_alice.patch(f"/api/creations/{p['id']}/", {"visibility": "public"}, format="json")
    body = {"n": 4, "chaos": 0.3, "seed": 7}
    alices = as_alice.post(f"/api/creations/{parent[0]['id']}/children/", body, format="json").json()
    bobs = as_bob.post(f"/api/creations/{parent[0]['id']}/children/", body, format="json").json()
    assert all(not torch.equal(a, b) for a, b in zip(latents(alices), latents(bobs), strict=True))

    cross = {"parents": [{"id": parent[0]["id"]}, {"id": parent[1]["id"]}], "mutation": 0.2, "seed": 3}
    a = as_alice.post("/api/cross/", cross, format="json").json()
    b = as_bob.post("/api/cross/", cross, format="json").json()
    assert not torch.equal(latents(a)[0], latents(b)[0])


def test_a_seed_still_reproduces_its_own_breeders_results(as_alice, alice, bob, space):
    one = as_alice.post("/api/spaces/abstract/random/", {"n": 3, "seed": 11}, format="json").json()
    two = as_alice.post("/api/spaces/abstract/random/", {"n": 3, "seed": 11}, format="json").json()
    assert all(torch.equal(a, b) for a, b in zip(latents(one), latents(two), strict=True))
    assert Creation.objects.filter(owner=alice, visibility=Visibility.DRAFT).count() == 6
    # The stream is the breeder's own: stable for them (a fresh copy of the user reads the
    # same key), different for everyone else and for every other seed.
    assert actions.stream(alice, 11) == actions.stream(type(alice).objects.get(pk=alice.pk), 11)
    assert actions.stream(alice, 11) != actions.stream(bob, 11)
    assert actions.stream(alice, 11) != actions.stream(alice, 12)
