"""Words on the pages, without a browser: "Start from words" only where a space knows
words, the studio's "Add a gene from a word" likewise, where a work from words says so (the
phrase escaped), and the gallery's search by words next to its search of titles."""

from __future__ import annotations

import re
from html import unescape

import pytest

from breeding import actions, words
from breeding.models import Space, Visibility

pytestmark = pytest.mark.django_db



def word_forms(html: str) -> list[str]:
    return re.findall(r'data-words-form="([^"]+)"', html)


def test_the_start_page_offers_words_only_for_spaces_that_know_words(client, alice, emoji):
    client.force_login(alice)
    # before the emoji space has learnt its words: no form anywhere
    page = client.get("/studio/").content.decode()
    assert word_forms(page) == [] and "Start from words" not in page
    words.learn(emoji)
    page = client.get("/studio/").content.decode()
    assert word_forms(page) == ["emoji"]
    form = page[page.index('data-words-form="emoji"'):page.index("</form>", page.index('data-words-form="emoji"'))]
    assert 'maxlength="100"' in form and 'name="phrase"' in form
    assert unescape(re.search(r'placeholder="([^"]+)"', form).group(1)) == "red cat · robot chef · 猫 笑"
    assert "Or start from words, in the emoji space" in form
    assert 'role="alert"' in form
    # the spaces without words still offer their random pictures, and no words
    assert 'data-random="abstract"' in page and 'data-random="figures"' in page
    assert 'id="words-abstract"' not in page and 'id="words-figures"' not in page


def test_the_studio_offers_a_gene_from_a_word_only_in_a_space_with_words(client, alice, learnt):
    client.force_login(alice)
    emoji_work = actions.do_random(alice, learnt, 1, seed=1)[0]
    abstract_work = actions.do_random(alice, Space.objects.get(slug="abstract"), 1, seed=1)[0]
    page = client.get(f"/studio/{emoji_work.public_id}/").content.decode()
    assert "data-word-gene" in page and "Add a gene from a word" in page
    assert '"has_words": true' in page  # the studio's state says so to its script
    page = client.get(f"/studio/{abstract_work.public_id}/").content.decode()
    assert "data-word-gene" not in page and '"has_words": false' in page


def test_a_work_from_words_says_where_it_came_from_with_the_phrase_escaped(client, alice, learnt):
    client.force_login(alice)
    made, _ = actions.do_words(alice, learnt, "red cat <b>", 1, seed=4)
    work = made[0]
    for url in (f"/w/{work.public_id}/", f"/studio/{work.public_id}/"):
        page = client.get(url).content.decode()
        assert "Started from the words “red cat &lt;b&gt;”." in page, url
        assert "red cat <b>" not in page.replace('"phrase": "red cat <b>"', ""), url
    # a work from chance says nothing of words
    other = actions.do_random(alice, learnt, 1, seed=5)[0]
    assert "Started from the words" not in client.get(f"/w/{other.public_id}/").content.decode()


def titles(html: str) -> list[str]:
    return [unescape(t) for t in re.findall(r'class="title" href="[^"]+">([^<]+)<', html)]


def test_the_gallery_searches_by_words_beside_titles(client, alice, learnt):
    cats, _ = actions.do_words(alice, learnt, "cat", 2, seed=1)
    flags, _ = actions.do_words(alice, learnt, "flag", 2, seed=1)
    for i, w in enumerate(cats + flags):
        actions.do_update(w, visibility=Visibility.PUBLIC, title=f"Work {i}")
    hidden, _ = actions.do_words(alice, learnt, "cat", 1, seed=9)
    actions.do_update(hidden[0], visibility=Visibility.PRIVATE, title="Hidden cat")

    page = client.get("/gallery/").content.decode()
    assert 'name="by"' in page and '<option value="words">By words</option>' in page
    # by words: the works nearest the phrase, cats first, whatever their titles say
    found = client.get("/gallery/", {"by": "words", "q": "cat"}).content.decode()
    assert titles(found)[:2] in (["Work 0", "Work 1"], ["Work 1", "Work 0"])
    assert set(titles(found)) == {"Work 0", "Work 1", "Work 2", "Work 3"}
    assert "Works nearest “cat” in the emoji space" in found
    assert '<option value="emoji" selected>' in found  # the space searched is the one shown
    # a word it does not know is named; a phrase of none is refused with the sentence
    noted = client.get("/gallery/", {"by": "words", "q": "cat spaceship"}).content.decode()
    assert "No pictures taught me “spaceship”" in unescape(noted) and titles(noted)
    refused = client.get("/gallery/", {"by": "words", "q": "xqzv"}).content.decode()
    assert 'role="alert"' in refused and "No pictures taught me “xqzv”" in unescape(refused)
    assert titles(refused) == []
    # a space without words is no place to search by words
    elsewhere = client.get("/gallery/", {"by": "words", "q": "cat", "space": "abstract"}).content.decode()
    assert "Search by words works in the emoji space: choose it." in elsewhere and titles(elsewhere) == []
    # titles, as before
    assert titles(client.get("/gallery/", {"q": "Work 3"}).content.decode()) == ["Work 3"]
    # the gallery's works are the public ones, for their owner too: no drafts, nothing private
    client.force_login(alice)
    mine = client.get("/gallery/", {"by": "words", "q": "cat"}).content.decode()
    assert set(titles(mine)) == {"Work 0", "Work 1", "Work 2", "Work 3"}


def test_the_gallery_offers_no_search_by_words_where_no_space_knows_words(client, emoji):
    page = client.get("/gallery/").content.decode()
    assert 'name="by"' not in page
    # asked anyway: the search of titles
    assert "Works nearest" not in client.get("/gallery/", {"by": "words", "q": "cat"}).content.decode()
