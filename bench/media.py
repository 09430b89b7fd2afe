"""Published works on this machine: a film and a sound transcoded as the job does it, the
transcoding child's peak memory, and the weight of a published film's page at first load.

    .venv/bin/python bench/media.py [--json] [--seconds 60] [--sound-seconds 180]
                                    [--database mendel_bench_media] [--keep]

The sources are made here, never downloaded (and kept in the system's temporary folder,
``mendel-bench-media/``, for the next run): a 60 s film at 1920 x 1080 and 30 fps, H.264
High at 16 Mbit/s with AAC sound, as a phone or an editor exports it (a moving gradient,
drifting shapes and grain, so that it is not trivially compressible, and several tones
with noise for its sound), and a 3-minute sound as a musician exports it (WAV, 44.1 kHz,
16-bit stereo: chords, a bass, a beat of noise bursts).

Each goes the way an artist's file goes: ``breeding.media.publish`` (copied, sniffed,
probed by a child process) and the job, ``breeding.media.run``, whose child process
(``python -m common.transcode`` with its limits on memory, CPU time and file size,
``breeding.media.run_child``) re-encodes it. Reported: the child's seconds for each
transcode (``video_60s_1080p_s``, ``audio_3min_s``) and the whole job's, the probe's, the
child's peak RSS (``VmHWM`` of the child, polled; ``peak_rss_mb`` is the larger of the two
transcodes; not ``RUSAGE_CHILDREN``'s ``ru_maxrss``, which counts the pages of this
process that the child shared between its fork and its exec: this process's own RSS) and
peak address space (``VmPeak``, which its memory limit counts), its CPU seconds, and the page of the published film as a first visit loads it
(``page_weight_kb``): its HTML, its style sheet, its scripts (with the modules they import
and the translation catalogue), the poster, and the first MB of the film (the player
fetches the index and the first seconds; the rest streams as it plays), fetched with
Django's test client from a database made for the run (dropped after unless ``--keep``).

Goals, on 2 cores: the 60 s film in <= 60 s (real time: an artist waits no longer than
their film lasts); the 3-minute sound in <= 15 s; the child's peak RSS <= 400 MB (two
transcodes fit beside the web server and a render worker in 2 GB); the page <= 1.5 MB at
first load, the first MB of film included (the rest, <= 0.5 MB, loads in about 3 s on a
slow mobile link).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import resource
import sys
import tempfile
import threading
import time
import wave
from fractions import Fraction
from html.parser import HTMLParser
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from bench._database import drop_database, fresh_database, log, server_url, setup_django  # noqa: E402
from bench._server import cpu_model  # noqa: E402

CACHE = Path(tempfile.gettempdir()) / "mendel-bench-media"
GOALS = {"video_60s_1080p_s": 60.0, "audio_3min_s": 15.0, "peak_rss_mb": 400, "page_weight_kb": 1536}
FIRST_VIDEO_BYTES = 2**20


# -- the sources ---------------------------------------------------------------------------


def music(seconds: float, rate: int, start: float = 0.0) -> np.ndarray:
    """Stereo float32 in [-1, 1]: chords that change every 2 s, a bass, a beat of noise
    bursts twice a second, a little hiss."""
    rng = np.random.default_rng(int(start * 1000) + 7)
    t = start + np.arange(int(seconds * rate)) / rate
    chords = [(220.0, 277.2, 329.6), (196.0, 246.9, 293.7), (174.6, 220.0, 261.6), (196.0, 246.9, 311.1)]
    chord = np.array(chords)[(t // 2).astype(int) % len(chords)]  # (n, 3)
    tones = sum(np.sin(2 * math.pi * chord[:, k] * t) * (0.18 / (k + 1)) for k in range(3))
    tones += 0.05 * np.sin(2 * math.pi * chord[:, 0] * 2 * t)  # a harmonic
    bass = 0.2 * np.sin(2 * math.pi * chord[:, 0] / 2 * t)
    beat = np.exp(-((t % 0.5) * 30)) * rng.standard_normal(t.shape[0]) * 0.25
    hiss = rng.standard_normal((2, t.shape[0])) * 0.01
    left = tones + bass * 0.9 + beat + hiss[0]
    right = tones * 0.9 + bass + beat * 0.8 + hiss[1]
    return np.clip(np.stack([left, right]), -1, 1).astype(np.float32)


def make_film(path: Path, seconds: float, size=(1920, 1080), fps: int = 30) -> None:
    import av

    w, h = size
    frames = int(seconds * fps)
    rng = np.random.default_rng(2026)
    # grain: 7 fields (a prime cycle), each seen through a window that drifts
    grain = [rng.integers(-9, 10, (h, w + 64), dtype=np.int16) for _ in range(7)]
    x, y = np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32)
    cx, cy = x[: w // 2], y[: h // 2]
    discs = []
    for radius in (220, 140):
        d = np.arange(-radius, radius, dtype=np.float32)
        discs.append((radius, (45 * ((d[None, :] ** 2 + d[:, None] ** 2) < radius * radius)).astype(np.int16)))
    luma = np.empty((h, w), np.int16)
    partial = path.with_suffix(".partial")
    with av.open(str(partial), "w", format="mp4", options={"movflags": "+faststart"}) as out:
        video = out.add_stream("libx264", rate=fps, options={"preset": "veryfast", "profile": "high"})
        video.width, video.height, video.pix_fmt = w, h, "yuv420p"
        video.bit_rate = 16_000_000
        audio = out.add_stream("aac", rate=48000)
        audio.layout, audio.bit_rate = "stereo", 192_000
        sound_at = 0
        for i in range(frames):
            t = i / fps
            row = (110 + 50 * np.sin(x / 170 + t * 1.3)).astype(np.int16)
            column = (40 * np.cos(y / 130 - t * 0.9)).astype(np.int16)
            shift = (i * 7) % 64
            np.add(row[None, :], column[:, None], out=luma)
            luma += grain[i % 7][:, shift:shift + w]
            for k, (radius, disc) in enumerate(discs):  # two drifting discs, lighter
                px = int(w / 2 + (w / 2 - radius) * math.sin(t * (0.31 + 0.16 * k) + k))
                py = int(h / 2 + (h / 2 - radius) * math.cos(t * (0.53 + 0.27 * k) + k))
                luma[py - radius:py + radius, px - radius:px + radius] += disc
            u = (128 + 40 * np.sin(cx / 90 - t))[None, :] + (20 * np.sin(cy / 70 + t * 0.5))[:, None]
            v = (128 + 40 * np.cos(cy / 80 + t * 0.7))[:, None] + (15 * np.cos(cx / 60 - t))[None, :]
            planes = np.concatenate([np.clip(luma, 0, 255).astype(np.uint8),
                                     u.astype(np.uint8).reshape(h // 4, w),
                                     v.astype(np.uint8).reshape(h // 4, w)])
            frame = av.VideoFrame.from_ndarray(planes, format="yuv420p")
            frame.pts, frame.time_base = i, Fraction(1, fps)
            for packet in video.encode(frame):
                out.mux(packet)
            while sound_at < (i + 1) / fps * 48000:  # the sound, kept level with the pictures
                block = music(1024 / 48000, 48000, sound_at / 48000)
                chunk = av.AudioFrame.from_ndarray(block, format="fltp", layout="stereo")
                chunk.sample_rate, chunk.pts = 48000, sound_at
                for packet in audio.encode(chunk):
                    out.mux(packet)
                sound_at += 1024
            if i % (fps * 10) == 0:
                log(f"  film: {t:.0f} s of {seconds:.0f}")
        for stream in (video, audio):
            for packet in stream.encode():
                out.mux(packet)
    partial.rename(path)


def make_sound(path: Path, seconds: float, rate: int = 44100) -> None:
    partial = path.with_suffix(".partial")
    with wave.open(str(partial), "wb") as out:
        out.setnchannels(2)
        out.setsampwidth(2)
        out.setframerate(rate)
        for start in range(0, int(seconds), 10):
            block = music(min(10, seconds - start), rate, start)
            out.writeframes((block.T * 32767).astype("<i2").tobytes())
    partial.rename(path)


def sources(seconds: float, sound_seconds: float) -> tuple[Path, Path]:
    """The film and the sound, made once and kept in ``CACHE``."""
    CACHE.mkdir(exist_ok=True)
    film = CACHE / f"film-{seconds:g}s-1080p30-v1.mp4"
    sound = CACHE / f"sound-{sound_seconds:g}s-44k-v1.wav"
    if not film.exists():
        log(f"making the {seconds:g} s 1080p film (once; kept in {CACHE})")
        started = time.perf_counter()
        make_film(film, seconds)
        log(f"  made in {time.perf_counter() - started:.0f} s")
    if not sound.exists():
        make_sound(sound, sound_seconds)
    return film, sound


# -- the child, watched ---------------------------------------------------------------------


class Watcher:
    """The peak RSS (``VmHWM``) of this process's children, polled while it runs, and their
    peak address space (``VmPeak``: what the child's memory limit, ``RLIMIT_AS``, counts)."""

    def __init__(self, every_s: float = 0.05) -> None:
        import psutil

        self.me, self.every_s, self.peak_kb, self.peak_vm_kb = psutil.Process(), every_s, 0, 0
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._poll, daemon=True)

    def _poll(self) -> None:
        while not self.done.is_set():
            for child in self.me.children(recursive=True):
                try:
                    for line in Path(f"/proc/{child.pid}/status").read_text().splitlines():
                        if line.startswith("VmHWM:"):
                            self.peak_kb = max(self.peak_kb, int(line.split()[1]))
                        elif line.startswith("VmPeak:"):
                            self.peak_vm_kb = max(self.peak_vm_kb, int(line.split()[1]))
                except OSError:
                    pass
            self.done.wait(self.every_s)

    def __enter__(self) -> Watcher:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.done.set()
        self.thread.join()


