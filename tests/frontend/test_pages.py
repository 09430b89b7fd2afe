"""The reading pages (gallery, profiles, work pages, lineage) and the library, without a
browser: what they show, to whom, and in how many queries."""

from __future__ import annotations

import json
import re
from html import unescape

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from breeding import actions
from breeding.models import Creation, Origin, Visibility
from frontend.lineage import BLOCK_COLS, MAX_ROW, TILE, layout
from gallery.actions import do_like

pytestmark = pytest.mark.django_db


@pytest.fixture
def space(db):
    return actions.sync_spaces()[0]


def publish(creation, title):
    return actions.do_update(creation, title=title, visibility=Visibility.PUBLIC)


@pytest.fixture
def hung(space, alice, bob):
    """Alice's public, unlisted, private and draft works; one public work of Bob's."""
    works = actions.do_random(alice, space, 4, seed=3)
    publish(works[0], "Tidepool")
    actions.do_update(works[1], title="Link only", visibility=Visibility.UNLISTED)
    actions.do_update(works[2], title="Secret", visibility=Visibility.PRIVATE)
    actions.do_update(works[3], title="Unkept")
    theirs = publish(actions.do_random(bob, space, 1, seed=4)[0], "Bob's Bay")
    return {"public": works[0], "unlisted": works[1], "private": works[2], "draft": works[3], "bob": theirs}


def titles(html: str) -> list[str]:
    return [unescape(t) for t in re.findall(r'class="title" href="[^"]+">([^<]+)<', html)]


def test_the_gallery_pages_through_public_works_only(client, space, alice, hung):
    for i in range(30):
        publish(actions.do_random(alice, space, 1, seed=100 + i)[0], f"Work {i:02d}")
    html = client.get("/gallery/").content.decode()
    first = titles(html)
    assert len(first) == 24 and first[0] == "Work 29"
    assert not {"Link only", "Secret", "Unkept"} & set(first)
    more = re.search(r'<a class="more" href="([^"]+)" data-more>', html).group(1).replace("&amp;", "&")
    assert "fragment" not in more
    fragment = client.get(more + "&fragment=1").content.decode()
    assert "<html" not in fragment and "site-header" not in fragment
    rest = titles(fragment)
    assert len(rest) == 8 and set(first).isdisjoint(rest) and {"Tidepool", "Bob's Bay"} <= set(rest)
    assert 'data-more' not in fragment  # the last page
    assert not {"Link only", "Secret", "Unkept"} & set(rest)


def test_trending_search_and_space_filters(client, space, alice, bob, hung):
    do_like(alice, hung["bob"])
    trending = titles(client.get("/gallery/?order=trending").content.decode())
    assert trending[0] == "Bob's Bay"
    assert titles(client.get("/gallery/?q=tide").content.decode()) == ["Tidepool"]
    assert titles(client.get("/gallery/?q=secret").content.decode()) == []
    assert "No public work has" in client.get("/gallery/?q=secret").content.decode()
    assert titles(client.get("/gallery/?space=nowhere").content.decode()) == []
    assert client.get("/gallery/?cursor=garbage").status_code == 404
    # a well-formed cursor with a position that is not a date or a number
    for order in ("newest", "trending"):
        assert client.get(f"/gallery/?order={order}&cursor=cD16eno%3D").status_code == 404


def test_nul_characters_get_a_sentence_not_a_crash(client, alice, hung):
    for url in ("/gallery/?q=a%00b", "/gallery/?space=%00", "/u/al%00ice/", "/w/ab%00cd/",
                "/api/creations/ab%00cd/", "/api/gallery/?q=%00"):
        response = client.get(url)
        assert response.status_code == 400, url
        assert "NUL characters" in response.content.decode()
    client.force_login(alice)
    response = client.post("/library/", {"discard": ["x\x00y"]})
    assert response.status_code == 400


@pytest.mark.parametrize("url", ["/gallery/", "/gallery/?order=trending", "/u/alice/", "/library/", "/"])
def test_list_pages_are_a_fixed_number_of_queries(client, space, alice, url):
    def add(count, seed):
        for i in range(count):
            publish(actions.do_random(alice, space, 1, seed=seed + i)[0], f"W{seed + i}")

    client.force_login(alice)
    add(3, 200)
    client.get(url)
    with CaptureQueriesContext(connection) as few:
        assert client.get(url).status_code == 200
    add(20, 300)
    with CaptureQueriesContext(connection) as many:
        client.get(url)
    budget = 7 if url.startswith("/u/") else 6  # a profile lists its collections too
    assert len(many) == len(few) <= budget, [q["sql"][:80] for q in many]


