"""The demo's second exhibition, "Every Kind": one work of each kind Mendel shows, hung
with a few of the demo's bred works, on a fresh site's first start.

Everything in it may be shipped with Mendel, because Mendel makes it here, on the first
start, from nothing but its own code: a poem and a story written for it (below), a sound
synthesised in numpy (``sound_piece``), a morph film and a camera move rendered by its own
video job (``breeding.videos``) and three pictures drawn by its spaces at 1024 px. Each is
published as the demo artist's work (``breeding.media.publish``, and its job run at once
for the sound and the films), public, CC BY 4.0, with a statement saying how it was made.

Its words follow ``frontend.demo``: titles, statements and wall texts are kept in English
and marked for the catalogue under ``breeding.languages.DEMO`` (``pgettext_noop``), so a
reader sees them in their language where they are shown. The poem's and the story's own
words are not marked: a work of art is shown as it was written.

Hung once (``seed_demo_media``): the exhibition is made first, as a draft, and opened when
every work hangs in it; a start that was interrupted finishes it (works already made are
found by their titles, not made again); one that finds it open, closed, or taken down (no
exhibition but the demo artist's published works) does nothing.
"""

from __future__ import annotations

import io
import logging
import wave

import numpy as np
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.datastructures import MultiValueDict

from breeding import images, media, videos
from breeding.models import Creation, Licence, MediaWork, Medium, Origin, Space, Visibility
from common.errors import Refused
from frontend.demo import DEMO_USER, pgettext_noop

log = logging.getLogger(__name__)

DEMO_MEDIA_EXHIBITION = "every-kind"
EXHIBITION_TITLE = pgettext_noop("demo content", "Every Kind")
EXHIBITION_STATEMENT = pgettext_noop(
    "demo content",
    "Mendel began as a gallery of pictures that breed. It now hangs other kinds of work "
    "beside them: pictures, films, sounds and texts, made in Mendel or anywhere else. This "
    "room has one of each, all made by Mendel itself or written for it, so that they may be "
    "shown wherever Mendel is; every label says how the work was made.\n\n"
    "Walk through, listen, read. The bred works hanging between them can still be opened in "
    "the studio and given children."
)
CREDITS = "Mendel"

# -- the texts ---------------------------------------------------------------------------

POEM_TITLE = pgettext_noop("demo content", "After Hours")
#: Written for Mendel; shown as written (not marked for translation).
POEM = """\
The guard walks through at ten and counts the frames.
Each one is where it was. None of them is still.

A picture here is an address, not a thing:
five hundred and twelve numbers that say
where in the dark to stand and look.

Somebody stood at this one in the afternoon
and asked for children. Eight came, close kin,
the same blue weather, one with a warmer sky.
She kept that one. The rest went back to being possible.

Nothing is lost in a place like this.
Every picture no one asked for is waiting
exactly where it always was, between two others,
the way a pitch waits between two piano keys.

At midnight the lights go down to their lowest setting.
The walls keep their colours to themselves.
Somewhere in the numbers a child not yet made
already has its mother's edges."""
POEM_STATEMENT = pgettext_noop(
    "demo content",
    "A poem written for Mendel's demo exhibition, to be read in this room: seventeen lines "
    "in five stanzas on what a gallery of bred pictures holds after closing. Every picture "
    "in the abstract space is an address of 512 numbers; the poem takes that literally."
)

