"""A projection survives its worker: real ``manage.py procrastinate worker`` processes on the
test database, one killed (SIGKILL) in the middle of a projection."""

from __future__ import annotations

import signal
import subprocess
import sys
import time

import pytest

from breeding import actions
from breeding.models import Creation, Origin, Upload, UploadStatus
from breeding.uploads import decode
from mendel.processes import ROOT
from tests.breeding.test_uploads import picture_bytes
from tests.servers import child_env, job_status, put_back_stalled

pytestmark = pytest.mark.django_db(transaction=True)


def start_worker(env: dict, log) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "manage.py", "procrastinate", "worker", "--concurrency", "1"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, text=True,
    )



def wait_for(condition, what: str, timeout: float, worker: subprocess.Popen, log_path,
             dead_ok: bool = False) -> None:
    """Poll ``condition`` until it holds, failing with the workers' log if ``worker`` exits
    first (unless it is meant to be dead) or ``timeout`` seconds pass."""
    deadline = time.monotonic() + timeout
    while not condition():
        if worker.poll() is not None and not dead_ok:
            pytest.fail(f"the worker exited before {what}:\n{log_path.read_text()[-3000:]}")
        if time.monotonic() > deadline:
            pytest.fail(f"no {what} within {timeout} s:\n{log_path.read_text()[-3000:]}")
        time.sleep(0.2)


def test_a_worker_killed_mid_projection_leaves_a_job_that_completes_exactly_once(alice, space, tmp_path):

    upload = actions.do_upload(alice, space, decode(picture_bytes()), "Survivor")
    env = child_env(PROJECTION_SIZE="32", PROJECTION_BUDGET_S="6")
    log_path = tmp_path / "workers.log"
    with open(log_path, "w") as log:
        # 1. A worker takes the job and is killed while it projects.
        first = start_worker(env, log)
        try:
            wait_for(lambda: Upload.objects.filter(pk=upload.pk, step__gt=0).exists(),
                     "projection step", 120, first, log_path)
        finally:
            first.send_signal(signal.SIGKILL)
            first.wait(10)
        assert job_status(upload) == "doing"  # ...and would stay so without the retry below
        assert Upload.objects.get(pk=upload.pk).status == UploadStatus.PROJECTING

        # 2. The periodic task finds it stalled (no heartbeat from its worker for a second)
        #    and puts it back.
        wait_for(put_back_stalled(upload),
                 "stalled job put back", 30, first, log_path, dead_ok=True)
        assert job_status(upload) == "todo"

        # 3. Another worker projects it from the start, to the end.
        second = start_worker(env, log)
        try:
            wait_for(lambda: Upload.objects.filter(pk=upload.pk, status=UploadStatus.DONE).exists(),
                     "finished projection", 120, second, log_path)
            wait_for(lambda: job_status(upload) == "succeeded", "succeeded job", 30, second, log_path)
        finally:
            second.terminate()
            second.wait(30)

    upload.refresh_from_db()
    assert upload.attempts == 2
    made = Creation.objects.filter(origin=Origin.UPLOAD)
    assert made.count() == 1 and upload.creation == made.get()
    assert made.get().title == "Survivor"
