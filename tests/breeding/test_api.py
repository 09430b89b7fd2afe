"""The breeding API: making, changing and reading creations, and its errors."""

from __future__ import annotations

import io
import json

import pytest
import torch
from PIL import Image

from breeding import actions
from breeding.models import Creation, Parentage, Visibility

pytestmark = pytest.mark.django_db


def random_one(client, **body):
    response = client.post("/api/spaces/abstract/random/", {"n": 1, **body}, format="json")
    assert response.status_code == 201, response.content
    return response.json()[0]


def test_random_creations_are_saved_as_drafts_of_their_owner(as_alice, alice, space):
    response = as_alice.post("/api/spaces/abstract/random/", {"n": 3, "seed": 42}, format="json")
    assert response.status_code == 201
    made = response.json()
    assert len(made) == 3
    assert all(c["visibility"] == "draft" and c["owner"] == "alice" for c in made)
    assert all(c["origin"] == "random" and c["seed"] == 42 and c["depth"] == 0 for c in made)
    assert set(made[0]["images"]) == {"64", "256", "1024"}
    assert Creation.objects.filter(owner=alice, visibility="draft").count() == 3
    # The latent in Postgres is the space's sample for that seed, in Alice's own stream.
    first = Creation.objects.get(public_id=made[0]["id"])
    assert torch.equal(first.tensor(), space.generator().sample(3, actions.stream(alice, 42))[0])


def test_children_are_seeded_and_linked_to_their_parent(as_alice, space):
    parent = random_one(as_alice)
    body = {"n": 4, "chaos": 0.3, "seed": 7}
    one = as_alice.post(f"/api/creations/{parent['id']}/children/", body, format="json")
    two = as_alice.post(f"/api/creations/{parent['id']}/children/", body, format="json")
    assert one.status_code == two.status_code == 201
    kids = one.json()
    assert [k["depth"] for k in kids] == [1, 1, 1, 1]
    assert kids[0]["parents"] == [{"id": parent["id"], "content_weight": 1.0, "style_weight": 1.0}]
    latents = lambda made: [Creation.objects.get(public_id=c["id"]).tensor() for c in made]  # noqa: E731
    assert all(torch.equal(a, b) for a, b in zip(latents(kids), latents(two.json()), strict=True))


def test_a_cross_records_each_parents_weights(as_alice, space):
    a, b = random_one(as_alice), random_one(as_alice)
    body = {"parents": [{"id": a["id"], "content": 3, "style": 0}, {"id": b["id"], "content": 1, "style": 1}],
            "seed": 1}
    response = as_alice.post("/api/cross/", body, format="json")
    assert response.status_code == 201, response.content
    child = Creation.objects.get(public_id=response.json()[0]["id"])
    links = list(Parentage.objects.filter(child=child).values_list("parent__public_id", "content_weight", "style_weight"))
    assert links == [(a["id"], 3.0, 0.0), (b["id"], 1.0, 1.0)]
    # All style from b: the fine layers are b's exactly.
    parent_b = Creation.objects.get(public_id=b["id"]).tensor()
    assert torch.equal(child.tensor()[space.coarse_layers:], parent_b[space.coarse_layers:])


def test_keeping_titling_and_publishing(as_alice, space):
    draft = random_one(as_alice)
    response = as_alice.patch(f"/api/creations/{draft['id']}/", {"title": "Tide", "visibility": "public"}, format="json")
    assert response.status_code == 200
    assert response.json()["title"] == "Tide" and response.json()["visibility"] == "public"
    assert response.json()["kept_at"] is not None


def test_an_edit_preview_saves_nothing_and_keeping_it_does(as_alice, space, warm_gene):
    source = random_one(as_alice)
    before = Creation.objects.count()
    preview = as_alice.post(f"/api/creations/{source['id']}/preview/", {"genes": {"warmth": 2.0}, "size": 64}, format="json")
    assert preview.status_code == 200, preview.content
    assert Creation.objects.count() == before
    picture = as_alice.get(preview.json()["image"])
    assert picture.status_code == 200 and picture["Content-Type"] == "image/webp"
    kept = as_alice.post(f"/api/creations/{source['id']}/edit/", {"genes": {"warmth": 2.0}}, format="json")
    assert kept.status_code == 201
    assert kept.json()[0]["origin"] == "edit" and kept.json()[0]["genes"] == {"warmth": 2.0}
    # The kept edit's picture is the previewed one.
    assert kept.json()[0]["images"]["64"] == preview.json()["image"]


