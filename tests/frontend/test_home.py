from __future__ import annotations

import pytest

from breeding import actions
from breeding.models import Visibility
from frontend.demo import FIGURE_TITLES, TITLES, seed_demo

pytestmark = pytest.mark.django_db


def test_a_fresh_site_hangs_a_demo_gallery_once_with_works_of_both_spaces(db):
    actions.sync_spaces()
    assert seed_demo() == len(TITLES) + len(FIGURE_TITLES)
    assert seed_demo() == 0
    from breeding.models import Creation

    public = Creation.objects.filter(visibility=Visibility.PUBLIC)
    assert public.filter(space__slug="abstract").count() == len(TITLES)
    assert sorted(public.filter(space__slug="figures").values_list("title", flat=True)) == sorted(FIGURE_TITLES)


def test_the_home_page_shows_public_works_only(client, alice):
    space = actions.sync_spaces()[0]
    public = actions.do_random(alice, space, 1, seed=1)[0]
    actions.do_update(public, title="Tidepool", visibility=Visibility.PUBLIC)
    private = actions.do_random(alice, space, 1, seed=2)[0]
    actions.do_update(private, title="Secret", visibility=Visibility.PRIVATE)
    page = client.get("/").content.decode()
    assert "Tidepool" in page and f"/r/abstract/{public.latent_sha}/256.webp" in page
    assert "Secret" not in page and private.latent_sha not in page
    assert 'width="256" height="256"' in page and 'alt="Tidepool by alice"' in page


def test_an_empty_gallery_says_so(client, db):
    assert "The gallery is empty" in client.get("/").content.decode()
