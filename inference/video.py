"""Morph videos: a path through latent space from keyframe to keyframe, rendered to a file.

Three steps, each usable on its own:

1. ``plan(space, keyframes, ...)`` -> (frames, layers, dim) latents. Keyframes are joined per
   layer by slerp where the space's prior is Gaussian, by lerp otherwise (the breeding math's
   ``interpolate``). With ``even_speed`` the frames are spaced by how much the *picture*
   changes rather than by equal steps of t: plain interpolation races through stretches
   where the picture changes a lot and crawls where it barely moves.
2. ``encode(space, latents, size, fps, out, fmt)`` renders the frames in batches and streams
   them into FFmpeg through PyAV: H.264 (yuv420p, fast start) in MP4, or VP9 in WebM. Only
   one batch of pictures is held at a time. ``encode_all`` writes several formats from one
   rendering of the frames.
3. ``poster(space, keyframes, size)``: the first keyframe's picture as WebP or PNG bytes.

Everything is deterministic: the same inputs give the same latents, bit for bit, and the
same file, byte for byte (one codec thread, FFmpeg's ``bitexact`` flags so no version string,
random UID or time stamp is written).
"""

from __future__ import annotations

import io
import math
import os
import shutil
import tempfile
from collections.abc import Callable, Iterable
from fractions import Fraction
from typing import TYPE_CHECKING

import torch

from inference.space import can_move_camera, check_latents, slerp

if TYPE_CHECKING:
    from inference.space import Space

FPS = (24, 30, 60)
SIZES = (256, 512, 1024)
FORMATS = ("mp4", "webm")
EASINGS = ("linear", "ease-in-out")
MIN_KEYFRAMES = 2
MAX_KEYFRAMES = 16
MAX_SECONDS = 120.0
#: Even speed measures picture change on renders this small ...
PROBE_SIZE = 48
#: ... at this many sub-steps per segment.
PROBE_STEPS = 48
BATCH = 8
#: A quick look before the full render (the studio's preview): smaller and coarser than
#: any video Mendel keeps, so it is accepted here but is not among SIZES and FPS.
PREVIEW_SIZE = 128
PREVIEW_FPS = 12




def _between(space: Space, a: torch.Tensor, b: torch.Tensor, t: float) -> torch.Tensor:
    """The latent a fraction ``t`` of the way from ``a`` to ``b``, per layer."""
    if getattr(space, "prior", None) == "gaussian":
        return slerp(a, b, t)
    return torch.lerp(a, b, t)


def _ease(f: float, easing: str) -> float:
    """Easing of a segment's local time f in [0, 1]; ease-in-out is the cosine ramp
    (1 - cos(pi f)) / 2: zero speed at each keyframe, symmetric, exact at 0 and 1."""
    if easing == "linear" or f in (0.0, 1.0):
        return f
    return (1.0 - math.cos(math.pi * f)) / 2.0


def picture_change(space: Space, latents: torch.Tensor, size: int = PROBE_SIZE, batch: int = 32) -> torch.Tensor:
    """Mean absolute pixel difference (0-255 scale) between consecutive frames rendered at
    ``size`` px: (n - 1,) float64. The frame-to-frame picture change that even speed evens out.
    """
    diffs: list[torch.Tensor] = []
    previous = None
    for start in range(0, latents.shape[0], batch):
        pictures = space.render(latents[start : start + batch], size).to(torch.float64)
        if previous is not None:
            pictures = torch.cat([previous, pictures])
        diffs.append((pictures[1:] - pictures[:-1]).abs().mean(dim=(1, 2, 3)))
        previous = pictures[-1:]
    return torch.cat(diffs)


def speed_cv(space: Space, latents: torch.Tensor, size: int = 64) -> float:
    """Coefficient of variation (std / mean) of the frame-to-frame picture change at ``size``
    px (64 by default, not the probe's 48, so even speed is not judged on its own measure):
    0 is a perfectly even glide; plain slerp between two abstract pictures gave 0.05 to 0.4."""
    change = picture_change(space, latents, size)
    mean = change.mean()
    return float(change.std(correction=0) / mean) if mean > 0 else 0.0


