"""The exhibition pages without a browser: who sees which exhibition, what reads without
JavaScript, the curator's page and the demo exhibition of a fresh site."""

from __future__ import annotations

import json
import re
from html import unescape

import pytest
from django.contrib.auth.models import Permission

from breeding import actions
from breeding.models import Visibility
from frontend.demo import DEMO_EXHIBITION, EXHIBITION_WALLS, seed_demo, seed_demo_exhibition
from gallery import exhibitions
from gallery.models import Exhibition, ExhibitionStatus

pytestmark = pytest.mark.django_db


def make_curator(user):
    user.user_permissions.add(Permission.objects.get(codename="curate", content_type__app_label="gallery"))
    return type(user).objects.get(pk=user.pk)  # permissions are cached on the instance


@pytest.fixture
def works(alice):
    space = actions.sync_spaces()[0]
    made = actions.do_random(alice, space, 4, seed=7)
    for work, title in zip(made, ["Tidepool", "Lichen", "Inkwell", "Moth Wing"], strict=True):
        actions.do_update(work, title=title, visibility=Visibility.PUBLIC)
    return made


@pytest.fixture
def shows(alice, works):
    """Alice curates an open show, a closed one and a draft."""
    curator = make_curator(alice)
    open_ = exhibitions.do_create(curator, "Shoreline", "Works about water.\n\nAnd light.")
    exhibitions.do_add(open_, works[0].public_id, "Begin at the shore.")
    exhibitions.do_add(open_, works[1].public_id, "Growth without hurry.")
    exhibitions.do_update(open_, status=ExhibitionStatus.OPEN)
    closed = exhibitions.do_create(curator, "Last Winter")
    exhibitions.do_add(closed, works[2].public_id, "")
    exhibitions.do_update(closed, status=ExhibitionStatus.CLOSED)
    draft = exhibitions.do_create(curator, "Work in Progress")
    return {"open": open_, "closed": closed, "draft": draft}


def shown(html: str) -> str:
    """The page as read, without the state handed to its script."""
    return re.sub(r'<script id="exhibition-state".*?</script>', "", html, flags=re.S)


def card_titles(html: str) -> list[str]:
    return [unescape(t) for t in re.findall(r'class="ex-card-title">([^<]+)<', html)]


def test_the_list_shows_open_exhibitions_first_then_past_ones(client, shows):
    html = client.get("/exhibitions/").content.decode()
    assert card_titles(html) == ["Shoreline", "Last Winter"]
    assert html.index("Open now") < html.index("Past exhibitions")
    assert "New exhibition" not in html


def test_a_draft_is_listed_for_its_curators_only(client, alice, bob, shows):
    client.force_login(bob)
    assert "Work in Progress" not in client.get("/exhibitions/").content.decode()
    client.force_login(alice)
    html = client.get("/exhibitions/").content.decode()
    assert card_titles(html) == ["Work in Progress", "Shoreline", "Last Winter"]
    assert "Your drafts" in html and "New exhibition" in html


def test_a_drafts_page_is_not_found_for_others(client, alice, bob, shows):
    slug = shows["draft"].slug
    assert client.get(f"/exhibitions/{slug}/").status_code == 404
    client.force_login(bob)
    assert client.get(f"/exhibitions/{slug}/").status_code == 404
    assert client.get(f"/exhibitions/{slug}/walk/").status_code == 404
    client.force_login(alice)
    assert client.get(f"/exhibitions/{slug}/").status_code == 200


def test_the_curate_page_is_not_found_for_anyone_but_curators(client, alice, bob, shows, django_user_model):
    url = f"/exhibitions/{shows['open'].slug}/curate/"
    assert client.get(url).status_code == 404
    client.force_login(make_curator(bob))  # a curator, but not of this exhibition
    assert client.get(url).status_code == 404
    client.force_login(alice)
    html = client.get(url).content.decode()
    assert "On the walls" in html and "Start a round" in html
    staff = django_user_model.objects.create_user("carol", password="x y z 123 long", is_staff=True)
    client.force_login(staff)
    assert client.get(url).status_code == 200


