"""The privacy matrix: owner, another breeder and an anonymous visitor against every route
that names a work, every list, every picture and the family trees.

New routes join by default: every URL pattern with a ``public_id`` is found by walking the
URL configuration, and for Bob and an anonymous visitor a hidden work must answer exactly
as a work that does not exist (same status, same body but for the id), whatever the method.
The studio socket carries no work of anyone else: its column is
tests/breeding/test_studio_socket.py (Bob's socket hears nothing of Alice's events).
"""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from breeding import actions, looks, media
from breeding.models import Creation, Visibility

pytestmark = pytest.mark.django_db

MISSING = "zzzzzzzzzz"
METHODS = ("get", "post", "put", "patch", "delete")


def work_routes(patterns=None, prefix: str = "") -> list[str]:
    """Every route of the site that takes a ``public_id``, as a template with ``{id}``."""
    routes = []
    for entry in patterns if patterns is not None else get_resolver().url_patterns:
        if isinstance(entry, URLResolver):
            routes += work_routes(entry.url_patterns, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern) and "<str:public_id>" in str(entry.pattern):
            routes.append("/" + (prefix + str(entry.pattern)).replace("<str:public_id>", "{id}"))
    return routes


def published(owner, visibility: str) -> Creation:
    """A text Alice published (a work with no space: ``breeding.media``)."""
    job = media.publish(owner, {"kind": "text", "title": "Hidden verse", "text": "A secret.",
                                "visibility": visibility}, {})
    return job.creation


@pytest.fixture
def hidden(alice, space):
    """Alice's works that nobody else may open: a draft, a private work, and a public work
    she removed; a private published text, and a public one she removed."""
    draft, private, removed = actions.do_random(alice, space, 3, seed=5)
    actions.do_update(private, visibility=Visibility.PRIVATE)
    actions.do_update(removed, visibility=Visibility.PUBLIC)
    actions.do_remove(removed)
    published_removed = published(alice, Visibility.PUBLIC)
    actions.do_remove(published_removed)
    return {"draft": draft, "private": private, "removed": removed,
            "published": published(alice, Visibility.PRIVATE),
            "published_removed": published_removed}


@pytest.fixture(autouse=True)
def _generous_limits(settings):
    settings.RENDER_BUDGET_CPU_S_PER_MIN = settings.RENDER_BUDGET_ANON_CPU_S_PER_MIN = 1e6


def clients(alice, bob) -> dict[str, Client]:
    made = {"anonymous": Client(raise_request_exception=False)}
    for name, user in (("alice", alice), ("bob", bob)):
        made[name] = Client(raise_request_exception=False)
        made[name].force_login(user)
    return made


def answer(client: Client, method: str, url: str, public_id: str) -> tuple[int, str, str]:
    response = getattr(client, method)(url.format(id=public_id), data={},
                                       content_type="application/json")
    body = response.content.decode(errors="replace").replace(public_id, "ID")
    # CSRF tokens are masked afresh on every page
    body = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", body)
    body = re.sub(r'name="csrf-token" content="[^"]+"', "", body)
    return response.status_code, response.get("Location", "").replace(public_id, "ID"), body


def test_the_matrix_covers_every_route_that_names_a_work():
    routes = work_routes()
    for expected in ("/api/creations/{id}/", "/api/creations/{id}/children/", "/w/{id}/",
                     "/w/{id}/lineage/", "/studio/{id}/", "/api/creations/{id}/neighbours/",
                     "/api/creations/{id}/lookalikes/",
                     "/api/creations/{id}/like/", "/api/creations/{id}/restore/"):
        assert expected in routes


