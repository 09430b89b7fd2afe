"""Films and sounds people publish, checked and re-encoded into what every browser plays:
H.264 and AAC in MP4 (fast start) for a video, AAC in M4A for a sound, with a poster frame
or a waveform. Pure PyAV, numpy and Pillow, no Django: ``breeding.media`` runs it in a
child process of its own (``python -m common.transcode``) with limits on memory, CPU time
and file size, so that a file built to hurt a decoder can at worst end that child.

What a file is, is decided by its bytes: FFmpeg opens it with only the demuxers named in
``DEMUXERS`` (no playlists, no concatenation lists, no image sequences: nothing that could
make it open another file or address), reads only from the file itself
(``protocol_whitelist``), and decodes only the codecs of ``VIDEO_CODECS`` and
``AUDIO_CODECS``. The limits are checked twice: from what the header claims before a
frame is decoded, and against what decoding finds, so a header that lies about its length
or size is caught either way.

Refusals are codes with their figures (:class:`Refusal`); ``breeding.media`` says them in
sentences, in the asker's language.
"""

from __future__ import annotations

import errno
import json
import math
import os
import sys
import time
from dataclasses import asdict, dataclass, field
from fractions import Fraction

import numpy as np

#: The only demuxers a published file may be read by.
DEMUXERS = "mov,mp4,m4a,3gp,3g2,mj2,matroska,webm,ogg,wav,mp3,flac,aac"
VIDEO_CODECS = {"h264", "hevc", "vp8", "vp9", "av1", "mpeg4", "mpeg2video", "mjpeg", "prores",
                "theora", "dnxhd"}
AUDIO_CODECS = {"aac", "mp3", "mp2", "opus", "vorbis", "flac", "alac", "pcm_s16le", "pcm_s16be",
                "pcm_s24le", "pcm_s24be", "pcm_s32le", "pcm_f32le", "pcm_f64le", "pcm_u8",
                "pcm_mulaw", "pcm_alaw"}
#: Decoders FFmpeg may open, by its own names (the native ones; ``libdav1d`` for AV1).
DECODERS = ",".join(sorted(VIDEO_CODECS | AUDIO_CODECS | {"libdav1d", "libvpx", "libvpx-vp9",
                                                          "libopus", "mp3float", "aac_fixed"}))


@dataclass(frozen=True)
class Limits:
    max_duration_s: float = 600.0  # a video; a sound has its own
    max_width: int = 3840
    max_height: int = 2160
    max_fps: float = 240.0  # read; what is written is at most OUT_FPS
    out_long_side: int = 1920
    out_short_side: int = 1080


#: What a video is written at, at most: frames a second.
OUT_FPS = 30
VIDEO_CRF = 23
VIDEO_PRESET = "veryfast"
#: The most a second of video may take (bits a second): about 600 MB for ten minutes.
VIDEO_MAXRATE = 8_000_000
AUDIO_RATE = 48000
AUDIO_BITRATE = 160_000
#: Peaks of a sound's waveform: one value for every this many seconds.
PEAK_EVERY_S = 0.05


class Refusal(Exception):
    """Why a file is not taken: ``code`` and the figures a sentence needs."""

    def __init__(self, code: str, **figures) -> None:
        super().__init__(code)
        self.code, self.figures = code, figures


@dataclass
class Probe:
    kind: str  # "video" or "sound"
    demuxer: str
    duration_s: float
    width: int | None = None
    height: int | None = None
    fps: float | None = None
    video_codec: str | None = None
    audio_codec: str | None = None


@dataclass
class Result:
    kind: str
    duration_s: float
    width: int | None = None
    height: int | None = None
    peaks: list[float] = field(default_factory=list)


def _open(path: str):
    import av

    try:
        return av.open(path, options={
            "format_whitelist": DEMUXERS, "protocol_whitelist": "file",
            "codec_whitelist": DECODERS, "probesize": str(20 * 2**20),
            "analyzeduration": str(20_000_000)})
    except av.error.InvalidDataError:
        raise Refusal("unreadable") from None
    except (av.error.FFmpegError, UnicodeDecodeError, ValueError):
        raise Refusal("unreadable") from None