def test_spaces_and_their_genes_are_listed(api, space, warm_gene):
    spaces = api.get("/api/spaces/").json()
    assert spaces[0]["slug"] == "abstract" and spaces[0]["layers"] == 8
    genes = api.get("/api/spaces/abstract/genes/").json()
    assert genes == [{"slug": "warmth", "label": "Warmth", "source": "attribute", "low": -3.0, "high": 3.0, "rho": 0.95}]


def test_deleting_removes_from_view_but_keeps_children(as_alice, space):
    parent = random_one(as_alice)
    kid = as_alice.post(f"/api/creations/{parent['id']}/children/", {"n": 1}, format="json").json()[0]
    assert as_alice.delete(f"/api/creations/{parent['id']}/").status_code == 204
    assert as_alice.get(f"/api/creations/{parent['id']}/").status_code == 404
    child = as_alice.get(f"/api/creations/{kid['id']}/").json()
    assert child["parents"] == [{"removed": True}]
    tree = as_alice.get(f"/api/creations/{kid['id']}/lineage/?direction=up&depth=2").json()
    assert [n.get("removed", False) for n in tree["nodes"]] == [False, True]


def test_a_removal_can_be_undone_by_its_owner_only(as_alice, as_bob, api, space):
    draft = random_one(as_alice)
    url = f"/api/creations/{draft['id']}/restore/"
    assert as_alice.post(url).status_code == 404  # nothing removed yet
    as_alice.delete(f"/api/creations/{draft['id']}/")
    for client in (as_bob, api):
        response = client.post(url)
        assert response.status_code in (403, 404) and "error" in response.json()
    restored = as_alice.post(url)
    assert restored.status_code == 200 and restored.json()["id"] == draft["id"]
    assert as_alice.get(f"/api/creations/{draft['id']}/").status_code == 200
    assert draft["id"] in [c["id"] for c in as_alice.get("/api/creations/").json()]


def test_the_library_lists_only_the_owners_creations(as_alice, as_bob, space):
    mine = random_one(as_alice)
    random_one(as_bob)
    listed = as_alice.get("/api/creations/").json()
    assert [c["id"] for c in listed] == [mine["id"]]
    assert as_alice.get("/api/creations/?visibility=public").json() == []


def test_the_library_pages_with_before_and_limit_and_finds_titles_with_q(as_alice, alice, as_bob, space):
    made = [random_one(as_alice) for _ in range(5)]  # newest last
    theirs = random_one(as_bob)
    ids = [c["id"] for c in reversed(made)]  # as the library lists them: newest first
    first = as_alice.get("/api/creations/?limit=2").json()
    assert [c["id"] for c in first] == ids[:2]
    second = as_alice.get(f"/api/creations/?limit=2&before={ids[1]}").json()
    assert [c["id"] for c in second] == ids[2:4]
    assert [c["id"] for c in as_alice.get(f"/api/creations/?before={ids[3]}").json()] == ids[4:]
    # the answer is the same list as without paging
    assert first + second == as_alice.get("/api/creations/").json()[:4]
    # a page's last work discarded meanwhile still marks the place
    Creation.objects.filter(public_id=ids[1]).update(removed_at=Creation.objects.get(public_id=ids[1]).created)
    assert [c["id"] for c in as_alice.get(f"/api/creations/?limit=2&before={ids[1]}").json()] == ids[2:4]

    Creation.objects.filter(public_id=ids[2]).update(title="Harbour at Dusk")
    Creation.objects.filter(public_id=ids[4]).update(title="Dusk, again")
    found = as_alice.get("/api/creations/?q=dusk").json()
    assert [c["id"] for c in found] == [ids[2], ids[4]]
    assert as_alice.get("/api/creations/?q=harbour&limit=1").json()[0]["title"] == "Harbour at Dusk"

    # bad paging is a sentence naming the parameter, never someone else's work as a mark
    for query, field in [(f"before={theirs['id']}", "before"), ("before=nosuchwork", "before"),
                         ("limit=0", "limit"), ("limit=201", "limit"), ("limit=two", "limit"),
                         ("q=" + "x" * 101, "q")]:
        response = as_alice.get(f"/api/creations/?{query}")
        assert response.status_code == 400, query
        assert field in json.dumps(response.json()), (query, response.json())


