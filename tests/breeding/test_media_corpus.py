"""Bad media files, sent as an attacker would: each through the real API
(``POST /api/media/`` as a signed-in artist) and, when it passes the first check, through
its job (``breeding.media.run``). Every one ends in one of three ways: refused at the
request with a sentence a person understands, a job that fails with such a sentence, or a
clean re-encode (H.264/AAC or AAC, nothing of what was appended carried over). None leaves
a file behind, runs a command, or writes past its limits.

The files are made by ``tests.media_corpus`` from the real small films of
``tests.media_files``; nothing is downloaded.
"""

from __future__ import annotations

import io
import os
import tempfile
import time
from pathlib import Path

import av
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from breeding import media
from breeding.jobs import scratch_of, scratch_root
from breeding.models import MediaWork
from common import transcode
from tests import media_corpus as corpus
from tests import media_files

pytestmark = pytest.mark.django_db

#: What a sentence for a person never holds: a traceback, an error's name, FFmpeg's words.
JARGON = ("traceback", "error:", "errno", "exception", "avcodec", "avformat", "ffmpeg",
          "demux", "moov", "invalid data", "nal unit", "sps", 'file "', "/tmp", "/work",
          "none", "refusal", "too-")


@pytest.fixture
def marker(tmp_path) -> Path:
    """A file a command hidden in an upload would make: it must never exist."""
    path = tmp_path / "pwned"
    yield path
    assert not path.exists(), "a command hidden in an upload ran"


@pytest.fixture(autouse=True)
def _own_temp(tmp_path, monkeypatch) -> Path:
    """The request's temporary folders go to a folder of the test's own, to be seen empty."""
    folder = tmp_path / "tmp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


def send(client, kind: str, data: bytes, name: str = "upload.bin"):
    return client.post("/api/media/", {"kind": kind, "title": "Corpus",
                                       "file": SimpleUploadedFile(name, data)}, format="multipart")


def readable(sentence: str, *words: str) -> None:
    """A sentence for a person: capitalised, ended, with ``words``, and no jargon."""
    assert sentence and sentence[0].isupper() and sentence.rstrip().endswith("."), sentence
    lowered = sentence.lower()
    for jargon in JARGON:
        assert jargon not in lowered, f"{jargon!r} in {sentence!r}"
    for word in words:
        assert word.lower() in lowered, f"{word!r} not in {sentence!r}"


def files_under(folder) -> list[str]:
    return [os.path.join(root, name) for root, _dirs, names in os.walk(folder) for name in names]


def nothing_left(settings, temp: Path) -> None:
    """No stored file, no temporary folder and no job scratch remain."""
    assert files_under(settings.MEDIA_ROOT) == []
    assert list(temp.iterdir()) == []
    assert files_under(scratch_root()) == []


def refused_at_request(client, settings, temp, kind, data, *words, name="upload.bin", status=400) -> str:
    answer = send(client, kind, data, name)
    assert answer.status_code == status, answer.content[:300]
    body = answer.content.decode().lower()
    assert not any(jargon in body for jargon in ("traceback", "errno", "ffmpeg", "avcodec")), body
    sentence = answer.json()["error"]
    readable(sentence, *words)
    assert not MediaWork.objects.exists()
    nothing_left(settings, temp)
    return sentence


def queued(client, kind, data, name="upload.bin") -> MediaWork:
    answer = send(client, kind, data, name)
    assert answer.status_code == 202, answer.json()
    return MediaWork.objects.get(public_id=answer.json()["id"])


def failed_in_job(client, settings, temp, kind, data, *words) -> MediaWork:
    job = queued(client, kind, data)
    assert media.run(job.pk) is None
    job.refresh_from_db()
    assert job.status == MediaWork.Status.FAILED and job.creation_id is None
    readable(job.error, *words)
    assert not job.source and not job.file
    assert not scratch_of(MediaWork, job.pk).exists()
    nothing_left(settings, temp)
    return job