def _check_plan(space, keyframes, seconds_per_step, duration, fps, loop, easing):
    if not isinstance(keyframes, torch.Tensor) or keyframes.dim() != 3:
        shape = tuple(keyframes.shape) if isinstance(keyframes, torch.Tensor) else type(keyframes).__name__
        raise ValueError(f"keyframes must be a tensor of shape (k, {space.layers}, {space.dim}), got {shape}.")
    k = keyframes.shape[0]
    if not MIN_KEYFRAMES <= k <= MAX_KEYFRAMES:
        raise ValueError(f"A morph needs between {MIN_KEYFRAMES} and {MAX_KEYFRAMES} keyframes, got {k}.")
    keyframes = check_latents(keyframes, space.layers, space.dim)
    if fps not in (*FPS, PREVIEW_FPS) or isinstance(fps, bool):
        raise ValueError(f"fps must be one of {', '.join(map(str, FPS))}, got {fps!r}.")
    if easing not in EASINGS:
        raise ValueError(f"easing must be one of {', '.join(EASINGS)}, got {easing!r}.")
    if not isinstance(loop, bool):
        raise ValueError(f"loop must be True or False, got {loop!r}.")
    if (seconds_per_step is None) == (duration is None):
        raise ValueError("Give either seconds_per_step or duration, not both and not neither.")
    steps = k if loop else k - 1
    seconds = duration if duration is not None else seconds_per_step * steps
    if not isinstance(seconds, (int, float)) or isinstance(seconds, bool) or not math.isfinite(seconds):
        raise ValueError(f"The duration must be a number of seconds, got {seconds!r}.")
    if not 0 < seconds <= MAX_SECONDS:
        raise ValueError(f"The video must last more than 0 and at most {MAX_SECONDS:g} s, got {seconds:g} s.")
    span = round(fps * seconds)
    if span < steps:
        raise ValueError(f"{seconds:g} s at {fps} fps is {span} frames, fewer than the {steps} steps between keyframes.")
    return keyframes, steps, span


def _arc_lengths(space: Space, a: torch.Tensor, b: torch.Tensor, probe_size: int, probe_steps: int):
    """Cumulative picture change along a -> b at ``probe_steps`` sub-steps: (probe_steps + 1,)
    float64, starting at 0. Piecewise linear between sub-steps."""
    ts = [m / probe_steps for m in range(probe_steps + 1)]
    latents = torch.stack([_between(space, a, b, t) for t in ts])
    change = picture_change(space, latents, probe_size)
    return torch.cat([torch.zeros(1, dtype=torch.float64), change.cumsum(0)])


def _invert(cumulative: torch.Tensor, fraction: float) -> float:
    """The t in [0, 1] where the cumulative picture change reaches ``fraction`` of its total
    (linear inside each sub-step)."""
    total = float(cumulative[-1])
    if total <= 0 or fraction <= 0:
        return min(max(fraction, 0.0), 1.0)
    if fraction >= 1:
        return 1.0
    target = fraction * total
    m = int(torch.searchsorted(cumulative, torch.tensor([target], dtype=torch.float64), right=True)[0]) - 1
    m = min(max(m, 0), len(cumulative) - 2)
    lo, hi = float(cumulative[m]), float(cumulative[m + 1])
    inside = (target - lo) / (hi - lo) if hi > lo else 0.0
    return (m + inside) / (len(cumulative) - 1)


