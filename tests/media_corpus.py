"""Bad media files, made here from the real small films and sounds of ``tests.media_files``
by cutting, patching and gluing their bytes: what an attacker would upload to a gallery
that runs FFmpeg. Nothing is downloaded. Each function says what its file claims and what it
holds; ``tests/breeding/test_media_corpus.py`` sends them through the API and the job.

MP4 files are edited as a tree of boxes (``edit``): a box is replaced and the sizes of the
boxes around it are made right again. The films of ``media_files`` keep their ``moov`` after
their ``mdat``, so a ``moov`` that grows or shrinks moves no sample's offset.
"""

from __future__ import annotations

import io
import random
import struct
import tempfile
import zipfile
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from tests import media_files

#: Boxes that hold boxes, and how many bytes of their own come before their children.
CONTAINERS = {b"moov": 0, b"trak": 0, b"mdia": 0, b"minf": 0, b"stbl": 0, b"edts": 0,
              b"dinf": 0, b"udta": 0, b"stsd": 8, b"avc1": 78, b"hev1": 78, b"mp4v": 78,
              b"mp4a": 28}
VIDEO_ENTRY = [b"moov", b"trak", b"mdia", b"minf", b"stbl", b"stsd", b"avc1"]


def boxes(data: bytes, start: int = 0):
    """``(type, start, end)`` of each box in ``data`` from ``start`` (32-bit sizes only)."""
    at = start
    while at + 8 <= len(data):
        size, kind = struct.unpack(">I4s", data[at:at + 8])
        if size < 8 or at + size > len(data):
            return
        yield kind, at, at + size
        at += size


def edit(data: bytes, path: list[bytes], change: Callable[[bytes], bytes], skip: int = 0) -> bytes:
    """``data`` with every box at ``path`` (box types from the top) replaced by
    ``change(box)`` (the whole box, header included), its ancestors' sizes made right."""
    out, done = bytearray(data[:skip]), skip
    for kind, start, end in boxes(data, skip):
        box = data[start:end]
        if kind == path[0]:
            if len(path) == 1:
                box = change(box)
            else:
                inner = edit(box[8:], path[1:], change, CONTAINERS.get(kind, 0))
                box = struct.pack(">I4s", len(inner) + 8, kind) + inner
        out += data[done:start] + box
        done = end
    return bytes(out + data[done:])


def find(data: bytes, path: list[bytes], skip: int = 0) -> bytes | None:
    """The first box at ``path``, whole."""
    for kind, start, end in boxes(data, skip):
        if kind == path[0]:
            if len(path) == 1:
                return data[start:end]
            found = find(data[start + 8:end], path[1:], CONTAINERS.get(kind, 0))
            if found is not None:
                return found
    return None


def faststart(data: bytes) -> bytes:
    """The same film remuxed with its ``moov`` first, as a browser streams it."""
    with tempfile.TemporaryDirectory() as folder:  # fast start writes its file twice
        path = Path(folder) / "film.mp4"
        with av.open(io.BytesIO(data)) as source, av.open(str(path), "w", format="mp4",
                                                          options={"movflags": "+faststart"}) as target:
            pairs = {s.index: target.add_stream_from_template(s) for s in source.streams}
            for packet in source.demux():
                if packet.dts is None:
                    continue
                packet.stream = pairs[packet.stream.index]
                target.mux(packet)
        return path.read_bytes()


# -- a header that lies about time ---------------------------------------------------------


def _with_duration(box: bytes, seconds: float) -> bytes:
    """An ``mvhd`` or ``mdhd`` box rewritten as version 1 (64-bit times) saying it lasts
    ``seconds``."""
    body = box[8:]
    if body[0] != 0:
        raise ValueError("only version 0 boxes are rewritten")
    ctime, mtime, timescale, _old = struct.unpack(">IIII", body[4:20])
    rest = body[20:]
    duration = int(seconds * timescale)
    new = bytes([1]) + body[1:4] + struct.pack(">QQIQ", ctime, mtime, timescale, duration) + rest
    return struct.pack(">I4s", len(new) + 8, box[4:8]) + new


def _tkhd_duration(box: bytes, ticks: int) -> bytes:
    body = bytearray(box[8:])
    if body[0] != 0:
        raise ValueError("only version 0 boxes are rewritten")
    struct.pack_into(">I", body, 20, min(ticks, 0xFFFFFFFF))
    return box[:8] + bytes(body)


def _elst_duration(box: bytes, ticks: int) -> bytes:
    """An edit list (``elst``, version 0) whose one edit plays ``ticks`` of the movie."""
    body = bytearray(box[8:])
    if body[0] != 0 or struct.unpack(">I", body[4:8])[0] != 1:
        raise ValueError("one edit of version 0 expected")
    struct.pack_into(">I", body, 8, min(ticks, 0xFFFFFFFF))
    return box[:8] + bytes(body)