@pytest.mark.parametrize("viewer", ["bob", "anonymous"])
@pytest.mark.parametrize("kind", ["draft", "private", "removed", "published", "published_removed"])
def test_a_hidden_work_answers_as_one_that_does_not_exist(alice, bob, hidden, viewer, kind):
    client = clients(alice, bob)[viewer]
    work = hidden[kind]
    for route in work_routes():
        for method in METHODS:
            seen = answer(client, method, route, work.public_id)
            missing = answer(client, method, route, MISSING)
            assert seen == missing, (viewer, kind, method, route, seen[:2], missing[:2])
            assert seen[0] < 500
    for size in (64, 256):
        picture = client.get(f"/r/abstract/{work.latent_sha}/{size}.webp")
        assert picture.status_code == 404
    for name in ("cover.webp", "large.webp"):  # a published work's files, by its media's id
        seen = client.get(f"/m/{work.latent_sha}/{name}")
        assert (seen.status_code, seen.content) == (404, client.get(f"/m/{MISSING}/{name}").content)
    assert Creation.objects.filter(pk=work.pk, owner=alice).exists()  # nothing was taken


def test_the_owner_opens_her_hidden_works(alice, bob, hidden):
    client = clients(alice, bob)["alice"]
    for kind in ("draft", "private"):
        work = hidden[kind]
        for url in (f"/api/creations/{work.public_id}/", f"/w/{work.public_id}/",
                    f"/w/{work.public_id}/lineage/", f"/studio/{work.public_id}/",
                    f"/api/creations/{work.public_id}/lineage/",
                    f"/r/abstract/{work.latent_sha}/64.webp"):
            assert client.get(url).status_code == 200, url
    work = hidden["published"]
    for url in (f"/api/creations/{work.public_id}/", f"/w/{work.public_id}/",
                f"/m/{work.latent_sha}/cover.webp", f"/api/media/{work.latent_sha}/"):
        assert client.get(url).status_code == 200, url
    restored = client.post(f"/api/creations/{hidden['removed'].public_id}/restore/")
    assert restored.status_code == 200


@pytest.fixture
def family(alice, bob, space, hidden):
    """A public grandparent, Alice's private middle generation (later removed), and a public
    grandchild; an unlisted work; a public child of a draft."""
    grandparent = actions.do_update(actions.do_random(alice, space, 1, seed=6)[0],
                                    visibility=Visibility.PUBLIC)
    middle = actions.do_update(actions.do_children(alice, grandparent, 1, 0.3)[0],
                               visibility=Visibility.PRIVATE)
    grandchild = actions.do_update(actions.do_children(alice, middle, 1, 0.3)[0],
                                   visibility=Visibility.PUBLIC)
    unlisted = actions.do_update(actions.do_children(alice, grandparent, 1, 0.3)[0],
                                 visibility=Visibility.UNLISTED)
    of_draft = actions.do_update(actions.do_children(alice, hidden["draft"], 1, 0.3)[0],
                                 visibility=Visibility.PUBLIC)
    return {"grandparent": grandparent, "middle": middle, "grandchild": grandchild,
            "unlisted": unlisted, "of_draft": of_draft}


def secret_strings(hidden: dict, family: dict) -> list[str]:
    works = [*hidden.values(), family["middle"], family["unlisted"]]
    return [s for w in works for s in (w.public_id, w.latent_sha)]


def list_urls(family: dict) -> list[str]:
    gp, gc, od = family["grandparent"], family["grandchild"], family["of_draft"]
    return [
        "/", "/gallery/", "/gallery/?order=trending", "/u/alice/",
        "/api/gallery/", "/api/gallery/?order=trending", "/api/gallery/?owner=alice",
        "/api/users/alice/",
        *(f"/api/creations/{w.public_id}/neighbours/?limit=48" for w in (gp, gc, od)),
        *(f"/api/creations/{w.public_id}/lookalikes/?limit=48" for w in (gp, gc, od)),
        *(f"/api/creations/{w.public_id}/" for w in (gp, gc, od)),
        *(f"/api/creations/{w.public_id}/lineage/?direction={d}&depth=4"
          for w in (gp, gc, od) for d in ("up", "down")),
        *(f"/w/{w.public_id}/" for w in (gp, gc, od)),
        *(f"/w/{w.public_id}/lineage/" for w in (gp, gc, od)),
    ]