# -- errors -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body,field",
    [
        ({"n": 17}, "n"),
        ({"n": 0}, "n"),
        ({"chaos": 1.6}, "chaos"),
        ({"chaos": -0.1}, "chaos"),
        ({"chaos": "lots"}, "chaos"),
        ({"seed": -1}, "seed"),
    ],
)
def test_bad_children_requests_name_the_field(as_alice, space, body, field):
    parent = random_one(as_alice)
    response = as_alice.post(f"/api/creations/{parent['id']}/children/", body, format="json")
    assert response.status_code == 400
    assert response.json()["error"].startswith(f"{field}: ")
    assert field in response.json()["fields"]


def test_nan_is_refused_by_field(as_alice, space):
    parent = random_one(as_alice)
    url = f"/api/creations/{parent['id']}/children/"
    as_string = as_alice.post(url, {"chaos": "NaN"}, format="json")
    assert as_string.status_code == 400
    assert as_string.json()["error"] == "chaos: A valid number is required."
    # NaN is not JSON at all: refused by the parser, saying why.
    literal = as_alice.post(url, data='{"chaos": NaN}', content_type="application/json")
    assert literal.status_code == 400
    assert "not JSON compliant: 'NaN'" in literal.json()["error"]


def test_malformed_json_gets_a_clear_error(as_alice, space):
    response = as_alice.post("/api/spaces/abstract/random/", data="{oops", content_type="application/json")
    assert response.status_code == 400
    assert "JSON parse error" in response.json()["error"]


@pytest.mark.parametrize(
    "parents,field",
    [
        ([{"id": "nope"}, {"id": "nope2"}], "parents[0].id"),
        ([{"id": "A"}], "parents"),
        ([{"id": "A", "content": -1}, {"id": "B"}], "parents[0].content"),
        ([{"id": "A", "content": 0}, {"id": "B", "content": 0}], "parents"),
    ],
)
def test_bad_crosses_name_the_field(as_alice, space, parents, field):
    a, b = random_one(as_alice), random_one(as_alice)
    ids = {"A": a["id"], "B": b["id"]}
    body = {"parents": [{**p, "id": ids.get(p["id"], p["id"])} for p in parents]}
    response = as_alice.post("/api/cross/", body, format="json")
    assert response.status_code == 400, response.content
    assert response.json()["error"].startswith(f"{field}: "), response.json()


def test_several_children_of_a_cross_without_mutation_are_refused(as_alice, space):
    """They would all be the same picture."""
    a, b = random_one(as_alice), random_one(as_alice)
    body = {"parents": [{"id": a["id"]}, {"id": b["id"]}], "n": 4}
    response = as_alice.post("/api/cross/", body, format="json")
    assert response.status_code == 400
    assert response.json()["error"].startswith("n: without mutation every child of a cross is the same")
    made = as_alice.post("/api/cross/", {**body, "mutation": 0.1}, format="json").json()
    assert len({Creation.objects.get(public_id=c["id"]).latent_sha for c in made}) == 4


def test_a_cross_of_two_spaces_is_refused(as_alice, space, alice):
    from breeding.models import Space

    other = Space.objects.create(slug="other", kind="test", version="1", layers=8, dim=64, coarse_layers=4)
    a = random_one(as_alice)
    b = Creation.objects.create(owner=alice, space=other, latent=[0.0] * 512, latent_sha="0" * 32, origin="random")
    response = as_alice.post("/api/cross/", {"parents": [{"id": a["id"]}, {"id": b.public_id}]}, format="json")
    assert response.status_code == 400
    assert response.json()["error"] == "parents: all parents must come from the same space."


def test_a_cross_of_an_abstract_and_a_figures_work_is_refused_with_a_sentence(as_alice, alice):
    synced = {space.slug: space for space in actions.sync_spaces()}
    abstract, figures = synced["abstract"], synced["figures"]
    a = actions.do_random(alice, abstract, 1, seed=1)[0]
    b = actions.do_random(alice, figures, 1, seed=1)[0]
    body = {"parents": [{"id": a.public_id}, {"id": b.public_id}]}
    response = as_alice.post("/api/cross/", body, format="json")
    assert response.status_code == 400
    assert response.json()["error"] == "parents: all parents must come from the same space."


def test_unknown_genes_and_amounts_out_of_range_are_refused(as_alice, space, warm_gene):
    source = random_one(as_alice)
    url = f"/api/creations/{source['id']}/preview/"
    unknown = as_alice.post(url, {"genes": {"beauty": 1}}, format="json")
    assert unknown.status_code == 400 and "unknown gene 'beauty'" in unknown.json()["error"]
    far = as_alice.post(url, {"genes": {"warmth": 50}}, format="json")
    assert far.status_code == 400 and "warmth must be between -3 and 3" in far.json()["error"]
    # Never a gene name, and PostgreSQL refuses NUL in text: a 400 before any query.
    nul = as_alice.post(url, {"genes": {"warm\x00th": 1}}, format="json")
    assert nul.status_code == 400 and "is not a gene name" in nul.json()["error"]


