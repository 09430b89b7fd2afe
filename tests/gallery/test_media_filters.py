"""The gallery by kind, by how a work was made and by technique: the API's filters and the
page's chips, each alone and with the others, what a bad value gets, the cache of list
pages, and private published works, which no filter ever lists for anyone else."""

from __future__ import annotations

import re

import pytest
from django.test import RequestFactory

from breeding import actions, media
from breeding.models import Creation, MediaWork, Medium, Origin, Visibility
from tests import media_files

pytestmark = pytest.mark.django_db


def published(owner, kind: str, title: str, techniques=(), visibility=Visibility.PUBLIC) -> Creation:
    """A work ``owner`` published: a text or a picture as ``breeding.media.publish`` makes
    them; a video or a sound as its job leaves it (its files are not needed to list it)."""
    data = {"kind": kind, "title": title, "visibility": visibility, "techniques": list(techniques)}
    if kind == Medium.TEXT:
        return media.publish(owner, {**data, "text": f"The words of {title}."}, {}).creation
    if kind == Medium.PICTURE:
        from django.core.files.uploadedfile import SimpleUploadedFile

        file = SimpleUploadedFile("p.png", media_files.picture((120, 80)))
        return media.publish(owner, data, [file]).creation
    job = MediaWork.objects.create(owner=owner, kind=kind, title=title, visibility=visibility,
                                   status=MediaWork.Status.DONE, duration_s=2.0)
    job.techniques.set(media.techniques_of(list(techniques)))
    job.creation = media.create_work(job)
    job.save(update_fields=["creation"])
    return job.creation


@pytest.fixture
def works(alice, bob, space):
    """Alice's bred pictures and a morph video, and her published works of every kind, public;
    a private published text of hers and one of Bob's unlisted, both made with a technique
    nobody else used."""
    tide, ember = actions.do_random(alice, space, 2, seed=3)
    actions.do_update(tide, title="Tide", visibility=Visibility.PUBLIC)
    actions.do_update(ember, title="Ember", visibility=Visibility.PUBLIC)
    morph = actions.do_random(alice, space, 1, seed=4)[0]
    actions.do_update(morph, title="Tide in motion", visibility=Visibility.PUBLIC)
    Creation.objects.filter(pk=morph.pk).update(origin=Origin.VIDEO, medium=Medium.VIDEO)
    made = {
        "tide": tide, "ember": ember, "morph": morph,
        "film": published(alice, Medium.VIDEO, "Tide film", ["StyleGAN2"]),
        "song": published(alice, Medium.SOUND, "Tide song", ["JukeBox"]),
        "poem": published(alice, Medium.TEXT, "Salt", ["GPT-3", "Ink and patience"]),
        "photo": published(alice, Medium.PICTURE, "Shore photo", ["StyleGAN2"]),
        "secret": published(alice, Medium.TEXT, "Secret verse", ["Hidden craft"], Visibility.PRIVATE),
        "link": published(bob, Medium.SOUND, "Unlisted hum", ["Hidden craft"], Visibility.UNLISTED),
    }
    return made


def listed(client, query: str = "") -> list[str]:
    answer = client.get(f"/api/gallery/?{query}")
    assert answer.status_code == 200, answer.content
    return sorted(w["title"] for w in answer.json()["results"])


def page_titles(html: str) -> list[str]:
    return sorted(re.findall(r'<a class="title" href="[^"]+">([^<]*)</a>', html))


def test_each_kind_lists_only_its_medium(api, works):
    assert listed(api, "kind=pictures") == ["Ember", "Shore photo", "Tide"]
    assert listed(api, "kind=videos") == ["Tide film", "Tide in motion"]
    assert listed(api, "kind=sounds") == ["Tide song"]
    assert listed(api, "kind=texts") == ["Salt"]
    for kind, medium in (("pictures", "picture"), ("videos", "video"), ("sounds", "sound"), ("texts", "text")):
        assert {w["kind"] for w in api.get(f"/api/gallery/?kind={kind}").json()["results"]} == {medium}


def test_made_says_bred_or_published(api, works):
    assert listed(api, "made=bred") == ["Ember", "Tide", "Tide in motion"]
    assert listed(api, "made=published") == ["Salt", "Shore photo", "Tide film", "Tide song"]
    assert {w["published"] for w in api.get("/api/gallery/?made=published").json()["results"]} == {True}
    assert listed(api, "made=bred&kind=videos") == ["Tide in motion"]
    assert listed(api, "made=published&kind=pictures") == ["Shore photo"]
    assert listed(api, "made=bred&kind=texts") == []