STORY_TITLE = pgettext_noop("demo content", "Neighbour")
#: Written for Mendel; a little Markdown (headings, emphasis); shown as written.
STORY = """\
## February

Ines found the picture on a night when she could not sleep and the gallery was the only \
window lit on her street. It was called *Slow River*, and it was not much: a few streaks of \
green running down through blue-grey, the kind of thing you pass without noticing in a \
hotel corridor. She opened it anyway and asked for children.

Eight came. They were all *Slow River*, and none of them was. In one the green had \
thickened into moss. In one the grey had warmed until it was almost the colour of bread. \
She kept that one and asked again.

## March

By March she had stopped thinking of it as making pictures. It was more like walking. \
Each child stood a small step from its parent, and from any picture there were more steps \
than she could ever take, in more directions than a map has. She learned that *chaos* was \
the length of the stride. Low, and she shuffled; high, and she woke somewhere strange, with \
only the palette to tell her where she had come from.

Her brother asked what she was looking for. She said she did not know, which was true, and \
that she would know it when she saw it, which was not. She had already passed several \
things she would have accepted a month before. The standard kept moving with her.

## April

In April she opened the family tree. Forty-one generations ran down the screen in a thread \
of thumbnails, grey to green to bread to rust to a blue she had no name for, and at the \
bottom, small and unremarkable, the picture she had found in February. She had thought she \
was walking away from it. Seen from here, she had only been drawing it out, one picture at \
a time, the way a river draws out its bed.

She made a film of the line, sixteen pictures along it at two seconds a step. It ran half \
a minute. She watched it twice and then, because it was late and the street was dark \
again, she crossed the last picture with the first.

The child was quiet: green and grey, with a thread of rust through it. *Slow River* might \
have had a daughter like that, she thought, if it had grown up somewhere warmer. She \
called it *Neighbour*, made it public, and went to bed."""
STORY_STATEMENT = pgettext_noop(
    "demo content",
    "A short story written for Mendel's demo exhibition, set in a gallery like this one. "
    "Everything Ines does can be done here: children at a chosen chaos, the family tree, a "
    "morph film of sixteen works at two seconds a step, a cross. Slow River hangs in this "
    "room, just before the story."
)

# -- the sound ---------------------------------------------------------------------------

SOUND_TITLE = pgettext_noop("demo content", "Inheritance")
SOUND_STATEMENT = pgettext_noop(
    "demo content",
    "Synthesised by Mendel in numpy on the first start of this site: no recording, no "
    "sample. A five-note phrase in D, tuned in just intonation to a pentatonic scale (1, "
    "9/8, 5/4, 3/2, 5/3), is bred as Mendel breeds pictures: each of the next three phrases "
    "is a child of the one before, with one note moved or two lengths swapped; the fifth "
    "crosses the first phrase's notes with the fourth's rhythm; the last comes home to D. "
    "The bells are FM tones whose brightness fades as they ring, placed left or right by "
    "their pitch; a low note sounds under each phrase, a quiet drone of D and A breathes "
    "beneath it all, and a feedback-delay reverb (eight damped combs, four all-passes) "
    "gives them a room. About 36 seconds, stereo, 48 kHz, from a fixed seed: every Mendel "
    "makes the same piece."
)
RATE = 48000
ROOT_HZ = 146.8324  # D3
SCALE = (1.0, 9 / 8, 5 / 4, 3 / 2, 5 / 3)  # just major pentatonic
BEAT_S = 0.6
#: The parent phrase: (scale degree from D4, length in beats).
PARENT = ((3, 1.0), (5, 1.0), (4, 1.5), (2, 0.5), (3, 2.0))
SOUND_SEED = 2026
PEAK_DBFS = -3.0
#: Freeverb's tunings (at 44.1 kHz), scaled to the rate.
COMBS = (1116, 1188, 1277, 1356, 1422, 1491, 1557, 1617)
ALLPASSES = (556, 441, 341, 225)


def _pitch(degree: int) -> float:
    octave, step = divmod(degree, len(SCALE))
    return ROOT_HZ * SCALE[step] * 2.0 ** octave


def _ramp(n: int) -> np.ndarray:
    """0 to 1 over ``n`` samples, a raised cosine: no corner, so no click."""
    return 0.5 - 0.5 * np.cos(np.pi * np.arange(n) / n)


