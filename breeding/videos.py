"""Morph videos as durable jobs: what a request may ask for, and the body of ``render_video``.

A request names its keyframes (works its owner can see, in one space, in order) and how
the path through them is drawn (``Plan``). The job:

1. Claims the video: a queued or rendering one is marked rendering (a retried job, after
   its worker died, claims it again); a done, failed or cancelled one is left alone.
2. Loads the keyframes through the one privacy rule (``visible_to`` the owner, now: a
   keyframe made private or removed since the request is refused), plans the frames
   (``inference.video.plan``, or ``camera`` for a camera move) and renders them once into
   an MP4 and a WebM (``encode_all``) in the job's scratch folder (``breeding.jobs``:
   emptied when the job is claimed again and by the stalled-job sweep, so a killed render
   leaves nothing behind for good), batch by batch, writing progress to the row about once
   a second (also the cancellation check) and sending it to the owner's studio sockets.
3. Finishes in one transaction, the video's row locked: checks again that the owner may
   see every keyframe (one made private during the render fails the video, with a
   sentence, rather than end up in it), stores the files and the poster,
   makes the work (origin ``video``, a child of its keyframes) and marks the video done,
   unless another run did so first: a video gets at most one work however often its job
   runs.
"""

from __future__ import annotations

import logging
import os
from dataclasses import asdict, dataclass, replace

from django.conf import settings
from django.core.files import File
from django.core.files.base import ContentFile
from django.utils.translation import gettext as _
from procrastinate.contrib.django import app

from breeding import actions, images
from breeding.jobs import Cancelled, store
from breeding.models import Creation, Origin, Space, Video
from common.errors import Refused

log = logging.getLogger(__name__)

CAMERAS = ("none", "zoom-out", "zoom-in")
#: The share of a video's job spent planning its frames (even speed probes the path)
#: before the first is rendered, and storing it after the last.
PLANNING_SHARE = 0.1
STORING_SHARE = 0.03


