"""The demo's second exhibition, "Every Kind": one published work of each kind, made by
Mendel on a fresh site's first start (``frontend.demo_media``), hung once."""

from __future__ import annotations

import io
import wave
from html import unescape

import av
import numpy as np
import pytest

from breeding import actions, media
from breeding.models import (
    Creation,
    Licence,
    MediaWork,
    Medium,
    Origin,
    Parentage,
    Video,
    Visibility,
)
from frontend import demo_media
from frontend.demo import DEMO_EXHIBITION, seed_demo, seed_demo_exhibition
from frontend.demo_media import DEMO_MEDIA_EXHIBITION, WALLS, seed_demo_media
from gallery import exhibitions
from gallery.models import Exhibition, ExhibitionItem

pytestmark = pytest.mark.django_db


def decoded(data: bytes) -> tuple[str, np.ndarray]:
    """A sound file's codec and its samples, (channels, n) floats."""
    with av.open(io.BytesIO(data)) as played:
        stream = played.streams.audio[0]
        assert stream.rate == demo_media.RATE and stream.channels == 2
        codec = stream.codec_context.codec.name
        samples = np.concatenate([f.to_ndarray() for f in played.decode(stream)], axis=1)
    return codec, samples


def counts() -> tuple[int, ...]:
    return (Creation.objects.count(), MediaWork.objects.count(), Video.objects.count(),
            Exhibition.objects.count(), ExhibitionItem.objects.count())