def _bell(hz: float, seconds: float, level: float) -> np.ndarray:
    """An FM bell: a carrier modulated at twice its frequency, the index (its brightness)
    falling from 1.1 to 0.12 as it rings, a faint glassy partial near the third harmonic."""
    n = int(seconds * RATE)
    t = np.arange(n) / RATE
    index = 0.12 + np.exp(-t / 0.3)
    tone = np.sin(2 * np.pi * hz * t + index * np.sin(2 * np.pi * 2 * hz * t))
    tone += 0.18 * np.sin(2 * np.pi * 3.01 * hz * t) * np.exp(-t / 0.45)
    env = np.exp(-t / 1.4)
    attack, release = int(0.012 * RATE), int(0.5 * RATE)
    env[:attack] *= _ramp(attack)
    env[-release:] *= _ramp(release)[::-1]
    return level * tone * env


def _low(hz: float, seconds: float, level: float) -> np.ndarray:
    """A soft low note: three harmonics, a slow attack, a long decay."""
    n = int(seconds * RATE)
    t = np.arange(n) / RATE
    tone = sum(a * np.sin(2 * np.pi * k * hz * t) for k, a in ((1, 1.0), (2, 0.3), (3, 0.1)))
    env = np.exp(-t / 2.5)
    attack, release = int(0.35 * RATE), int(1.0 * RATE)
    env[:attack] *= _ramp(attack)
    env[-release:] *= _ramp(release)[::-1]
    return level * tone * env


def _drone(n: int, level: float) -> np.ndarray:
    """D2, A2 and D3, each a voice in the middle and two detuned a fifth of a hertz either
    way, leaning left and right (they beat slowly), breathing every eleven seconds."""
    t = np.arange(n) / RATE
    out = np.zeros((2, n))
    for degree, amp in ((-5, 1.0), (-2, 0.6), (0, 0.35)):
        for detune, left, right in ((0.0, 0.7, 0.7), (0.2, 0.45, 0.15), (-0.2, 0.15, 0.45)):
            phase = 2 * np.pi * (_pitch(degree) + detune) * t
            first, cos = np.sin(phase), np.cos(phase)
            # The second and third harmonics from the first: sin 2x = 2 sin x cos x,
            # sin 3x = sin x (3 - 4 sin² x); a third of the work of three sines.
            tone = amp * first * (1 + cos / 2 + (3 - 4 * first * first) / 9)
            out[0] += left * tone
            out[1] += right * tone
    breath = 0.75 + 0.25 * np.sin(2 * np.pi * t / 11.0 - np.pi / 2)
    swell = int(3.0 * RATE)
    breath[:swell] *= _ramp(swell)
    return level * out * breath


def _pan(x: np.ndarray, where: float) -> np.ndarray:
    """Equal-power panning, ``where`` from -1 (left) to 1 (right)."""
    angle = (where + 1) * np.pi / 4
    return np.stack([x * np.cos(angle), x * np.sin(angle)])


