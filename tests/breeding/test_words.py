"""Words in a space (``inference.words``, ``breeding.words``): the vocabulary the job makes
from the ``emoji`` space's words file, pictures started from a phrase, unknown words named,
genes from words, the gallery's search by words, and spaces without words saying so."""

from __future__ import annotations

import pytest
import torch

from breeding import actions, words
from breeding.models import Creation, Gene, Origin, Space, Visibility, Vocabulary, Word
from breeding.tasks import ensure_words, learn_words
from inference import words as inference_words

pytestmark = pytest.mark.django_db



# -- pure: words of a label, phrases, the table ---------------------------------------------


def test_a_label_gives_its_name_keywords_and_chinese_words():
    label = {"en": "woman cook: light skin tone", "en_tags": ["chef", "cook", "woman"],
             "zh": "女厨师: 较浅肤色", "zh_tags": ["做饭", "厨师", "OK"]}
    found = inference_words.label_words(label)
    assert {("en", "woman"), ("en", "cook"), ("en", "light"), ("en", "chef"), ("en", "ok"),
            ("zh", "女厨师"), ("zh", "较浅肤色"), ("zh", "做饭"), ("zh", "厨师")} <= found
    assert ("en", "with") not in inference_words.label_words({"en": "man with cap"})


def test_a_phrase_splits_into_known_words_in_either_language():
    known = {"red", "cat", "ice cream", "猫", "笑", "笑脸"}
    assert inference_words.split_phrase("  Red   CAT ", known) == ["red", "cat"]
    assert inference_words.split_phrase("ice cream", known) == ["ice cream"]
    assert inference_words.split_phrase("猫 笑", known) == inference_words.split_phrase("猫笑", known) == ["猫", "笑"]
    assert inference_words.split_phrase("猫笑脸", known) == ["猫", "笑脸"]  # the longest known word
    assert inference_words.split_phrase("cat with a spaceship", known) == ["cat", "spaceship"]
    # Plurals of known words, and the Chinese words that carry no picture, as a person types.
    known |= {"box", "berry", "dog", "红色", "狗"}
    assert inference_words.split_phrase("Cats, boxes and berries!", known) == ["cat", "box", "berry"]
    assert inference_words.split_phrase("红色的猫", known) == ["红色", "猫"]
    assert inference_words.split_phrase("猫和狗", known) == ["猫", "狗"]


def test_a_word_sits_where_its_pictures_are_and_is_as_sure_as_they_are_tight():
    g = torch.Generator().manual_seed(0)
    latents = torch.randn(300, 8, generator=g)
    latents[:40] = torch.tensor([5.0, 0, 0, 0, 0, 0, 0, 0]) + 0.1 * torch.randn(40, 8, generator=g)
    carried = [{("en", "tight")} if i < 40 else set() for i in range(300)]
    for i in range(40, 300, 10):  # scattered over the whole set
        carried[i] = {("en", "loose")}
    table = {w.text: w for w in inference_words.word_table(latents, carried)}
    tight, loose = table["tight"], table["loose"]
    assert tight.count == 40 and loose.count == 26
    assert torch.allclose(tight.point, latents[:40].mean(0))
    assert float(tight.direction @ torch.tensor([1.0, 0, 0, 0, 0, 0, 0, 0])) > 0.95
    assert abs(float(tight.direction.norm()) - 1) < 1e-5
    assert tight.tightness > 0.9 > 0.5 > loose.tightness
    # A word of fewer than MIN_PICTURES pictures is a guess, and gets no place.
    carried[50] = {("en", "rare")}
    assert "rare" not in {w.text for w in inference_words.word_table(latents, carried)}


