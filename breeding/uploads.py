"""Pictures people upload: checked, decoded once and re-encoded, or refused with a sentence.

Accepted: JPEG, PNG (an animated PNG gives its first frame), WebP (an animated one gives its
first frame) and GIF (its first frame), at most ``MAX_BYTES`` (20 MB) and ``MAX_PIXELS``
(50 megapixels), each side at least ``MIN_SIDE`` (16) pixels and the long side at most
``MAX_ASPECT`` (20) times the short one. Anything else raises :class:`UploadRefused`, whose
``message`` is a sentence for the person who sent the file and whose ``code`` says why:

==================  ===========================================================
``empty``           no file was sent, or the file has no bytes
``multiple``        more than one file was sent
``too-large``       more than ``MAX_BYTES`` bytes (refused before any parsing)
``format``          not one of the accepted formats (BMP, TIFF, SVG, PDF, HEIC,
                    text, ...): the message names the accepted ones
``corrupt``         damaged or cut short (truncated data, bad checksums, ...)
``too-many-pixels`` more than ``MAX_PIXELS`` pixels, refused from the header
                    before any pixel is decoded (a decompression bomb)
``aspect``          the long side is more than ``MAX_ASPECT`` times the short one
``too-small``       a side of fewer than ``MIN_SIDE`` pixels (or of none)
==================  ===========================================================

The API::

    check_files(files) -> file                  # the one uploaded file of a list
    read_limited(file, max_bytes=MAX_BYTES) -> bytes
    decode(data, name=None, content_type=None, *, max_bytes=..., max_pixels=...) -> Decoded
    decode_upload(files, *, max_bytes=..., max_pixels=...) -> Decoded   # the three above
    thumbnail(decoded_or_image, side) -> PIL.Image.Image  # RGB, square, centre-cropped

:class:`Decoded` holds the picture as an RGB ``image`` (EXIF orientation applied, an
embedded ICC profile converted to sRGB, transparency composited on **white**), its
``width`` and ``height``, the ``source_format`` (``"jpeg"``, ``"png"``, ``"webp"`` or
``"gif"``), whether the source was ``animated`` (only the first frame is ever decoded),
and ``original``: the picture re-encoded with no metadata at all (no EXIF, GPS, XMP, ICC
or text chunks) -- JPEG at quality 95 for JPEG and lossy WebP sources, PNG for PNG, GIF
and lossless WebP sources (``original_format``; ``content_type`` and ``extension`` follow
from it) -- with its ``sha256``. Keep ``original``, never the uploaded bytes.

Names are never trusted: the module never builds a path from one, and neither the name
nor the declared content type decides anything: the format is decided by the bytes alone
(a readable PNG named ``.jpg`` is a PNG, and nothing is said about its name).

Limits are checked from the header before anything is decoded: the module's own header
reading for the four formats first, then Pillow's ``im.size`` after ``Image.open`` (which
reads headers only), before ``load()``. Nothing here changes Pillow's globals
(``Image.MAX_IMAGE_PIXELS``, ``ImageFile.LOAD_TRUNCATED_IMAGES``, which must stay False
for damaged files to be refused) or the warning filters, so decoding is safe from several
threads at once. Pillow's own decompression bomb refusal (an error, or its warning where
warnings are errors) is answered as ``too-many-pixels`` too.

The sentences are in the active language (the asker's, or a job's owner's), through
``common.words``: a training run outside the site (``python -m breeding.trainsets``) reads
folders with these rules too, and says them in English.
"""

from __future__ import annotations

import hashlib
import io
import math
import struct
import zlib
from dataclasses import dataclass

from PIL import Image, ImageOps

from common.words import gettext as _
from common.words import gettext_lazy, ngettext

try:
    from PIL import ImageCms
except ImportError:  # Pillow built without LittleCMS: embedded profiles are dropped
    ImageCms = None

MAX_BYTES = 20 * 1024 * 1024
MAX_PIXELS = 50_000_000
MIN_SIDE = 16
MAX_ASPECT = 20

#: The accepted formats: our name -> Pillow's.
FORMATS = {"jpeg": "JPEG", "png": "PNG", "webp": "WEBP", "gif": "GIF"}
LABELS = {"jpeg": "JPEG", "png": "PNG", "webp": "WebP", "gif": "GIF"}
#: Transparency is composited on this (white, as a page would show the picture).
BACKGROUND = (255, 255, 255)
JPEG_QUALITY = 95
PNG_COMPRESS_LEVEL = 6

MB = 1024 * 1024


