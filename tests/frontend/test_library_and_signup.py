"""Small things a visitor meets: the library says what each draft is and undoes a bulk
discard; "Start breeding" leads a visitor to sign up, and sign-up and log-in link each other."""

from __future__ import annotations

import re

import pytest

from breeding import actions
from breeding.models import Creation, Visibility

pytestmark = pytest.mark.django_db


@pytest.fixture
def space(db):
    return actions.sync_spaces()[0]


def captions(html: str) -> list[str]:
    return re.findall(r'<input type="checkbox" name="discard" value="[^"]+"> <span class="title" title="[^"]*">([^<]+)<', html)


def test_the_library_says_what_each_draft_is(client, space, alice, bob):
    rose = actions.do_update(actions.do_random(alice, space, 1, seed=1)[0], title="Rose",
                             visibility=Visibility.PRIVATE)
    secret = actions.do_update(actions.do_random(bob, space, 1, seed=2)[0], title="Bob's secret",
                               visibility=Visibility.PRIVATE)
    actions.do_random(alice, space, 1, seed=3)
    actions.do_children(alice, rose, 1, 0.3, seed=4)
    actions.do_children(alice, secret, 1, 0.3, seed=5)  # made while it was public, say
    actions.do_cross(alice, [actions.ParentWeight(rose, 1, 1), actions.ParentWeight(secret, 1, 1)])
    client.force_login(alice)
    html = client.get("/library/?state=drafts").content.decode()
    assert captions(html) == ["Cross of “Rose” and a hidden work", "Child of a hidden work",
                              "Child of “Rose”", "Random draw"]
    assert "Bob&#x27;s secret" not in html and "Draft</span>" not in html


def test_a_drafts_caption_never_reads_child_of_an_untitled_work(client, space, alice):
    untitled = actions.do_random(alice, space, 2, seed=1)
    child = actions.do_children(alice, untitled[0], 1, 0.3, seed=2)[0]
    named = actions.do_update(actions.do_children(alice, untitled[0], 1, 0.3, seed=3)[0], title="Night Fern")
    actions.do_cross(alice, [actions.ParentWeight(untitled[0], 1, 1), actions.ParentWeight(untitled[1], 1, 1)])
    client.force_login(alice)
    html = client.get("/library/?state=drafts").content.decode()
    assert "untitled work" not in html
    # its own title if it has one, else what it is; then its space and when it was made
    assert captions(html) == ["Cross of 2 works", "Night Fern", "Child", "Random draw", "Random draw"]
    abouts = re.findall(r'<span class="about">([^<]+)</span>', html)
    assert len(abouts) == 5 and all(re.fullmatch(r"abstract · 0\xa0minutes ago", a) for a in abouts), abouts
    assert child.public_id in html and named.public_id in html


def test_a_bulk_discard_can_be_undone(client, space, alice):
    drafts = actions.do_random(alice, space, 3, seed=1)
    client.force_login(alice)
    picked = [d.public_id for d in drafts[:2]]
    html = client.post("/library/?state=drafts", {"discard": picked}, follow=True).content.decode()
    assert "Discarded 2 drafts." in html and "cannot be undone" not in html
    assert sorted(re.findall(r'name="restore" value="([^"]+)"', html)) == sorted(picked)
    assert Creation.objects.filter(removed_at__isnull=False).count() == 2
    # The offer is made once: a reload no longer shows it.
    assert 'name="restore"' not in client.get("/library/?state=drafts").content.decode()
    html = client.post("/library/?state=drafts", {"restore": picked}, follow=True).content.decode()
    assert "Restored 2 drafts." in html and len(captions(html)) == 3
    assert not Creation.objects.filter(removed_at__isnull=False).exists()


def test_undo_restores_only_ones_own_discarded_drafts(client, space, alice, bob):
    bobs = actions.do_random(bob, space, 1, seed=1)[0]
    actions.do_remove(bobs)
    client.force_login(alice)
    html = client.post("/library/", {"restore": [bobs.public_id]}, follow=True).content.decode()
    assert "Restored 0 drafts." in html
    assert Creation.objects.get(pk=bobs.pk).removed_at is not None


def test_start_breeding_leads_a_visitor_to_sign_up_and_back(client, alice):
    home = client.get("/").content.decode()
    assert re.search(r'<a class="button" href="/accounts/signup/">Start breeding</a>', home)
    response = client.get("/studio/")
    assert response["Location"] == "/accounts/signup/?next=%2Fstudio%2F"
    signup = client.get(response["Location"]).content.decode()
    assert 'href="/accounts/login/?next=/studio/"' in signup
    assert 'name="next" value="/studio/"' in signup
    login = client.get("/accounts/login/").content.decode()
    assert 'href="/accounts/signup/"' in login
    response = client.post("/accounts/signup/", {"username": "newcomer", "password1": "a fine long passphrase 9",
                                                 "password2": "a fine long passphrase 9",
                                                 "next": "https://elsewhere.example/"})
    assert response["Location"] == "/studio/"  # never off the site
    client.force_login(alice)
    assert 'href="/studio/">Start breeding' in client.get("/").content.decode()