def test_the_encoder_learns_to_read_its_space_back_and_keeps_what_it_learnt(tmp_path):
    from inference import get_space

    space = get_space("emoji")
    w, pictures = inference_words.space_pictures(space, 384, seed=1)
    losses = []
    reader = inference_words.train_encoder(w, pictures, epochs=4, seed=0,
                                           on_progress=lambda f, loss: losses.append(loss))
    assert losses[-1] < losses[0]
    path = tmp_path / "x.words.safetensors"
    inference_words.save(path, reader, w[:5], ["a", "b", "c", "d", "e"], [{"en": "cat"}] * 5, "v1")
    loaded = inference_words.load(path)
    # Kept in half precision: what it reads is the trained encoder's within a hair of the
    # spread of w, and the same every time it is loaded.
    assert (loaded.reader(pictures[:8]) - reader(pictures[:8])).abs().max() < 0.02 * float(reader.std.mean())
    assert torch.equal(loaded.reader(pictures[:8]), inference_words.load(path).reader(pictures[:8]))
    assert loaded.names == ["a", "b", "c", "d", "e"] and loaded.version == "v1"
    assert loaded.words[0] == {("en", "cat")}
    assert torch.allclose(loaded.latents, w[:5].half().float())


# -- the vocabulary, made by a job ----------------------------------------------------------


def test_the_job_makes_the_emoji_spaces_words_once_for_its_version(emoji, no_jobs_queued):
    from procrastinate.contrib.django.models import ProcrastinateJob

    ensure_words()
    ensure_words()  # the queueing lock keeps it to one job per space
    queued = ProcrastinateJob.objects.filter(task_name="breeding.tasks.learn_words")
    assert [j.args for j in queued] == [{"space_slug": "emoji"}]  # not abstract, not figures
    count = learn_words(space_slug="emoji")
    vocabulary = Vocabulary.objects.get(space=emoji)
    assert vocabulary.version == emoji.version and vocabulary.pictures > 3000
    assert Word.objects.filter(vocabulary=vocabulary).count() == count
    cat = Word.objects.get(vocabulary=vocabulary, text="cat")
    assert cat.language == "en" and cat.count >= 5 and len(cat.point) == emoji.dim
    assert Word.objects.get(vocabulary=vocabulary, text="猫").language == "zh"
    assert learn_words(space_slug="emoji") == count  # again: the same words, not twice
    assert Vocabulary.objects.filter(space=emoji).count() == 1
    queued.delete()
    ensure_words()
    assert not ProcrastinateJob.objects.filter(task_name="breeding.tasks.learn_words").exists()


def test_spaces_without_labels_say_plainly_they_have_no_words(emoji, as_alice, api):
    for slug in ("abstract", "figures"):
        space = Space.objects.get(slug=slug)
        assert words.learn(space) == 0 and not Vocabulary.objects.filter(space=space).exists()
        told = api.get(f"/api/spaces/{slug}/words/").json()
        assert told["has_words"] is False and "no words" in told["message"]
        made = as_alice.post(f"/api/spaces/{slug}/words/", {"phrase": "cat"}, format="json")
        assert made.status_code == 400 and "no words" in made.json()["error"]
        gene = as_alice.post(f"/api/spaces/{slug}/genes/words/", {"word": "more cat"}, format="json")
        assert gene.status_code == 400 and "no words" in gene.json()["error"]
    spaces = {s["slug"]: s["has_words"] for s in api.get("/api/spaces/").json()}
    assert spaces["abstract"] is False and spaces["emoji"] is False  # not learnt yet
    # ...and the emoji space, before its job has run, says it is learning.
    told = api.get("/api/spaces/emoji/words/").json()
    assert told["has_words"] is False and "learning" in told["message"]


# -- start from a phrase --------------------------------------------------------------------