def test_a_profile_shows_public_works_and_counts(client, alice, bob, hung):
    do_like(bob, hung["public"])
    html = client.get("/u/alice/").content.decode()
    assert titles(html) == ["Tidepool"]
    assert re.search(r'<span class="num">1</span> public work ·', html)
    assert re.search(r'<span class="num">1</span> like received', html)
    assert client.get("/u/nobody/").status_code == 404


def test_work_pages_respect_privacy(client, alice, bob, hung):
    for key in ("public", "unlisted"):
        assert client.get(f"/w/{hung[key].public_id}/").status_code == 200
    for key in ("private", "draft"):
        assert client.get(f"/w/{hung[key].public_id}/").status_code == 404
        assert client.get(f"/w/{hung[key].public_id}/lineage/").status_code == 404
    client.force_login(bob)
    assert client.get(f"/w/{hung['private'].public_id}/").status_code == 404
    assert client.get(f"/studio/{hung['private'].public_id}/").status_code == 404
    client.force_login(alice)
    page = client.get(f"/w/{hung['private'].public_id}/").content.decode()
    assert "Secret" in page and "Open in the studio" in page
    assert "Nothing here" in client.get("/w/nope/").content.decode()


def test_a_work_page_shows_family_likes_and_public_neighbours_only(client, space, alice, bob, hung):
    child = actions.do_children(alice, hung["public"], 2, 0.3, seed=5)
    publish(child[0], "Tide Child")
    actions.do_update(child[1], visibility=Visibility.PRIVATE)
    do_like(bob, child[0])
    html = client.get(f"/w/{child[0].public_id}/").content.decode()
    assert "Child of" in html and f'href="/w/{hung["public"].public_id}/"' in html
    assert re.search(r'<span class="num">0</span> children you can see', html)
    assert "Sign up to breed from this" in html and "♥</span> Like <span class=\"num\">1</span>" in html
    strip = html.split('id="near"')[1]
    shown = set(titles(strip))
    assert shown == {"Tidepool", "Bob's Bay"}  # public works of the space, nothing private
    parent_html = client.get(f"/w/{hung['public'].public_id}/").content.decode()
    assert re.search(r'<span class="num">1</span> child you can see', parent_html)
    client.force_login(alice)
    parent_html = client.get(f"/w/{hung['public'].public_id}/").content.decode()
    assert re.search(r'<span class="num">2</span> children you can see', parent_html)


def test_unlisted_works_stay_out_of_others_families(client, space, alice, bob, hung):
    unlisted_child = actions.do_children(bob, hung["public"], 1, 0.3, seed=11)[0]
    actions.do_update(unlisted_child, title="By link only", visibility=Visibility.UNLISTED)
    grandchild = publish(actions.do_children(bob, unlisted_child, 1, 0.3, seed=12)[0], "Grandchild")
    page = client.get(f"/w/{hung['public'].public_id}/").content.decode()
    assert re.search(r'<span class="num">0</span> children you can see', page)
    tree = client.get(f"/w/{hung['public'].public_id}/lineage/").content.decode()
    assert unlisted_child.public_id not in tree and grandchild.public_id not in tree
    family = client.get(f"/w/{grandchild.public_id}/").content.decode().split('id="family"')[1]
    family = family.split("</section>")[0]
    assert "Child of" not in family and "removed" not in family and "private" not in family
    client.force_login(bob)  # the owner sees their own
    tree = client.get(f"/w/{hung['public'].public_id}/lineage/").content.decode()
    assert unlisted_child.public_id in tree and grandchild.public_id in tree
    # Their own works open in their studio; Alice's on its work page.
    assert f'href="/studio/{grandchild.public_id}/"' in tree
    assert f'href="/w/{hung["public"].public_id}/"' in tree
    assert f'href="/studio/{hung["public"].public_id}/"' not in tree


def test_logging_in_again_never_loops(client, alice):
    client.force_login(alice)
    response = client.get("/accounts/login/?next=/accounts/login/")
    assert response.status_code == 200


def test_breed_from_this_opens_the_studio_on_a_copy_of_ones_own(client, alice, bob, hung):
    url = f"/w/{hung['public'].public_id}/breed/"
    response = client.post(url)
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    client.force_login(bob)
    response = client.post(url)
    copy = Creation.objects.get(owner=bob, origin=Origin.CHILDREN)
    assert response["Location"] == f"/studio/{copy.public_id}/"
    assert copy.latent_sha == hung["public"].latent_sha and copy.title == "after Tidepool"
    assert copy.parent_links.get().parent == hung["public"]
    assert copy.visibility == Visibility.PRIVATE  # kept: a deliberate choice, not a stray draft
    assert client.get(url)["Location"] == f"/w/{hung['public'].public_id}/"  # back from logging in
    assert client.post(f"/w/{hung['private'].public_id}/breed/").status_code == 404
    client.force_login(alice)
    assert client.post(url)["Location"] == f"/studio/{hung['public'].public_id}/"


