"""Published works: a picture, a video, a sound or a text an artist made anywhere, shown as
it is, with its statement, techniques, credits, links and licence (``MediaWork``).

Every file is judged by its bytes, never its name: a picture goes through the upload decoder
(``breeding.uploads``) and is re-encoded; a video or a sound is probed and re-encoded by
FFmpeg (``common.transcode``) in a child process with limits on its memory, CPU time and
the files it may write, as a job of the one job machine (``breeding.jobs``: progress,
cancel, retried after a crash); a text is kept as text and shown escaped (a small subset of
Markdown, with no HTML and no links, at most). Anything else is refused with the reason.

Once ready, a published work is a ``Creation`` of origin ``media`` and its medium: the
privacy rule, likes, profiles, exhibitions and removal apply to it as to every work. It has
no space and no latent; its ``latent_sha`` is its media's public id, which names its files
(``images.urls``). Removing it deletes its files.
"""

from __future__ import annotations

import io
import json
import logging
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

from django.conf import settings
from django.core.files import File
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django.utils.html import escape
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from PIL import Image, ImageDraw

from breeding import languages
from breeding.jobs import DECODING, Cancelled, busy, release_connection, store
from breeding.limits import in_words
from breeding.models import (
    Creation,
    Licence,
    MediaWork,
    Medium,
    Origin,
    Parentage,
    Technique,
    Visibility,
)
from breeding.signals import works_made
from breeding.uploads import UploadRefused, decode, read_limited, sniff
from common.errors import Refused
from common.fonts import font_for

log = logging.getLogger(__name__)

TITLE_MAX = 120
STATEMENT_MAX = 4000
TEXT_MAX = 20000
CREDITS_MAX = 1000
LINKS_MAX = 5
TECHNIQUES_MAX = 8
TECHNIQUE_MAX = 40
#: The side of a work's square cover (lists, exhibitions' thumbnails) and the longest side
#: of its large picture (its page, the walk).
COVER_SIDE = 512
LARGE_SIDE = 2048
#: Files a published work's page and lists may ask for, by name: the field each is in.
NAMES = {"cover.webp": "cover", "large.webp": "large", "video.mp4": "file", "sound.m4a": "file",
         "picture.jpg": "file", "picture.png": "file"}
CONTENT_TYPES = {"webp": "image/webp", "mp4": "video/mp4", "m4a": "audio/mp4",
                 "jpg": "image/jpeg", "png": "image/png"}
LICENCE_URLS = {
    Licence.CC_BY: "https://creativecommons.org/licenses/by/4.0/",
    Licence.CC_BY_SA: "https://creativecommons.org/licenses/by-sa/4.0/",
    Licence.CC_BY_NC: "https://creativecommons.org/licenses/by-nc/4.0/",
    Licence.CC_BY_NC_SA: "https://creativecommons.org/licenses/by-nc-sa/4.0/",
    Licence.CC_BY_ND: "https://creativecommons.org/licenses/by-nd/4.0/",
    Licence.CC0: "https://creativecommons.org/publicdomain/zero/1.0/",
}
#: Who a work may be published for (a draft is a bred work nobody kept yet).
PUBLISHABLE = (Visibility.PRIVATE, Visibility.UNLISTED, Visibility.PUBLIC)
LINK = re.compile(r"https?://[^\s<>\"']{1,500}", re.ASCII)
#: What the files of a sniffed kind are called when they are refused.
NOT_MEDIA = {
    "zip": gettext_lazy("a ZIP archive"), "gzip": gettext_lazy("a compressed archive"),
    "pdf": gettext_lazy("a PDF document"), "html": gettext_lazy("a web page"),
    "svg": gettext_lazy("an SVG drawing"), "text": gettext_lazy("a text file"),
}


def max_bytes(kind: str) -> int:
    return (settings.MEDIA_VIDEO_MAX_MB if kind == Medium.VIDEO else settings.MEDIA_SOUND_MAX_MB) * 2**20


def media_max_bytes() -> int:
    """The largest file that may be published (a video's limit or a sound's)."""
    return max(max_bytes(Medium.VIDEO), max_bytes(Medium.SOUND))


def limits_of(kind: str) -> dict:
    """What ``common.transcode`` is told a file of ``kind`` may be."""
    seconds = settings.MEDIA_VIDEO_MAX_S if kind == Medium.VIDEO else settings.MEDIA_SOUND_MAX_S
    return {"max_duration_s": float(seconds)}