def _duration(container, stream) -> float | None:
    if stream is not None and stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    if container.duration is not None:
        return container.duration / 1_000_000
    return None


def probe(path: str, limits: Limits = Limits()) -> Probe:
    """What the file's header says it holds, checked against ``limits``; :class:`Refusal`
    for anything else."""
    with _open(path) as container:
        demuxer = container.format.name
        videos = [s for s in container.streams.video
                  if not (s.disposition and "attached_pic" in str(s.disposition).lower())]
        audios = list(container.streams.audio)
        video = videos[0] if videos else None
        audio = audios[0] if audios else None
        if video is None and audio is None:
            raise Refusal("no-streams")
        if video is not None:
            codec = video.codec_context.codec.canonical_name
            if codec not in VIDEO_CODECS:
                raise Refusal("video-codec", codec=codec)
            width, height = video.codec_context.width, video.codec_context.height
            if not width or not height:
                raise Refusal("unreadable")
            if width > limits.max_width or height > limits.max_height:
                raise Refusal("too-wide", width=width, height=height,
                              max_width=limits.max_width, max_height=limits.max_height)
            rate = video.average_rate or video.guessed_rate or video.base_rate
            fps = float(rate) if rate else None
            if fps is not None and fps > limits.max_fps:
                raise Refusal("too-fast", fps=round(fps), max_fps=round(limits.max_fps))
        audio_codec = audio.codec_context.codec.canonical_name if audio is not None else None
        if audio is not None and audio_codec not in AUDIO_CODECS:
            raise Refusal("audio-codec", codec=audio_codec)
        duration = _duration(container, video or audio)
        if duration is None or not math.isfinite(duration) or duration <= 0:
            raise Refusal("no-duration")
        if duration > limits.max_duration_s:
            raise Refusal("too-long", seconds=round(duration), max_seconds=round(limits.max_duration_s))
        if video is not None:
            return Probe("video", demuxer, duration, width, height, fps, codec, audio_codec)
        return Probe("sound", demuxer, duration, audio_codec=audio_codec)


def out_size(width: int, height: int, limits: Limits) -> tuple[int, int]:
    """The size a video is written at: within ``out_long_side`` x ``out_short_side`` (in
    its own orientation), never larger than it came, both sides even (H.264's 4:2:0)."""
    long_side, short_side = max(width, height), min(width, height)
    scale = min(1.0, limits.out_long_side / long_side, limits.out_short_side / short_side)
    w, h = max(2, round(width * scale / 2) * 2), max(2, round(height * scale / 2) * 2)
    return w, h


class _Progress:
    def __init__(self, duration_s: float, report) -> None:
        self.duration_s, self.report, self.last = max(duration_s, 1e-3), report, 0.0

    def __call__(self, t: float) -> None:
        now = time.monotonic()
        if self.report is not None and now - self.last >= 0.25:
            self.last = now
            self.report(min(max(t / self.duration_s, 0.0), 1.0))


def _too_long(t: float, limits: Limits, claimed: float) -> None:
    # A header may lie: what decoding finds past the limit (with a second's grace) ends it.
    if t > limits.max_duration_s + 1.0:
        raise Refusal("too-long", seconds=round(t), max_seconds=round(limits.max_duration_s))