def test_unknown_ids_and_spaces_are_404_with_a_message(as_alice, space):
    assert as_alice.get("/api/creations/zzzzzzzzzz/").json() == {"error": "No creation with id 'zzzzzzzzzz'."}
    assert as_alice.post("/api/spaces/nowhere/random/", {}, format="json").status_code == 404
    assert as_alice.get("/api/nothing-here/").json()["error"].startswith("Nothing at")


def test_breeding_needs_an_account(api, space):
    response = api.post("/api/spaces/abstract/random/", {}, format="json")
    assert response.status_code in (401, 403)
    assert response.json() == {"error": "Log in first: this needs an account."}


def test_breeding_is_budgeted_per_picture_made_with_a_retry_time(as_alice, settings, space,
                                                                 one_minute):
    settings.RENDER_BUDGET_CPU_S_PER_MIN = 2.0  # some eighty pictures at the eager 256 px
    made = 0
    for _ in range(60):  # eight pictures a request: a budget of a few dozen is spent soon
        response = as_alice.post("/api/spaces/abstract/random/", {"n": 8}, format="json")
        if response.status_code != 201:
            break
        made += 8
    assert response.status_code == 429 and made >= 8
    body = response.json()
    assert body["error"].startswith("You have asked for more pictures than Mendel renders for one "
                                    "person in a minute (2 seconds of computing). Try again in ")
    assert 0 < body["retry_after"] <= 60 and response["Retry-After"] == str(body["retry_after"])
    assert Creation.objects.count() == made