@torch.no_grad()
def plan(
    space: Space,
    keyframes: torch.Tensor,
    *,
    seconds_per_step: float | None = None,
    duration: float | None = None,
    fps: int = 24,
    loop: bool = False,
    easing: str = "linear",
    even_speed: bool = False,
    probe_size: int = PROBE_SIZE,
    probe_steps: int = PROBE_STEPS,
) -> torch.Tensor:
    """The latents of every frame of a morph through ``keyframes`` (k, layers, dim).

    Give the length as ``seconds_per_step`` (keyframe to keyframe) or as a total ``duration``.
    The video has ``round(fps * seconds)`` frames of motion; without ``loop`` one more frame
    lands exactly on the last keyframe, with ``loop`` the path returns to the first keyframe
    and that frame is left out, so the video repeats seamlessly.

    Frame i sits at time tau = i / span of the path. Without even speed, each segment takes
    the same time and the local t is ``ease(f)``, f the segment's local time. With even speed
    each segment takes time in proportion to its picture change L_j (measured on
    ``probe_size`` px renders at ``probe_steps`` sub-steps), and t is found where the
    segment's cumulative change s_j(t) = ease(f) * L_j: equal time, equal picture change
    (constant-speed reparameterisation by arc length; here the length is measured in
    picture space, not latent space). Returns float32 (frames, layers, dim).
    """
    # 1. Check inputs
    keyframes, steps, span = _check_plan(space, keyframes, seconds_per_step, duration, fps, loop, easing)
    ends = [(keyframes[j], keyframes[(j + 1) % keyframes.shape[0]]) for j in range(steps)]
    n_frames = span if loop else span + 1

    # 2. How long each segment lasts, as a share of the path, and its picture change
    if even_speed:
        cumulative = [_arc_lengths(space, a, b, probe_size, probe_steps) for a, b in ends]
        lengths = [float(c[-1]) for c in cumulative]
        total = sum(lengths)
        if total <= 0:
            lengths = [1.0] * steps
            total = float(steps)
    else:
        cumulative = None
        lengths = [1.0] * steps
        total = float(steps)
    knots = [0.0]
    for length in lengths:
        knots.append(knots[-1] + length / total)
    knots[-1] = 1.0

    # 3. Each frame's segment, local time and latent
    frames = []
    j = 0
    for i in range(n_frames):
        tau = i / span
        while j < steps - 1 and tau >= knots[j + 1]:
            j += 1
        width = knots[j + 1] - knots[j]
        f = min(max((tau - knots[j]) / width, 0.0), 1.0) if width > 0 else 1.0
        e = _ease(f, easing)
        t = _invert(cumulative[j], e) if cumulative is not None else e
        a, b = ends[j]
        frames.append(_between(space, a, b, t))
    return torch.stack(frames).to(torch.float32).contiguous()


MAX_ZOOM = 4.0


def camera(
    space: Space,
    latent: torch.Tensor,
    *,
    duration: float,
    fps: int = 24,
    zoom: float = 2.0,
    centre: tuple[float, float] = (0.0, 0.0),
    easing: str = "ease-in-out",
) -> tuple[torch.Tensor, list[tuple[float, float, float]]]:
    """A camera move over one picture, for spaces that paint functions of position (they
    offer ``render_view``; ``abstract`` does): zoom out from the picture (``zoom`` > 1, the
    camera ends seeing ``zoom`` times as far) or into it (``zoom`` < 1), centred on
    ``centre``. The zoom changes geometrically, z(tau) = zoom ** ease(tau), so the scale
    changes at a steady rate. Returns the frames' latents (the picture, repeated) and their
    views (zoom, cx, cy), for ``encode(..., views=views)``. Beyond zoom 2 the abstract
    space's finest waves alias at video sizes.
    """
    if not can_move_camera(space):
        raise ValueError(f"The {space.slug!r} space cannot move a camera: it has no render_view.")
    keyframes = check_latents(latent, space.layers, space.dim)
    if keyframes.shape[0] != 1:
        raise ValueError(f"A camera move is over one picture, got {keyframes.shape[0]}.")
    if not (isinstance(zoom, (int, float)) and 1 / MAX_ZOOM <= zoom <= MAX_ZOOM and zoom != 1):
        raise ValueError(f"zoom must be between {1 / MAX_ZOOM:g} and {MAX_ZOOM:g} and not 1, got {zoom!r}.")
    _, _, span = _check_plan(space, keyframes.repeat(2, 1, 1), None, duration, fps, False, easing)
    cx, cy = (float(c) for c in centre)
    views = [(zoom ** _ease(i / span, easing), cx, cy) for i in range(span + 1)]
    return keyframes.repeat(span + 1, 1, 1), views