@dataclass(frozen=True)
class Plan:
    """How a video's path is drawn; stored with the video as its ``settings``."""

    seconds_per_step: float | None = 2.0
    duration: float | None = None
    fps: int = 30
    size: int = 512
    loop: bool = False
    easing: str = "ease-in-out"
    even_speed: bool = True
    camera: str = "none"
    zoom: float = 2.0

    @property
    def seconds(self) -> float:
        return self.duration if self.duration is not None else self.seconds_per_step

    def length_s(self, keyframes: int) -> float:
        if self.camera != "none" or self.duration is not None:
            return self.seconds
        return self.seconds_per_step * (keyframes if self.loop else keyframes - 1)

    def frames(self, keyframes: int) -> int:
        """How many frames the video will have."""
        span = round(self.fps * self.length_s(keyframes))
        return span if self.loop and self.camera == "none" else span + 1

    def work(self, keyframes: int) -> int:
        """Frames times area, in 256 px pictures: what ``VIDEO_MAX_WORK`` bounds."""
        return self.frames(keyframes) * (self.size // 256) ** 2


def check(space: Space, keyframes: list[Creation], plan: Plan) -> None:
    """Refuse, with a sentence, a video that cannot be made (keyframes already checked for
    visibility by the caller)."""
    from breeding import spaces
    from inference import video as engine

    if space is None or any(k.origin == Origin.MEDIA for k in keyframes):
        raise Refused(_("A published work cannot be a keyframe. Choose pictures bred in Mendel."))
    found = spaces.availability(space)
    if not found.available:
        raise Refused(_("The %(space)s space is unavailable. %(reason)s")
                      % {"space": spaces.title_of(space), "reason": found.reason})
    if any(k.origin == Origin.VIDEO for k in keyframes):
        raise Refused(_("A video cannot be a keyframe. Choose pictures."))
    if any(k.space_id != space.pk for k in keyframes):
        raise Refused(_("All keyframes must come from the same space."))
    n = len(keyframes)
    if plan.camera == "none":
        if not engine.MIN_KEYFRAMES <= n <= engine.MAX_KEYFRAMES:
            raise Refused(_("A morph needs %(least)d to %(most)d keyframes; this one has "
                            "%(count)d.")
                          % {"least": engine.MIN_KEYFRAMES, "most": engine.MAX_KEYFRAMES,
                             "count": n})
    else:
        if n != 1:
            raise Refused(_("A camera move is over one picture; this one has %(count)d.")
                          % {"count": n})
        if not hasattr(space.generator(), "render_view"):
            raise Refused(_("The %(space)s space cannot move a camera. Make a morph instead.")
                          % {"space": space.slug})
    seconds = plan.length_s(n)
    if not 0 < seconds <= engine.MAX_SECONDS:
        raise Refused(_("A video may last at most %(most)s s; this one would last %(seconds)s s.")
                      % {"most": f"{engine.MAX_SECONDS:g}", "seconds": f"{seconds:g}"})
    steps = n if plan.loop else n - 1
    if plan.camera == "none" and round(plan.fps * seconds) < steps:
        raise Refused(_("The video is too short for its keyframes: give each step more time."))
    limit = settings.VIDEO_MAX_WORK
    if plan.work(n) > limit:
        longest = limit / ((plan.size // 256) ** 2 * plan.fps)
        raise Refused(_("That video is too long for its size: at %(size)d px and %(fps)d fps a "
                        "video may last at most %(longest)s s. Make it shorter, smaller or "
                        "slower.")
                      % {"size": plan.size, "fps": plan.fps, "longest": f"{longest:.0f}"})


def payload(video: Video) -> dict:
    """What the owner's sockets hear of a video."""
    return video.event()


def files_of(video: Video) -> dict[str, str] | None:
    """Where a rendered video's files are served; None until it is done."""
    if not video.mp4:
        return None
    base = f"/videos/{video.public_id}"
    return {"mp4": f"{base}/video.mp4", "webm": f"{base}/video.webm", "poster": f"{base}/poster.webp"}


def do_video(owner, space: Space, keyframes: list[Creation], plan: Plan, title: str = "") -> Video:
    """Keep a video request and queue its rendering, in one transaction: the job exists if
    and only if the row does (``Video.start``: refused past the owner's waiting allowance)."""
    check(space, keyframes, plan)
    # The task by name: the job module imports this one, never the other way round.
    task = app.configure_task("breeding.tasks.render_video", allow_unknown=False)
    return Video.start(owner, lambda video: task.defer(video_id=video.pk), space=space,
                       keyframes=[k.public_id for k in keyframes], settings=asdict(plan),
                       title=title, frames_total=plan.frames(len(keyframes)))


def do_cancel(video: Video) -> bool:
    """Stop a video's rendering (a running job stops at its next progress write). False if
    it had already finished."""
    return video.cancel()


def keyframes_of(owner, public_ids: list[str]) -> list[Creation]:
    """The works named, in order, as ``owner`` may see them now; Refused if any is gone."""
    found = {c.public_id: c for c in Creation.objects.visible_to(owner)
             .select_related("space").filter(public_id__in=public_ids)}
    missing = [i for i in public_ids if i not in found]
    if missing:
        raise Refused(_("No work with id %(id)s that you can see: it may have been removed or "
                        "made private.") % {"id": repr(missing[0])})
    return [found[i] for i in public_ids]


def frames_of(space, keyframes: list[Creation], plan: Plan, *, probe_size=None, probe_steps=None):
    """The frames' latents of a video, and their camera views (None for a morph)."""
    import torch

    from inference import video as engine

    latents = torch.stack([actions.latent_of(k) for k in keyframes])
    if plan.camera != "none":
        zoom = plan.zoom if plan.camera == "zoom-out" else 1 / plan.zoom
        return engine.camera(space, latents, duration=plan.seconds, fps=plan.fps, zoom=zoom,
                             easing=plan.easing)
    probes = {k: v for k, v in (("probe_size", probe_size), ("probe_steps", probe_steps)) if v}
    frames = engine.plan(space, latents, seconds_per_step=plan.seconds_per_step,
                         duration=plan.duration, fps=plan.fps, loop=plan.loop,
                         easing=plan.easing, even_speed=plan.even_speed, **probes)
    return frames, None


def preview(space_row: Space, keyframes: list[Creation], plan: Plan) -> bytes:
    """A small, coarse WebM of the video for the studio to play before the full render:
    128 px at 12 fps, even speed probed coarsely; about a second's work for a 10 s morph."""
    import io

    from inference import video as engine

    check(space_row, keyframes, plan)
    quick = replace(plan, fps=engine.PREVIEW_FPS)
    space = images.rendering_space(space_row.generator())
    frames, views = frames_of(space, keyframes, quick, probe_size=24, probe_steps=12)
    out = io.BytesIO()
    engine.encode(space, frames, engine.PREVIEW_SIZE, engine.PREVIEW_FPS, out, "webm", views=views,
                  render=frames_renderer(space))
    return out.getvalue()


def frames_renderer(space):
    """How a video's frames are rendered: a batch at a time, here or on the inference
    service (``images.render_frames``; the pixels are the same either way)."""
    local = getattr(space, "local", space)
    return lambda latents, size, views: images.render_frames(local, latents, size, views)


def claim(video_id: int) -> Video | None:
    """Mark the video rendering, if it still needs rendering; None if not."""
    return Video.claim(video_id, "space", frames_done=0)


def run(video_id: int, stop_if_stopping=lambda: None, render=None) -> str | None:
    """Render one video; the public id of its work, or None if there is nothing to do (done
    already, cancelled, or failed for good). Frames are rendered by ``render(latents, size,
    views)``, by default here or on the inference service (``frames_renderer``)."""
    from inference import video as engine

    # 1. Claim
    video = claim(video_id)
    if video is None:
        return None
    plan = Plan(**video.settings)
    try:
        keyframes = keyframes_of(video.owner, video.keyframes)
        check(video.space, keyframes, plan)
    except Refused as refused:
        return fail(video, str(refused))
    space = images.rendering_space(video.space.generator())
    render = render or frames_renderer(space)
    progress = video.progress_meter()
    rendering = 1.0 - PLANNING_SHARE - STORING_SHARE

    def on_progress(done: int, total: int) -> None:
        stop_if_stopping()
        progress(PLANNING_SHARE + rendering * done / max(total, 1), force=done == total,
                 frames_done=done, frames_total=total)

    try:
        progress(0.0, force=True)
        # 2. Plan and render into the job's scratch folder
        frames, views = frames_of(space, keyframes, plan)
        progress(PLANNING_SHARE, frames_total=frames.shape[0])
        folder = video.scratch()
        outs = {fmt: os.path.join(folder, f"video.{fmt}") for fmt in engine.FORMATS}
        engine.encode_all(space, frames, plan.size, plan.fps, outs, views=views,
                          on_progress=on_progress, render=render)
    except Cancelled:
        log.info("video %s: cancelled while rendering", video.public_id)
        video.clean_scratch()
        return None
    picture = render(frames[:1], plan.size, None if views is None else views[:1])[0]

    # 3. Finish
    try:
        return finish(video, keyframes, outs, picture, frames.shape[0] / plan.fps)
    finally:
        video.clean_scratch()


def finish(video: Video, keyframes: list[Creation], outs: dict[str, str], poster, duration_s: float):
    from inference.encode import encode as encode_image

    def make(locked: Video) -> list[str] | None:
        if locked.creation_id is not None:
            return None  # made by another run of this job
        if not keyframes_still_visible(locked.owner_id, keyframes):
            locked.fail(_("A keyframe was made private or removed while the video was being "
                          "made, so it cannot be in the video. Make the video again without "
                          "it."))
            return None
        for fmt, path in outs.items():
            with open(path, "rb") as f:
                store(getattr(locked, fmt), f"video.{fmt}", File(f))
        store(locked.poster, "poster.webp", ContentFile(encode_image(poster, "webp")))
        (locked.creation,) = actions.create_from_video(locked, keyframes)
        locked.frames_done = locked.frames_total = video.frames_total
        locked.duration_s = duration_s
        return [*outs, "poster", "creation", "frames_done", "frames_total", "duration_s"]

    done = video.finish(make)
    if done is None:
        return None  # cancelled meanwhile, or made by another run of this job
    log.info("video %s: rendered as %s", video.public_id, done.creation.public_id)
    return done.creation.public_id


def keyframes_still_visible(owner_id: int, keyframes: list[Creation]) -> bool:
    """Whether the owner may still see every keyframe, their rows locked until the
    transaction ends so that none is hidden between this answer and the video's finish."""
    wanted = {k.pk for k in keyframes}
    seen = (Creation.objects.visible_to(owner_id).filter(pk__in=wanted)
            .select_for_update().values_list("pk", flat=True))
    return set(seen) == wanted


def fail(video: Video, message: str) -> None:
    """Give up on a video for good, saying why in words its owner understands."""
    video.fail(message)