def _blocks(x: np.ndarray, delay: int) -> np.ndarray:
    padded = np.zeros(-(-x.shape[0] // delay) * delay)
    padded[: x.shape[0]] = x
    return padded.reshape(-1, delay)


def _comb(x: np.ndarray, delay: int, feedback: float, damp: float) -> np.ndarray:
    """A comb filter whose feedback passes a gentle two-tap lowpass (``damp`` of each sample
    is the one before it: highs die sooner, as in a room), computed a block of ``delay``
    samples at a time: each block needs only the one before it, and that one's neighbour."""
    blocks = _blocks(x, delay)
    out = np.zeros_like(blocks)
    previous, last = np.zeros(delay), 0.0
    for k, block in enumerate(blocks):
        out[k] = previous
        damped = (1 - damp) * previous
        damped[0] += damp * last
        damped[1:] += damp * previous[:-1]
        last = previous[-1]
        previous = block + feedback * damped
    return out.reshape(-1)[: x.shape[0]]


def _allpass(x: np.ndarray, delay: int, gain: float = 0.5) -> np.ndarray:
    blocks = _blocks(x, delay)
    out = np.zeros_like(blocks)
    previous = np.zeros(delay)
    for k, block in enumerate(blocks):
        out[k] = previous - block
        previous = block + gain * previous
    return out.reshape(-1)[: x.shape[0]]


def _reverb(x: np.ndarray, spread: int, room: float = 0.89, damp: float = 0.3) -> np.ndarray:
    scale = RATE / 44100
    wet = sum(_comb(x, int((d + spread) * scale), room, damp) for d in COMBS) / len(COMBS)
    for d in ALLPASSES:
        wet = _allpass(wet, int((d + spread) * scale))
    return wet


def generations(rng: np.random.Generator) -> list[list[tuple[int, float]]]:
    """The phrases, bred: the parent; three generations, each its parent with one note
    moved by one or two degrees or two neighbours' lengths swapped (never a phrase heard
    already, never the first note); a cross (the first's notes in the fourth's rhythm);
    the parent's opening again, coming home to D."""
    line = [list(PARENT)]
    while len(line) < 4:
        child = list(line[-1])
        i = int(rng.integers(1, len(child)))
        degree, beats = child[i]
        if rng.random() < 0.75:
            child[i] = (int(np.clip(degree + rng.choice([-2, -1, 1, 2]), 1, 7)), beats)
        else:
            j = i - 1 if i == len(child) - 1 else i + 1
            child[i], child[j] = (child[i][0], child[j][1]), (child[j][0], child[i][1])
        if child not in line:
            line.append(child)
    cross = [(d, b) for (d, _), (_, b) in zip(line[0], line[-1], strict=True)]
    if cross in line:
        cross = [(d, b) for (d, _), (_, b) in zip(line[-1], line[0], strict=True)]
    line.append(cross)
    line.append([*PARENT[:3], (1, 0.5), (0, 3.0)])
    return line


def sound_samples(seed: int = SOUND_SEED) -> np.ndarray:
    """The piece as float samples, (2, n) at ``RATE``, its peak at ``PEAK_DBFS``."""
    rng = np.random.default_rng(seed)
    line = generations(rng)
    start, rest, tail = 1.5, 1.2, 5.0
    seconds = start + sum(sum(b for _, b in p) * BEAT_S + rest for p in line) + tail
    n = int(seconds * RATE)
    mix = _drone(n, 0.05)
    t = start
    for g, phrase in enumerate(line):
        ground = _low(_pitch(-5 if g % 2 == 0 else -3), 5.0, 0.16)  # D2, F#2 in turn
        a = int(t * RATE)
        mix[:, a:a + ground.shape[0]] += _pan(ground[: n - a], 0.0)
        for k, (degree, beats) in enumerate(phrase):
            note = _bell(_pitch(degree + 5), 4.0, 0.3 if k == 0 else 0.22 + 0.04 * rng.random())
            where = float(np.clip((degree - 3.5) / 4 + rng.normal(0, 0.1), -0.75, 0.75))
            a = int(t * RATE)
            m = min(note.shape[0], n - a)
            mix[:, a:a + m] += _pan(note[:m], where)
            t += beats * BEAT_S
        t += rest
    left, right = _reverb(mix[0], 0), _reverb(mix[1], 23)
    wet = np.stack([0.8 * left + 0.2 * right, 0.8 * right + 0.2 * left])
    out = 0.85 * mix + 0.16 * wet
    fade_in, fade_out = int(0.02 * RATE), int(4.0 * RATE)
    out[:, :fade_in] *= _ramp(fade_in)
    out[:, -fade_out:] *= _ramp(fade_out)[::-1]
    return out * (10 ** (PEAK_DBFS / 20) / np.abs(out).max())


def sound_piece(seed: int = SOUND_SEED) -> bytes:
    """The piece as a WAV file: 16-bit PCM, stereo, 48 kHz."""
    pcm = np.round(sound_samples(seed).T * 32767).astype("<i2")
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(2)
        out.setsampwidth(2)
        out.setframerate(RATE)
        out.writeframes(pcm.tobytes())
    return buffer.getvalue()


# -- the films -----------------------------------------------------------------------------

MORPH_TITLE = pgettext_noop("demo content", "Passage")
MORPH_KEYFRAMES = ("Slow River", "Kelp Forest", "Glacier Milk")
MORPH_PLAN = videos.Plan(seconds_per_step=2.0, fps=24, size=256, loop=True,
                         easing="ease-in-out", even_speed=True)
MORPH_STATEMENT = pgettext_noop(
    "demo content",
    "A morph film made by Mendel's video tool from three bred works of the abstract space, "
    "Slow River, Kelp Forest and Glacier Milk, and back to the first: the film travels "
    "through the space from each to the next, eased in and out of each and paced so that "
    "the picture changes at an even speed. Every frame is a picture "
    "in its own right, one nobody bred, lying between pictures somebody did. Six seconds "
    "at 256 pixels and 24 frames a second, a loop."
)

ZOOM_TITLE = pgettext_noop("demo content", "Marbled Night, Receding")
ZOOM_WORK = "Marbled Night"
ZOOM_PLAN = videos.Plan(duration=4.0, fps=24, size=256, camera="zoom-out", zoom=2.0,
                        easing="ease-in-out")
ZOOM_STATEMENT = pgettext_noop(
    "demo content",
    "A camera move made by Mendel's video tool over one bred work, Marbled Night. The "
    "abstract space paints a function of position, so its pictures have no edges: the "
    "camera pulls back until it sees twice as far, and everything that comes into view was "
    "always there. Four seconds at 256 pixels and 24 frames a second."
)

# -- the pictures --------------------------------------------------------------------------

PICTURE_SIDE = 1024
#: (title, statement, space, bred work, camera (zoom, x, y) or None, techniques)
PICTURES = [
    (pgettext_noop("demo content", "Lichen, Up Close"),
     pgettext_noop("demo content",
                   "Lichen, drawn again by Mendel at 1024 pixels through a camera two and a "
                   "half times closer, a little off its centre. The abstract space paints "
                   "every pixel from its position, so a detail is drawn, not enlarged: the "
                   "finest lines are as sharp as in the whole picture."),
     "abstract", "Lichen", (0.4, 0.35, -0.25), ["Mendel", "CPPN", "Camera"]),
    (pgettext_noop("demo content", "Beyond Opaline"),
     pgettext_noop("demo content",
                   "Opaline, drawn by Mendel at 1024 pixels through a camera that sees twice "
                   "as far as the picture's own frame: the bred work is the middle quarter of "
                   "this one, and the rest is what the same network paints around it."),
     "abstract", "Opaline", (2.0, 0.0, 0.0), ["Mendel", "CPPN", "Camera"]),
    (pgettext_noop("demo content", "Heron, Full Size"),
     pgettext_noop("demo content",
                   "Heron, a bred work of the figures space, drawn again by Mendel at 1024 "
                   "pixels. Like the abstract space, the figures space paints each pixel "
                   "from its position, so a large print is drawn, not enlarged: the edge "
                   "keeps its own sharpness."),
     "figures", "Heron", None, ["Mendel", "CPPN"]),
]

# -- the walls -----------------------------------------------------------------------------

#: The exhibition in the order it hangs: a work's title (a published work of the demo
#: artist, made below, or one of its bred works) and its wall text.
WALLS = [
    (POEM_TITLE, pgettext_noop("demo content", "Begin with words. This room holds one work of "
                                               "every kind Mendel now shows, each made by "
                                               "Mendel or written for it.")),
    ("Lichen", pgettext_noop("demo content", "A bred work from the first room, and the parent "
                                             "of the next. There are more lines in it than you "
                                             "can count from here.")),
    ("Lichen, Up Close", pgettext_noop("demo content", "The same picture, from much nearer. "
                                                       "Nothing was enlarged: the network drew "
                                                       "the detail afresh.")),
    ("Marbled Night", pgettext_noop("demo content", "Another bred work, hung for the film that "
                                                    "follows it.")),
    (ZOOM_TITLE, pgettext_noop("demo content", "Watch the edges. The picture never had any: "
                                               "its frame was only where the camera stopped.")),
    (MORPH_TITLE, pgettext_noop("demo content", "A film is a line through the space. Each "
                                                "frame lies between two works someone kept.")),
    (SOUND_TITLE, pgettext_noop("demo content", "Close your eyes for this one. A phrase has "
                                                "children, each changes one thing, and the "
                                                "last comes home.")),
    ("Beyond Opaline", pgettext_noop("demo content", "The bred picture is the middle quarter. "
                                                     "The rest was waiting outside its frame.")),
    ("Heron, Full Size", pgettext_noop("demo content", "From the figures space: a shape with an "
                                                       "edge, on a ground of its own, drawn "
                                                       "large.")),
    ("Slow River", pgettext_noop("demo content", "The picture a story begins with. Read on, "
                                                 "then come back and look again.")),
    (STORY_TITLE, pgettext_noop("demo content", "A story about a gallery like this one. "
                                                "Afterwards, the studio is open.")),
]
#: The work whose picture is the exhibition's cover.
COVER = "Beyond Opaline"


# -- making it -----------------------------------------------------------------------------


def _common(title: str, statement: str, techniques: list[str], **more) -> dict:
    return {"title": title, "statement": statement, "techniques": techniques,
            "credits": CREDITS, "licence": Licence.CC_BY, "visibility": Visibility.PUBLIC,
            "links": [], **more}


def _published(user, data: dict, file: tuple[str, bytes] | None = None) -> Creation:
    """Publish one work as the demo artist; a sound or a film is transcoded here and now."""
    files = MultiValueDict({"file": [SimpleUploadedFile(file[0], file[1])]} if file else {})
    job = media.publish(user, data, files)
    if job.creation_id is None:
        media.run(job.pk)
        job.refresh_from_db()
    if job.creation_id is None:
        raise RuntimeError(f"the demo's {data['kind']} {data['title']!r} could not be made: "
                           f"{job.error or job.status}")
    return job.creation


def _film(user, space: Space, keyframes: list[Creation], plan: videos.Plan, title: str) -> bytes:
    """A film rendered by Mendel's video job as the demo artist: its MP4's bytes. (The
    video's own work stays private in the artist's library: what hangs is the film
    published from it, with its statement and licence.)"""
    video = videos.do_video(user, space, keyframes, plan, title=title)
    if videos.run(video.pk) is None:
        video.refresh_from_db()
        raise RuntimeError(f"the demo's film {title!r} could not be made: {video.error or video.status}")
    video.refresh_from_db()
    with video.mp4.open("rb") as f:
        return f.read()


def _picture(space: Space, work: Creation, camera) -> bytes:
    """A bred work drawn again at ``PICTURE_SIDE`` px (through a camera for a view), PNG."""
    from PIL import Image

    generator = images.rendering_space(space.generator())
    latent = work.tensor()[None]
    if camera is None:
        pixels = generator.render(latent, PICTURE_SIDE)
    else:
        zoom, x, y = camera
        pixels = generator.render_view(latent, PICTURE_SIDE, zoom=zoom, centre=(x, y))
    buffer = io.BytesIO()
    Image.fromarray(np.asarray(pixels[0], dtype=np.uint8)).save(buffer, "PNG")
    return buffer.getvalue()


def _makers(user, bred: dict[str, Creation]) -> dict:
    """How each published work is made, by title: a function of nothing, giving its work."""
    makers = {
        POEM_TITLE: lambda: _published(user, _common(
            POEM_TITLE, POEM_STATEMENT, ["Writing", "Poetry"], kind=Medium.TEXT, text=POEM,
            markdown=False)),
        STORY_TITLE: lambda: _published(user, _common(
            STORY_TITLE, STORY_STATEMENT, ["Writing", "Short story"], kind=Medium.TEXT,
            text=STORY, markdown=True)),
        SOUND_TITLE: lambda: _published(user, _common(
            SOUND_TITLE, SOUND_STATEMENT, ["Mendel", "Synthesis", "FM", "Just intonation"],
            kind=Medium.SOUND), ("inheritance.wav", sound_piece())),
    }
    keys = [bred[t] for t in MORPH_KEYFRAMES if t in bred]
    if len(keys) == len(MORPH_KEYFRAMES):
        makers[MORPH_TITLE] = lambda: _published(user, _common(
            MORPH_TITLE, MORPH_STATEMENT, ["Mendel", "CPPN", "Morph"], kind=Medium.VIDEO,
            made_with=keys[0].public_id),
            ("passage.mp4", _film(user, keys[0].space, keys, MORPH_PLAN, MORPH_TITLE)))
    if ZOOM_WORK in bred:
        key = bred[ZOOM_WORK]
        makers[ZOOM_TITLE] = lambda: _published(user, _common(
            ZOOM_TITLE, ZOOM_STATEMENT, ["Mendel", "CPPN", "Camera move"], kind=Medium.VIDEO,
            made_with=key.public_id),
            ("receding.mp4", _film(user, key.space, [key], ZOOM_PLAN, ZOOM_TITLE)))
    for title, statement, space, source, camera, techniques in PICTURES:
        work = bred.get(source)
        if work is None or work.space.slug != space:
            continue
        makers[title] = (lambda title=title, statement=statement, work=work, camera=camera,
                         techniques=techniques: _published(user, _common(
                             title, statement, techniques, kind=Medium.PICTURE,
                             made_with=work.public_id),
                             (f"{work.public_id}.png", _picture(work.space, work, camera))))
    return makers


def seed_demo_media(stdout=None) -> bool:
    """Hang "Every Kind" once, on a site with the demo artist's bred works (``seed_demo``):
    make its published works and open it. False when there is nothing to do."""
    from gallery import exhibitions
    from gallery.models import Exhibition, ExhibitionStatus

    user = get_user_model().objects.filter(username=DEMO_USER).first()
    if user is None:
        return False
    show = Exhibition.objects.filter(slug=DEMO_MEDIA_EXHIBITION).first()
    if show is not None and (show.status != ExhibitionStatus.DRAFT
                             or not show.curators.filter(pk=user.pk).exists()):
        return False  # hung already (or a curator of this site took the name first)
    if show is None and MediaWork.objects.filter(owner=user).exists():
        return False  # hung once, and taken down since
    bred = {c.title: c for c in Creation.objects.public().filter(owner=user)
            .exclude(origin__in=(Origin.MEDIA, Origin.VIDEO)).select_related("space")}
    if not bred:
        return False
    if show is None:
        with transaction.atomic():
            show = exhibitions.do_create(user, EXHIBITION_TITLE, EXHIBITION_STATEMENT,
                                         opens_at=timezone.now())
            show.slug = DEMO_MEDIA_EXHIBITION
            show.save(update_fields=["slug"])
    made = {c.title: c for c in Creation.objects.public().filter(owner=user, origin=Origin.MEDIA)}
    try:
        for title, make in _makers(user, bred).items():
            if title not in made:
                made[title] = make()
    except (Refused, RuntimeError) as failed:  # finished on the next start
        log.warning("The demo exhibition %r is not finished: %s", DEMO_MEDIA_EXHIBITION, failed)
        return False
    works = {**bred, **made}
    hung = [(works[title], wall) for title, wall in WALLS if title in works]
    with transaction.atomic():
        show = Exhibition.objects.select_for_update().get(pk=show.pk)
        if show.status != ExhibitionStatus.DRAFT:
            return False
        there = set(show.items.values_list("creation_id", flat=True))
        for work, wall in hung:
            if work.pk not in there:
                exhibitions.do_add(show, work.public_id, wall)
        cover = works.get(COVER) or hung[0][0]
        exhibitions.do_update(show, cover=cover.public_id, status=ExhibitionStatus.OPEN)
    if stdout:
        stdout.write(f"Opened the demo exhibition “{EXHIBITION_TITLE}” with {len(hung)} works.")
    return True
