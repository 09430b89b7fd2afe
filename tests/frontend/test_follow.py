"""Following on the pages, without a browser: the profile's counts and its Follow button,
and the gallery's "Following" tab (for signed-in breeders only)."""

from __future__ import annotations

import re
from html import unescape

import pytest

from breeding import actions
from breeding.models import Visibility
from gallery.follows import do_follow

pytestmark = pytest.mark.django_db


@pytest.fixture
def space(db):
    return actions.sync_spaces()[0]


@pytest.fixture
def carol(django_user_model):
    return django_user_model.objects.create_user("carol", "carol@example.org", "tide pools 3")


def publish(owner, space, seed, title, visibility=Visibility.PUBLIC):
    return actions.do_update(actions.do_random(owner, space, 1, seed=seed)[0], title=title, visibility=visibility)


def titles(html: str) -> list[str]:
    return [unescape(t) for t in re.findall(r'class="title" href="[^"]+">([^<]+)<', html)]


def follow_button(html: str) -> str | None:
    found = re.search(r"<button[^>]*data-follow=[^>]*>.*?</button>", html, re.S)
    return found.group(0) if found else None


def counts(html: str) -> tuple[int, int]:
    found = re.search(r'Followers <span class="num" data-followers>(\d+)</span> ·\s*'
                      r'Following <span class="num">(\d+)</span>', html)
    return int(found.group(1)), int(found.group(2))


def test_a_profile_counts_followers_and_following(client, alice, bob, carol):
    do_follow(bob, alice)
    do_follow(carol, alice)
    do_follow(alice, carol)
    assert counts(client.get("/u/alice/").content.decode()) == (2, 1)
    assert counts(client.get("/u/bob/").content.decode()) == (0, 1)


def test_the_follow_button_shows_whether_you_follow(client, alice, bob):
    client.force_login(bob)
    button = follow_button(client.get("/u/alice/").content.decode())
    assert 'aria-pressed="false"' in button and re.search(r"<span data-follow-label>Follow</span>", button)
    assert 'data-follow="alice"' in button and 'class="button follow-artist"' in button
    do_follow(bob, alice)
    html = client.get("/u/alice/").content.decode()
    button = follow_button(html)
    assert 'aria-pressed="true"' in button and re.search(r"<span data-follow-label>Following</span>", button)
    assert "js/follow.js" in html


def test_no_button_on_your_own_profile_and_a_login_link_for_visitors(client, alice):
    html = client.get("/u/alice/").content.decode()
    assert follow_button(html) is None and "js/follow.js" not in html
    assert re.search(r'href="/accounts/login/\?next=/u/alice/">Follow</a>', html)
    client.force_login(alice)
    html = client.get("/u/alice/").content.decode()
    assert follow_button(html) is None and "js/follow.js" not in html


def test_the_following_tab_is_for_signed_in_breeders(client, django_user_model, alice, bob, carol, space):
    publish(alice, space, 1, "Alice's tide")
    publish(alice, space, 2, "Alice's secret", Visibility.PRIVATE)
    publish(alice, space, 3, "Alice's link", Visibility.UNLISTED)
    publish(carol, space, 4, "Carol's ember")
    publish(bob, space, 5, "Bob's own")
    assert "order=following" not in client.get("/gallery/").content.decode()
    response = client.get("/gallery/?order=following")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/gallery/%3Forder%3Dfollowing"

    client.force_login(bob)
    assert 'href="?order=following"' in client.get("/gallery/").content.decode()
    html = client.get("/gallery/?order=following").content.decode()
    assert titles(html) == [] and "You follow no one yet." in html
    assert re.search(r'href="\?order=following"[^>]* aria-current="true">Following</a>', html)

    do_follow(bob, django_user_model.objects.create_user("erin", "erin@example.org", "quiet shore 6"))
    html = client.get("/gallery/?order=following").content.decode()
    assert "The artists you follow have not published anything yet." in html

    do_follow(bob, alice)
    assert titles(client.get("/gallery/?order=following").content.decode()) == ["Alice's tide"]
    html = client.get("/gallery/?order=following&q=nothing").content.decode()
    assert "No work of the artists you follow has “nothing” in its title." in html


def test_the_following_tab_pages_with_the_cursor(client, alice, bob, space):
    for i in range(30):
        publish(alice, space, 100 + i, f"Work {i:02d}")
    do_follow(bob, alice)
    client.force_login(bob)
    html = client.get("/gallery/?order=following").content.decode()
    first = titles(html)
    assert len(first) == 24 and first[0] == "Work 29"
    more = re.search(r'<a class="more" href="([^"]+)" data-more>', html).group(1).replace("&amp;", "&")
    assert "order=following" in more
    rest = titles(client.get(more + "&fragment=1").content.decode())
    assert rest == [f"Work {i:02d}" for i in range(5, -1, -1)]