def _stts_lasting(box: bytes, ticks: int) -> bytes:
    """A table of sample times (``stts``) whose last samples last long enough for the whole
    to be ``ticks`` long (each delta stays within 32 bits)."""
    body = box[8:]
    count = struct.unpack(">I", body[4:8])[0]
    deltas = []
    for i in range(count):
        n, delta = struct.unpack(">II", body[8 + 8 * i:16 + 8 * i])
        deltas += [delta] * n
    extra = ticks - sum(deltas)
    last = min(len(deltas), -(-extra // (0xFFFFFFFF - max(deltas))))
    for i in range(len(deltas) - last, len(deltas)):
        deltas[i] += extra // last
    runs: list[list[int]] = []
    for delta in deltas:
        if runs and runs[-1][1] == delta:
            runs[-1][0] += 1
        else:
            runs.append([1, delta])
    new = body[:4] + struct.pack(">I", len(runs)) + b"".join(struct.pack(">II", *r) for r in runs)
    return struct.pack(">I4s", len(new) + 8, b"stts") + new


def _trak_lasting(box: bytes, seconds: float) -> bytes:
    mdhd = find(box[8:], [b"mdia", b"mdhd"])
    timescale = struct.unpack(">I", mdhd[20:24])[0]
    inner = edit(box[8:], [b"mdia", b"minf", b"stbl", b"stts"],
                 lambda stts: _stts_lasting(stts, int(seconds * timescale)))
    return struct.pack(">I4s", len(inner) + 8, b"trak") + inner


def claims_duration(data: bytes, seconds: float, samples: bool = False, edits: bool = True) -> bytes:
    """An MP4 whose ``mvhd``, ``tkhd``, edit list and ``mdhd`` all say it lasts ``seconds``; with
    ``samples``, its table of sample times too (its last samples made that long), else
    that table is left as it is; without ``edits``, the edit list too (FFmpeg plays what
    an edit list says, so a shorter one would cut the samples it does not name)."""
    if samples:  # first: it reads each track's timescale from its mdhd as it was
        data = edit(data, [b"moov", b"trak"], lambda box: _trak_lasting(box, seconds))
    mvhd = find(data, [b"moov", b"mvhd"])
    movie_scale = struct.unpack(">I", mvhd[20:24])[0]
    data = edit(data, [b"moov", b"mvhd"], lambda box: _with_duration(box, seconds))
    data = edit(data, [b"moov", b"trak", b"tkhd"],
                lambda box: _tkhd_duration(box, int(seconds * movie_scale)))
    if edits:
        data = edit(data, [b"moov", b"trak", b"edts", b"elst"],
                    lambda box: _elst_duration(box, int(seconds * movie_scale)))
    data = edit(data, [b"moov", b"trak", b"mdia", b"mdhd"],
                lambda box: _with_duration(box, seconds))
    return data


# -- a header that lies about size ----------------------------------------------------------


class _Bits:
    def __init__(self, data: bytes) -> None:
        self.bits = "".join(f"{b:08b}" for b in data)
        self.at = 0

    def u(self, n: int) -> int:
        value = int(self.bits[self.at:self.at + n], 2)
        self.at += n
        return value

    def ue(self) -> int:
        zeros = 0
        while self.bits[self.at] == "0":
            zeros += 1
            self.at += 1
        self.at += 1
        return (1 << zeros) - 1 + (self.u(zeros) if zeros else 0)


def _ue(value: int) -> str:
    code = f"{value + 1:b}"
    return "0" * (len(code) - 1) + code


def _unescape(nal: bytes) -> bytes:
    return nal.replace(b"\x00\x00\x03", b"\x00\x00")


def _escape(rbsp: bytes) -> bytes:
    out, zeros = bytearray(), 0
    for byte in rbsp:
        if zeros >= 2 and byte <= 3:
            out.append(3)
            zeros = 0
        out.append(byte)
        zeros = zeros + 1 if byte == 0 else 0
    return bytes(out)


def sps_with_size(sps: bytes, width: int, height: int) -> bytes:
    """An H.264 sequence parameter set (its NAL, header byte included) saying its pictures
    are ``width`` x ``height`` (multiples of 16), all else kept."""
    bits = _Bits(_unescape(sps[1:]))
    profile = bits.u(8)
    bits.u(16)  # constraint flags, level
    bits.ue()  # its id
    if profile in (100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135):
        if bits.ue() == 3:  # chroma format
            bits.u(1)
        bits.ue(), bits.ue()  # bit depths
        bits.u(1)
        if bits.u(1):
            raise ValueError("an SPS with scaling matrices is not rewritten here")
    bits.ue()  # log2 of the largest frame number
    order = bits.ue()
    if order == 0:
        bits.ue()
    elif order == 1:
        raise ValueError("picture order type 1 is not rewritten here")
    bits.ue()  # reference frames
    bits.u(1)
    start = bits.at
    bits.ue(), bits.ue()  # width and height in macroblocks, less one
    end = bits.at
    stop = bits.bits.rindex("1")  # the RBSP's stop bit
    out = (bits.bits[:start] + _ue(width // 16 - 1) + _ue(height // 16 - 1)
           + bits.bits[end:stop] + "1")
    out += "0" * (-len(out) % 8)
    return sps[:1] + _escape(int(out, 2).to_bytes(len(out) // 8, "big"))


def _avcc_with_size(box: bytes, width: int, height: int) -> bytes:
    body = box[8:]
    count = body[5] & 0x1F
    if count != 1:
        raise ValueError("one SPS expected")
    length = struct.unpack(">H", body[6:8])[0]
    sps = sps_with_size(body[8:8 + length], width, height)
    new = body[:6] + struct.pack(">H", len(sps)) + sps + body[8 + length:]
    return struct.pack(">I4s", len(new) + 8, b"avcC") + new


def _entry_with_size(box: bytes, width: int, height: int) -> bytes:
    body = bytearray(box[8:])
    struct.pack_into(">HH", body, 24, width, height)
    return box[:8] + bytes(body)


def _tkhd_with_size(box: bytes, width: int, height: int) -> bytes:
    return box[:-8] + struct.pack(">II", width << 16, height << 16)


def claims_size(data: bytes, width: int, height: int, sps: bool = True) -> bytes:
    """An MP4 of small pictures whose track header, sample entry and (when ``sps``) the
    H.264 parameter set itself say they are ``width`` x ``height``."""
    data = edit(data, [b"moov", b"trak", b"tkhd"],
                lambda box: _tkhd_with_size(box, width, height) if box[-8:] != bytes(8) else box)
    data = edit(data, VIDEO_ENTRY, lambda box: _entry_with_size(box, width, height))
    if sps:
        data = edit(data, VIDEO_ENTRY + [b"avcC"], lambda box: _avcc_with_size(box, width, height))
    return data


def claims_codec(data: bytes, fourcc: bytes) -> bytes:
    """An MP4 of H.264 whose sample entry says it is ``fourcc`` (``hev1``: HEVC, ``mp4v``:
    MPEG-4 Part 2); its parameters and samples are H.264's still."""
    return edit(data, VIDEO_ENTRY, lambda box: box[:4] + fourcc + box[8:])


# -- the corpus -----------------------------------------------------------------------------


def truncated_half() -> bytes:
    """Half an MP4 (its ``moov`` is in the half that is gone)."""
    data = media_files.film(1.0)
    return data[:len(data) // 2]


def truncated_streamable_half() -> bytes:
    """Half of a fast-start MP4: the header whole, half of the samples it lists."""
    data = faststart(media_files.film(2.0))
    return data[:len(data) // 2]


def header_only() -> bytes:
    """Only the first 64 bytes of an MP4: its ``ftyp`` and the start of its samples."""
    return media_files.film(1.0)[:64]


def moov_missing() -> bytes:
    """An MP4 whose ``moov`` (the index of every sample) is gone."""
    data = media_files.film(1.0)
    return b"".join(data[s:e] for kind, s, e in boxes(data) if kind != b"moov")


def wav_claims_hours(hours: float = 10.0) -> bytes:
    """A WAV of one second whose header says ``hours`` of 16-bit mono at 24 kHz (the
    figures rewritten so that the claimed size fits WAV's 32 bits)."""
    data = bytearray(media_files.sound(1.0, "wav"))
    fmt = data.index(b"fmt ")
    channels, rate, bits = 1, 24000, 16
    struct.pack_into("<HIIHH", data, fmt + 10, channels, rate, rate * channels * bits // 8,
                     channels * bits // 8, bits)
    size = int(hours * 3600 * rate * channels * bits // 8)
    struct.pack_into("<I", data, data.index(b"data") + 4, size)
    struct.pack_into("<I", data, 4, size + data.index(b"data") + 8 - 8)
    return bytes(data)


def mp4_claims_hours(hours: float = 100.0, samples: bool = False) -> bytes:
    """A film of one second whose headers (and, with ``samples``, its table of sample
    times) say it lasts ``hours``."""
    return claims_duration(media_files.film(1.0), hours * 3600, samples)


def sound_claims_less(seconds: float = 10.0, claimed: float = 2.0) -> bytes:
    """An M4A of ``seconds`` of sound whose headers say it lasts ``claimed`` (all but its
    edit list, which would cut it short)."""
    return claims_duration(media_files.sound(seconds, "ipod"), claimed, edits=False)


def huge_size(side: int = 20000) -> bytes:
    """A film of 320 x 240 pictures whose headers and H.264 parameters say ``side`` x
    ``side``."""
    return claims_size(media_files.film(1.0, sound=False), side, side)


def webm_named_mp4() -> bytes:
    """A WebM (VP9, Opus): sent under a name ending in .mp4."""
    return media_files.film(1.0, container="webm", codec="libvpx-vp9")


def other_codec(fourcc: bytes = b"hev1") -> bytes:
    return claims_codec(media_files.film(1.0, sound=False), fourcc)


#: What a polyglot carries after (or before) its media: a page that would run a script.
PAYLOAD = b"<html><body><script>fetch('/api/me/',{credentials:'include'})</script>PAYLOAD-7f3a</body></html>"


def mp4_with_page() -> bytes:
    """A valid MP4 with a web page and its script after it (browsers sniffing it as HTML,
    FFmpeg reading its boxes and skipping the rest)."""
    return media_files.film(1.0) + b"\n" + PAYLOAD


def page_with_mp4() -> bytes:
    """A web page first, a valid MP4 after it."""
    return PAYLOAD + b"\n" + media_files.film(1.0)


def png_zip() -> bytes:
    """A PNG that is also a ZIP archive: an archive appended to a valid picture."""
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("payload.sh", "#!/bin/sh\ntouch /tmp/pwned\n")
        z.writestr("index.html", PAYLOAD)
    return media_files.picture((64, 48)) + archive.getvalue()


def zip_archive() -> bytes:
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("film.mp4", media_files.film(0.5))
    return archive.getvalue()


def shell_script(marker: str) -> bytes:
    return f"#!/bin/sh\ntouch {marker}\n".encode()


def web_page(marker: str) -> bytes:
    return (b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script>"
            + marker.encode() + b"</body></html>")


def svg_with_script() -> bytes:
    return (b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="10" '
            b'height="10"><script>alert(document.domain)</script><rect width="10" height="10"/></svg>')


def hls_playlist(target: str = "file:///etc/passwd") -> bytes:
    """An HLS playlist whose one segment is a local file: FFmpeg's hls demuxer would
    open it (the classic local-file read)."""
    return (f"#EXTM3U\n#EXT-X-MEDIA-SEQUENCE:0\n#EXT-X-TARGETDURATION:1\n#EXTINF:1.0,\n"
            f"{target}\n#EXT-X-ENDLIST\n").encode()


def ffconcat(target: str = "/etc/passwd") -> bytes:
    """A concatenation list naming a local file (FFmpeg's concat demuxer)."""
    return f"ffconcat version 1.0\nfile {target}\n".encode()


def hls_in_avi(target: str = "file:///etc/passwd") -> bytes:
    """The binary form of the playlist attack: an AVI's RIFF header, a playlist inside (a
    sniffer of text sees no text)."""
    playlist = hls_playlist(target)
    body = b"AVI LIST" + struct.pack("<I", len(playlist) + 4) + b"hdrl" + playlist
    return b"RIFF" + struct.pack("<I", len(body)) + body


def random_bytes(size: int = 64 * 1024, seed: int = 7) -> bytes:
    return random.Random(seed).randbytes(size)


def image_sequence() -> bytes:
    """A PNG sent as a video under the name an image-sequence reader expands
    (``frame%03d.png``)."""
    return media_files.picture((64, 48))


def noise_film(seconds: float = 2.5, size=(320, 240), fps: int = 24) -> bytes:
    """A film of random pixels: it compresses hardly at all (an output that is large)."""
    rng = np.random.default_rng(1)
    out_buffer = io.BytesIO()
    with av.open(out_buffer, "w", format="mp4") as out:
        video = out.add_stream("libx264", rate=fps)
        video.width, video.height, video.pix_fmt = size[0], size[1], "yuv420p"
        for i in range(round(seconds * fps)):
            frame = av.VideoFrame.from_ndarray(
                rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8), format="rgb24")
            frame.pts, frame.time_base = i, Fraction(1, fps)
            for packet in video.encode(frame):
                out.mux(packet)
        for packet in video.encode():
            out.mux(packet)
    return out_buffer.getvalue()


def padded_to(data: bytes, size: int) -> bytes:
    """A valid MP4 made ``size`` bytes long with a ``free`` box at its end."""
    pad = max(8, size - len(data))
    return data + struct.pack(">I4s", pad, b"free") + bytes(pad - 8)