def test_the_studio_page_carries_its_state(client, alice, bob, hung):
    client.force_login(alice)
    html = client.get(f"/studio/{hung['draft'].public_id}/").content.decode()
    state = json.loads(re.search(r'<script id="studio-state" type="application/json">(.*?)</script>', html, re.S).group(1))
    assert state["mine"] is True and state["creation"]["id"] == hung["draft"].public_id
    assert state["space"]["slug"] == "abstract" and state["user"] == "alice"
    assert 'data-title' in html and 'value="public"' in html
    client.force_login(bob)
    html = client.get(f"/studio/{hung['public'].public_id}/").content.decode()
    # someone else's work: the copy form shows, the owner's controls are there but hidden
    # (Back may lead from the breeder's own drafts to it, in place)
    assert "Make a copy of my own" in html and re.search(r'class="row meta-mine" data-mine hidden', html)
    client.logout()
    assert client.get(f"/studio/{hung['public'].public_id}/").status_code == 302


def test_the_library_filters_and_discards_drafts_in_bulk(client, space, alice, bob, hung):
    more_drafts = actions.do_random(alice, space, 3, seed=9)
    bobs_draft = actions.do_random(bob, space, 1, seed=10)[0]
    assert client.get("/library/").status_code == 302
    client.force_login(alice)
    html = client.get("/library/?state=drafts").content.decode()
    assert html.count('name="discard"') == 4
    html = client.get("/library/?state=kept").content.decode()
    assert 'name="discard"' not in html and {"Tidepool", "Secret", "Link only"} <= set(re.findall(r'<span class="title">([^<]+)<', html))
    doomed = [more_drafts[0].public_id, more_drafts[1].public_id, hung["public"].public_id, bobs_draft.public_id]
    response = client.post("/library/?state=drafts", {"discard": doomed}, follow=True)
    assert "Discarded 2 drafts." in response.content.decode()
    assert Creation.objects.filter(removed_at__isnull=False).count() == 2
    assert Creation.objects.get(pk=hung["public"].pk).removed_at is None
    assert Creation.objects.get(pk=bobs_draft.pk).removed_at is None
    assert client.get("/library/?state=drafts").content.decode().count('name="discard"') == 2


def test_a_wide_family_folds_into_a_more_node():
    def node(i, generation):
        return {"id": f"n{i}", "generation": generation, "title": "", "owner": "a", "images": {"256": f"/{i}"}}

    down = {"nodes": [node(0, 0)] + [node(i, 1) for i in range(1, 13)],
            "links": [{"child": f"n{i}", "parent": "n0"} for i in range(1, 13)]}
    up = {"nodes": [node(0, 0), node(99, 1)], "links": [{"child": "n0", "parent": "n99"}]}
    tree = layout(up, down)
    rows = {}
    for n in tree.nodes:
        rows.setdefault(n.row, []).append(n)
    assert len(rows[1]) == MAX_ROW and rows[1][-1].more == 12 - (MAX_ROW - 1)
    assert [n.id for n in rows[-1]] == ["n99"] and rows[-1][0].y < rows[0][0].y < rows[1][0].y
    assert len(tree.edges) == 1 + MAX_ROW  # the "+N" node is joined once
    root = rows[0][0]
    assert abs(root.cx - tree.width / 2) < 1  # centred


def test_an_unfolded_wide_generation_is_a_grid_of_siblings_joined_once():
    def node(i, generation):
        return {"id": f"n{i}", "generation": generation, "images": {"256": f"/{i}", "1024": f"/{i}L"}}

    # 56 children of the work, two of which have a child each
    down = {"nodes": [node(0, 0)] + [node(i, 1) for i in range(1, 57)] + [node(100, 2), node(101, 2)],
            "links": [{"child": f"n{i}", "parent": "n0"} for i in range(1, 57)]
            + [{"child": "n100", "parent": "n5"}, {"child": "n101", "parent": "n9"}]}
    up = {"nodes": [node(0, 0)], "links": []}
    tree = layout(up, down, wide=True)
    by_id = {n.id: n for n in tree.nodes}
    assert len(tree.nodes) == 59 and not any(n.more for n in tree.nodes)
    [block] = tree.blocks
    assert len(block.members) == 56 and (block.cols, block.lines) == (BLOCK_COLS, 7)
    assert tree.width <= BLOCK_COLS * (TILE + 28) + 100  # not 56 pictures wide
    # one connector from the work to the block, one from under the block to each grandchild
    assert len(tree.edges) == 3
    starts = sorted(tuple(map(float, e.path[1:].split(" ")[0].split(","))) for e in tree.edges)
    assert starts[0] == (by_id["n0"].cx, by_id["n0"].y + TILE)
    assert {s for s in starts[1:]} == {(by_id["n5"].cx, block.y + block.height), (by_id["n9"].cx, block.y + block.height)}
    assert by_id["n100"].y > block.y + block.height  # the next generation under the block
    assert by_id["n100"].large == "/100L"
    # folded, the same family is one row of seven, as before
    folded = layout(up, down)
    assert folded.blocks == [] and sum(n.row == 1 for n in folded.nodes) == MAX_ROW


