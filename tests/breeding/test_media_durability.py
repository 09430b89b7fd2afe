"""A published film survives its worker: real ``manage.py procrastinate worker`` processes on
the test database, one killed (SIGKILL) in the middle of transcoding; its FFmpeg child goes
with it."""

from __future__ import annotations

import signal
import time
from pathlib import Path

import psutil
import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile

from breeding import media
from breeding.models import Creation, MediaWork, Origin
from tests import media_files
from tests.breeding.test_upload_durability import start_worker, wait_for
from tests.servers import child_env, job_status, put_back_stalled

pytestmark = pytest.mark.django_db(transaction=True)


def transcoders() -> list[psutil.Process]:
    return [p for p in psutil.process_iter(["cmdline"])
            if "common.transcode" in " ".join(p.info["cmdline"] or [])]


def test_a_worker_killed_mid_transcode_leaves_a_job_that_completes_exactly_once(alice, tmp_path):
    film = media_files.film(24.0, size=(640, 360), fps=30)
    job = media.publish(alice, {"kind": "video", "title": "Survivor", "visibility": "public"},
                        {"file": [SimpleUploadedFile("survivor.mp4", film)]})
    env = child_env()
    log_path = tmp_path / "workers.log"
    with open(log_path, "w") as log:
        # 1. A worker takes the job and is killed while FFmpeg works on it.
        first = start_worker(env, log)
        try:
            wait_for(lambda: MediaWork.objects.filter(pk=job.pk, progress__gt=0.05).exists(),
                     "transcoding under way", 120, first, log_path)
        finally:
            first.send_signal(signal.SIGKILL)
            first.wait(10)
        assert job_status(job) == "doing"
        job.refresh_from_db()
        assert job.status == "transcoding" and job.creation_id is None
        scratch = Path(settings.JOB_SCRATCH_DIR) / f"mediawork-{job.pk}"
        deadline = time.monotonic() + 10
        while transcoders() and time.monotonic() < deadline:  # the child ends with its worker
            time.sleep(0.1)
        assert transcoders() == []

        # 2. The periodic task finds it stalled and puts it back.
        wait_for(put_back_stalled(job), "stalled job put back", 30, first, log_path, dead_ok=True)
        assert job_status(job) == "todo"
        assert not scratch.exists()

        # 3. Another worker transcodes it from the start, to the end.
        second = start_worker(env, log)
        try:
            wait_for(lambda: MediaWork.objects.filter(pk=job.pk, status="done").exists(),
                     "finished transcode", 180, second, log_path)
            wait_for(lambda: job_status(job) == "succeeded", "succeeded job", 30, second, log_path)
        finally:
            second.terminate()
            second.wait(30)

    job.refresh_from_db()
    assert job.attempts == 2 and not job.source
    made = Creation.objects.filter(origin=Origin.MEDIA)
    assert made.count() == 1 and job.creation == made.get() and made.get().title == "Survivor"
    assert job.file.size > 0 and abs(job.duration_s - 24.0) < 0.2
    assert not scratch.exists()
