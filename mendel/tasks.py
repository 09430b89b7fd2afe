"""Jobs that keep the job queue itself healthy."""

from __future__ import annotations

import logging

from django.conf import settings
from procrastinate.contrib.django import app

log = logging.getLogger(__name__)


@app.periodic(cron="* * * * *", periodic_id="retry-stalled")
@app.task(queueing_lock="retry_stalled_jobs", pass_context=True)
async def retry_stalled_jobs(context, timestamp: int) -> int:
    """Put back jobs whose worker died mid-job (no heartbeat); they would stay `doing` forever.

    Every task is idempotent, so running a job a second time is safe.
    """
    return await retry_stalled(context.app.job_manager, settings.JOBS_STALLED_AFTER_S)


async def retry_stalled(manager, seconds_since_heartbeat: float) -> int:
    stalled = await manager.get_stalled_jobs(seconds_since_heartbeat=seconds_since_heartbeat)
    for job in stalled:
        log.warning("retrying stalled job %s (%s)", job.id, job.task_name)
        await manager.retry_job(job)
    return len(stalled)