def test_an_oversized_body_is_refused(as_alice, settings, space):
    big = json.dumps({"n": 1, "pad": "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 10)})
    response = as_alice.post("/api/spaces/abstract/random/", data=big, content_type="application/json")
    assert response.status_code == 413
    assert response.json() == {"error": "The request body is too large (limit 1024 KB)."}


# -- pictures -----------------------------------------------------------------------


def test_a_picture_is_rendered_once_then_served_from_storage(as_alice, space, settings):
    made = random_one(as_alice)
    as_alice.patch(f"/api/creations/{made['id']}/", {"visibility": "public"}, format="json")
    url = made["images"]["256"]
    first = as_alice.get(url)
    assert first.status_code == 200 and first["Content-Type"] == "image/webp"
    assert first["Cache-Control"] == "public, max-age=300, stale-while-revalidate=60"
    assert Image.open(io.BytesIO(first.content)).size == (256, 256)
    sha = url.split("/")[3]
    stored = settings.MEDIA_ROOT / "renders" / "abstract" / sha[:2] / sha / "256.webp"
    assert stored.exists()
    again = as_alice.get(url)
    assert again.content == first.content
    assert as_alice.get(url, HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 304


def test_an_unknown_size_is_a_404_with_a_message(as_alice, space):
    made = random_one(as_alice)
    response = as_alice.get(made["images"]["256"].replace("256.webp", "300.webp"))
    assert response.status_code == 404
    assert response.json()["error"] == "No picture size 300: sizes are 64, 128, 256, 512, 1024, 2048."


def test_openapi_schema_and_docs_are_served(api):
    schema = api.get("/api/schema/")
    assert schema.status_code == 200 and b"/api/cross/" in schema.content
    docs = api.get("/api/docs/")
    assert docs.status_code == 200 and b"swagger" in docs.content.lower()
    assert b"cdn" not in docs.content.lower()


def test_token_authentication_works(api, alice, space):
    token = api.post("/api/token/", {"username": "alice", "password": "correct horse 1"}, format="json").json()["token"]
    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    made = api.post("/api/spaces/abstract/random/", {}, format="json")
    assert made.status_code == 201
    assert made.json()[0]["visibility"] == Visibility.DRAFT
    # A token client sees its own drafts' pictures too; a wrong token does not.
    assert api.get(made.json()[0]["images"]["64"]).status_code == 200
    api.credentials(HTTP_AUTHORIZATION="Token not-a-token")
    assert api.get(made.json()[0]["images"]["64"]).status_code == 404


# -- copies of others' works ----------------------------------------------------------

COPY_REFUSED = ("That would be an exact copy of someone else's work, not a new one: raise the "
                "chaos, move a gene, or give another parent some weight.")
SHARE_REFUSED = ("This is an exact copy of someone else's work. Change it first (breed it, "
                 "cross it or move a gene), then share what you made.")


def alices_public_work(alice, space, seed=61):
    work = actions.do_random(alice, space, 1, seed=seed)[0]
    return actions.do_update(work, visibility=Visibility.PUBLIC)


def served_to_visitors(work) -> int:
    from rest_framework.test import APIClient

    return APIClient().get(f"/r/abstract/{work.latent_sha}/256.webp").status_code


def test_children_at_chaos_zero_of_anothers_work_are_refused(as_bob, alice, bob, space):
    work = alices_public_work(alice, space)
    answer = as_bob.post(f"/api/creations/{work.public_id}/children/", {"n": 2, "chaos": 0},
                         format="json")
    assert answer.status_code == 400 and answer.json()["error"] == COPY_REFUSED
    assert not Creation.objects.filter(owner=bob).exists()
    # any chaos at all makes new works; of one's own works, chaos 0 is one's own business
    assert as_bob.post(f"/api/creations/{work.public_id}/children/", {"n": 2, "chaos": 0.05},
                       format="json").status_code == 201
    mine = actions.do_update(actions.do_random(bob, space, 1, seed=62)[0], visibility=Visibility.PUBLIC)
    assert as_bob.post(f"/api/creations/{mine.public_id}/children/", {"n": 1, "chaos": 0},
                       format="json").status_code == 201


def test_an_edit_that_moves_no_gene_of_anothers_work_is_refused(as_bob, alice, bob, space, warm_gene):
    work = alices_public_work(alice, space)
    for genes in ({}, {"warmth": 0.0}):
        answer = as_bob.post(f"/api/creations/{work.public_id}/edit/", {"genes": genes}, format="json")
        assert answer.status_code == 400 and answer.json()["error"] == COPY_REFUSED
    assert not Creation.objects.filter(owner=bob).exists()
    moved = as_bob.post(f"/api/creations/{work.public_id}/edit/", {"genes": {"warmth": 1.0}}, format="json")
    assert moved.status_code == 201


def test_a_cross_with_all_its_weight_on_anothers_work_is_refused(as_bob, alice, bob, space):
    work = alices_public_work(alice, space)
    mine = actions.do_random(bob, space, 1, seed=63)[0]
    weights = [{"id": work.public_id, "content": 1, "style": 1},
               {"id": mine.public_id, "content": 0, "style": 0}]
    answer = as_bob.post("/api/cross/", {"parents": weights, "n": 1}, format="json")
    assert answer.status_code == 400 and answer.json()["error"] == COPY_REFUSED
    weights[1]["style"] = 0.5  # a new work: Bob's style on Alice's content
    assert as_bob.post("/api/cross/", {"parents": weights, "n": 1}, format="json").status_code == 201


def test_a_copy_to_breed_from_cannot_be_shared_unchanged(client, as_bob, alice, bob, space):
    """"Breed from this" gives Bob his own copy of Alice's public work. Once Alice makes hers
    private, nothing of Bob's may serve its picture again: not the copy, nor a copy of it."""
    work = alices_public_work(alice, space)
    client.force_login(bob)
    assert client.post(f"/w/{work.public_id}/breed/").status_code == 302
    copy = Creation.objects.get(owner=bob)
    assert copy.latent_sha == work.latent_sha and copy.visibility == Visibility.PRIVATE
    actions.do_update(work, visibility=Visibility.PRIVATE)
    assert served_to_visitors(work) == 404
    for visibility in ("public", "unlisted"):
        shared = as_bob.patch(f"/api/creations/{copy.public_id}/", {"visibility": visibility}, format="json")
        assert shared.status_code == 400 and shared.json()["error"] == f"visibility: {SHARE_REFUSED}"
    copy.refresh_from_db()
    assert copy.visibility == Visibility.PRIVATE and served_to_visitors(work) == 404
    # a copy of the copy is still Alice's picture
    again = as_bob.post(f"/api/creations/{copy.public_id}/children/", {"n": 1, "chaos": 0}, format="json")
    assert again.status_code == 400 and again.json()["error"] == COPY_REFUSED
    # what Bob changes is his to share
    child = as_bob.post(f"/api/creations/{copy.public_id}/children/", {"n": 1, "chaos": 0.3},
                        format="json").json()[0]
    assert as_bob.patch(f"/api/creations/{child['id']}/", {"visibility": "public"},
                        format="json").status_code == 200