def test_the_exhibition_reads_without_javascript(client, shows, works):
    response = client.get(f"/exhibitions/{shows['open'].slug}/")
    html = response.content.decode()
    assert "<h1 data-ex-title>Shoreline</h1>" in html
    assert "<p>Works about water.</p>" in html and "<p>And light.</p>" in html
    assert "curated by" in html and ">alice</a>" in html
    tidepool, lichen = html.index("Begin at the shore."), html.index("Growth without hurry.")
    assert tidepool < lichen  # in the order they hang
    assert f"/r/abstract/{works[0].latent_sha}/1024.webp" in html and 'alt="Tidepool by alice"' in html
    assert "Inkwell" not in html  # hangs in another show
    state = json.loads(re.search(r'<script id="exhibition-state" type="application/json">(.*?)</script>',
                                 html, re.S).group(1))
    assert [i["work"]["title"] for i in state["exhibition"]["items"]] == ["Tidepool", "Lichen"]
    assert state["seq"] == Exhibition.objects.get(pk=shows["open"].pk).seq and state["curator"] is False
    assert "<script>" not in html and " style=" not in html  # the CSP allows neither
    # reading starts no session: a visitor's first vote does
    assert "sessionid" not in response.cookies


def test_a_work_made_private_leaves_the_walls(client, shows, works):
    actions.do_update(works[1], visibility=Visibility.PRIVATE)
    html = client.get(f"/exhibitions/{shows['open'].slug}/").content.decode()
    assert "Begin at the shore." in html and "Growth without hurry." not in html


def test_the_walk_shows_one_work_at_a_time_with_links_on(client, shows):
    url = f"/exhibitions/{shows['open'].slug}/walk/"
    first = shown(client.get(url).content.decode())
    assert "Begin at the shore." in first and "Growth without hurry." not in first
    assert "1 / 2" in first and 'href="?i=2"' in first and 'data-walk-prev href="#"' in first
    second = shown(client.get(url + "?i=2").content.decode())
    assert "Growth without hurry." in second and "2 / 2" in second and 'href="?i=1"' in second
    assert client.get(url + "?i=99").status_code == 200 and client.get(url + "?i=x").status_code == 200


def test_a_curator_makes_an_exhibition_as_a_draft(client, alice, bob, works):
    client.force_login(bob)
    assert client.get("/exhibitions/new/").status_code == 404
    client.force_login(make_curator(alice))
    response = client.post("/exhibitions/new/", {"title": "New Weather", "statement": "Rain."})
    made = Exhibition.objects.get(title="New Weather")
    assert response.status_code == 302 and response["Location"] == f"/exhibitions/{made.slug}/curate/"
    assert made.status == ExhibitionStatus.DRAFT and list(made.curators.all()) == [alice]
    # "new" is the page that makes them: an exhibition never takes it as its slug
    client.post("/exhibitions/new/", {"title": "New"})
    assert Exhibition.objects.get(title="New").slug != "new"


def test_the_curate_form_saves_and_opens(client, alice, shows, works):
    client.force_login(alice)
    draft = shows["draft"]
    exhibitions.do_add(draft, works[3].public_id)
    response = client.post(f"/exhibitions/{draft.slug}/curate/", {
        "title": "Work Done", "statement": "", "cover": works[3].public_id, "status": "open",
        "opens_at": "2026-05-01T10:00", "closes_at": "2026-04-01T10:00"})
    assert response.status_code == 400 and "closes after it opens" in response.content.decode()
    response = client.post(f"/exhibitions/{draft.slug}/curate/", {
        "title": "Work Done", "statement": "", "cover": works[3].public_id, "status": "open",
        "opens_at": "2026-05-01T10:00", "closes_at": ""})
    assert response.status_code == 302
    draft.refresh_from_db()
    assert (draft.title, draft.status, draft.cover_id) == ("Work Done", "open", works[3].pk)
    assert [e.kind for e in draft.events.order_by("seq")][-2:] == ["edited", "open"]


