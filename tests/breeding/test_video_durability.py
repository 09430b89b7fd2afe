"""A video survives its worker: real ``manage.py procrastinate worker`` processes on the test
database, one killed (SIGKILL) in the middle of rendering."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest
from django.conf import settings

from breeding import actions, videos
from breeding.models import Creation, Origin, Video, VideoStatus
from tests.breeding.test_upload_durability import start_worker, wait_for
from tests.servers import child_env, job_status, put_back_stalled

pytestmark = pytest.mark.django_db(transaction=True)



def test_a_worker_killed_mid_video_leaves_a_job_that_completes_exactly_once(alice, space, tmp_path):

    keys = actions.do_random(alice, space, 2, seed=3)
    plan = videos.Plan(seconds_per_step=6.0, fps=24, size=256, even_speed=False)
    video = videos.do_video(alice, space, keys, plan, "Survivor")
    env = child_env()
    log_path = tmp_path / "workers.log"
    with open(log_path, "w") as log:
        # 1. A worker takes the job and is killed while it renders.
        first = start_worker(env, log)
        try:
            wait_for(lambda: Video.objects.filter(pk=video.pk, frames_done__gt=0).exists(),
                     "rendered frames", 120, first, log_path)
        finally:
            first.send_signal(signal.SIGKILL)
            first.wait(10)
        assert job_status(video) == "doing"
        video.refresh_from_db()
        assert video.status == VideoStatus.RENDERING and video.frames_done < video.frames_total
        # The killed render left its scratch folder behind...
        scratch = Path(settings.JOB_SCRATCH_DIR) / f"video-{video.pk}"
        assert scratch.is_dir()

        # 2. The periodic task finds it stalled and puts it back.
        wait_for(put_back_stalled(video),
                 "stalled job put back", 30, first, log_path, dead_ok=True)
        assert job_status(video) == "todo"
        assert not scratch.exists()  # ...which the sweep empties

        # 3. Another worker renders it from the start, to the end.
        second = start_worker(env, log)
        try:
            wait_for(lambda: Video.objects.filter(pk=video.pk, status=VideoStatus.DONE).exists(),
                     "finished video", 180, second, log_path)
            wait_for(lambda: job_status(video) == "succeeded", "succeeded job", 30, second, log_path)
        finally:
            second.terminate()
            second.wait(30)

    video.refresh_from_db()
    assert video.attempts == 2 and video.frames_done == video.frames_total == 145
    made = Creation.objects.filter(origin=Origin.VIDEO)
    assert made.count() == 1 and video.creation == made.get()
    assert made.get().title == "Survivor"
    assert video.mp4.size > 0 and video.webm.size > 0
    assert not scratch.exists() and not any(Path(settings.JOB_SCRATCH_DIR).iterdir())