def _check_encode(size, fps, fmt, batch):
    if size not in (*SIZES, PREVIEW_SIZE) or isinstance(size, bool):
        raise ValueError(f"size must be one of {', '.join(map(str, SIZES))} pixels, got {size!r}.")
    if fps not in (*FPS, PREVIEW_FPS) or isinstance(fps, bool):
        raise ValueError(f"fps must be one of {', '.join(map(str, FPS))}, got {fps!r}.")
    if fmt not in FORMATS:
        raise ValueError(f"fmt must be one of {', '.join(FORMATS)}, got {fmt!r}.")
    if isinstance(batch, bool) or not isinstance(batch, int) or batch < 1:
        raise ValueError(f"batch must be a positive whole number, got {batch!r}.")


def _open(out, fmt: str, fps: int, size: int):
    import av

    options = {"fflags": "+bitexact"}
    if fmt == "mp4":
        # The index (moov) is moved in front of the media (mdat) when the file is closed,
        # so a browser can start playing before the whole file has arrived.
        options["movflags"] = "+faststart"
    container = av.open(out, mode="w", format=fmt, options=options)
    codec = "libx264" if fmt == "mp4" else "libvpx-vp9"
    stream = container.add_stream(codec, rate=fps)
    stream.width = stream.height = size
    stream.pix_fmt = "yuv420p"
    stream.time_base = Fraction(1, fps)
    stream.codec_context.time_base = Fraction(1, fps)
    # One codec thread: the output must not depend on the machine's core count.
    stream.codec_context.thread_count = 1
    stream.codec_context.thread_type = "SLICE"
    if fmt == "mp4":
        stream.options = {"crf": "20", "preset": "medium", "threads": "1", "flags": "+bitexact"}
    else:
        stream.options = {
            "crf": "32", "b": "0", "deadline": "good", "cpu-used": "4",
            "row-mt": "0", "threads": "1", "flags": "+bitexact",
        }
    return container, stream


@torch.no_grad()
def encode(
    space: Space,
    frames: torch.Tensor,
    size: int,
    fps: int,
    out,
    fmt: str = "mp4",
    *,
    batch: int = BATCH,
    on_progress: Callable[[int, int], None] | None = None,
    views: list[tuple[float, float, float]] | None = None,
    render: Callable | None = None,
) -> None:
    """Render ``frames`` (n, layers, dim) at ``size`` px and write them to ``out`` (a path or
    a writable binary file object) as an MP4 (H.264) or WebM (VP9) video at ``fps``.

    Frames are rendered ``batch`` at a time and handed to the encoder one by one, so memory
    holds one batch of pictures, not the video. ``on_progress(done, total)`` is called after
    each batch; an exception it raises stops the encode and propagates (that is how a job is
    cancelled); a partly written file at a path is removed. ``views`` (from ``camera``) gives
    each frame a camera (zoom, cx, cy), for spaces with ``render_view``. ``render(latents,
    size, views)`` renders a batch of frames (with their cameras, or None) instead of the
    space here (an inference service).
    """
    # FFmpeg's fast start rereads the finished file to move the index, which it cannot do
    # through a Python file object: an MP4 for a file object is written to a temporary
    # file first and copied over in chunks.
    if fmt == "mp4" and not isinstance(out, (str, os.PathLike)):
        _check_encode(size, fps, fmt, batch)
        with tempfile.TemporaryDirectory() as folder:
            path = os.path.join(folder, "video.mp4")
            encode_all(space, frames, size, fps, {fmt: path}, batch=batch,
                       on_progress=on_progress, views=views, render=render)
            with open(path, "rb") as source:
                shutil.copyfileobj(source, out, 1 << 20)
        return
    encode_all(space, frames, size, fps, {fmt: out}, batch=batch, on_progress=on_progress,
               views=views, render=render)