def reencoded(client, temp, kind, data, name="upload.bin") -> tuple[MediaWork, bytes]:
    job = queued(client, kind, data, name)
    assert media.run(job.pk) is not None
    job.refresh_from_db()
    assert job.status == MediaWork.Status.DONE and job.creation_id is not None
    assert not job.source  # the file as it came is gone
    assert not scratch_of(MediaWork, job.pk).exists() and list(temp.iterdir()) == []
    with job.file.open("rb") as f:
        out = f.read()
    with av.open(io.BytesIO(out)) as played:
        codecs = [s.codec_context.codec.canonical_name for s in played.streams]
        assert played.format.name.startswith("mov,mp4")
    assert codecs == (["h264", "aac"] if kind == "video" else ["aac"]), codecs
    assert b"<script" not in out and b"PAYLOAD-7f3a" not in out
    return job, out


# -- refused at the request, from the first bytes or the header -----------------------------

AT_REQUEST = {
    # name: (kind, file, words of the sentence)
    "half an mp4 (its index gone)": ("video", corpus.truncated_half, ["not a video Mendel can read"]),
    "only the first bytes of an mp4": ("video", corpus.header_only, ["not a video Mendel can read"]),
    "an mp4 without moov": ("video", corpus.moov_missing, ["not a video Mendel can read"]),
    "an mp4 whose sample times say 100 hours": (
        "video", lambda: corpus.mp4_claims_hours(100, samples=True), ["100 hours", "at most 10 minutes"]),
    "H.264 claiming 20000 x 20000 (SPS and headers)": (
        "video", corpus.huge_size, ["not a video Mendel can read"]),
    "H.264 claiming 8000 x 8000 (SPS and headers)": (
        "video", lambda: corpus.huge_size(8000), ["8000 × 8000", "at most 3840 × 2160"]),
    "H.264 in a sample entry saying mp4v": (
        "video", lambda: corpus.other_codec(b"mp4v"), ["not a video Mendel can read"]),
    # not text to the sniffer (binary follows within its 4 KB), not a film to FFmpeg
    "a web page with an mp4 after it": ("video", corpus.page_with_mp4, ["not a video Mendel can read"]),
    "a zip archive": ("video", corpus.zip_archive, ["ZIP archive", "not a video"]),
    "an svg with a script": ("video", corpus.svg_with_script, ["SVG drawing", "not a video"]),
    "an hls playlist of /etc/passwd": ("video", corpus.hls_playlist, ["a text file", "not a video"]),
    "an hls playlist of /etc/passwd, as a sound": ("sound", corpus.hls_playlist, ["a text file", "not a sound"]),
    "an ffconcat list of /etc/passwd": ("video", corpus.ffconcat, ["a text file", "not a video"]),
    "an ffconcat list of /etc/passwd, as a sound": ("sound", corpus.ffconcat, ["a text file", "not a sound"]),
    "an hls playlist in an avi header": ("video", corpus.hls_in_avi, ["not a video Mendel can read"]),
    "random bytes": ("video", corpus.random_bytes, ["not a video Mendel can read"]),
    "random bytes, as a sound": ("sound", corpus.random_bytes, ["not a sound Mendel can read"]),
    "a png that is also a zip, as a video": ("video", corpus.png_zip, ["a picture", "not a video"]),
    "nothing": ("video", lambda: b"", ["empty"]),
}


@pytest.mark.parametrize("case", list(AT_REQUEST))
def test_refused_at_the_request_with_a_sentence(case, as_alice, settings, _own_temp, marker):
    kind, make, words = AT_REQUEST[case]
    refused_at_request(as_alice, settings, _own_temp, kind, make(), *words, name="film.mp4")


def test_a_shell_script_and_a_web_page_are_refused_and_never_run(as_alice, settings, _own_temp, marker):
    refused_at_request(as_alice, settings, _own_temp, "video", corpus.shell_script(str(marker)),
                       "a text file", "not a video", name="film.mp4")
    refused_at_request(as_alice, settings, _own_temp, "sound", corpus.shell_script(str(marker)),
                       "a text file", "not a sound", name="run.sh")
    refused_at_request(as_alice, settings, _own_temp, "sound", corpus.web_page(str(marker)),
                       "web page", "not a sound", name="song.mp3")