# -- refusals ---------------------------------------------------------------------------


def _minutes(seconds: float) -> str:
    return in_words(int(round(seconds)))


def refusal_of(message: dict, kind: str) -> str:
    """A sentence for a refusal of ``common.transcode`` (``{"refusal": code, ...}``)."""
    code = message.get("refusal")
    if code == "too-long":
        return _("This file lasts %(length)s; a %(kind)s may last at most %(most)s.") % {
            "length": _minutes(message["seconds"]), "most": _minutes(message["max_seconds"]),
            "kind": Medium(kind).label.lower()}
    if code == "too-wide":
        return _("This video is %(width)d × %(height)d pixels; a video may be at most "
                 "%(most_w)d × %(most_h)d.") % {
            "width": message["width"], "height": message["height"],
            "most_w": message["max_width"], "most_h": message["max_height"]}
    if code == "too-fast":
        return _("This video has %(fps)d frames a second; Mendel takes at most %(most)d.") % {
            "fps": message["fps"], "most": message["max_fps"]}
    if code == "video-codec":
        return _("This video is encoded as %(codec)s, which Mendel does not read: export it as "
                 "H.264, HEVC, VP9 or AV1.") % {"codec": message["codec"]}
    if code == "audio-codec":
        return _("This sound is encoded as %(codec)s, which Mendel does not read: export it as "
                 "AAC, MP3, Opus, FLAC or WAV.") % {"codec": message["codec"]}
    if code == "not-video":
        return _("This file holds sound but no picture: publish it as a sound.")
    if code == "not-sound":
        return _("This file holds a video: publish it as a video, or export its sound alone.")
    if code == "no-streams":
        return _("This file holds neither a picture track nor a sound track.")
    if code == "no-duration":
        return _("This file does not say how long it lasts, so it cannot be played: export it "
                 "again from the program that made it.")
    if code == "damaged":
        return _("This file is damaged: it stops or goes wrong partway through. Export it again "
                 "from the program that made it.")
    if code in ("too-much-memory", "too-large-output", "crashed", "too-slow"):
        return _("Mendel could not read this file within its limits. Export it again at a "
                 "smaller size, or in H.264 or AAC.")
    if kind == Medium.VIDEO:
        return _("This file is not a video Mendel can read: publish an MP4, MOV, WebM or MKV "
                 "file.")
    return _("This file is not a sound Mendel can read: publish an M4A, MP3, Ogg, Opus, FLAC "
             "or WAV file.")


# -- the child process -------------------------------------------------------------------


def run_child(job: dict, on_progress=None, timeout_s: float = 3600.0) -> dict:
    """Run ``common.transcode`` in a child process with limits (memory, CPU time, file size)
    and give back its last message; ``on_progress(fraction)`` hears of its progress, and
    stops the child by raising (a cancel). A child that dies says ``{"refusal": "crashed"}``."""
    job = {"memory_mb": settings.MEDIA_TRANSCODE_MEMORY_MB,
           "cpu_s": int(max(60, settings.MEDIA_VIDEO_MAX_S * 4)),
           "file_mb": int(settings.MEDIA_VIDEO_MAX_MB * 2 + 64), **job}
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PYTHONPATH": str(settings.BASE_DIR),
           "OMP_NUM_THREADS": "1",
           # few malloc arenas: the address-space limit counts each thread's reserved arena
           "MALLOC_ARENA_MAX": "2"}
    # Its warnings go to a file: a pipe nobody reads until the end would stop a child that
    # writes more than the pipe holds.
    errors = tempfile.TemporaryFile("w+")
    child = subprocess.Popen([sys.executable, "-m", "common.transcode", json.dumps(job)],
                             stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                             stderr=errors, env=env, cwd=str(settings.BASE_DIR),
                             text=True, close_fds=True)
    killer = threading.Timer(timeout_s, child.kill)
    killer.start()
    last: dict = {"refusal": "crashed"}
    try:
        for line in child.stdout:
            try:
                message = json.loads(line)
            except ValueError:
                continue
            if "progress" in message:
                if on_progress is not None:
                    on_progress(float(message["progress"]))
            else:
                last = message
        child.wait()
    except BaseException:
        child.kill()
        child.wait()
        raise
    finally:
        killer.cancel()
        errors.seek(0)
        stderr = errors.read()
        errors.close()
        if child.stdout:
            child.stdout.close()
    if child.returncode != 0 and "result" not in last:
        log.warning("transcoding child ended with %s: %s", child.returncode, stderr[-500:])
        return {"refusal": "too-slow" if child.returncode == -9 else "crashed"}
    return last