def test_kin_in_one_generation_are_joined_by_an_arc_above():
    # a work crossed with its parent p and grandparent g: p and g both sit one row up
    up = {"nodes": [{"id": "x", "generation": 0}, {"id": "p", "generation": 1}, {"id": "g", "generation": 1}],
          "links": [{"child": "x", "parent": "p"}, {"child": "x", "parent": "g"}, {"child": "p", "parent": "g"}]}
    tree = layout(up, {"nodes": [{"id": "x", "generation": 0}], "links": []})
    by_id = {n.id: n for n in tree.nodes}
    assert by_id["p"].y == by_id["g"].y < by_id["x"].y
    arcs = [e.path for e in tree.edges if e.path.count(f",{by_id['p'].y:.0f}") == 2]
    assert len(arcs) == 1 and len(tree.edges) == 3


def test_a_folded_generation_unfolds_on_request(client, space, alice, hung):
    kids = actions.do_children(alice, hung["public"], 10, 0.3, seed=21)
    for k in kids:
        publish(k, "Kid")
    url = f"/w/{hung['public'].public_id}/lineage/"
    folded = client.get(url).content.decode()
    assert sum(k.public_id in folded for k in kids) == 6 and "+4 more" in folded
    assert 'href="?wide=1"' in folded
    wide = client.get(url + "?wide=1").content.decode()
    assert all(k.public_id in wide for k in kids) and "more</text>" not in wide


def test_the_studio_start_page_offers_a_random_picture_in_each_space(client, alice):
    actions.sync_spaces()
    client.force_login(alice)
    page = client.get("/studio/").content.decode()
    assert 'data-random="abstract">Make a random picture in the abstract space<' in page
    assert 'data-random="figures">Make a random picture in the figures space<' in page


def link_preview(html: str) -> dict[str, str]:
    """The Open Graph and Twitter card tags of a page: what a link pasted elsewhere shows."""
    found = re.findall(r'<meta (?:property|name)="((?:og|twitter):[\w:]+|robots)" content="([^"]*)">', html)
    return {name: unescape(value) for name, value in found}


def test_a_link_to_a_work_shows_its_picture_where_it_is_pasted_but_never_a_private_one(client, alice, hung):
    public = link_preview(client.get(f"/w/{hung['public'].public_id}/").content.decode())
    work = hung["public"]
    assert public["og:title"] == "Tidepool by alice" == public["twitter:title"]
    assert public["og:url"] == f"http://testserver/w/{work.public_id}/"
    assert public["og:image"] == f"http://testserver/r/abstract/{work.latent_sha}/512.png" == public["twitter:image"]
    assert public["twitter:card"] == "summary_large_image" and "robots" not in public
    picture = client.get(public["og:image"].removeprefix("http://testserver"))
    assert picture.status_code == 200 and picture["Content-Type"] == "image/png"
    # Anyone with the link may open an unlisted work: it previews, and asks not to be indexed.
    unlisted = link_preview(client.get(f"/w/{hung['unlisted'].public_id}/").content.decode())
    assert unlisted["og:title"] == "Link only by alice" and unlisted["robots"] == "noindex"
    # A private work or a draft: a robot (anonymous) gets nothing, and the owner's own page
    # carries no preview to leak when its address is pasted.
    for key in ("private", "draft"):
        response = client.get(f"/w/{hung[key].public_id}/")
        assert response.status_code == 404 and not link_preview(response.content.decode())
    client.force_login(alice)
    for key in ("private", "draft"):
        page = client.get(f"/w/{hung[key].public_id}/").content.decode()
        assert not link_preview(page) and 'data-share=' in page


def test_the_owner_sets_who_sees_a_picture_on_its_page_as_for_a_video(client, alice, bob, hung):
    client.force_login(alice)
    page = client.get(f"/w/{hung['draft'].public_id}/").content.decode()
    assert 'data-work-owner=' in page and 'value="draft" disabled selected' in page
    page = client.get(f"/w/{hung['public'].public_id}/").content.decode()
    assert re.search(r'<option value="public" selected>', page)
    client.force_login(bob)
    assert 'data-work-owner=' not in client.get(f"/w/{hung['public'].public_id}/").content.decode()