def test_technique_by_its_slug_with_the_other_filters(api, works):
    assert listed(api, "technique=stylegan2") == ["Shore photo", "Tide film"]
    assert listed(api, "technique=stylegan2&kind=videos") == ["Tide film"]
    assert listed(api, "technique=gpt-3") == ["Salt"]
    assert listed(api, "technique=ink-and-patience&made=published") == ["Salt"]
    assert listed(api, "technique=stylegan2&made=bred") == []
    assert listed(api, "technique=nobody-used-this") == []
    # with a search, a space, an owner and an order
    assert listed(api, "technique=stylegan2&q=film") == ["Tide film"]
    assert listed(api, "kind=videos&q=motion") == ["Tide in motion"]
    assert listed(api, "kind=videos&space=abstract") == ["Tide in motion"]  # published works have no space
    assert listed(api, "made=published&space=abstract") == []
    assert listed(api, "kind=sounds&order=trending") == ["Tide song"]
    assert listed(api, "made=published&owner=bob") == []


def test_bad_values_get_a_400_that_says_what_is_wrong(api, works):
    for query, field in (("kind=poems", "kind"), ("made=found", "made"), ("technique=a%20b!", "technique"),
                         (f"technique={'x' * 49}", "technique"), ("kind=Videos", "kind")):
        answer = api.get(f"/api/gallery/?{query}")
        assert answer.status_code == 400, query
        text = answer.content.decode()
        assert field in text and "must be" in text, text
    assert "pictures, videos, sounds, texts" in api.get("/api/gallery/?kind=poems").content.decode()
    assert "bred, published" in api.get("/api/gallery/?made=found").content.decode()
    for query in ("kind=poems", "made=found", "technique=%3Cb%3E"):
        page = api.get(f"/gallery/?{query}")
        assert page.status_code == 400, query
        assert "&lt;b&gt;" in page.content.decode() or "technique" not in query
    assert "is not a kind of work: choose pictures, videos, sounds or texts." in api.get(
        "/gallery/?kind=poems").content.decode()
    assert "is not how a work is made: choose bred or published." in api.get(
        "/gallery/?made=found").content.decode()
    assert api.get("/u/alice/?kind=poems").status_code == 400


def test_private_published_works_are_never_listed_for_others(api, as_bob, as_alice, works):
    for client in (api, as_bob, as_alice):  # the gallery lists public works only, even to their owner
        for query in ("made=published", "kind=texts", "kind=sounds", "technique=hidden-craft",
                      "technique=hidden-craft&made=published", "q=secret", "q=unlisted"):
            titles = listed(client, query)
            assert "Secret verse" not in titles and "Unlisted hum" not in titles, (query, titles)
    html = as_bob.get("/gallery/?made=published").content.decode()
    assert "Secret verse" not in html and "Unlisted hum" not in html
    # nor does the technique list name what only hidden works were made with
    assert "Hidden craft" not in as_bob.get("/gallery/").content.decode()
    assert "Hidden craft" not in api.get("/gallery/").content.decode()
    profile = as_bob.get("/u/alice/?kind=texts").content.decode()
    assert page_titles(profile) == ["Salt"]
    assert "Secret verse" not in as_bob.get("/u/alice/").content.decode()


def test_the_gallery_page_filters_with_chips_that_keep_the_other_filters(client, works):
    html = client.get("/gallery/").content.decode()
    chips = re.search(r'<nav class="kind-chips"[^>]*>(.*?)</nav>', html, re.S).group(1)
    assert re.findall(r">([^<]+)</a>", chips) == ["All", "Pictures", "Videos", "Sounds", "Texts"]
    assert 'aria-current="true">All</a>' in chips
    # the technique select names the techniques of public works, and the made select shows
    techniques = re.search(r'<select id="technique".*?</select>', html, re.S).group(0)
    assert re.findall(r'<option value="([^"]*)"', techniques) == ["", "gpt-3", "ink-and-patience", "jukebox", "stylegan2"]
    assert '<select id="made"' in html

    for kind, titles in (("pictures", ["Ember", "Shore photo", "Tide"]), ("videos", ["Tide film", "Tide in motion"]),
                         ("sounds", ["Tide song"]), ("texts", ["Salt"])):
        html = client.get(f"/gallery/?kind={kind}").content.decode()
        assert page_titles(html) == titles, kind
        assert f'<input type="hidden" name="kind" value="{kind}">' in html  # a search keeps it
    sounds = client.get("/gallery/?kind=sounds").content.decode()
    assert '<span class="badge-video badge-sound" aria-hidden="true">♪ Sound</span>' in sounds
    assert 'alt="Sound: Tide song by alice"' in sounds
    texts = client.get("/gallery/?kind=texts").content.decode()
    assert "¶ Text" in texts and 'alt="Text: Salt by alice"' in texts
    photo = client.get("/gallery/?made=published&kind=pictures").content.decode()
    assert page_titles(photo) == ["Shore photo"] and "badge-video" not in photo  # a published picture: no badge

    html = client.get("/gallery/?made=published&technique=stylegan2&q=tide&order=trending").content.decode()
    assert page_titles(html) == ["Tide film"]
    videos = re.search(r'<a href="([^"]+)"[^>]*>Videos</a>', html).group(1).replace("&amp;", "&")
    assert videos == "?order=trending&kind=videos&made=published&technique=stylegan2&q=tide"
    newest = re.search(r'<a href="([^"]+)"[^>]*>Newest</a>', html).group(1).replace("&amp;", "&")
    assert newest == "?order=newest&made=published&technique=stylegan2&q=tide"
    assert re.search(r'<option value="stylegan2" selected>StyleGAN2</option>', html)
    assert re.search(r'<option value="published" selected>', html)
    assert page_titles(client.get("/gallery/?technique=stylegan2&made=bred").content.decode()) == []
    assert "No public work matches these filters." in client.get("/gallery/?technique=stylegan2&made=bred").content.decode()


