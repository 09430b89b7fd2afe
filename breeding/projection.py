"""Projecting an upload into its space: the body of the ``project_upload`` job.

An upload is a job of ``breeding.jobs``:

1. Claim: an upload still queued or projecting is marked projecting (a retried job, after
   its worker died, claims it again); a done, failed or cancelled one is left alone.
2. Project (``inference.projection``), writing progress to the row about once a second and
   sending it, with a small preview every few steps, to the owner's studio sockets. The
   progress is the whole job's (reading the picture, the projection's time budget, making
   the work), so it only grows; the time left is measured. The progress write is also the
   cancellation check: once the owner has cancelled, it finds no row to update and the
   projection stops.
3. Finish in one transaction, the upload's row locked: make the creation and mark the
   upload done, unless another run did so first. However often the job runs, and wherever
   it was interrupted, an upload gets at most one creation.
"""

from __future__ import annotations

import base64
import logging
import time

import numpy as np
import torch
from django.conf import settings
from django.utils.translation import gettext as _
from PIL import Image

from breeding import actions, images
from breeding.jobs import Cancelled
from breeding.models import Upload

log = logging.getLogger(__name__)

#: A preview picture goes with an event at most this often.
PREVIEW_EVERY_S = 1.5
PREVIEW_SIZE = 64
#: The share of the job that is the projection itself; before it, reading the picture;
#: after it, choosing the best candidate and making the work.
PROJECTING_SHARE = 0.94
READ_SHARE = 0.02


def payload(upload: Upload, **extra) -> dict:
    """What the owner's sockets hear of an upload."""
    return upload.event(**extra)


def preview_data_url(space, latent: torch.Tensor) -> str:
    """A small WebP of the current latent, inline: the owner's eyes only, never stored."""
    import io

    picture = space.render(latent[None], PREVIEW_SIZE)[0].numpy()
    buffer = io.BytesIO()
    Image.fromarray(picture, "RGB").save(buffer, "WEBP", quality=80, method=2)
    return "data:image/webp;base64," + base64.b64encode(buffer.getvalue()).decode()


#: The target is cut to its central square and shrunk to this side (at most) before the
#: projection takes it: an original may have 50 megapixels.
TARGET_SIDE = 512


def target_of(upload: Upload) -> torch.Tensor:
    """The upload's central square, at most ``TARGET_SIDE`` px, as (side, side, 3) uint8."""
    with upload.original.open("rb") as f:
        picture = Image.open(f)
        picture.load()
    picture = picture.convert("RGB")
    side = min(picture.size)
    left, top = (picture.width - side) // 2, (picture.height - side) // 2
    out = min(side, TARGET_SIDE)
    picture = picture.resize((out, out), Image.Resampling.LANCZOS,
                             box=(left, top, left + side, top + side))
    return torch.from_numpy(np.asarray(picture, dtype=np.uint8).copy())


def claim(upload_id: int) -> Upload | None:
    """Mark the upload projecting, if it still needs projecting; None if not."""
    return Upload.claim(upload_id, "space", step=0)


def share_of(step, budget_s: float | None) -> float:
    """How far a projection is, 0 to 1, from one of its steps: the time spent of its budget
    (its planned steps change as the budget is measured, so they do not say), or without
    one, the time spent of the time it will take."""
    if budget_s:
        return step.elapsed_s / budget_s
    total = step.elapsed_s + step.eta_s
    return step.elapsed_s / total if total > 0 else 0.0


def run(upload_id: int, stop_if_stopping=lambda: None) -> str | None:
    """Project one upload; the public id of its creation, or None if there is nothing to do
    (done already, cancelled, or failed for good)."""
    from inference.projection import can_project

    # 1. Claim
    upload = claim(upload_id)
    if upload is None:
        return None
    space = images.rendering_space(upload.space.generator())
    if not can_project(space):
        return fail(upload, _("The %(space)s space cannot take uploads.")
                    % {"space": upload.space.slug})
    progress = upload.progress_meter()
    try:
        progress(0.0, force=True)
        target = target_of(upload)
        progress(READ_SHARE)
    except Cancelled:
        return None

    # 2. Project
    clock = {"preview": 0.0}
    budget_s = settings.PROJECTION_BUDGET_S

    def on_step(step) -> None:
        stop_if_stopping()
        now = time.monotonic()
        extra = {}
        if now - clock["preview"] >= PREVIEW_EVERY_S:
            clock["preview"] = now
            extra["preview"] = preview_data_url(space, step.latent)
        progress(READ_SHARE + PROJECTING_SHARE * min(1.0, share_of(step, budget_s)),
                 extra=extra, step=step.step, steps=step.steps, loss=float(step.loss))

    try:
        result = images.project(space, target, size=settings.PROJECTION_SIZE, seed=upload.pk,
                                on_step=on_step, budget_s=budget_s)
        progress(READ_SHARE + PROJECTING_SHARE, force=True)
    except Cancelled:
        log.info("upload %s: cancelled while projecting", upload.public_id)
        return None

    # 3. Finish
    return finish(upload, result.latent, result.psnr_db)


def finish(upload: Upload, latent: torch.Tensor, psnr_db: float | None) -> str | None:
    def make(locked: Upload) -> list[str] | None:
        if locked.creation_id is not None:
            return None  # made by another run of this job
        (locked.creation,) = actions.create_from_upload(locked, latent)
        locked.psnr_db = psnr_db
        locked.step = locked.steps
        return ["creation", "psnr_db", "step"]

    done = upload.finish(make)
    if done is None:
        return None  # cancelled meanwhile, or made by another run of this job
    log.info("upload %s: projected as %s (%.1f dB)", upload.public_id, done.creation.public_id,
             psnr_db or 0.0)
    return done.creation.public_id


def fail(upload: Upload, message: str) -> None:
    """Give up on an upload for good, saying why in words its owner understands."""
    upload.fail(message)


def do_cancel_upload(upload: Upload) -> bool:
    """Stop an upload's projection (a running job stops at its next progress write).
    False if it had already finished."""
    return upload.cancel()