def test_a_phrase_makes_eight_varied_works_that_record_it(learnt, as_alice, api):
    made = as_alice.post("/api/spaces/emoji/words/", {"phrase": "red cat", "seed": 3}, format="json")
    assert made.status_code == 201, made.content
    body = made.json()
    assert [w["text"] for w in body["reading"]["words"]] == ["red", "cat"]
    assert body["reading"]["unknown"] == [] and len(body["works"]) == 8
    works = Creation.objects.filter(public_id__in=[w["id"] for w in body["works"]])
    assert {(w.origin, w.phrase, w.visibility) for w in works} == {(Origin.WORDS, "red cat", Visibility.DRAFT)}
    assert body["works"][0]["phrase"] == "red cat" and body["works"][0]["origin"] == "words"
    latents = torch.stack([w.tensor() for w in works])
    assert len({w.latent_sha for w in works}) == 8
    spread = (latents - latents.mean(0)).norm(dim=(1, 2))
    assert float(spread.min()) > 0.5  # varied, not one picture eight times
    # Near the words: closer to the cat point than random pictures are.
    table = words.table_of(words.vocabulary_of(learnt))
    point = inference_words.phrase_point([table.words["red"], table.words["cat"]], table.mean)
    random = learnt.generator().sample(8, 5)
    assert (latents.mean(1) - point).norm(dim=1).mean() < (random.mean(1) - point).norm(dim=1).mean()
    picture = as_alice.get(body["works"][0]["images"]["256"])
    assert picture.status_code == 200 and picture["Content-Type"] == "image/webp"
    # The same seed is the same works for their breeder, and not for another one.
    again = as_alice.post("/api/spaces/emoji/words/", {"phrase": "red cat", "seed": 3}, format="json").json()
    assert [w["images"]["256"] for w in again["works"]] == [w["images"]["256"] for w in body["works"]]
    # Anyone may ask what a space knows; only a breeder makes pictures.
    assert api.post("/api/spaces/emoji/words/", {"phrase": "cat"}, format="json").status_code in (401, 403)
    told = api.get("/api/spaces/emoji/words/?prefix=ca").json()
    assert told["has_words"] is True and "cat" in told["suggestions"] and told["words"] > 1000


def test_a_chinese_phrase_reads_with_or_without_spaces(learnt, as_alice):
    spaced = as_alice.post("/api/spaces/emoji/words/", {"phrase": "猫 笑", "n": 2}, format="json")
    joined = as_alice.post("/api/spaces/emoji/words/", {"phrase": "猫笑", "n": 2}, format="json")
    assert spaced.status_code == joined.status_code == 201, spaced.content
    assert ([w["text"] for w in spaced.json()["reading"]["words"]]
            == [w["text"] for w in joined.json()["reading"]["words"]] == ["猫", "笑"])


def test_unknown_words_are_named_with_the_closest_known_ones(learnt, as_alice):
    some = as_alice.post("/api/spaces/emoji/words/", {"phrase": "cat spaceship", "n": 2}, format="json")
    assert some.status_code == 201, some.content
    reading = some.json()["reading"]
    assert [w["text"] for w in reading["words"]] == ["cat"]
    assert reading["unknown"][0]["text"] == "spaceship" and "space" in reading["unknown"][0]["closest"]
    assert reading["notes"][0].startswith("No pictures taught me “spaceship”; closest: ")
    none = as_alice.post("/api/spaces/emoji/words/", {"phrase": "spaceship", "n": 2}, format="json")
    assert none.status_code == 400
    assert none.json()["error"].startswith("No pictures taught me “spaceship”; closest:")
    assert not Creation.objects.filter(origin=Origin.WORDS).exclude(phrase="cat spaceship").exists()


@pytest.mark.parametrize("phrase, says", [
    ("", "Type a few words"), ("   ", "Type a few words"), ("cat " * 30, "at most 100 characters"),
    ("cat dog red blue hand face flag", "at most 6 words"), ("xqzv", "No pictures taught me “xqzv”."),
])
def test_a_phrase_that_cannot_be_read_gets_a_sentence_and_makes_nothing(learnt, as_alice, phrase, says):
    refused = as_alice.post("/api/spaces/emoji/words/", {"phrase": phrase}, format="json")
    assert refused.status_code == 400, refused.content
    assert says in refused.json()["error"]
    assert not Creation.objects.exists()


