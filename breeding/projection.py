"""Projecting an upload into its space: the body of the ``project_upload`` job.

1. Claim: an upload still queued or projecting is marked projecting (a retried job, after
   its worker died, claims it again); a done, failed or cancelled one is left alone.
2. Project (``inference.projection``), writing progress to the row about once a second and
   sending it, with a small preview every few steps, to the owner's studio sockets. The
   progress write is also the cancellation check: once the owner has cancelled, it finds
   no row to update and the projection stops.
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
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from PIL import Image

from breeding import actions, images
from breeding.events import send_to_user
from breeding.models import UNFINISHED, Upload, UploadStatus

log = logging.getLogger(__name__)

#: The owner's sockets hear of progress at most this often...
EVENT_EVERY_S = 0.25
#: ...the row is written (and cancellation checked) at most this often...
SAVE_EVERY_S = 1.0
#: ...and a preview picture goes with an event at most this often.
PREVIEW_EVERY_S = 1.5
PREVIEW_SIZE = 64


class Cancelled(Exception):
    """The owner cancelled the upload while it was being projected."""


def payload(upload: Upload, **extra) -> dict:
    """What the owner's sockets hear of an upload."""
    return {
        "type": "upload",
        "upload": upload.public_id,
        "status": upload.status,
        "step": upload.step,
        "steps": upload.steps,
        "fraction": upload.fraction,
        "loss": upload.loss,
        "eta_s": None if upload.eta_s is None else round(upload.eta_s, 1),
        "creation": upload.creation.public_id if upload.creation_id else None,
        "error": upload.error,
        **extra,
    }


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
    claimed = Upload.objects.filter(pk=upload_id, status__in=UNFINISHED).update(
        status=UploadStatus.PROJECTING, started=timezone.now(), attempts=F("attempts") + 1,
        step=0, error="",
    )
    if not claimed:
        return None
    return Upload.objects.select_related("space", "owner").get(pk=upload_id)


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
        return fail(upload, f"The {upload.space.slug} space cannot take uploads.")
    target = target_of(upload)
    send_to_user(upload.owner_id, payload(upload))

    # 2. Project
    clock = {"event": 0.0, "save": 0.0, "preview": 0.0}

    def on_step(step) -> None:
        stop_if_stopping()
        now = time.monotonic()
        upload.step, upload.steps = step.step, step.steps
        upload.loss, upload.eta_s = float(step.loss), float(step.eta_s)
        if now - clock["save"] >= SAVE_EVERY_S:
            clock["save"] = now
            still = Upload.objects.filter(pk=upload.pk, status=UploadStatus.PROJECTING).update(
                step=upload.step, steps=upload.steps, loss=upload.loss, eta_s=upload.eta_s)
            if not still:
                raise Cancelled
        if now - clock["event"] >= EVENT_EVERY_S:
            clock["event"] = now
            extra = {}
            if now - clock["preview"] >= PREVIEW_EVERY_S:
                clock["preview"] = now
                extra["preview"] = preview_data_url(space, step.latent)
            send_to_user(upload.owner_id, payload(upload, **extra))

    try:
        result = images.project(space, target, size=settings.PROJECTION_SIZE, seed=upload.pk,
                         on_step=on_step, budget_s=settings.PROJECTION_BUDGET_S)
    except Cancelled:
        log.info("upload %s: cancelled while projecting", upload.public_id)
        return None

    # 3. Finish
    return finish(upload, result.latent, result.psnr_db)


def finish(upload: Upload, latent: torch.Tensor, psnr_db: float | None) -> str | None:
    with transaction.atomic():
        locked = Upload.objects.select_for_update().get(pk=upload.pk)
        if locked.status != UploadStatus.PROJECTING or locked.creation_id is not None:
            return None  # cancelled meanwhile, or made by another run of this job
        (creation,) = actions.create_from_upload(locked, latent)
        locked.creation = creation
        locked.status = UploadStatus.DONE
        locked.psnr_db = psnr_db
        locked.step = locked.steps
        locked.eta_s = 0.0
        locked.finished = timezone.now()
        locked.save(update_fields=["creation", "status", "psnr_db", "step", "eta_s", "finished"])
        send_to_user(locked.owner_id, payload(locked))
    log.info("upload %s: projected as %s (%.1f dB)", upload.public_id, creation.public_id,
             psnr_db or 0.0)
    return creation.public_id


def fail(upload: Upload, message: str) -> None:
    """Give up on an upload for good, saying why in words its owner understands."""
    with transaction.atomic():
        updated = Upload.objects.filter(pk=upload.pk, status__in=UNFINISHED).update(
            status=UploadStatus.FAILED, error=message[:300], finished=timezone.now())
        if updated:
            upload.refresh_from_db()
            send_to_user(upload.owner_id, payload(upload))
    return None


def do_cancel_upload(upload: Upload) -> bool:
    """Stop an upload's projection (a running job stops at its next progress write).
    False if it had already finished."""
    with transaction.atomic():
        cancelled = Upload.objects.filter(
            pk=upload.pk, status__in=[UploadStatus.QUEUED, UploadStatus.PROJECTING]
        ).update(status=UploadStatus.CANCELLED, finished=timezone.now())
        upload.refresh_from_db()
        if cancelled:
            send_to_user(upload.owner_id, payload(upload))
    return bool(cancelled)