@torch.no_grad()
def encode_all(
    space: Space,
    frames: torch.Tensor,
    size: int,
    fps: int,
    outs: dict[str, str | os.PathLike],
    *,
    batch: int = BATCH,
    on_progress: Callable[[int, int], None] | None = None,
    views: list[tuple[float, float, float]] | None = None,
    render: Callable | None = None,
) -> None:
    """``encode`` into several formats at once (``{"mp4": path, "webm": path}``; an MP4 must
    go to a path), rendering each frame once: every batch of pictures is fed to every
    encoder in turn. The files are byte for byte those ``encode`` writes one at a time."""
    import av

    # 1. Check inputs
    if not outs:
        raise ValueError("Give at least one output.")
    for fmt, out in outs.items():
        _check_encode(size, fps, fmt, batch)
        if fmt == "mp4" and not isinstance(out, (str, os.PathLike)):
            raise ValueError("An MP4 must be written to a path (its index is moved to the front).")
    frames = check_latents(frames, space.layers, space.dim)
    total = frames.shape[0]
    if views is not None:
        if not can_move_camera(space):
            raise ValueError(f"The {space.slug!r} space cannot move a camera: it has no render_view.")
        if len(views) != total:
            raise ValueError(f"views must give one camera per frame: {len(views)} for {total} frames.")
    render = render or (lambda latents, size, views: render_here(space, latents, size, views))

    # 2. Render batch by batch; each picture goes to every encoder
    opened = []
    try:
        for fmt, out in outs.items():
            opened.append((out, *_open(out, fmt, fps, size)))
        done = 0
        for start in range(0, total, batch):
            pictures = _render(space, render, frames, start, batch, size, views)
            for i, picture in enumerate(pictures):
                for _, container, stream in opened:
                    frame = av.VideoFrame.from_ndarray(picture, format="rgb24")
                    frame.pts = done + i
                    frame.time_base = Fraction(1, fps)
                    for packet in stream.encode(frame):
                        container.mux(packet)
            done += len(pictures)
            del pictures
            if on_progress is not None:
                on_progress(done, total)
        # 3. Flush the encoders; closing writes the index (moved to the front for MP4)
        for _, container, stream in opened:
            for packet in stream.encode(None):
                container.mux(packet)
    except BaseException:
        for out, container, _ in opened:
            container.close()
            if isinstance(out, (str, os.PathLike)):
                try:
                    os.remove(out)
                except OSError:
                    pass
        raise
    for _, container, _ in opened:
        container.close()


def _render(space, render, frames, start, batch, size, views):
    part = None if views is None else views[start : start + batch]
    return render(frames[start : start + batch], size, part).numpy()


def render_here(space: Space, latents: torch.Tensor, size: int,
                views: list[tuple[float, float, float]] | None = None) -> torch.Tensor:
    """Frames (n, size, size, 3) uint8 rendered in this process, each through its camera
    (zoom, cx, cy) when ``views`` is given."""
    if views is None:
        return space.render(latents, size)
    if len(views) != latents.shape[0]:
        raise ValueError(f"views must give one camera per frame: {len(views)} for "
                         f"{latents.shape[0]} frames.")
    return torch.cat([space.render_view(latents[i : i + 1], size, zoom, (cx, cy))
                      for i, (zoom, cx, cy) in enumerate(views)])


def poster(space: Space, keyframes: torch.Tensor, size: int, fmt: str = "webp") -> bytes:
    """The poster frame: the first keyframe's picture at ``size`` px, as WebP or PNG bytes."""
    from inference.encode import encode as encode_image

    if size not in SIZES or isinstance(size, bool):
        raise ValueError(f"size must be one of {', '.join(map(str, SIZES))} pixels, got {size!r}.")
    if fmt not in ("webp", "png"):
        raise ValueError(f"fmt must be webp or png, got {fmt!r}.")
    first = check_latents(keyframes[:1] if isinstance(keyframes, torch.Tensor) else keyframes,
                          space.layers, space.dim)
    return encode_image(space.render(first, size)[0], fmt)


def decode_frames(data: bytes | str | os.PathLike, indices: Iterable[int] | None = None):
    """Decoded frames of a video as (size, size, 3) uint8 numpy arrays (all, or those at
    ``indices``): for tests, contact strips and checks."""
    import av

    wanted = None if indices is None else set(indices)
    source = io.BytesIO(data) if isinstance(data, bytes) else data
    with av.open(source) as container:
        out = []
        for i, frame in enumerate(container.decode(video=0)):
            if wanted is None or i in wanted:
                out.append(frame.to_ndarray(format="rgb24"))
        return out