def children_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def watched_children(records: list[dict]):
    """``breeding.media.run_child`` as it is, each call's seconds, CPU and peak memory
    added to ``records``."""
    from breeding import media

    original = media.run_child

    def run_child(job, on_progress=None, timeout_s=3600.0):
        cpu = children_cpu_s()
        started = time.perf_counter()
        with Watcher() as watcher:
            found = original(job, on_progress, timeout_s)
        records.append({"do": job["do"], "wall_s": time.perf_counter() - started,
                        "cpu_s": children_cpu_s() - cpu, "peak_rss_mb": watcher.peak_kb / 1024,
                        "peak_vm_mb": watcher.peak_vm_kb / 1024,
                        "ok": "probe" in found or "result" in found, "answer": found})
        return found

    media.run_child = run_child
    return original


def published(user, path: Path, kind: str) -> dict:
    """``path`` published and transcoded by its job, as an artist's file is."""
    from django.core.files import File

    from breeding import media
    from breeding.models import MediaWork

    records: list[dict] = []
    original = watched_children(records)
    try:
        with path.open("rb") as f:
            started = time.perf_counter()
            job = media.publish(user, {"kind": kind, "title": f"Bench {kind}", "visibility": "public"},
                                [File(f, name=path.name)])
            publish_s = time.perf_counter() - started
        started = time.perf_counter()
        media.run(job.pk)
        job_s = time.perf_counter() - started
    finally:
        media.run_child = original
    job = MediaWork.objects.get(pk=job.pk)
    if job.status != MediaWork.Status.DONE:
        raise SystemExit(f"the {kind} job ended {job.status}: {job.error}")
    probe, run = records[0], records[-1]
    return {"job": job, "publish_s": publish_s, "probe_s": probe["wall_s"], "job_s": job_s,
            "transcode_s": run["wall_s"], "cpu_s": run["cpu_s"], "peak_rss_mb": run["peak_rss_mb"],
            "peak_vm_mb": run["peak_vm_mb"],
            "probe_rss_mb": probe["peak_rss_mb"], "in_bytes": path.stat().st_size,
            "out_bytes": job.file.size, "duration_s": job.duration_s}