class UploadRefused(ValueError):
    """An upload that is not accepted: ``message`` is a sentence for a person, ``code`` a
    short word for programs (see the module's table)."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Decoded:
    image: Image.Image  # RGB, orientation applied, sRGB, no transparency
    width: int
    height: int
    source_format: str  # "jpeg" | "png" | "webp" | "gif"
    original: bytes  # the re-encoded picture, with no metadata
    original_format: str  # "jpeg" | "png"
    sha256: str  # of ``original``
    animated: bool  # the source had several frames; the first was taken

    @property
    def content_type(self) -> str:
        return f"image/{self.original_format}"

    @property
    def extension(self) -> str:
        return ".jpg" if self.original_format == "jpeg" else ".png"


# -- the files of a request -----------------------------------------------------------


def check_files(files) -> object:
    """The one file of a list of uploaded files (Django's ``request.FILES.getlist(...)``,
    or all of ``request.FILES``' files): refused when there is none or several, or when
    the file says it is empty or too large (its ``size``, without reading it)."""
    files = [f for f in (files or []) if f is not None]
    if not files:
        raise UploadRefused("empty", _("No picture was sent: choose one picture to upload."))
    if len(files) > 1:
        raise UploadRefused(
            "multiple",
            ngettext("Only one picture can be uploaded at a time, and %(count)d file was sent.",
                     "Only one picture can be uploaded at a time, and %(count)d files were sent.",
                     len(files)) % {"count": len(files)},
        )
    size = getattr(files[0], "size", None)
    if isinstance(size, int):
        _check_length(size, MAX_BYTES)
    return files[0]


def read_limited(file, max_bytes: int | None = None) -> bytes:
    """Reads a file-like object, refusing it as soon as it is longer than ``max_bytes``
    (so an oversized body is never read whole)."""
    max_bytes = MAX_BYTES if max_bytes is None else max_bytes
    if hasattr(file, "seek"):
        try:
            file.seek(0)
        except (OSError, ValueError):
            pass
    data = file.read(max_bytes + 1)
    _check_length(len(data), max_bytes)
    return data


def decode_upload(files, *, max_bytes: int | None = None, max_pixels: int | None = None):
    """:func:`check_files`, :func:`read_limited` and :func:`decode` in one: the
    :class:`Decoded` picture of a request's uploaded files."""
    file = check_files(files)
    data = read_limited(file, max_bytes)
    return decode(
        data,
        name=getattr(file, "name", None),
        content_type=getattr(file, "content_type", None),
        max_bytes=max_bytes,
        max_pixels=max_pixels,
    )


# -- decoding -------------------------------------------------------------------------


def decode(
    data: bytes,
    name: str | None = None,
    content_type: str | None = None,
    *,
    max_bytes: int | None = None,
    max_pixels: int | None = None,
) -> Decoded:
    """The picture in ``data``, checked, decoded (first frame only) and re-encoded; raises
    :class:`UploadRefused`. ``name`` and ``content_type`` (as the client sent them) are
    ignored: what the bytes are decides."""
    max_bytes = MAX_BYTES if max_bytes is None else max_bytes
    max_pixels = MAX_PIXELS if max_pixels is None else max_pixels
    data = bytes(data)
    _check_length(len(data), max_bytes)

    kind = sniff(data)
    if kind not in FORMATS:
        raise UploadRefused("format", _format_message(kind))

    declared = header_size(kind, data)
    if declared is not None:
        _check_size(*declared, max_pixels)

    image, animated = _load(kind, data, max_pixels)
    rgb = _to_srgb(image)
    rgb.info = {}  # nothing of the source's metadata goes on
    original_format = _original_format(kind, data)
    original = _encode(rgb, original_format)
    return Decoded(
        image=rgb,
        width=rgb.width,
        height=rgb.height,
        source_format=kind,
        original=original,
        original_format=original_format,
        sha256=hashlib.sha256(original).hexdigest(),
        animated=animated,
    )


def thumbnail(picture: Decoded | Image.Image, side: int) -> Image.Image:
    """An RGB square of ``side`` pixels: the picture scaled to cover it, centre-cropped."""
    image = picture.image if isinstance(picture, Decoded) else picture
    if image.mode != "RGB":
        image = image.convert("RGB")
    w, h = image.size
    short = min(w, h)
    box = ((w - short) / 2, (h - short) / 2, (w + short) / 2, (h + short) / 2)
    return image.resize((side, side), Image.Resampling.LANCZOS, box=box, reducing_gap=3.0)


# -- what the bytes are ---------------------------------------------------------------

_HEIF_BRANDS = {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1"}
#: What a file of another kind is, as "This file is ..., which is not accepted here" says it.
_OTHER_NAMES = {
    "bmp": gettext_lazy("a BMP picture"),
    "tiff": gettext_lazy("a TIFF picture (or a camera's raw file)"),
    "pdf": gettext_lazy("a PDF document"),
    "svg": gettext_lazy("an SVG drawing"),
    "html": gettext_lazy("a web page"),
    "heic": gettext_lazy("a HEIC picture (as iPhones save them)"),
    "avif": gettext_lazy("an AVIF picture"),
    "jxl": gettext_lazy("a JPEG XL picture"),
    "jp2": gettext_lazy("a JPEG 2000 picture"),
    "ico": gettext_lazy("an icon file"),
    "psd": gettext_lazy("a Photoshop document"),
    "qoi": gettext_lazy("a QOI picture"),
    "video": gettext_lazy("a video"),
    "riff": gettext_lazy("an audio or video file"),
    "zip": gettext_lazy("a ZIP archive (or an office document)"),
    "gzip": gettext_lazy("a compressed archive"),
}


def sniff(data: bytes) -> str:
    """What the bytes are, from their first bytes: one of ``FORMATS``, a name of
    ``_OTHER_NAMES``, ``"text"`` or ``"unknown"``."""
    head = data[:32]
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "gif"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    if head[:4] == b"RIFF":
        return "riff"
    if head.startswith(b"BM"):
        return "bmp"
    if head.startswith((b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+")):
        return "tiff"
    if head.startswith(b"%PDF"):
        return "pdf"
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand in _HEIF_BRANDS:
            return "heic"
        if brand in (b"avif", b"avis"):
            return "avif"
        return "video"
    if head.startswith((b"\xff\x0a", b"\x00\x00\x00\x0cJXL ")):
        return "jxl"
    if head.startswith(b"\x00\x00\x00\x0cjP  ") or head.startswith(b"\xff\x4f\xff\x51"):
        return "jp2"
    if head.startswith((b"\x00\x00\x01\x00", b"\x00\x00\x02\x00")):
        return "ico"
    if head.startswith(b"8BPS"):
        return "psd"
    if head.startswith(b"qoif"):
        return "qoi"
    if head.startswith(b"PK\x03\x04"):
        return "zip"
    if head.startswith(b"\x1f\x8b"):
        return "gzip"
    text = _as_text(data[:4096])
    if text is not None:
        lowered = text.lstrip("\ufeff \t\r\n").lower()
        if "<svg" in lowered:
            return "svg"
        if lowered.startswith(("<!doctype html", "<html")):
            return "html"
        return "text"
    return "unknown"


def _as_text(head: bytes) -> str | None:
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError as error:  # a character cut at the end of the sample
        if error.start < len(head) - 4:
            return None
        text = head[: error.start].decode("utf-8")
    if not text:
        return None
    printable = sum(1 for c in text if c.isprintable() or c in "\t\r\n")
    return text if printable >= 0.95 * len(text) else None


def _format_message(kind: str) -> str:
    """Why a file of ``kind`` is refused, naming the formats that are accepted."""
    if kind == "text":
        return _("This file is text, not a picture: upload a JPEG, PNG, WebP or GIF picture "
                 "instead.")
    if kind == "unknown":
        return _("This file is not a picture that can be read here: upload a JPEG, PNG, WebP or "
                 "GIF picture instead.")
    what = str(_OTHER_NAMES.get(kind) or _("a kind of file"))
    if kind in ("heic", "avif"):
        return _("This file is %(what)s, which is not accepted here: upload a JPEG, PNG, WebP or "
                 "GIF picture instead (most phones can share a photo as JPEG).") % {"what": what}
    return _("This file is %(what)s, which is not accepted here: upload a JPEG, PNG, WebP or GIF "
             "picture instead.") % {"what": what}


# -- sizes ----------------------------------------------------------------------------


def _check_length(length: int, max_bytes: int) -> None:
    if length <= 0:
        raise UploadRefused("empty", _("The file is empty: choose a picture and upload it again."))
    if length > max_bytes:
        size = math.ceil(length * 10 / MB) / 10
        limit = (_("%(size)s MB") % {"size": f"{max_bytes / MB:g}"} if max_bytes >= MB else
                 ngettext("%(count)d byte", "%(count)d bytes", max_bytes) % {"count": max_bytes})
        raise UploadRefused(
            "too-large",
            _("This file is %(size)s MB, and a picture may be at most %(limit)s: make it smaller "
              "and upload it again.") % {"size": f"{size:g}", "limit": limit},
        )


def _check_size(width: int, height: int, max_pixels: int) -> None:
    if width <= 0 or height <= 0:
        raise UploadRefused(
            "too-small",
            _("This picture says it is %(width)d × %(height)d pixels, which has no pixels at "
              "all.") % {"width": width, "height": height},
        )
    if width * height > max_pixels:
        raise UploadRefused(
            "too-many-pixels",
            _("This picture is %(width)d × %(height)d pixels (%(megapixels)s megapixels), and a "
              "picture may have at most %(most)s megapixels: make it smaller and upload it "
              "again.") % {"width": width, "height": height,
                           "megapixels": _megapixels(width * height),
                           "most": _megapixels(max_pixels)},
        )
    if max(width, height) > MAX_ASPECT * min(width, height):
        raise UploadRefused(
            "aspect",
            _("This picture is %(width)d × %(height)d pixels, too long and thin: its long side "
              "may be at most %(times)d times its short side.")
            % {"width": width, "height": height, "times": MAX_ASPECT},
        )
    if min(width, height) < MIN_SIDE:
        raise UploadRefused(
            "too-small",
            _("This picture is %(width)d × %(height)d pixels, and a picture must be at least "
              "%(side)d pixels on each side.") % {"width": width, "height": height, "side": MIN_SIDE},
        )


def _megapixels(pixels: int) -> str:
    mp = pixels / 1_000_000
    return f"{mp:,.0f}" if mp >= 10 else f"{mp:.1f}".removesuffix(".0")


_SOF = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}


def header_size(kind: str, data: bytes) -> tuple[int, int] | None:
    """The width and height the header of ``data`` declares, read without Pillow (so that
    nothing is allocated for them), or None where it cannot be read here; Pillow's reading
    is checked again before decoding."""
    try:
        if kind == "png":
            if data[12:16] == b"IHDR":
                return struct.unpack(">II", data[16:24])
        elif kind == "gif":
            return struct.unpack("<HH", data[6:10])
        elif kind == "webp":
            chunk = data[12:16]
            if chunk == b"VP8X":  # the canvas, of every frame
                w = int.from_bytes(data[24:27], "little") + 1
                h = int.from_bytes(data[27:30], "little") + 1
                return w, h
            if chunk == b"VP8L" and data[20] == 0x2F:
                bits = int.from_bytes(data[21:25], "little")
                return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
            if chunk == b"VP8 " and data[23:26] == b"\x9d\x01\x2a":
                w, h = struct.unpack("<HH", data[26:30])
                return w & 0x3FFF, h & 0x3FFF
        elif kind == "jpeg":
            return _jpeg_size(data)
    except (struct.error, IndexError):
        return None
    return None


def _jpeg_size(data: bytes) -> tuple[int, int] | None:
    i = 2
    n = len(data)
    while i + 4 <= n:
        if data[i] != 0xFF:
            return None
        while i < n and data[i] == 0xFF:  # fill bytes
            i += 1
        if i >= n:
            return None
        marker = data[i]
        i += 1
        if marker == 0x01 or 0xD0 <= marker <= 0xD8:  # no length
            continue
        if marker in (0xD9, 0xDA):  # the end, or the scan before any frame header
            return None
        length = struct.unpack(">H", data[i : i + 2])[0]
        if marker in _SOF:
            h, w = struct.unpack(">HH", data[i + 3 : i + 7])
            return w, h
        i += length
    return None


# -- decoding -------------------------------------------------------------------------

#: What Pillow raises for damaged data (UnidentifiedImageError is an OSError).
_DAMAGED = (OSError, SyntaxError, ValueError, EOFError, IndexError, struct.error, zlib.error)


def _corrupt(kind: str) -> UploadRefused:
    return UploadRefused(
        "corrupt",
        _("This %(format)s picture is damaged or incomplete (perhaps it was cut short) and "
          "cannot be read: save it again and upload it again.") % {"format": LABELS[kind]},
    )


def _open(kind: str, data: bytes, max_pixels: int) -> Image.Image:
    try:
        image = Image.open(io.BytesIO(data), formats=[FORMATS[kind]])
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        declared = header_size(kind, data)
        if declared is not None:
            _check_size(*declared, max_pixels)
        raise UploadRefused(
            "too-many-pixels",
            _("This picture has too many pixels: a picture may have at most %(most)s "
              "megapixels.") % {"most": _megapixels(max_pixels)},
        ) from None
    except _DAMAGED:
        raise _corrupt(kind) from None
    _check_size(*image.size, max_pixels)
    return image


def _load(kind: str, data: bytes, max_pixels: int) -> tuple[Image.Image, bool]:
    """The first frame of ``data``, loaded, and whether there were more."""
    image = _open(kind, data, max_pixels)
    try:
        image.verify()  # checksums of PNG chunks; a no-op for the others
    except _DAMAGED:
        raise _corrupt(kind) from None
    image = _open(kind, data, max_pixels)
    try:
        # Before load(): finding a second GIF frame reads past the first one without
        # decoding it, and then reopens frame 0, discarding what was loaded.
        animated = kind != "jpeg" and bool(getattr(image, "is_animated", False))
        if image.tell() != 0:
            image.seek(0)
        _check_size(*image.size, max_pixels)
        image.load()
    except UploadRefused:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise UploadRefused(
            "too-many-pixels",
            _("This picture has too many pixels: a picture may have at most %(most)s "
              "megapixels.") % {"most": _megapixels(max_pixels)},
        ) from None
    except _DAMAGED:
        raise _corrupt(kind) from None
    return image, animated


def _to_srgb(image: Image.Image) -> Image.Image:
    """RGB in sRGB: orientation applied, the ICC profile converted (or dropped without
    LittleCMS), palette, greyscale, 16-bit and CMYK converted, transparency composited on
    ``BACKGROUND``."""
    icc = image.info.get("icc_profile")
    try:
        image = ImageOps.exif_transpose(image)
    except Exception:  # noqa: BLE001 - a broken EXIF block only loses the orientation
        pass

    mode = image.mode
    if mode == "P":
        has_alpha = "transparency" in image.info or image.palette.mode == "RGBA"
        image = image.convert("RGBA" if has_alpha else "RGB")
    elif mode == "PA":
        image = image.convert("RGBA")
    elif mode == "1":
        image = image.convert("L")
    elif mode.startswith("I;16") or mode == "I":
        image = image.convert("I").point(lambda v: v * (1 / 257)).convert("L")
    elif mode == "F":
        image = image.point(lambda v: v * 255).convert("L")
    elif mode == "La":
        image = image.convert("LA")
    elif mode in ("RGBa", "RGBX"):
        image = image.convert("RGBA" if mode == "RGBa" else "RGB")
    elif mode not in ("L", "LA", "RGB", "RGBA", "CMYK"):
        image = image.convert("RGB")
    if image.mode in ("L", "RGB") and "transparency" in image.info:
        image = image.convert("LA" if image.mode == "L" else "RGBA")

    alpha = None
    if image.mode in ("LA", "RGBA"):
        alpha = image.getchannel("A")
        if alpha.getextrema() == (255, 255):
            alpha = None
        image = image.convert("L" if image.mode == "LA" else "RGB")

    rgb = _apply_profile(image, icc) if icc else None
    if rgb is None:
        rgb = image.convert("RGB")
    if alpha is not None:
        background = Image.new("RGB", rgb.size, BACKGROUND)
        background.paste(rgb, mask=alpha)
        rgb = background
    return rgb


def _apply_profile(image: Image.Image, icc: bytes) -> Image.Image | None:
    """``image`` (L, RGB or CMYK) converted from its ICC profile to sRGB, or None where
    that cannot be done (no LittleCMS, a broken profile, a profile of another colour
    space): the profile is then dropped."""
    if ImageCms is None:
        return None
    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        srgb = ImageCms.createProfile("sRGB")
        converted = ImageCms.profileToProfile(image, source, srgb, outputMode="RGB")
    except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
        return None
    return converted


def _original_format(kind: str, data: bytes) -> str:
    """JPEG for lossy sources (JPEG, lossy WebP), PNG for lossless ones (PNG, GIF and
    lossless WebP), so that what is kept is neither much worse nor much bigger."""
    if kind == "jpeg":
        return "jpeg"
    if kind == "webp":
        return "png" if _webp_lossless(data) else "jpeg"
    return "png"


def _webp_lossless(data: bytes) -> bool:
    """Whether the WebP's (first) image is lossless (a VP8L chunk before any VP8 one)."""
    i = 12
    while i + 8 <= len(data):
        chunk = data[i : i + 4]
        size = int.from_bytes(data[i + 4 : i + 8], "little")
        if chunk == b"VP8L":
            return True
        if chunk == b"VP8 ":
            return False
        if chunk == b"ANMF":  # an animation frame: its own chunks follow its 16 bytes
            i += 8 + 16
            continue
        i += 8 + size + (size & 1)
    return False


def _encode(image: Image.Image, fmt: str) -> bytes:
    out = io.BytesIO()
    if fmt == "jpeg":
        image.save(out, "JPEG", quality=JPEG_QUALITY, subsampling="4:2:0")
    else:
        image.save(out, "PNG", compress_level=PNG_COMPRESS_LEVEL)
    return out.getvalue()
