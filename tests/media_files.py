"""Small films, sounds and pictures made here for the tests of published works: nothing is
downloaded. Each is real (FFmpeg reads it) unless its name says how it is broken."""

from __future__ import annotations

import io
import math
from fractions import Fraction

import av
import numpy as np
from PIL import Image


def film(seconds: float = 1.0, size=(320, 240), fps: int = 24, sound: bool = True,
         container: str = "mp4", codec: str = "libx264") -> bytes:
    """A film of a colour sweep over a moving bar, with a tone when ``sound``."""
    out_buffer = io.BytesIO()
    with av.open(out_buffer, "w", format=container) as out:
        video = out.add_stream(codec, rate=fps)
        video.width, video.height, video.pix_fmt = size[0], size[1], "yuv420p"
        audio = None
        if sound:
            audio = out.add_stream("aac" if container == "mp4" else "libopus", rate=48000)
            audio.layout = "stereo"
        frames = max(1, round(seconds * fps))
        w, h = size
        for i in range(frames):
            picture = np.zeros((h, w, 3), np.uint8)
            picture[..., 0] = int(255 * i / frames)
            picture[..., 2] = np.linspace(40, 220, w, dtype=np.uint8)[None, :]
            x = int((w - 20) * i / frames)
            picture[:, x:x + 20, 1] = 255
            frame = av.VideoFrame.from_ndarray(picture, format="rgb24")
            frame.pts, frame.time_base = i, Fraction(1, fps)
            for packet in video.encode(frame):
                out.mux(packet)
        for packet in video.encode():
            out.mux(packet)
        if audio is not None:
            _tone(out, audio, seconds)
    return out_buffer.getvalue()


def _tone(out, stream, seconds: float, rate: int = 48000, hz: float = 330.0) -> None:
    block = 960
    for start in range(0, int(seconds * rate), block):
        t = (np.arange(block) + start) / rate
        wave = (0.3 * np.sin(2 * math.pi * hz * t)).astype(np.float32)
        frame = av.AudioFrame.from_ndarray(np.stack([wave, wave]), format="fltp", layout="stereo")
        frame.sample_rate, frame.pts = rate, start
        for packet in stream.encode(frame):
            out.mux(packet)
    for packet in stream.encode():
        out.mux(packet)


def sound(seconds: float = 2.0, container: str = "wav") -> bytes:
    """A tone that swells, as WAV (PCM), or M4A (AAC), MP3 or Ogg (Opus)."""
    codec = {"wav": "pcm_s16le", "ipod": "aac", "mp3": "libmp3lame", "ogg": "libopus"}[container]
    out_buffer = io.BytesIO()
    with av.open(out_buffer, "w", format=container) as out:
        stream = out.add_stream(codec, rate=48000)
        stream.layout = "stereo"
        fmt = "s16" if codec == "pcm_s16le" else ("s16p" if codec == "libmp3lame" else "fltp")
        block = 960 if codec == "libopus" else 1152 if codec == "libmp3lame" else 1024
        rate = 48000
        for start in range(0, int(seconds * rate), block):
            t = (np.arange(block) + start) / rate
            wave = 0.4 * np.sin(2 * math.pi * 220 * t) * (start / (seconds * rate))
            if fmt == "s16":
                data = (np.stack([wave, wave], axis=1).reshape(1, -1) * 32767).astype(np.int16)
            elif fmt == "s16p":
                data = (np.stack([wave, wave]) * 32767).astype(np.int16)
            else:
                data = np.stack([wave, wave]).astype(np.float32)
            frame = av.AudioFrame.from_ndarray(data, format=fmt, layout="stereo")
            frame.sample_rate, frame.pts = rate, start
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return out_buffer.getvalue()


def picture(size=(300, 200), fmt: str = "PNG") -> bytes:
    image = Image.new("RGB", size)
    pixels = np.zeros((size[1], size[0], 3), np.uint8)
    pixels[..., 0] = np.linspace(0, 255, size[0], dtype=np.uint8)[None, :]
    pixels[..., 1] = np.linspace(255, 0, size[1], dtype=np.uint8)[:, None]
    image = Image.fromarray(pixels)
    buffer = io.BytesIO()
    image.save(buffer, fmt)
    return buffer.getvalue()