def test_malformed_phrase_requests_get_a_field_error(learnt, as_alice):
    for body in ({"phrase": ["cat"]}, {"phrase": "cat", "n": 0}, {"phrase": "cat", "n": "many"}, {}):
        refused = as_alice.post("/api/spaces/emoji/words/", body, format="json")
        assert refused.status_code == 400, (body, refused.content)
    assert as_alice.post("/api/spaces/nowhere/words/", {"phrase": "cat"}, format="json").status_code == 404
    assert not Creation.objects.exists()


def test_works_from_words_stream_their_pictures_with_the_reading(learnt, as_alice):
    from tests.breeding.test_delivery import lines as read_lines

    response = as_alice.post("/api/spaces/emoji/words/?pictures=256", {"phrase": "dog", "n": 2}, format="json")
    assert response.status_code == 201
    lines = read_lines(response)
    assert lines[0]["reading"]["words"][0]["text"] == "dog" and len(lines[0]["works"]) == 2
    assert {line["id"] for line in lines[1:-1]} == {w["id"] for w in lines[0]["works"]}
    assert all("webp" in line for line in lines[1:-1]) and lines[-1] == {"done": True}


# -- genes from words -----------------------------------------------------------------------


def test_a_gene_from_a_word_is_validated_then_offered_like_any_gene(learnt, as_alice, as_bob, api):
    found = {}
    for word in ("flag", "heart", "woman", "hand", "face", "man"):
        answer = as_alice.post("/api/spaces/emoji/genes/words/", {"word": f"more {word}"}, format="json")
        assert answer.status_code in (200, 400), answer.content
        found[word] = answer
    passed = [w for w, a in found.items() if a.status_code == 200]
    refused = [w for w, a in found.items() if a.status_code == 400]
    assert passed, {w: a.json() for w, a in found.items()}
    gene = found[passed[0]].json()
    assert gene["sign"] == 1 and gene["gene"]["source"] == "word" and gene["gene"]["label"] == passed[0]
    listed = as_alice.get("/api/spaces/emoji/genes/").json()
    assert gene["gene"]["slug"] in [g["slug"] for g in listed]
    # In her Genes tab, not in everyone's: Bob's and a visitor's lists have no word genes
    # until Bob adds one himself (the same gene, not checked again).
    for other in (as_bob, api):
        assert all(g["source"] != "word" for g in other.get("/api/spaces/emoji/genes/").json())
    assert as_bob.post("/api/spaces/emoji/genes/words/", {"word": passed[0]}, format="json").status_code == 200
    assert [g["slug"] for g in as_bob.get("/api/spaces/emoji/genes/").json() if g["source"] == "word"] == [
        gene["gene"]["slug"]]
    for word in refused:  # each with its reason
        assert found[word].json()["error"].startswith(f"“{word}” cannot be a gene: ")
    # Asked again ("less"), the same gene, the other way; nothing validated twice.
    less = as_alice.post("/api/spaces/emoji/genes/words/", {"word": f"less {passed[0]}"}, format="json")
    assert less.json()["sign"] == -1 and less.json()["gene"]["slug"] == gene["gene"]["slug"]
    assert Gene.objects.filter(source="word").count() == len(passed)
    # Taken out of Bob's tab, it stays in Alice's; what he never added is not his to remove.
    slug = gene["gene"]["slug"]
    assert api.delete(f"/api/spaces/emoji/genes/words/{slug}/").status_code in (401, 403)
    assert as_bob.delete(f"/api/spaces/emoji/genes/words/{slug}/").status_code == 204
    assert as_bob.delete(f"/api/spaces/emoji/genes/words/{slug}/").status_code == 404
    assert all(g["source"] != "word" for g in as_bob.get("/api/spaces/emoji/genes/").json())
    assert slug in [g["slug"] for g in as_alice.get("/api/spaces/emoji/genes/").json()]
    assert as_bob.post("/api/spaces/emoji/genes/words/", {"word": passed[0]}, format="json").status_code == 200
    # It edits like any gene: a preview moves the picture.
    work = as_alice.post("/api/spaces/emoji/random/", {"n": 1, "seed": 2}, format="json").json()[0]
    edited = as_alice.post(f"/api/creations/{work['id']}/edit/",
                           {"genes": {gene["gene"]["slug"]: 1.5}}, format="json")
    assert edited.status_code == 201, edited.content
    # Gene discovery for the space's version leaves the genes made from words alone.
    from breeding.tasks import discover_genes
    kept = set(Gene.objects.filter(source="word").values_list("slug", flat=True))
    discover_genes(space_slug="emoji", samples=32, held_out=4)
    assert set(Gene.objects.filter(source="word").values_list("slug", flat=True)) == kept


