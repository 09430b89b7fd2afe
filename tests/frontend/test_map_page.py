"""The map page of a space, without a browser: where it is, what it asks the map API for,
its way back to a plain list, and the gallery's way to it (map.js is tested in
test_map_e2e.py)."""

from __future__ import annotations

import pytest

from breeding import actions

pytestmark = pytest.mark.django_db


@pytest.fixture
def space(db):
    return actions.sync_spaces()[0]


def test_a_space_has_a_map_page_that_talks_to_its_map_api(client, space):
    answer = client.get("/map/abstract/")
    assert answer.status_code == 200
    page = answer.content.decode()
    assert 'data-api="/api/maps/abstract/"' in page
    assert 'href="/gallery/?space=abstract"' in page  # the works as a list, without WebGL
    assert "frontend/js/map.js" in page
    assert 'data-user' not in page and 'data-map-mine' not in page  # a visitor has no works to mark


def test_a_logged_in_breeder_can_mark_their_works(client, space, alice):
    client.force_login(alice)
    page = client.get("/map/abstract/").content.decode()
    assert "data-user" in page and "data-map-mine" in page


def test_a_space_that_is_not_there_has_no_map(client, space):
    answer = client.get("/map/nowhere/")
    assert answer.status_code == 404
    assert "nowhere" in answer.content.decode()


def test_the_gallery_leads_to_the_maps_of_its_spaces(client, space):
    page = client.get("/gallery/").content.decode()
    assert 'href="/map/abstract/"' in page
    chinese = client.get("/zh-hans/gallery/?space=abstract").content.decode()
    assert 'href="/zh-hans/map/abstract/"' in chinese
    assert client.get("/zh-hans/map/abstract/").status_code == 200