@pytest.mark.parametrize("viewer", ["bob", "anonymous"])
@pytest.mark.parametrize("middle_removed", [False, True])
def test_no_list_tree_or_page_names_a_hidden_work(alice, bob, hidden, family, viewer, middle_removed):
    if middle_removed:
        actions.do_remove(family["middle"])
    # Every work measured, drafts and hidden ones too: a look-alike list must still not
    # name them.
    looks.compute(list(Creation.objects.filter(space__isnull=False).select_related("space")))
    client = clients(alice, bob)[viewer]
    for url in list_urls(family):
        response = client.get(url)
        assert response.status_code == 200, url
        body = response.content.decode()
        for secret in secret_strings(hidden, family):
            assert secret not in body, (url, secret)
    # The grandchild's tree stops where the hidden generation is: it does not reveal that
    # it descends from the public grandparent, nor that anything hidden is there.
    up = client.get(f"/api/creations/{family['grandchild'].public_id}/lineage/?direction=up&depth=4")
    assert [n["id"] for n in up.json()["nodes"]] == [family["grandchild"].public_id]
    down = client.get(f"/api/creations/{family['grandparent'].public_id}/lineage/?direction=down&depth=4")
    assert [n["id"] for n in down.json()["nodes"]] == [family["grandparent"].public_id]
    for w in ("grandchild", "of_draft"):
        assert client.get(f"/api/creations/{family[w].public_id}/").json()["parents"] == []
        page = client.get(f"/w/{family[w].public_id}/").content.decode()
        assert "removed" not in page.split('id="family"')[1].split("</section>")[0]


def test_the_owner_sees_her_whole_family_and_her_removed_works_as_removed(alice, bob, family):
    client = clients(alice, bob)["alice"]
    up = client.get(f"/api/creations/{family['grandchild'].public_id}/lineage/?direction=up&depth=4")
    ids = [n["id"] for n in up.json()["nodes"]]
    assert ids == [family["grandchild"].public_id, family["middle"].public_id,
                   family["grandparent"].public_id]
    actions.do_remove(family["middle"])
    up = client.get(f"/api/creations/{family['grandchild'].public_id}/lineage/?direction=up&depth=4")
    nodes = up.json()["nodes"]
    assert [n.get("removed", False) for n in nodes] == [False, True, False]
    assert client.get(f"/api/creations/{family['grandchild'].public_id}/").json()["parents"] == [
        {"removed": True}]


def test_a_removed_public_work_stays_a_removed_tile_in_everyones_tree(alice, bob, family):
    """What was public stays known: the tree shows a "removed" tile and goes on through it."""
    child = actions.do_update(actions.do_children(bob, family["grandparent"], 1, 0.3)[0],
                              visibility=Visibility.PUBLIC)
    grandchild = actions.do_update(actions.do_children(bob, child, 1, 0.3)[0],
                                   visibility=Visibility.PUBLIC)
    actions.do_remove(child)
    up = Client().get(f"/api/creations/{grandchild.public_id}/lineage/?direction=up&depth=4").json()
    assert [n.get("removed", False) for n in up["nodes"]] == [False, True, False]
    assert up["nodes"][2]["id"] == family["grandparent"].public_id
    assert child.public_id not in str(up)



def test_the_gene_amounts_of_an_edit_of_a_hidden_work_are_its_owners_alone(alice, bob, space, warm_gene):
    """With the amounts, anyone could edit the public edit back to its hidden source."""
    source = actions.do_update(actions.do_random(alice, space, 1, seed=8)[0], visibility=Visibility.PRIVATE)
    edit = actions.do_update(actions.do_edit(alice, source, {"warmth": 2.5}, {"warmth": warm_gene}),
                             visibility=Visibility.PUBLIC)
    made = clients(alice, bob)
    assert made["alice"].get(f"/api/creations/{edit.public_id}/").json()["genes"] == {"warmth": 2.5}
    for viewer in ("bob", "anonymous"):
        assert made[viewer].get(f"/api/creations/{edit.public_id}/").json()["genes"] == {}
    actions.do_update(source, visibility=Visibility.PUBLIC)  # nothing hidden any more
    assert made["bob"].get(f"/api/creations/{edit.public_id}/").json()["genes"] == {"warmth": 2.5}