def transcode(path: str, out_media: str, out_poster: str | None, limits: Limits = Limits(),
              report=None, kind: str | None = None) -> Result:
    """Re-encode the file at ``path``: a video to ``out_media`` (MP4) with its poster frame
    as a PNG at ``out_poster``, a sound to ``out_media`` (M4A) with its waveform's peaks.
    ``report(fraction)`` hears of progress; ``kind`` ("video", "sound") what it must be."""
    import av

    found = probe(path, limits)
    if kind is not None and found.kind != kind:
        raise Refusal("not-" + kind)
    progress = _Progress(found.duration_s, report)
    try:
        if found.kind == "video":
            return _video(path, out_media, out_poster, found, limits, progress)
        return _sound(path, out_media, found, limits, progress)
    except Refusal:
        raise
    except (av.error.FFmpegError, ValueError, OSError, EOFError) as error:
        # The child's own limits, met: not the file's damage (a thread FFmpeg could not
        # start within the memory limit says EAGAIN; a write past the file limit, EFBIG)
        code = getattr(error, "errno", None)
        if code in (errno.ENOMEM, errno.EAGAIN):
            raise Refusal("too-much-memory") from None
        if code == errno.EFBIG:
            raise Refusal("too-large-output") from None
        raise Refusal("damaged", detail=str(error)[:200]) from None


def _audio_out(container):
    stream = container.add_stream("aac", rate=AUDIO_RATE)
    stream.bit_rate = AUDIO_BITRATE
    stream.layout = "stereo"
    return stream, __import__("av").AudioResampler(format="fltp", layout="stereo", rate=AUDIO_RATE)


def _audio_frames(resampler, frame):
    for out in resampler.resample(frame):
        out.pts = None  # the encoder counts samples itself: gaps and overlaps of the source go
        yield out


def _video(path, out_media, out_poster, found: Probe, limits: Limits, progress) -> Result:
    import av

    width, height = out_size(found.width, found.height, limits)
    fps = min(OUT_FPS, max(1, round(found.fps or OUT_FPS)))
    poster_at = min(found.duration_s * 0.1, 3.0)
    poster = None
    last_pts, t = -1, 0.0
    with _open(path) as source, av.open(out_media, "w", format="mp4",
                                        options={"movflags": "+faststart"}) as out:
        video_in = next(s for s in source.streams.video
                        if not (s.disposition and "attached_pic" in str(s.disposition).lower()))
        audio_in = source.streams.audio[0] if source.streams.audio else None
        video_in.thread_type = "AUTO"
        video_out = out.add_stream("libx264", rate=fps, options={
            "crf": str(VIDEO_CRF), "preset": VIDEO_PRESET, "profile": "high",
            # a ceiling on the rate: grain or noise at CRF 23 alone can run to 15 Mbit/s
            "maxrate": str(VIDEO_MAXRATE), "bufsize": str(2 * VIDEO_MAXRATE),
            "threads": str(min(os.cpu_count() or 1, 8))})
        video_out.width, video_out.height, video_out.pix_fmt = width, height, "yuv420p"
        video_out.time_base = Fraction(1, fps)
        audio_out, resampler = _audio_out(out) if audio_in is not None else (None, None)
        streams = [video_in] + ([audio_in] if audio_in is not None else [])
        for packet in source.demux(*streams):
            for frame in packet.decode():
                if frame.time is not None:
                    t = max(t, float(frame.time))
                _too_long(t, limits, found.duration_s)
                if packet.stream is video_in:
                    if frame.width > limits.max_width or frame.height > limits.max_height:
                        raise Refusal("too-wide", width=frame.width, height=frame.height,
                                      max_width=limits.max_width, max_height=limits.max_height)
                    pts = round((frame.time or 0.0) * fps)
                    if pts <= last_pts:
                        continue  # more frames a second than are written
                    last_pts = pts
                    picture = frame.reformat(width, height, "yuv420p",
                                             interpolation="AREA" if width < frame.width else "BILINEAR")
                    # In the frame's own time base (setting another one does not hold)
                    if picture.time_base is None:
                        picture.time_base = video_out.time_base
                    picture.pts = round(Fraction(pts, fps) / picture.time_base)
                    if poster is None and (frame.time or 0.0) >= poster_at:
                        poster = frame.to_image(width=width, height=height)
                    for p in video_out.encode(picture):
                        out.mux(p)
                else:
                    for sound in _audio_frames(resampler, frame):
                        for p in audio_out.encode(sound):
                            out.mux(p)
                progress(t)
        for p in video_out.encode():
            out.mux(p)
        if audio_out is not None:
            for sound in _audio_frames(resampler, None):
                for p in audio_out.encode(sound):
                    out.mux(p)
            for p in audio_out.encode():
                out.mux(p)
    if last_pts < 0:
        raise Refusal("damaged", detail="no frame could be decoded")
    if poster is None:  # shorter than its tenth: the last frame read
        with _open(path) as source:
            for frame in source.decode(video=0):
                poster = frame.to_image(width=width, height=height)
                break
    if out_poster is not None and poster is not None:
        poster.save(out_poster, "PNG")
    return Result("video", (last_pts + 1) / fps, width, height)


