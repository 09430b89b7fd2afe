"""Jobs that keep the job queue itself healthy."""

from __future__ import annotations

import logging

from asgiref.sync import sync_to_async
from django.conf import settings
from procrastinate.contrib.django import app

from breeding.jobs import retry_stalled, sweep_scratch

log = logging.getLogger(__name__)


@app.periodic(cron="* * * * *", periodic_id="retry-stalled")
@app.task(queueing_lock="retry_stalled_jobs", pass_context=True)
async def retry_stalled_jobs(context, timestamp: int) -> int:
    """Put back jobs whose worker died mid-job (no heartbeat); they would stay `doing` forever.
    Their scratch folders are emptied, and so are those of jobs no longer running.

    Every task is idempotent, so running a job a second time is safe.
    """
    retried = await retry_stalled(context.app.job_manager, settings.JOBS_STALLED_AFTER_S)
    await sync_to_async(sweep_scratch)()
    return retried