def test_an_image_sequence_name_changes_nothing(as_alice, settings, _own_temp, marker):
    # FFmpeg's image2 reader would expand frame%03d.png to frame001.png, frame002.png...: the
    # file is kept as "source", and its bytes say a picture.
    refused_at_request(as_alice, settings, _own_temp, "video", corpus.image_sequence(),
                       "a picture", "not a video", name="frame%03d.png")


def test_a_sound_longer_than_its_limit_is_refused_from_its_header(as_alice, settings, _own_temp):
    settings.MEDIA_SOUND_MAX_S = 5
    refused_at_request(as_alice, settings, _own_temp, "sound", media_files.sound(10.0, "ipod"),
                       "lasts 10 seconds", "at most 5 seconds")


def test_a_video_larger_than_its_limit_is_refused_before_it_is_read(as_alice, settings, _own_temp):
    settings.MEDIA_VIDEO_MAX_MB = 1
    big = corpus.padded_to(media_files.film(0.5), 2**20 + 4096)
    refused_at_request(as_alice, settings, _own_temp, "video", big, "MB", "at most 1 MB", status=413)


# -- through the job: a clean re-encode or a failure with a sentence --------------------------


def test_a_webm_named_mp4_is_read_by_its_bytes_and_reencoded(as_alice, _own_temp, marker):
    job, _out = reencoded(as_alice, _own_temp, "video", corpus.webm_named_mp4(), name="film.mp4")
    assert job.source_format.startswith("matroska") and (job.width, job.height) == (320, 240)


def test_a_page_after_an_mp4_is_not_carried_into_the_reencode(as_alice, _own_temp, marker):
    job, out = reencoded(as_alice, _own_temp, "video", corpus.mp4_with_page(), name="film.html")
    assert b"</html>" not in out and b"fetch(" not in out
    assert abs(job.duration_s - 1.0) < 0.1


def test_headers_that_say_100_hours_are_not_believed(as_alice, _own_temp):
    # mvhd, tkhd, mdhd and the edit list say 100 hours; the table of sample times says 1 s,
    # and that is what FFmpeg (and so Mendel) goes by.
    job, _out = reencoded(as_alice, _own_temp, "video", corpus.mp4_claims_hours(100))
    assert abs(job.duration_s - 1.0) < 0.1


def test_a_track_header_that_says_20000_pixels_is_not_believed(as_alice, _own_temp):
    data = corpus.claims_size(media_files.film(1.0), 20000, 20000, sps=False)
    job, _out = reencoded(as_alice, _own_temp, "video", data)
    assert (job.width, job.height) == (320, 240)  # what the H.264 parameters say


def test_a_wav_that_says_10_hours_is_as_long_as_its_bytes(as_alice, _own_temp):
    job, _out = reencoded(as_alice, _own_temp, "sound", corpus.wav_claims_hours(10))
    # One second of 48 kHz stereo read as 24 kHz mono, as its rewritten header says: 4 s.
    assert 3.5 < job.duration_s < 4.5


def test_a_png_that_is_also_a_zip_is_a_picture_reencoded_without_its_archive(as_alice, settings, marker):
    answer = send(as_alice, "picture", corpus.png_zip(), "picture.png")
    assert answer.status_code == 201, answer.json()
    job = MediaWork.objects.get(public_id=answer.json()["id"])
    assert (job.width, job.height) == (64, 48)
    for path in files_under(settings.MEDIA_ROOT):
        stored = Path(path).read_bytes()
        assert b"PK\x03\x04" not in stored and b"pwned" not in stored and b"<script" not in stored


def test_a_stream_cut_in_half_fails_in_its_job(as_alice, settings, _own_temp):
    # Fast start: the header is whole and lists samples the file no longer has.
    failed_in_job(as_alice, settings, _own_temp, "video", corpus.truncated_streamable_half(),
                  "damaged", "export it again")


def test_h264_claiming_to_be_hevc_fails_in_its_job(as_alice, settings, _own_temp):
    failed_in_job(as_alice, settings, _own_temp, "video", corpus.other_codec(b"hev1"), "damaged")