# -- pictures Mendel draws for a work --------------------------------------------------


def webp(image: Image.Image, quality: int = 86) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "WEBP", quality=quality, method=4)
    return buffer.getvalue()


def cover_of(image: Image.Image) -> Image.Image:
    """The square cover of a picture: its middle, ``COVER_SIDE`` px."""
    from PIL import ImageOps

    return ImageOps.fit(image.convert("RGB"), (COVER_SIDE, COVER_SIDE), Image.Resampling.LANCZOS)


def large_of(image: Image.Image) -> Image.Image:
    large = image.convert("RGB")
    large.thumbnail((LARGE_SIDE, LARGE_SIDE), Image.Resampling.LANCZOS)
    return large


PAPER = (24, 22, 20)
INK = (236, 235, 232)
ACCENT = (214, 170, 96)
MUTED = (150, 146, 140)


def waveform(peaks: list[float], width: int, height: int) -> Image.Image:
    """A sound drawn as its loudness over time: mirrored bars, warm on near-black."""
    picture = Image.new("RGB", (width, height), PAPER)
    draw = ImageDraw.Draw(picture)
    bars = max(16, width // 6)
    values = [0.0] * bars
    if peaks:
        for i in range(bars):
            start, end = i * len(peaks) // bars, max((i + 1) * len(peaks) // bars, i * len(peaks) // bars + 1)
            values[i] = max(peaks[start:end])
    top = max(values) or 1.0
    middle, step = height / 2, width / bars
    for i, value in enumerate(values):
        h = max(2.0, (value / top) ** 0.8 * height * 0.42)
        x = i * step + step * 0.2
        shade = tuple(int(a + (b - a) * i / bars) for a, b in zip(ACCENT, (180, 120, 150), strict=True))
        draw.rounded_rectangle([x, middle - h, x + step * 0.6, middle + h], radius=step * 0.3, fill=shade)
    return picture


def text_card(title: str, text: str, side: int = COVER_SIDE) -> Image.Image:
    """A text work's cover: its title and first lines set on a dark page."""
    picture = Image.new("RGB", (side, side), PAPER)
    draw = ImageDraw.Draw(picture)
    margin = side // 10
    title_font = font_for(title + text[:200], side // 14, serif=True)
    body_font = font_for(title + text[:200], side // 22, serif=True)
    y = margin
    for line in _wrap(draw, title or "", title_font, side - 2 * margin)[:2]:
        draw.text((margin, y), line, font=title_font, fill=INK)
        y += int(side / 14 * 1.3)
    y += side // 24
    draw.line([margin, y, margin + side // 8, y], fill=ACCENT, width=max(2, side // 200))
    y += side // 20
    line_h = int(side / 22 * 1.55)
    for paragraph in _plain(text).splitlines():
        for line in _wrap(draw, paragraph, body_font, side - 2 * margin) or [""]:
            if y + line_h > side - margin:
                draw.text((margin, y), "…", font=body_font, fill=MUTED)
                return picture
            draw.text((margin, y), line, font=body_font, fill=MUTED)
            y += line_h
    return picture


def _plain(text: str) -> str:
    """A text's words without Markdown's marks, for its cover."""
    return re.sub(r"^\s{0,3}(#{1,6}\s+|>\s?|[-*+]\s+|\d+[.)]\s+)|[*_`]", "", text, flags=re.M)


def _wrap(draw, text: str, font, width: int) -> list[str]:
    """Lines of ``text`` within ``width`` px: by words, or by characters for Chinese."""
    lines, line = [], ""
    tokens = re.findall(r"\S+\s*|\s+", text) if " " in text else list(text)
    for token in tokens:
        if draw.textlength(line + token, font=font) <= width or not line:
            line += token
        else:
            lines.append(line.rstrip())
            line = token.lstrip()
    if line.strip():
        lines.append(line.rstrip())
    return lines


# -- text -------------------------------------------------------------------------------


def _markdown():
    from markdown_it import MarkdownIt

    md = MarkdownIt("zero", {"html": False, "breaks": True, "linkify": False, "typographer": False})
    return md.enable(["emphasis", "heading", "list", "blockquote", "hr", "newline", "escape"])


_MARKDOWN = None


def text_html(text: str, markdown: bool) -> str:
    """A text work set for reading, as HTML that holds none of the writer's: every character
    they wrote is escaped; Markdown's emphasis, headings, lists, quotes and rules are the
    only marks (no links, no pictures, no raw HTML)."""
    global _MARKDOWN
    if not markdown:
        stanzas = re.split(r"\n\s*\n", text.replace("\r\n", "\n").strip())
        return "".join("<p>" + escape(stanza).replace("\n", "<br>") + "</p>" for stanza in stanzas)
    if _MARKDOWN is None:
        _MARKDOWN = _markdown()
    return _MARKDOWN.render(text)


# -- what a request brings --------------------------------------------------------------


def clean_text(value, field: str, most: int, required: bool = False) -> str:
    if value is not None and not isinstance(value, str):
        raise Refused(_("This must be text."), field=field)
    text = str(value or "").replace("\r\n", "\n").strip()
    if "\x00" in text:
        raise Refused(_("Text may not contain NUL characters."), field=field)
    if required and not text:
        raise Refused(_("This field is required."), field=field)
    if len(text) > most:
        raise Refused(ngettext("At most %(most)d character, and this has %(count)d.",
                               "At most %(most)d characters, and this has %(count)d.", most)
                      % {"most": most, "count": len(text)}, field=field)
    return text


def clean_links(value) -> list[dict]:
    """Links as ``[{"url", "label"}]`` from a list or lines of "label url" (http(s) only)."""
    if isinstance(value, str):
        value = [line for line in value.splitlines() if line.strip()]
    if not isinstance(value, list):
        raise Refused(_("Links must be a list."), field="links")
    if len(value) > LINKS_MAX:
        raise Refused(_("At most %(most)d links.") % {"most": LINKS_MAX}, field="links")
    links = []
    for item in value:
        if isinstance(item, dict):
            url, label = str(item.get("url", "")).strip(), str(item.get("label", "")).strip()
        else:
            found = LINK.search(str(item))
            url = found.group(0) if found else str(item).strip()
            label = str(item).replace(url, "").strip(" -–—:|")
        if not LINK.fullmatch(url):
            raise Refused(_("%(link)s is not a web address: links start with https:// or "
                            "http://.") % {"link": repr(url[:80])}, field="links")
        links.append({"url": url, "label": clean_text(label, "links", 80) or url})
    return links


def techniques_of(names) -> list[Technique]:
    """The techniques named, added to the list when new (compared without case)."""
    if isinstance(names, str):
        names = [n for n in re.split(r"[,，、\n]", names)]  # commas of Chinese too
    if names is not None and not isinstance(names, list | tuple):
        raise Refused(_("Techniques must be a list of names."), field="techniques")
    names = [" ".join(str(n).split()) for n in (names or []) if str(n).strip()]
    if len(names) > TECHNIQUES_MAX:
        raise Refused(_("At most %(most)d techniques.") % {"most": TECHNIQUES_MAX}, field="techniques")
    found = []
    for name in names:
        if len(name) > TECHNIQUE_MAX or "\x00" in name:
            raise Refused(_("A technique's name is at most %(most)d characters.")
                          % {"most": TECHNIQUE_MAX}, field="techniques")
        slug = slugify(name, allow_unicode=True) or slugify(name.replace("+", " plus "), allow_unicode=True)
        if not slug:
            raise Refused(_("%(name)s is not a technique's name.") % {"name": repr(name)},
                          field="techniques")
        technique, _created = Technique.objects.get_or_create(slug=slug[:48], defaults={"name": name})
        if technique not in found:
            found.append(technique)
    return found


def made_with_of(user, public_id) -> Creation | None:
    """The bred work a published work was made with: one the artist may see, bred."""
    if not public_id:
        return None
    work = Creation.objects.visible_to(user).filter(public_id=str(public_id)[:16]).first()
    if work is None:
        raise Refused(_("There is no work %(id)s that you can see.") % {"id": repr(str(public_id)[:16])},
                      field="made_with")
    if work.is_media:
        raise Refused(_("A published work can only be made with a work bred in Mendel."),
                      field="made_with")
    return work


def fields_of(user, data) -> dict:
    """What every published work has, checked: a sentence (``Refused``) for what is not."""
    kind = str(data.get("kind") or "")
    if kind not in Medium.values:
        raise Refused(_("Choose what the work is: a picture, a video, a sound or a text."),
                      field="kind")
    licence = str(data.get("licence") or Licence.RESERVED)
    if licence not in Licence.values:
        raise Refused(_("Choose one of the licences offered."), field="licence")
    chosen = str(data.get("visibility") or Visibility.PRIVATE)
    if chosen not in PUBLISHABLE:
        raise Refused(_("A published work is private, unlisted or public."), field="visibility")
    techniques = data.getlist("techniques") if hasattr(data, "getlist") else data.get("techniques")
    if isinstance(techniques, list) and len(techniques) == 1 and isinstance(techniques[0], str):
        techniques = techniques[0]
    return {
        "kind": kind,
        "title": clean_text(data.get("title"), "title", TITLE_MAX, required=True),
        "statement": clean_text(data.get("statement"), "statement", STATEMENT_MAX),
        "credits": clean_text(data.get("credits"), "credits", CREDITS_MAX),
        "links": clean_links(data.get("links") or []),
        "licence": licence,
        "visibility": chosen,
        "made_with": made_with_of(user, data.get("made_with")),
        "techniques": techniques_of(techniques),
    }


def publish(user, data, files) -> MediaWork:
    """Publish what a request brings (``data``: its form or JSON, ``files``: its files):
    a text or a picture is a work at once; a video or a sound is checked, kept and queued
    for transcoding. ``Refused`` with a sentence for anything that is not right."""
    fields = fields_of(user, data)
    kind = fields["kind"]
    if kind == Medium.TEXT:
        text = clean_text(data.get("text"), "text", TEXT_MAX, required=True)
        markdown = str(data.get("markdown", "")).lower() in ("1", "true", "on", "yes")
        return _now(user, fields, {"text": text, "markdown": markdown}, text_card(fields["title"], text))
    file = _one_file(files, kind)
    if kind == Medium.PICTURE:
        return _picture(user, fields, file)
    return _media(user, fields, file)


def _one_file(files, kind: str):
    if hasattr(files, "getlist"):  # a request's files
        sent = files.getlist("file")
    elif isinstance(files, dict):  # {"file": [an UploadedFile]} or {"file": an UploadedFile}
        sent = files.get("file") or []
        sent = sent if isinstance(sent, list | tuple) else [sent]
    else:
        sent = list(files or [])
    found = [f for f in sent if f is not None]
    if not found:
        raise Refused(_("No file was sent: choose the file to publish."), field="file")
    if len(found) > 1:
        raise Refused(_("Publish one file at a time."), field="file")
    return found[0]


def _picture(user, fields: dict, file) -> MediaWork:
    try:
        data = read_limited(file)
        release_connection()
        with DECODING.slot(settings.UPLOAD_DECODE_WAIT_S, busy):
            decoded = decode(data, file.name, getattr(file, "content_type", None))
            cover, large = webp(cover_of(decoded.image)), webp(large_of(decoded.image))
    except UploadRefused as refused:
        raise Refused(refused.message, 413 if refused.code == "too-large" else 400, field="file") from None
    extension = "jpg" if decoded.original_format == "jpeg" else "png"
    return _now(user, fields, {"width": decoded.width, "height": decoded.height,
                               "source_format": decoded.source_format,
                               "source_bytes": len(data)},
                None, files={"file": (f"picture.{extension}", ContentFile(decoded.original)),
                             "cover": ("cover.webp", ContentFile(cover)),
                             "large": ("large.webp", ContentFile(large))})


def _now(user, fields: dict, extra: dict, card: Image.Image | None, files: dict | None = None) -> MediaWork:
    """A text or a picture: its row done and its work made in one transaction."""
    files = dict(files or {})
    if card is not None:
        files["cover"] = ("cover.webp", ContentFile(webp(card)))
        files["large"] = ("large.webp", ContentFile(webp(text_card(fields["title"], extra.get("text", ""), 1024))))
    techniques = fields.pop("techniques")
    with MediaWork.admit(user), transaction.atomic():
        media = MediaWork(owner=user, status=MediaWork.Status.DONE, progress=1.0,
                          started=timezone.now(), finished=timezone.now(), **fields, **extra)
        for name, (filename, content) in files.items():
            getattr(media, name).save(filename, content, save=False)
        media.save()
        media.techniques.set(techniques)
        media.creation = create_work(media)
        media.save(update_fields=["creation"])
    return media


def _media(user, fields: dict, file) -> MediaWork:
    """A video or a sound: refused at once from its first bytes or its header when it can
    be, else kept and queued for transcoding."""
    kind = fields["kind"]
    most = max_bytes(kind)
    size = getattr(file, "size", None)
    if isinstance(size, int) and size > most:
        raise Refused(_("This file is %(size)s MB; a %(kind)s may be at most %(most)s MB.") % {
            "size": f"{size / 2**20:.1f}", "most": most // 2**20, "kind": Medium(kind).label.lower()},
            413, field="file")
    techniques = fields.pop("techniques")
    with MediaWork.admit(user):
        folder = Path(tempfile.mkdtemp(prefix="mendel-media-"))
        try:
            path = folder / "source"
            written = _copy(file, path, most, kind)
            with path.open("rb") as start:
                head = start.read(4096)
            seen = sniff(head)
            if seen in NOT_MEDIA or seen in ("jpeg", "png", "gif", "webp", "bmp", "tiff"):
                raise Refused(_("This file is %(what)s, not a %(kind)s.") % {
                    "what": NOT_MEDIA.get(seen) or _("a picture"), "kind": Medium(kind).label.lower()},
                    field="file")
            release_connection()
            found = run_child({"do": "probe", "path": str(path), "limits": limits_of(kind)}, timeout_s=60)
            if "probe" not in found:
                raise Refused(refusal_of(found, kind), field="file")
            probe = found["probe"]
            if probe["kind"] != kind:
                raise Refused(refusal_of({"refusal": "not-" + kind}, kind), field="file")
            from procrastinate.contrib.django import app

            task = app.configure_task(MediaWork.TASK, allow_unknown=False)
            with path.open("rb") as source:
                media = MediaWork.start(
                    user, lambda media: task.defer(media_id=media.pk),
                    files={"source": ("source", File(source))},
                    source_format=probe["demuxer"][:40], source_bytes=written,
                    duration_s=probe["duration_s"], width=probe.get("width"),
                    height=probe.get("height"), **fields)
            media.techniques.set(techniques)
            return media
        finally:
            shutil.rmtree(folder, ignore_errors=True)


def _copy(file, path: Path, most: int, kind: str) -> int:
    """Write an uploaded file to ``path``, refusing it as soon as it is longer than ``most``."""
    written = 0
    if hasattr(file, "seek"):
        file.seek(0)
    with path.open("wb") as out:
        for chunk in file.chunks() if hasattr(file, "chunks") else iter(lambda: file.read(2**20), b""):
            written += len(chunk)
            if written > most:
                raise Refused(_("This file is larger than %(most)s MB, the most a %(kind)s may be.")
                              % {"most": most // 2**20, "kind": Medium(kind).label.lower()}, 413, field="file")
            out.write(chunk)
    if written == 0:
        raise Refused(_("The file is empty."), field="file")
    return written


# -- the job -----------------------------------------------------------------------------


def run(media_id: int, stop_if_stopping=lambda: None) -> str | None:
    """Transcode one published video or sound and make its work; the work's public id, or
    None when there is nothing to do (done, cancelled, or failed for good)."""
    media = MediaWork.claim(media_id)
    if media is None:
        return None
    progress = media.progress_meter()
    folder = media.scratch()
    source, out = folder / "source", folder / ("video.mp4" if media.kind == Medium.VIDEO else "sound.m4a")
    poster = folder / "poster.png"
    try:
        progress(0.0, force=True)
        with media.source.open("rb") as stored, source.open("wb") as local:
            shutil.copyfileobj(stored, local, 2**20)

        def on_progress(fraction: float) -> None:
            stop_if_stopping()
            progress(0.95 * fraction)

        found = run_child({"do": "transcode", "path": str(source), "out": str(out),
                           "poster": str(poster), "kind": media.kind,
                           "limits": limits_of(media.kind)}, on_progress)
    except Cancelled:
        log.info("media %s: cancelled while transcoding", media.public_id)
        media.clean_scratch()
        return None
    try:
        if "result" not in found:
            media.fail(refusal_of(found, media.kind))
            media.source.delete(save=False)
            media.save(update_fields=["source"])  # the row names no file that is gone
            return None
        return _finish(media, found["result"], out, poster)
    finally:
        media.clean_scratch()


def _finish(media: MediaWork, result: dict, out: Path, poster: Path) -> str | None:
    if media.kind == Medium.VIDEO:
        with Image.open(poster) as still:
            still.load()
            cover, large = webp(cover_of(still)), webp(large_of(still))
    else:
        cover = webp(waveform(result["peaks"], COVER_SIDE, COVER_SIDE))
        large = webp(waveform(result["peaks"], 1600, 400))

    def make(locked: MediaWork) -> list[str] | None:
        if locked.creation_id is not None:
            return None
        with out.open("rb") as f:
            store(locked.file, out.name, File(f))
        store(locked.cover, "cover.webp", ContentFile(cover))
        store(locked.large, "large.webp", ContentFile(large))
        locked.duration_s = result["duration_s"]
        locked.width, locked.height = result.get("width"), result.get("height")
        locked.creation = create_work(locked)
        return ["file", "cover", "large", "duration_s", "width", "height", "creation"]

    done = media.finish(make)
    if done is None:
        return None
    done.source.delete(save=True)  # the file as it came is not kept
    log.info("media %s: transcoded as %s", media.public_id, done.creation.public_id)
    return done.creation.public_id


def create_work(media: MediaWork) -> Creation:
    """The work a published file becomes, with its artist's chosen visibility; a child of
    the bred work it was made with. Call inside the transaction that marks it done."""
    now = timezone.now()
    parent = media.made_with
    work = Creation(
        created=now, owner_id=media.owner_id, space=None, latent=None, latent_sha=media.public_id,
        origin=Origin.MEDIA, medium=media.kind, title=media.title, visibility=media.visibility,
        kept_at=now, depth=(parent.depth + 1) if parent is not None else 0)
    # as every new work: its trending score, and a notice to the artist it was made from
    works_made.send(sender=Creation, works=[work], parents=[parent] if parent is not None else [])
    work.save()
    if parent is not None:
        Parentage.objects.create(child=work, parent=parent)
    return work


# -- reading ------------------------------------------------------------------------------


def files_of(media: MediaWork) -> dict[str, str]:
    """Where a published work's files are served (to whoever may see its work)."""
    base = f"/m/{media.public_id}"
    found = {"cover": f"{base}/cover.webp", "large": f"{base}/large.webp"}
    if media.file:
        found["file"] = f"{base}/{os.path.basename(media.file.name)}"
    return found


def describe(media: MediaWork, viewer) -> dict:
    """What a published work's page and the API say of it besides the work itself."""
    made_with = media.made_with
    if made_with is not None and not made_with.may("listed", viewer):
        made_with = None
    return {
        "kind": media.kind,
        "statement": languages.shown(media.statement),  # the demo's in the reader's language
        "text": media.text if media.kind == Medium.TEXT else None,
        "text_html": text_html(media.text, media.markdown) if media.kind == Medium.TEXT else None,
        "markdown": media.markdown,
        "credits": media.credits,
        "links": media.links,
        "licence": {"code": media.licence, "name": str(Licence(media.licence).label),
                    "url": LICENCE_URLS.get(media.licence)},
        "techniques": [t.name for t in media.techniques.all()],
        "files": files_of(media),
        "duration_s": media.duration_s,
        "width": media.width,
        "height": media.height,
        "made_with": {"id": made_with.public_id, "title": made_with.title} if made_with else None,
    }


def shown_in_exhibitions(creation: Creation) -> dict | None:
    """What an exhibition's walls and sockets need of a published work (anyone may see what
    an exhibition shows, so nothing here depends on who looks): its files, length, a
    text's words set for reading, its statement and techniques."""
    job = MediaWork.objects.filter(creation=creation).first()
    if job is None:
        return None
    return {"kind": job.kind, "files": files_of(job), "duration_s": job.duration_s,
            "width": job.width, "height": job.height,
            "text_html": text_html(job.text, job.markdown) if job.kind == Medium.TEXT else None,
            "statement": job.statement, "techniques": [t.name for t in job.techniques.all()]}


def removed(creation: Creation) -> None:
    """A published work was removed: its files go (the row stays for its history)."""
    media = MediaWork.objects.filter(creation=creation).first()
    if media is not None:
        media.delete_files()
        MediaWork.objects.filter(pk=media.pk).update(file="", cover="", large="", source="")

