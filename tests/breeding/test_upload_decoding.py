"""Uploaded pictures: what is accepted is decoded once and re-encoded without metadata;
everything else is refused with a sentence saying why. Every file is made here."""

from __future__ import annotations

import hashlib
import io
import random
import struct
import tracemalloc
import warnings
import zlib
from concurrent.futures import ThreadPoolExecutor

import pytest
from PIL import ExifTags, Image, ImageFile
from PIL.PngImagePlugin import PngInfo

from breeding import uploads
from breeding.uploads import UploadRefused, check_files, decode, decode_upload, thumbnail

RED, GREEN, BLUE, WHITE = (255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 255)


def encode(image: Image.Image, fmt: str, **options) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **options)
    return out.getvalue()


def halves(w: int, h: int, left=RED, right=BLUE, mode="RGB") -> Image.Image:
    """Left half one colour, right half another."""
    image = Image.new(mode, (w, h), left)
    image.paste(Image.new(mode, (w - w // 2, h), right), (w // 2, 0))
    return image


def noise(w: int, h: int, seed: int = 0) -> Image.Image:
    return Image.frombytes("RGB", (w, h), random.Random(seed).randbytes(w * h * 3))


def close(a, b, tolerance=12) -> bool:
    return all(abs(x - y) <= tolerance for x, y in zip(a, b, strict=True))


def refused(data: bytes, code: str, **kw) -> UploadRefused:
    with pytest.raises(UploadRefused) as caught:
        decode(data, **kw)
    assert caught.value.code == code, caught.value.message
    assert_sentence(caught.value.message)
    return caught.value


def assert_sentence(message: str) -> None:
    assert message[0].isupper() and message.endswith(".") and len(message.split()) >= 6, message
    assert str(UploadRefused("x", message)) == message


def png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def png_declaring(width: int, height: int) -> bytes:
    """A tiny PNG whose header declares ``width`` × ``height`` (valid CRCs, a few bytes of
    pixel data): a decompression bomb."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 1024)
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", ihdr)
        + png_chunk(b"IDAT", idat)
        + png_chunk(b"IEND", b"")
    )


@pytest.fixture
def no_decoding(monkeypatch):
    """Fails a test that gets as far as decoding pixels."""

    def load(self):
        raise AssertionError("pixels were decoded")

    monkeypatch.setattr(ImageFile.ImageFile, "load", load)


@pytest.fixture
def no_parsing(monkeypatch):
    """Fails a test that gets as far as Pillow's parsing."""

    def open_(*args, **kwargs):
        raise AssertionError("Pillow opened the file")

    monkeypatch.setattr(Image, "open", open_)


# -- accepted pictures ----------------------------------------------------------------


def test_a_jpeg_is_turned_by_its_orientation_and_loses_its_exif_and_gps():
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6  # shown turned 90° clockwise
    exif[ExifTags.Base.Make] = "SecretCam"
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = (52.0, 31.0, 12.0)
    gps[ExifTags.GPS.GPSLongitudeRef] = "E"
    gps[ExifTags.GPS.GPSLongitude] = (13.0, 24.0, 36.0)
    data = encode(halves(64, 32), "JPEG", exif=exif.tobytes(), quality=95)
    source = Image.open(io.BytesIO(data)).getexif()
    assert source.get_ifd(ExifTags.IFD.GPSInfo)  # the test's file does carry GPS

    decoded = decode(data, name="holiday.JPG", content_type="image/jpeg")

    assert (decoded.width, decoded.height) == (32, 64) == decoded.image.size
    assert decoded.image.mode == "RGB" and decoded.source_format == "jpeg"
    assert close(decoded.image.getpixel((16, 4)), RED)  # the left half is now on top
    assert close(decoded.image.getpixel((16, 60)), BLUE)
    kept = Image.open(io.BytesIO(decoded.original))
    assert kept.format == "JPEG" and decoded.original_format == "jpeg"
    assert kept.size == (32, 64) and not kept.getexif()
    assert "exif" not in kept.info and "icc_profile" not in kept.info
    assert b"Exif" not in decoded.original and b"\xff\xe1" not in decoded.original
    assert b"SecretCam" not in decoded.original
    assert decoded.sha256 == hashlib.sha256(decoded.original).hexdigest()
    assert decoded.content_type == "image/jpeg" and decoded.extension == ".jpg"
    assert not decoded.animated


def test_a_png_loses_its_text_and_exif_chunks():
    info = PngInfo()
    info.add_text("Author", "Secret Person")
    exif = Image.Exif()
    exif[ExifTags.Base.Artist] = "Secret Person"
    data = encode(halves(40, 40), "PNG", pnginfo=info, exif=exif.tobytes())
    assert data.count(b"Secret Person") == 2

    decoded = decode(data, name="drawing.png", content_type="image/png")

    assert decoded.original_format == "png" and b"Secret" not in decoded.original
    kept = Image.open(io.BytesIO(decoded.original))
    assert kept.format == "PNG" and not kept.text and not kept.getexif()
    assert kept.tobytes() == halves(40, 40).tobytes()  # lossless


def test_transparency_is_composited_on_white():
    image = Image.new("RGBA", (32, 32), (0, 0, 0, 0))
    image.paste(Image.new("RGBA", (16, 32), (0, 0, 0, 255)), (16, 0))
    image.paste(Image.new("RGBA", (16, 16), (0, 0, 0, 128)), (16, 16))

    decoded = decode(encode(image, "PNG"))

    assert decoded.image.mode == "RGB"
    assert decoded.image.getpixel((4, 4)) == WHITE
    assert decoded.image.getpixel((20, 4)) == (0, 0, 0)
    assert close(decoded.image.getpixel((20, 20)), (127, 127, 127), 2)


def test_the_first_frame_of_an_animated_gif_is_taken():
    frames = [Image.new("RGB", (24, 24), c).convert("P") for c in (RED, GREEN, BLUE)]
    data = encode(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=100)
    assert Image.open(io.BytesIO(data)).n_frames == 3

    decoded = decode(data, name="dance.gif")

    assert decoded.source_format == "gif" and decoded.animated
    assert decoded.image.mode == "RGB" and decoded.image.getpixel((12, 12)) == RED
    assert decoded.original_format == "png"
    assert Image.open(io.BytesIO(decoded.original)).n_frames == 1


def test_the_first_frame_of_an_animated_png_is_taken():
    frames = [Image.new("RGB", (24, 24), c) for c in (GREEN, RED, BLUE)]
    data = encode(frames[0], "PNG", save_all=True, append_images=frames[1:], duration=100)
    assert b"acTL" in data

    decoded = decode(data, name="moving.apng")

    assert decoded.source_format == "png" and decoded.animated
    assert decoded.image.getpixel((12, 12)) == GREEN
    assert b"acTL" not in decoded.original


def test_a_gif_with_a_transparent_colour_is_white_there():
    image = Image.new("P", (20, 20), 1)
    image.putpalette([0, 0, 0, 255, 0, 0] + [0] * 762)
    image.paste(0, (0, 0, 10, 20))
    decoded = decode(encode(image, "GIF", transparency=0))
    assert decoded.image.getpixel((2, 2)) == WHITE
    assert decoded.image.getpixel((15, 2)) == RED
    assert not decoded.animated


def test_the_first_frame_of_an_animated_webp_is_taken():
    frames = [Image.new("RGB", (32, 32), c) for c in (RED, GREEN, BLUE)]
    data = encode(frames[0], "WEBP", save_all=True, append_images=frames[1:], duration=100)

    decoded = decode(data, name="loop.webp", content_type="image/webp")

    assert decoded.source_format == "webp" and decoded.animated
    assert close(decoded.image.getpixel((16, 16)), RED, 20)


@pytest.mark.parametrize(("lossless", "kept"), [(False, "jpeg"), (True, "png")])
def test_a_webp_is_kept_lossless_only_where_it_was(lossless, kept):
    image = halves(48, 32)
    decoded = decode(encode(image, "WEBP", lossless=lossless, quality=90))
    assert decoded.source_format == "webp" and not decoded.animated
    assert decoded.original_format == kept
    assert close(decoded.image.getpixel((4, 16)), RED, 20)
    assert close(decoded.image.getpixel((44, 16)), BLUE, 20)
    if lossless:
        assert decoded.image.tobytes() == image.tobytes()


def test_a_greyscale_jpeg_becomes_grey_rgb():
    image = Image.linear_gradient("L").resize((64, 64))
    decoded = decode(encode(image, "JPEG", quality=95))
    assert decoded.image.mode == "RGB"
    r, g, b = decoded.image.getpixel((32, 32))
    assert r == g == b and 100 < r < 160


def test_a_cmyk_jpeg_becomes_rgb():
    data = encode(Image.new("CMYK", (32, 32), (255, 0, 0, 0)), "JPEG", quality=95)
    assert Image.open(io.BytesIO(data)).mode == "CMYK"
    decoded = decode(data)
    assert decoded.image.mode == "RGB"
    assert close(decoded.image.getpixel((16, 16)), (0, 255, 255))


def test_a_16_bit_png_is_scaled_not_clipped():
    row = b"".join(struct.pack("<H", x * 1040) for x in range(64))  # 0 .. 65520
    image = Image.frombytes("I;16", (64, 32), row * 32)
    data = encode(image, "PNG")
    assert Image.open(io.BytesIO(data)).mode.startswith("I")

    decoded = decode(data)

    assert decoded.image.getpixel((0, 5)) == (0, 0, 0)
    assert close(decoded.image.getpixel((32, 5)), (130, 130, 130), 2)
    assert close(decoded.image.getpixel((63, 5)), (255, 255, 255), 1)


def test_a_palette_png_and_a_one_bit_png_become_rgb():
    palette = halves(32, 32).convert("P")
    assert decode(encode(palette, "PNG")).image.getpixel((2, 2)) == RED
    one_bit = Image.new("1", (32, 32), 1)
    assert decode(encode(one_bit, "PNG")).image.getpixel((2, 2)) == WHITE


def _s15(x: float) -> bytes:
    return struct.pack(">i", round(x * 65536))


def _xyz(x: float, y: float, z: float) -> bytes:
    return b"XYZ " + bytes(4) + _s15(x) + _s15(y) + _s15(z)


def swapped_profile() -> bytes:
    """An ICC profile (v2, matrix and linear curves) whose red is sRGB's blue and whose
    blue is sRGB's red."""
    curve = b"curv" + bytes(4) + struct.pack(">I", 0)
    text = b"red is blue\0"
    desc = b"desc" + bytes(4) + struct.pack(">I", len(text)) + text + bytes(4 + 4 + 2 + 1 + 67)
    tags = [
        (b"desc", desc),
        (b"wtpt", _xyz(0.9642, 1.0, 0.8249)),
        (b"rXYZ", _xyz(0.1431, 0.0606, 0.7141)),
        (b"gXYZ", _xyz(0.3851, 0.7169, 0.0971)),
        (b"bXYZ", _xyz(0.4361, 0.2225, 0.0139)),
        (b"rTRC", curve),
        (b"gTRC", curve),
        (b"bTRC", curve),
    ]
    offset = 128 + 4 + 12 * len(tags)
    table, body = b"", b""
    for sig, data in tags:
        table += sig + struct.pack(">II", offset + len(body), len(data))
        body += data + bytes(-len(data) % 4)
    size = offset + len(body)
    header = (
        struct.pack(">I", size)
        + b"lcms"
        + bytes([2, 0x10, 0, 0])
        + b"mntrRGB XYZ "
        + bytes(12)
        + b"acsp"
        + bytes(4 + 4 + 4 + 4 + 8 + 4)
        + _xyz(0.9642, 1.0, 0.8249)[8:]
        + bytes(4 + 16 + 28)
    )
    assert len(header) == 128
    return header + struct.pack(">I", len(tags)) + table + body


@pytest.mark.parametrize("fmt", ["PNG", "JPEG"])
def test_an_icc_profile_is_converted_to_srgb_and_not_kept(fmt):
    data = encode(Image.new("RGB", (32, 32), RED), fmt, icc_profile=swapped_profile())
    assert Image.open(io.BytesIO(data)).info.get("icc_profile")

    decoded = decode(data)

    assert close(decoded.image.getpixel((16, 16)), BLUE, 20)
    assert "icc_profile" not in Image.open(io.BytesIO(decoded.original)).info
    assert b"red is blue" not in decoded.original


def test_without_littlecms_a_profile_is_dropped(monkeypatch):
    monkeypatch.setattr(uploads, "ImageCms", None)
    data = encode(Image.new("RGB", (32, 32), RED), "PNG", icc_profile=swapped_profile())
    decoded = decode(data)
    assert decoded.image.getpixel((16, 16)) == RED
    assert "icc_profile" not in Image.open(io.BytesIO(decoded.original)).info


def test_a_broken_profile_is_dropped():
    data = encode(Image.new("RGB", (32, 32), RED), "PNG", icc_profile=b"not a profile at all")
    assert decode(data).image.getpixel((16, 16)) == RED


def test_the_limits_themselves_are_accepted():
    assert decode(encode(halves(16, 16), "PNG")).image.size == (16, 16)
    assert decode(encode(halves(320, 16), "PNG")).image.size == (320, 16)  # 20:1
    assert decode(encode(halves(16, 320), "PNG")).image.size == (16, 320)


def test_a_thumbnail_is_a_centred_square():
    image = Image.new("RGB", (300, 100), RED)
    image.paste(Image.new("RGB", (100, 100), BLUE), (100, 0))
    decoded = decode(encode(image, "PNG"))
    thumb = thumbnail(decoded, 64)
    assert thumb.size == (64, 64) and thumb.mode == "RGB"
    assert close(thumb.getpixel((32, 32)), BLUE) and close(thumb.getpixel((2, 2)), BLUE)
    assert thumbnail(Image.new("RGBA", (20, 40)), 8).mode == "RGB"


# -- names are only compared, never used ----------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "../../etc/passwd.png",
        "..\\..\\windows\\system32\\photo.PNG",
        "/absolute/path/photo.png",
        "photo",
        "",
        None,
        "photo.png.",
        "no/extension/here",
    ],
)
def test_a_name_only_counts_for_its_extension(name):
    decoded = decode(encode(halves(32, 32), "PNG"), name=name)
    assert decoded.source_format == "png"
    assert not any(isinstance(value, str) and "passwd" in value for value in vars(decoded).values())


@pytest.mark.parametrize(
    "name", ["../../etc/passwd.jpg", "photo.jpg", "picture.jpeg", "a.gif", "x/y.png\\z.webp",
             "shot.bmp", "x.<script>alert(1)"]
)
def test_a_readable_picture_is_taken_whatever_its_name_says(name):
    decoded = decode(encode(halves(32, 32), "PNG"), name=name, content_type="image/jpeg")
    assert decoded.source_format == "png" and decoded.original_format == "png"


def test_the_declared_content_type_decides_nothing():
    data = encode(halves(32, 32), "PNG")
    for content_type in ("image/jpeg", "image/gif", "application/octet-stream",
                         "image/png; charset=binary", ""):
        assert decode(data, content_type=content_type).source_format == "png"


# -- refused formats ------------------------------------------------------------------

OTHER_FILES = {
    "bmp": lambda: encode(halves(32, 32), "BMP"),
    "tiff": lambda: encode(halves(32, 32), "TIFF"),
    "svg": lambda: b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg"/>\n',
    "pdf": lambda: b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n",
    "heic": lambda: b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + bytes(64),
    "text": lambda: "Just some words, not a picture: ça va ?\n".encode() * 20,
    "html": lambda: b"<!DOCTYPE html><html><body>hi</body></html>",
    "random": lambda: random.Random(7).randbytes(5000),
    "ico": lambda: encode(halves(32, 32), "ICO"),
}


@pytest.mark.parametrize("kind", sorted(OTHER_FILES))
def test_other_formats_are_refused_naming_the_accepted_ones(kind):
    data = OTHER_FILES[kind]()
    error = refused(data, "format", name=f"file.{kind}")
    assert "JPEG, PNG, WebP or GIF picture" in error.message
    # the bytes decide, not the name
    assert refused(data, "format", name="innocent.png").message == error.message


def test_the_refusal_says_what_the_file_is():
    assert refused(OTHER_FILES["bmp"](), "format").message == (
        "This file is a BMP picture, which is not accepted here: upload a JPEG, PNG, WebP or"
        " GIF picture instead."
    )
    assert "text, not a picture" in refused(OTHER_FILES["text"](), "format").message
    assert "SVG drawing" in refused(OTHER_FILES["svg"](), "format").message
    assert "PDF document" in refused(OTHER_FILES["pdf"](), "format").message
    assert "HEIC" in refused(OTHER_FILES["heic"](), "format").message
    assert "TIFF" in refused(OTHER_FILES["tiff"](), "format").message


# -- damaged files --------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP", "GIF"])
def test_a_file_cut_in_half_is_refused_as_damaged(fmt):
    data = encode(noise(128, 128), fmt)
    error = refused(data[: len(data) // 2], "corrupt")
    assert "damaged or incomplete" in error.message


def test_a_png_with_a_bad_checksum_is_refused_as_damaged():
    data = bytearray(encode(noise(64, 64), "PNG"))
    data[len(data) // 2] ^= 0xFF
    refused(bytes(data), "corrupt")


def test_a_header_alone_is_refused_as_damaged():
    refused(b"\xff\xd8\xff\xe0", "corrupt")
    refused(b"\x89PNG\r\n\x1a\n", "corrupt")
    refused(b"GIF89a", "corrupt")
    refused(b"RIFF\x10\x00\x00\x00WEBPVP8 ", "corrupt")


def test_damaged_data_stays_refused_as_pillow_is_left_strict():
    assert ImageFile.LOAD_TRUNCATED_IMAGES is False


# -- sizes ----------------------------------------------------------------------------


def test_a_decompression_bomb_is_refused_from_its_header(no_decoding, no_parsing):
    data = png_declaring(100_000, 100_000)
    tracemalloc.start()
    try:
        error = refused(data, "too-many-pixels")  # neither decoded nor parsed (the fixtures)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 50 * 1024 * 1024
    assert error.message == (
        "This picture is 100000 × 100000 pixels (10,000 megapixels), and a picture may have"
        " at most 50 megapixels: make it smaller and upload it again."
    )


def test_a_bomb_is_refused_by_pillows_size_too(no_decoding, monkeypatch):
    """Where the module's own header reading finds no size, Pillow's is checked before
    anything is decoded: just over the limit, and well under Pillow's own."""
    monkeypatch.setattr(uploads, "header_size", lambda kind, data: None)
    refused(png_declaring(10_000, 5_001), "too-many-pixels")
    refused(png_declaring(100_000, 100_000), "too-many-pixels")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # Pillow's warning, where warnings are errors
        refused(png_declaring(10_000, 10_000), "too-many-pixels")


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(b"GIF89a" + struct.pack("<HH", 65535, 65535) + b"\x00\x00\x00;", id="gif"),
        pytest.param(
            b"RIFF\x1e\x00\x00\x00WEBPVP8X\x0a\x00\x00\x00\x00\x00\x00\x00"
            + (16383).to_bytes(3, "little") * 2,
            id="webp-canvas",
        ),
        pytest.param(
            b"\xff\xd8\xff\xc0\x00\x11\x08" + struct.pack(">HH", 60000, 60000) + bytes(10),
            id="jpeg",
        ),
    ],
)
def test_bombs_of_every_format_are_refused_before_pillow_opens_them(data, no_parsing):
    refused(data, "too-many-pixels")


def test_pictures_decode_side_by_side_in_threads():
    colours = [(i * 30, 255 - i * 30, i * 20) for i in range(8)]
    files = [encode(Image.new("RGB", (64, 48), c), "PNG") for c in colours]
    with ThreadPoolExecutor(max_workers=4) as pool:
        decoded = list(pool.map(decode, files))
    assert [d.image.getpixel((5, 5)) for d in decoded] == colours


def test_pillows_limit_is_left_alone():
    before = Image.MAX_IMAGE_PIXELS
    decode(encode(halves(32, 32), "PNG"))
    with pytest.raises(UploadRefused):
        decode(png_declaring(100_000, 100_000))
    assert Image.MAX_IMAGE_PIXELS == before


def test_a_body_over_20_mb_is_refused_before_parsing(no_parsing, monkeypatch):
    def sniff(data):
        raise AssertionError("the bytes were looked at")

    monkeypatch.setattr(uploads, "sniff", sniff)
    data = b"\x89PNG\r\n\x1a\n" + bytes(20 * 1024 * 1024 + 1 - 8)
    error = refused(data, "too-large")
    assert error.message == (
        "This file is 20.1 MB, and a picture may be at most 20 MB: make it smaller and upload"
        " it again."
    )


def test_an_empty_body_is_refused():
    error = refused(b"", "empty")
    assert error.message == "The file is empty: choose a picture and upload it again."


@pytest.mark.parametrize(
    ("size", "code"),
    [
        ((1, 2000), "aspect"),
        ((2000, 1), "aspect"),
        ((336, 16), "aspect"),  # 21:1
        ((8, 8), "too-small"),
        ((15, 100), "too-small"),
        ((16, 15), "too-small"),
    ],
)
def test_absurd_sides_are_refused(size, code):
    error = refused(encode(Image.new("RGB", size, RED), "PNG"), code)
    assert f"{size[0]} × {size[1]} pixels" in error.message


def test_the_side_messages():
    assert refused(encode(Image.new("RGB", (1, 2000)), "PNG"), "aspect").message == (
        "This picture is 1 × 2000 pixels, too long and thin: its long side may be at most 20"
        " times its short side."
    )
    assert refused(encode(Image.new("RGB", (8, 8)), "PNG"), "too-small").message == (
        "This picture is 8 × 8 pixels, and a picture must be at least 16 pixels on each side."
    )


def test_a_side_of_zero_is_refused():
    refused(png_declaring(0, 100), "too-small")
    refused(png_declaring(100, 0), "too-small")


# -- the files of a request -----------------------------------------------------------


class Upload:
    """An uploaded file as a web framework hands it over."""

    def __init__(self, data: bytes, name="photo.png", content_type="image/png", size=None):
        self._file = io.BytesIO(data)
        self.name, self.content_type = name, content_type
        self.size = len(data) if size is None else size

    def read(self, n=-1):
        return self._file.read(n)

    def seek(self, position):
        self._file.seek(position)


def test_one_file_is_taken_from_a_list():
    one = Upload(encode(halves(32, 32), "PNG"))
    assert check_files([one]) is one
    decoded = decode_upload([one])
    assert decoded.source_format == "png" and decoded.image.size == (32, 32)


def test_several_files_are_refused():
    files = [Upload(encode(halves(32, 32), "PNG")) for _ in range(3)]
    with pytest.raises(UploadRefused) as caught:
        check_files(files)
    assert caught.value.code == "multiple"
    assert caught.value.message == (
        "Only one picture can be uploaded at a time, and 3 files were sent."
    )
    with pytest.raises(UploadRefused, match="Only one picture"):
        decode_upload(files)


@pytest.mark.parametrize("files", [[], None, [None]])
def test_no_file_is_refused(files):
    with pytest.raises(UploadRefused) as caught:
        check_files(files)
    assert caught.value.code == "empty"
    assert_sentence(caught.value.message)


def test_a_file_too_large_by_its_size_is_not_read():
    class Huge(Upload):
        def read(self, n=-1):
            raise AssertionError("read")

    with pytest.raises(UploadRefused) as caught:
        check_files([Huge(b"x", size=10**9)])
    assert caught.value.code == "too-large"


def test_a_body_longer_than_it_said_is_read_only_up_to_the_limit(monkeypatch):
    monkeypatch.setattr(uploads, "MAX_BYTES", 1000)
    upload = Upload(bytes(5000), size=10)
    with pytest.raises(UploadRefused) as caught:
        decode_upload([upload])
    assert caught.value.code == "too-large"
    assert upload._file.tell() == 1001


def test_an_upload_named_for_another_format_is_taken_by_its_bytes():
    decoded = decode_upload([Upload(encode(halves(32, 32), "PNG"), name="cat.jpg",
                                    content_type="image/jpeg")])
    assert decoded.source_format == "png"