def test_a_gallery_without_published_works_offers_no_technique(client, alice, space):
    work = actions.do_random(alice, space, 1, seed=9)[0]
    actions.do_update(work, title="Alone", visibility=Visibility.PUBLIC)
    html = client.get("/gallery/").content.decode()
    assert '<select id="technique"' not in html and '<select id="made"' not in html
    assert 'class="kind-chips"' in html
    assert "No public sounds yet." in client.get("/gallery/?kind=sounds").content.decode()


def test_a_profile_lists_its_artists_works_by_kind(client, works):
    html = client.get("/u/alice/").content.decode()
    assert page_titles(html) == ["Ember", "Salt", "Shore photo", "Tide", "Tide film", "Tide in motion", "Tide song"]
    chips = re.search(r'<nav class="kind-chips profile-kinds"[^>]*>(.*?)</nav>', html, re.S).group(1)
    assert re.findall(r'href="([^"]+)"', chips) == ["/u/alice/", "?kind=pictures", "?kind=videos", "?kind=sounds", "?kind=texts"]
    assert page_titles(client.get("/u/alice/?kind=videos").content.decode()) == ["Tide film", "Tide in motion"]
    assert page_titles(client.get("/u/alice/?kind=sounds").content.decode()) == ["Tide song"]
    empty = client.get("/u/bob/?kind=sounds").content.decode()  # Bob's only sound is unlisted
    assert page_titles(empty) == [] and "bob has no public works of this kind yet." in empty


def test_the_list_cache_keeps_each_filter_apart(client, settings, works):
    from gallery import api as gallery_api

    settings.GALLERY_CACHE_SECONDS = 60
    gallery_api._pages.clear()
    answers = {}
    for query in ("kind=sounds", "kind=texts", "made=bred", "made=published", "technique=gpt-3",
                  "technique=jukebox", "kind=videos&made=bred", "kind=videos&made=published"):
        answers[query] = sorted(w["title"] for w in client.get(f"/api/gallery/?{query}").json()["results"])
        again = sorted(w["title"] for w in client.get(f"/api/gallery/?{query}").json()["results"])
        assert again == answers[query]  # the kept page, for the same question
    assert answers["kind=sounds"] == ["Tide song"] and answers["kind=texts"] == ["Salt"]
    assert answers["technique=gpt-3"] == ["Salt"] and answers["technique=jukebox"] == ["Tide song"]
    assert answers["kind=videos&made=bred"] == ["Tide in motion"]
    assert answers["kind=videos&made=published"] == ["Tide film"]
    assert len(gallery_api._pages) == 8
    factory = RequestFactory()
    keys = {gallery_api.page_key(factory.get("/api/gallery/", data))
            for data in ({}, {"kind": "sounds"}, {"made": "published"}, {"technique": "gpt-3"},
                         {"technique": "jukebox"}, {"kind": "sounds", "made": "published"})}
    assert len(keys) == 6


def test_the_schema_documents_the_filters(api):
    schema = api.get("/api/schema/?format=json").json()
    parameters = {p["name"]: p for p in schema["paths"]["/api/gallery/"]["get"]["parameters"]}
    assert parameters["kind"]["schema"]["enum"] == ["pictures", "sounds", "texts", "videos"] or set(
        parameters["kind"]["schema"]["enum"]) == {"pictures", "videos", "sounds", "texts"}
    assert set(parameters["made"]["schema"]["enum"]) == {"bred", "published"}
    assert parameters["technique"]["schema"]["maxLength"] == 48
    work = schema["components"]["schemas"]["Work"]["properties"]
    assert {"kind", "published"} <= set(work)