def test_a_gene_request_that_cannot_be_a_gene_gets_a_sentence(learnt, as_alice):
    for word, says in (("", "Type a word"), ("more", "Type a word"), ("more xqzv", "No pictures taught me"),
                       ("red cat", "A gene is one word")):
        refused = as_alice.post("/api/spaces/emoji/genes/words/", {"word": word}, format="json")
        assert refused.status_code == 400 and says in refused.json()["error"], (word, refused.content)
    assert not Gene.objects.filter(source="word").exists()


# -- search by words ------------------------------------------------------------------------


def test_the_gallery_finds_works_near_a_phrase_and_only_those_one_may_list(learnt, alice, bob, api):
    cats, _ = actions.do_words(alice, learnt, "cat", 2, seed=1)
    flags, _ = actions.do_words(alice, learnt, "flag", 2, seed=1)
    hidden, _ = actions.do_words(alice, learnt, "cat", 2, seed=9)
    for w in cats + flags:
        actions.do_update(w, visibility=Visibility.PUBLIC, title="untitled")
    actions.do_update(hidden[0], visibility=Visibility.PRIVATE)
    found = api.get("/api/gallery/words/?space=emoji&q=cat").json()
    ids = [w["id"] for w in found["results"]]
    assert set(ids) == {w.public_id for w in cats + flags}  # nothing hidden, no draft
    assert set(ids[:2]) == {w.public_id for w in cats}  # nearest first, titles aside
    flagged = [w["id"] for w in api.get("/api/gallery/words/?space=emoji&q=flag").json()["results"]]
    assert set(flagged[:2]) == {w.public_id for w in flags}
    assert api.get("/api/gallery/words/?space=emoji&q=xqzv").status_code == 400
    assert api.get("/api/gallery/words/?space=abstract&q=cat").status_code == 400
    assert api.get("/api/gallery/words/?space=nowhere&q=cat").status_code == 400


def test_the_search_by_words_walks_the_spaces_place_index(learnt, alice):
    from django.db import connection, transaction

    from gallery.neighbours import (
        ensure_place_index,
        near_place_ids,
        near_place_query,
        place_index_name,
    )

    ensure_place_index(learnt)
    made, reading = actions.do_words(alice, learnt, "cat", 3, seed=2)
    for w in made:
        actions.do_update(w, visibility=Visibility.PUBLIC)
    point = words.phrase_point(reading)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        plan = near_place_query(learnt, point)[:5].explain()
    assert place_index_name(learnt) in plan, plan
    # The place is the mean row: a work made at the point itself is the nearest.
    at_point = actions._create(alice, learnt, torch.tensor(point)[None, None].expand(1, learnt.layers, -1),
                               Origin.WORDS, 0, phrase="cat")[0]
    actions.do_update(at_point, visibility=Visibility.PUBLIC)
    assert near_place_ids(learnt, point, 2)[0] == at_point.pk