def test_a_fresh_site_hangs_every_kind_once_made_by_mendel(client, monkeypatch):
    actions.sync_spaces()
    seed_demo()
    assert seed_demo_exhibition() is True  # the first demo exhibition is there already

    # A start interrupted at the first film leaves a draft, finished by the next start.
    film = demo_media._film

    def broken(*args, **kwargs):
        raise RuntimeError("the machine went down")

    monkeypatch.setattr(demo_media, "_film", broken)
    assert seed_demo_media() is False
    show = Exhibition.objects.get(slug=DEMO_MEDIA_EXHIBITION)
    assert show.status == "draft" and MediaWork.objects.count() == 3  # two texts, a sound
    monkeypatch.setattr(demo_media, "_film", film)
    assert seed_demo_media() is True

    show.refresh_from_db()
    assert show.status == "open" and show.curators.get().username == "mendel"
    items = list(show.items.select_related("creation").order_by("position"))
    assert [(i.creation.title, i.wall_text) for i in items] == WALLS
    assert all(i.creation.visibility == Visibility.PUBLIC for i in items)
    assert show.cover.title == demo_media.COVER

    published = {m.creation.title: m for m in MediaWork.objects.select_related("creation")}
    assert sorted(m.kind for m in published.values()) == sorted(
        [Medium.TEXT, Medium.TEXT, Medium.SOUND, Medium.VIDEO, Medium.VIDEO,
         Medium.PICTURE, Medium.PICTURE, Medium.PICTURE])
    for job in published.values():  # each once, public, done, with a statement and licence
        assert job.status == "done" and job.creation.origin == Origin.MEDIA
        assert job.creation.visibility == Visibility.PUBLIC and job.statement
        assert (job.licence, job.credits) == (Licence.CC_BY, "Mendel") and job.techniques.exists()
    # The poem and the story are kept as written: the poem plain, the story in Markdown.
    poem, story = published[demo_media.POEM_TITLE], published[demo_media.STORY_TITLE]
    assert (poem.text, poem.markdown) == (demo_media.POEM, False)
    assert (story.text, story.markdown) == (demo_media.STORY, True)
    assert "<h2>February</h2>" in media.text_html(story.text, True)
    assert "<em>Slow River</em>" in media.text_html(story.text, True)
    assert 10 <= len(demo_media.POEM.splitlines()) - demo_media.POEM.count("\n\n") <= 20
    assert 250 <= len(demo_media.STORY.split()) <= 450

    # The films: rendered by Mendel's own video job, published from it with a statement.
    morph, zoom = published[demo_media.MORPH_TITLE], published[demo_media.ZOOM_TITLE]
    assert abs(morph.duration_s - 6.0) < 0.1 and abs(zoom.duration_s - 4.0) < 0.1
    assert (morph.width, morph.height) == (zoom.width, zoom.height) == (256, 256)
    assert Parentage.objects.get(child=morph.creation).parent.title == "Slow River"
    assert Parentage.objects.get(child=zoom.creation).parent.title == "Marbled Night"
    cameras = sorted(v.settings["camera"] for v in Video.objects.filter(status="done"))
    assert cameras == ["none", "zoom-out"]
    # ... whose own works stay in the artist's library: each film hangs in the gallery once.
    assert not Creation.objects.public().filter(origin=Origin.VIDEO).exists()

    # The pictures: bred works drawn again at 1024 px, each a child of its bred work.
    for title, _statement, _space, source, _camera, _techniques in demo_media.PICTURES:
        picture = published[title]
        assert (picture.width, picture.height) == (1024, 1024)
        assert Parentage.objects.get(child=picture.creation).parent.title == source

    # The sound: AAC, as long as the piece, loud enough but not clipped, with no clicks.
    sound = published[demo_media.SOUND_TITLE]
    with sound.file.open("rb") as f:
        codec, samples = decoded(f.read())
    seconds = demo_media.sound_samples().shape[1] / demo_media.RATE
    assert codec == "aac" and 30 <= seconds <= 45
    assert abs(samples.shape[1] / demo_media.RATE - seconds) < 0.1
    assert abs(sound.duration_s - seconds) < 0.1
    peak, rms = np.abs(samples).max(), np.sqrt((samples ** 2).mean())
    assert 0.6 < peak < 0.8 and 0.05 < rms < 0.25, (peak, rms)  # about -3 dBFS at the peak
    assert np.abs(np.diff(samples, axis=1)).max() < 0.15  # no step: no click
    halves = np.sqrt((samples[:, : samples.shape[1] // 2] ** 2).mean(axis=1))
    assert (halves > 0.05).all()  # both channels sound

    # What visitors are shown: the manifest and the page list every work.
    shown = exhibitions.manifest(show)
    assert [i["work"]["title"] for i in shown["items"]] == [t for t, _ in WALLS]
    kinds = {i["work"]["title"]: (i["work"]["medium"], i["work"]["media"]) for i in shown["items"]}
    assert kinds[demo_media.SOUND_TITLE][0] == Medium.SOUND
    assert kinds[demo_media.SOUND_TITLE][1]["files"]["file"].endswith("/sound.m4a")
    assert kinds[demo_media.MORPH_TITLE][1]["statement"] == demo_media.MORPH_STATEMENT
    assert kinds["Lichen"] == (Medium.PICTURE, None)  # a bred work
    page = unescape(client.get(f"/exhibitions/{DEMO_MEDIA_EXHIBITION}/").content.decode())
    assert demo_media.EXHIBITION_TITLE in page
    assert all(title in page for title, _ in WALLS)
    assert client.get(media.files_of(sound)["file"]).status_code == 200  # anyone may hear it

    # Never twice: not on the next start, nor after the exhibition was taken down.
    before = counts()
    assert seed_demo_media() is False
    assert counts() == before
    assert Exhibition.objects.get(slug=DEMO_EXHIBITION).items.count() == 10  # left as it was
    show.delete()
    assert seed_demo_media() is False
    assert not Exhibition.objects.filter(slug=DEMO_MEDIA_EXHIBITION).exists()


def test_it_waits_for_the_demo_works(db):
    assert seed_demo_media() is False
    assert not Exhibition.objects.exists() and not MediaWork.objects.exists()


def test_a_curators_exhibition_of_the_same_name_is_left_alone(alice):
    actions.sync_spaces()
    seed_demo()
    theirs = exhibitions.do_create(alice, "Every Kind", "Mine.")
    assert theirs.slug == DEMO_MEDIA_EXHIBITION
    assert seed_demo_media() is False
    theirs.refresh_from_db()
    assert (theirs.status, theirs.statement, theirs.items.count()) == ("draft", "Mine.", 0)
    assert not MediaWork.objects.exists()


def test_the_sound_is_the_same_piece_every_time_and_a_plain_wav():
    data = demo_media.sound_piece()
    assert demo_media.sound_piece() == data
    with wave.open(io.BytesIO(data)) as played:
        assert (played.getnchannels(), played.getsampwidth(), played.getframerate()) == (2, 2, 48000)
        pcm = np.frombuffer(played.readframes(played.getnframes()), "<i2").reshape(-1, 2) / 32768
    assert 30 <= pcm.shape[0] / 48000 <= 45
    assert abs(np.abs(pcm).max() - 10 ** (-3 / 20)) < 0.002  # normalised to -3 dBFS
    assert np.abs(pcm[:48]).max() < 0.01 and np.abs(pcm[-48:]).max() < 0.01  # fades in and out
    assert np.abs(np.diff(pcm, axis=0)).max() < 0.1
    correlation = np.corrcoef(pcm.T)[0, 1]
    assert 0.3 < correlation < 0.95  # stereo, but not two unrelated channels


def test_the_phrases_are_bred_each_a_new_one():
    line = demo_media.generations(np.random.default_rng(demo_media.SOUND_SEED))
    assert line[0] == list(demo_media.PARENT) and len(line) == 6
    assert len({tuple(p) for p in line}) == 6  # no phrase heard twice
    for parent, child in zip(line[:3], line[1:4], strict=True):
        assert sum(a != b for a, b in zip(parent, child, strict=True)) in (1, 2)
    assert [d for d, _ in line[4]] == [d for d, _ in line[0]]  # the cross: the first's notes ...
    assert [b for _, b in line[4]] == [b for _, b in line[3]]  # ... in the fourth's rhythm
    assert line[-1][-1][0] == 0  # home to D