def test_a_sound_longer_than_its_header_says_is_stopped_while_decoding(as_alice, settings, _own_temp):
    settings.MEDIA_SOUND_MAX_S = 5
    # 10 s of sound whose headers say 2: it passes the request, and decoding finds it out.
    failed_in_job(as_alice, settings, _own_temp, "sound", corpus.sound_claims_less(10.0, 2.0),
                  "at most 5 seconds")


# -- FFmpeg's own readers of other files, at the second wall ---------------------------------


def test_playlists_and_lists_never_open_the_files_they_name(tmp_path):
    """Past the sniffing of text: FFmpeg opens these files with no playlist, list or image
    sequence reader, so the film they name (a real one, here) is never read."""
    film = tmp_path / "film.mp4"
    film.write_bytes(media_files.film(0.5))
    playlist = tmp_path / "list.m3u8"
    playlist.write_bytes(corpus.hls_playlist(f"file://{film}"))
    try:  # the attack is real: FFmpeg, asked plainly, follows the playlist to the film
        with av.open(str(playlist)) as followed:
            assert followed.format.name == "hls" and followed.streams.video
    except av.error.FFmpegError:
        pass  # a build of FFmpeg without the hls reader: nothing to follow
    attacks = {"list.m3u8": corpus.hls_playlist(f"file://{film}"),
               "list.ffconcat": corpus.ffconcat("film.mp4"),
               "passwd.m3u8": corpus.hls_playlist(), "passwd.txt": corpus.ffconcat(),
               "avi": corpus.hls_in_avi(f"file://{film}"), "frame%03d.png": media_files.picture()}
    for name, data in attacks.items():
        path = tmp_path / name
        path.write_bytes(data)
        with pytest.raises(transcode.Refusal) as refused:
            transcode.probe(str(path))
        assert refused.value.code == "unreadable", name
        with pytest.raises(transcode.Refusal):
            transcode.transcode(str(path), str(tmp_path / "out.mp4"), str(tmp_path / "p.png"))
    assert not (tmp_path / "out.mp4").exists()  # refused before anything was written


# -- the child's limits ----------------------------------------------------------------------


def test_a_transcode_out_of_memory_fails_with_a_sentence(as_alice, settings, _own_temp):
    job = queued(as_alice, "sound", media_files.sound(1.0, "mp3"))
    settings.MEDIA_TRANSCODE_MEMORY_MB = 64  # not enough for the child to load FFmpeg
    assert media.run(job.pk) is None
    job.refresh_from_db()
    assert job.status == MediaWork.Status.FAILED
    readable(job.error, "within its limits")
    assert not job.source and not scratch_of(MediaWork, job.pk).exists()
    nothing_left(settings, _own_temp)


def test_a_probe_out_of_memory_is_refused_with_a_sentence(as_alice, settings, _own_temp):
    settings.MEDIA_TRANSCODE_MEMORY_MB = 64
    refused_at_request(as_alice, settings, _own_temp, "sound", media_files.sound(1.0),
                       "within its limits")


def test_a_child_past_its_time_is_killed_and_reported(tmp_path, settings):
    source = tmp_path / "film.mp4"
    source.write_bytes(media_files.film(2.0))
    started = time.monotonic()
    found = media.run_child({"do": "transcode", "path": str(source), "out": str(tmp_path / "o.mp4"),
                             "poster": str(tmp_path / "p.png"), "kind": "video"}, timeout_s=0.05)
    assert time.monotonic() - started < 10
    assert found == {"refusal": "too-slow"}
    readable(media.refusal_of(found, "video"), "within its limits")


def test_a_child_cannot_write_past_its_file_limit(tmp_path, settings):
    source = tmp_path / "noise.mp4"
    source.write_bytes(corpus.noise_film(2.5))
    out = tmp_path / "o.mp4"
    found = media.run_child({"do": "transcode", "path": str(source), "out": str(out),
                             "poster": str(tmp_path / "p.png"), "kind": "video", "file_mb": 1})
    assert "result" not in found
    assert out.stat().st_size <= 2**20
    readable(media.refusal_of(found, "video"), "within its limits")