def test_the_nav_and_the_home_page_show_open_exhibitions(client, shows):
    html = client.get("/").content.decode()
    assert 'href="/exhibitions/"' in html and "On view now" in html
    assert card_titles(html) == ["Shoreline"]


def test_a_fresh_site_opens_its_demo_exhibition_once(db):
    actions.sync_spaces()
    seed_demo()
    assert seed_demo_exhibition() is True
    assert seed_demo_exhibition() is False
    show = Exhibition.objects.get()
    assert (show.slug, show.status, show.curators.get().username) == (DEMO_EXHIBITION, "open", "mendel")
    items = list(show.items.select_related("creation").order_by("position"))
    assert [(i.creation.title, i.wall_text) for i in items] == EXHIBITION_WALLS
    assert show.cover_id == items[0].creation_id


def test_the_demo_exhibition_waits_for_the_demo_works(db):
    assert seed_demo_exhibition() is False
    assert not Exhibition.objects.exists()


def test_reading_an_exhibition_starts_no_session(client, shows, works):
    from django.contrib.sessions.models import Session

    slug = shows["open"].slug
    for path in (f"/exhibitions/{slug}/", f"/exhibitions/{slug}/walk/", f"/exhibitions/{slug}/walk/?i=2",
                 "/exhibitions/"):
        assert client.get(path).status_code == 200
    assert Session.objects.count() == 0 and "sessionid" not in client.cookies


def test_a_visitor_votes_from_the_page_changes_their_mind_and_one_address_is_capped(shows, works, alice, settings):
    from django.contrib.sessions.models import Session
    from django.test import Client

    from gallery.models import Vote

    settings.EXHIBITION_ANONYMOUS_VOTES_PER_ADDRESS = 2
    show = shows["open"]
    exhibitions.do_start_round(show, make_curator(alice), works[0].public_id, n=3, seconds=60)
    url = f"/exhibitions/{show.slug}/vote/"
    visitor = Client(REMOTE_ADDR="2001:db8:5:6::1", enforce_csrf_checks=True)
    visitor.get(f"/exhibitions/{show.slug}/")
    token = {"HTTP_X_CSRFTOKEN": visitor.cookies["csrftoken"].value}
    assert visitor.post(url, {"round": "1", "candidate": "0"}).status_code == 403  # no CSRF token
    assert Session.objects.count() == 0

    answer = visitor.post(url, {"round": "1", "candidate": "0"}, **token)
    assert answer.status_code == 200 and answer.json() == {"vote": 0, "changed": False}
    assert Session.objects.count() == 1  # the first act starts the session
    assert visitor.post(url, {"round": "1", "candidate": "2"}, **token).json() == {"vote": 2, "changed": True}
    assert list(Vote.objects.values_list("candidate__position", flat=True)) == [2]

    # Fresh sessions from the same /64 network: one more vote, then a sentence.
    def stranger(host: str):
        client = Client(REMOTE_ADDR=f"2001:db8:5:6::{host}")
        client.get(f"/exhibitions/{show.slug}/")
        return client.post(url, {"round": "1", "candidate": "1"})

    assert stranger("a").status_code == 200
    refused = stranger("b")
    assert refused.status_code == 400
    assert refused.json() == {"error": "2 votes have come from your address in this round already: log in to vote too."}
    assert Session.objects.count() == 2  # a refused vote leaves no session behind
    assert Vote.objects.count() == 2

    for bad in ({"round": "1", "candidate": "²"}, {"round": "1" * 5000, "candidate": "0"}, {"round": "1"}):
        response = Client().post(url, bad)
        assert response.status_code == 400
        assert response.json() == {"error": "A vote names its round and its picture by their numbers."}
    assert Client().post(f"/exhibitions/{shows['draft'].slug}/vote/", {"round": "1", "candidate": "0"}).status_code == 404