def _sound(path, out_media, found: Probe, limits: Limits, progress) -> Result:
    import av

    peaks: list[float] = []
    per_peak = int(AUDIO_RATE * PEAK_EVERY_S)
    pending = np.zeros(0, np.float32)
    samples, t = 0, 0.0
    with _open(path) as source, av.open(out_media, "w", format="ipod",
                                        options={"movflags": "+faststart"}) as out:
        audio_in = source.streams.audio[0]
        audio_out, resampler = _audio_out(out)

        def write(frames) -> None:
            nonlocal pending, samples
            for sound in frames:
                mono = np.abs(sound.to_ndarray()).max(axis=0)
                samples += mono.shape[0]
                pending = np.concatenate([pending, mono])
                whole = pending.shape[0] // per_peak * per_peak
                if whole:
                    peaks.extend(pending[:whole].reshape(-1, per_peak).max(axis=1).tolist())
                    pending = pending[whole:]
                for p in audio_out.encode(sound):
                    out.mux(p)

        for packet in source.demux(audio_in):
            for frame in packet.decode():
                if frame.time is not None:
                    t = max(t, float(frame.time))
                t = max(t, samples / AUDIO_RATE)
                _too_long(t, limits, found.duration_s)
                write(_audio_frames(resampler, frame))
                progress(t)
        write(_audio_frames(resampler, None))
        for p in audio_out.encode():
            out.mux(p)
    if samples == 0:
        raise Refusal("damaged", detail="no sound could be decoded")
    if pending.shape[0]:
        peaks.append(float(pending.max()))
    return Result("sound", samples / AUDIO_RATE, peaks=[round(min(p, 1.0), 4) for p in peaks])


# -- the child process ------------------------------------------------------------------


def _die_with_parent() -> None:
    """On Linux, end this child when the process that started it dies (a worker killed
    mid-job): its job runs again elsewhere, and an orphan would only burn the CPU."""
    import ctypes
    import signal

    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _limit_resources(memory_mb: int, cpu_s: int, file_mb: int) -> None:
    import resource

    _die_with_parent()

    resource.setrlimit(resource.RLIMIT_AS, (memory_mb * 2**20, memory_mb * 2**20))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_s, cpu_s + 5))
    resource.setrlimit(resource.RLIMIT_FSIZE, (file_mb * 2**20, file_mb * 2**20))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def main(argv: list[str]) -> int:
    """``python -m common.transcode '<json job>'``: one line of JSON per progress step
    (``{"progress": f}``), then ``{"result": ...}`` or ``{"refusal": code, ...}``."""
    job = json.loads(argv[0])
    _limit_resources(job.get("memory_mb", 1536), job.get("cpu_s", 1800), job.get("file_mb", 1024))
    limits = Limits(**job.get("limits", {}))

    def say(message: dict) -> None:
        sys.stdout.write(json.dumps(message) + "\n")
        sys.stdout.flush()

    try:
        if job["do"] == "probe":
            say({"probe": asdict(probe(job["path"], limits))})
        else:
            result = transcode(job["path"], job["out"], job.get("poster"), limits,
                               lambda f: say({"progress": round(f, 4)}), job.get("kind"))
            say({"result": asdict(result)})
    except Refusal as refusal:
        say({"refusal": refusal.code, **refusal.figures})
    except MemoryError:
        say({"refusal": "too-much-memory"})
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