# -- the page ---------------------------------------------------------------------------------


class Assets(HTMLParser):
    """What a first visit to a page fetches: style sheets, scripts, pictures, the poster
    and the film's source."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, str]] = []

    def handle_starttag(self, tag, attrs) -> None:
        a = dict(attrs)
        if tag == "link" and "stylesheet" in (a.get("rel") or "") and a.get("href"):
            self.found.append(("css", a["href"]))
        elif tag == "script" and a.get("src"):
            self.found.append(("js", a["src"]))
        elif tag == "img" and a.get("src") and not a["src"].startswith("data:") and a.get("loading") != "lazy":
            self.found.append(("picture", a["src"]))
        elif tag == "video":
            if a.get("poster"):
                self.found.append(("poster", a["poster"]))
            if a.get("src"):
                self.found.append(("video", a["src"]))
        elif tag == "source" and a.get("src"):
            self.found.append(("video", a["src"]))


IMPORT = re.compile(r"""(?:^|[;\s])(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|"""
                    r"""(?:^|[;\s])import\s*['"]([^'"]+)['"]""", re.M)


def fetched(client, url: str) -> bytes:
    """The bytes a browser gets for ``url``: static files from where Django finds them
    (``ASGIStaticFilesHandler`` serves them as they are), anything else from the site."""
    from django.conf import settings
    from django.contrib.staticfiles import finders

    static = "/" + settings.STATIC_URL.lstrip("/")
    if url.startswith(static):
        found = finders.find(url[len(static):].split("?")[0])
        if found is None:
            raise SystemExit(f"the page names {url}, which is not a static file")
        return Path(found).read_bytes()
    answer = client.get(url)
    if answer.status_code != 200:
        raise SystemExit(f"{url} answered {answer.status_code}")
    if not answer.streaming:
        return answer.content
    from asgiref.sync import async_to_sync

    async def collect() -> bytes:  # the site streams its media files asynchronously
        return b"".join([part async for part in answer.streaming_content])

    return async_to_sync(collect)()


def page_weight(work_id: str) -> dict:
    """The bytes of the published film's page at a first, anonymous visit."""
    import gzip
    from urllib.parse import urljoin

    from django.test import Client

    client = Client()
    page_url = f"/w/{work_id}/"
    html = fetched(client, page_url)
    parser = Assets()
    parser.feed(html.decode())
    sizes = {"html": len(html), "css": 0, "js": 0, "picture": 0, "poster": 0, "video": 0}
    text = {"html": len(gzip.compress(html)), "css": 0, "js": 0}
    seen: set[str] = set()
    queue = list(parser.found)
    while queue:
        kind, url = queue.pop(0)
        if url in seen:
            continue
        seen.add(url)
        body = fetched(client, url)
        if kind == "video":
            body = body[:FIRST_VIDEO_BYTES]
        sizes[kind] += len(body)
        if kind in text:
            text[kind] += len(gzip.compress(body))
        if kind == "js":  # and the modules it imports
            for match in IMPORT.finditer(body.decode(errors="replace")):
                name = match.group(1) or match.group(2)
                if name.startswith((".", "/")):
                    queue.append(("js", urljoin(url, name)))
    total = sum(sizes.values())
    gzipped = total - sum(sizes[k] for k in text) + sum(text.values())
    return {"page_url": page_url, "page_bytes": sizes, "page_weight_kb": round(total / 1024),
            "page_weight_kb_text_gzipped": round(gzipped / 1024), "page_files": len(seen) + 1}


# -- the run ----------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="the film's length")
    parser.add_argument("--sound-seconds", type=float, default=180.0, help="the sound's length")
    parser.add_argument("--database", default="mendel_bench_media",
                        help="the database to make afresh (dropped after unless --keep)")
    parser.add_argument("--keep", action="store_true", help="keep the database")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    load_before = os.getloadavg()
    film, sound = sources(args.seconds, args.sound_seconds)
    folder = Path(tempfile.mkdtemp(prefix="mendel-bench-media-"))
    os.environ["MEDIA_ROOT"] = str(folder / "media")
    os.environ["JOB_SCRATCH_DIR"] = str(folder / "scratch")
    server = server_url()
    try:
        log("a database for the run, migrated")
        setup_django(fresh_database(server, args.database))
        if "torch" in sys.modules:  # the apps import it; nothing here renders
            sys.modules["torch"].set_num_threads(2)
        from django.conf import settings
        from django.contrib.auth import get_user_model

        user = get_user_model().objects.create_user("bench-media", "bench@example.org", "bench media 1")
        log(f"the {args.seconds:g} s film: published and transcoded by its job")
        video = published(user, film, "video")
        log(f"the {args.sound_seconds:g} s sound: published and transcoded by its job")
        audio = published(user, sound, "sound")
        page = page_weight(video["job"].creation.public_id)
        memory_limit = settings.MEDIA_TRANSCODE_MEMORY_MB
    finally:
        from django.db import connections

        connections.close_all()
        if not args.keep:
            drop_database(server, args.database)
        import shutil

        shutil.rmtree(folder, ignore_errors=True)

    result = {
        "cpu": cpu_model(), "cores": os.cpu_count(),
        "load_average": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
        "video_60s_1080p_s": round(video["transcode_s"], 1),
        "audio_3min_s": round(audio["transcode_s"], 1),
        "peak_rss_mb": round(max(video["peak_rss_mb"], audio["peak_rss_mb"])),
        **page,
        "video": {k: round(v, 2) if isinstance(v, float) else v for k, v in video.items() if k != "job"},
        "sound": {k: round(v, 2) if isinstance(v, float) else v for k, v in audio.items() if k != "job"},
        "memory_limit_mb": memory_limit,
        "seconds": args.seconds, "sound_seconds": args.sound_seconds,
        "goals": GOALS,
    }
    result["goals_met"] = {key: result[key] <= goal for key, goal in GOALS.items()}
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    met = {True: "met", False: "NOT met"}
    v, s = result["video"], result["sound"]
    print(f"{result['cpu']}, {result['cores']} cores, load average {result['load_average'][0]} "
          f"before, {result['load_average_after'][0]} after")
    print(f"{'':<44} {'figure':>8} {'goal':>8}")
    print(f"{f'film {args.seconds:g} s 1080p30 -> H.264/AAC (s)':<44} {result['video_60s_1080p_s']:>8} "
          f"{'<= 60':>8}  {met[result['goals_met']['video_60s_1080p_s']]}")
    print(f"{f'sound {args.sound_seconds:g} s WAV -> AAC (s)':<44} {result['audio_3min_s']:>8} "
          f"{'<= 15':>8}  {met[result['goals_met']['audio_3min_s']]}")
    print(f"{'child peak RSS (MB)':<44} {result['peak_rss_mb']:>8} "
          f"{'<= 400':>8}  {met[result['goals_met']['peak_rss_mb']]}")
    print(f"{'film page, first load (KB)':<44} {result['page_weight_kb']:>8} "
          f"{'<= 1536':>8}  {met[result['goals_met']['page_weight_kb']]}")
    print()
    print(f"{'':<10} {'in MB':>7} {'out MB':>7} {'probe s':>8} {'child s':>8} {'CPU s':>7} "
          f"{'cores':>6} {'job s':>7} {'RSS MB':>7} {'VM MB':>6}")
    for name, row in (("film", v), ("sound", s)):
        print(f"{name:<10} {row['in_bytes'] / 2**20:>7.1f} {row['out_bytes'] / 2**20:>7.1f} "
              f"{row['probe_s']:>8} {row['transcode_s']:>8} {row['cpu_s']:>7} "
              f"{row['cpu_s'] / row['transcode_s']:>6.2f} {row['job_s']:>7} {row['peak_rss_mb']:>7.0f} "
              f"{row['peak_vm_mb']:>6.0f}")
    print(f"(the child may use {result['memory_limit_mb']} MB of address space, VM; cores: CPU s "
          "per second)")
    sizes = result["page_bytes"]
    print(f"\npage {result['page_url']}: " + ", ".join(f"{k} {b / 1024:.0f} KB" for k, b in sizes.items())
          + f" ({result['page_files']} files; {result['page_weight_kb_text_gzipped']} KB with its "
          "text gzipped)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
