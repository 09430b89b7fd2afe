"""The one job machine (``breeding.jobs``): its allowance under concurrent requests, uploads
that never hold a database connection while a picture is decoded, a database with no
connection free answered with a sentence, the scratch of a stopped job, and one progress
that only grows."""

from __future__ import annotations

import io
import threading
from contextlib import ExitStack
from pathlib import Path

import pytest
from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import connection
from django.test import Client
from PIL import Image

from breeding import actions, projection, videos
from breeding.jobs import sweep_scratch
from breeding.models import MediaWork, Training, Upload, UploadStatus, Video, VideoStatus
from breeding.tasks import Interrupted
from breeding.uploads import decode
from common.errors import Refused
from tests.breeding.test_uploads import as_file, picture_bytes
from tests.breeding.test_videos import ask, works


@pytest.fixture(autouse=True)
def _quick(settings):
    settings.PROJECTION_SIZE = 32
    settings.PROJECTION_BUDGET_S = 1.0


def bomb_png(side: int = 4000) -> bytes:
    """A small file that claims many pixels: one flat grey, which PNG squeezes to almost
    nothing, but that decodes to ``side`` x ``side`` x 3 bytes."""
    buffer = io.BytesIO()
    Image.new("L", (side, side), 128).save(buffer, "PNG", optimize=True)
    return buffer.getvalue()


def in_threads(count: int, work) -> list:
    """``work(i)`` in ``count`` threads started together; their results in order. Each
    thread gives its database connection back to the pool when it ends."""
    results: list = [None] * count
    start = threading.Barrier(count)
    ended = threading.Semaphore(0)

    def run(i: int) -> None:
        try:
            start.wait()
            results[i] = work(i)
        except BaseException as error:  # noqa: BLE001 - reported by the test
            results[i] = error
        finally:
            connection.close()
            ended.release()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    return threads, results, ended


def join(threads) -> None:
    for thread in threads:
        thread.join(120)
        assert not thread.is_alive()


def connections_out() -> int:
    """Connections of the pool in use now (by any thread of this process)."""
    stats = connection.pool.get_stats()
    return stats.get("pool_size", 0) - stats.get("pool_available", 0)


# -- the allowance ------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_concurrent_jobs_never_pass_the_waiting_limit(alice, space, settings):
    settings.UPLOADS_WAITING_MAX = 3
    decoded = decode(picture_bytes())

    def keep(_i):
        return actions.do_upload(alice, space, decoded, "")

    threads, results, _ended = in_threads(8, keep)
    join(threads)
    kept = [r for r in results if isinstance(r, Upload)]
    refused = [r for r in results if isinstance(r, Refused)]
    assert len(kept) == 3 and len(refused) == 5, results
    assert {r.status_code for r in refused} == {429}
    assert Upload.objects.filter(owner=alice).count() == 3


@pytest.mark.django_db(transaction=True)
def test_concurrent_uploads_wait_for_a_decoder_without_a_database_connection(
        alice, space, settings):
    """Six uploads of a picture that claims 16 megapixels at once, with a waiting limit of
    three: three are refused before anything is decoded; the three others wait for a
    decoder holding no database connection, then are kept."""
    settings.UPLOADS_WAITING_MAX = 3
    settings.UPLOAD_DECODE_WAIT_S = 120
    data = bomb_png()
    assert len(data) < 200_000
    clients = []
    for _ in range(6):
        client = Client()
        client.force_login(alice)
        clients.append(client)

    def post(i):
        return clients[i].post("/api/uploads/", {"file": as_file(data, "bomb.png")})

    gate = actions.DECODING
    # This thread's connection, and any a thread of an earlier test still holds.
    before = connections_out()
    with ExitStack() as held:  # every decoder busy: uploads that get that far wait
        for _ in range(gate.slots):
            held.enter_context(gate.slot(1, actions.busy))
        threads, results, ended = in_threads(6, post)
        # Three are answered while no picture can be decoded: refused before decoding.
        for _ in range(3):
            assert ended.acquire(timeout=120)
        early = [r for r in results if r is not None]
        with gate.changed:
            assert gate.changed.wait_for(lambda: gate.waiting == 3, timeout=120)
        # The three waiting for a decoder hold no connection.
        assert connections_out() <= before
    join(threads)
    assert sorted(r.status_code for r in results) == [202, 202, 202, 429, 429, 429]
    for answer in results:
        if answer.status_code == 429:
            assert answer.json()["error"] == ("You already have 3 pictures waiting to be "
                                              "projected. Wait for one to finish, or cancel one.")
    assert len(early) >= 3 and all(r.status_code == 429 for r in early)
    assert Upload.objects.filter(owner=alice).count() == 3


@pytest.mark.django_db(transaction=True)
def test_an_upload_that_waits_too_long_for_a_decoder_is_told_so(alice, space, settings):
    settings.UPLOAD_DECODE_WAIT_S = 0.2
    client = Client()
    client.force_login(alice)
    gate = actions.DECODING
    with ExitStack() as held:
        for _ in range(gate.slots):
            held.enter_context(gate.slot(1, actions.busy))
        answer = client.post("/api/uploads/", {"file": as_file(picture_bytes())})
    assert answer.status_code == 503 and answer["Retry-After"] == "5"
    assert answer.json() == {"error": "Mendel is busy reading other pictures just now. Try "
                                      "again in a moment.", "retry_after": 5}
    assert not Upload.objects.exists()
    # A picture refused this way did not count against the hour's allowance.
    settings.UPLOADS_PER_HOUR = 1
    assert client.post("/api/uploads/", {"file": as_file(picture_bytes())}).status_code == 202


@pytest.mark.django_db(transaction=True)
def test_a_database_with_no_connection_free_answers_503_with_a_sentence(alice, space):
    client = Client(raise_request_exception=False)
    client.force_login(alice)
    pool = connection.pool
    taken, timeout = [], pool.timeout
    try:
        while True:  # every connection of the pool, but this thread's own
            try:
                taken.append(pool.getconn(timeout=0.5))
            except Exception:  # noqa: BLE001 - PoolTimeout: none left
                break
        pool.timeout = 0.2
        answers = {}

        def ask_for(path):
            try:
                answers[path] = client.get(path)
            finally:
                connection.close()

        for path in ("/api/uploads/", "/upload/"):
            worker = threading.Thread(target=ask_for, args=(path,))
            worker.start()
            worker.join(60)
    finally:
        pool.timeout = timeout
        for conn in taken:
            pool.putconn(conn)
    api, page = answers["/api/uploads/"], answers["/upload/"]
    assert api.status_code == 503 and api["Retry-After"] == "5"
    assert api.json() == {"error": "Mendel is too busy to answer just now. Try again in a few "
                                   "seconds.", "retry_after": 5}
    assert page.status_code == 503 and b"Try again in a few seconds" in page.content


# -- names --------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_png_named_jpg_is_taken_for_what_it_is(as_alice, space):
    answer = as_alice.post("/api/uploads/", {"file": as_file(picture_bytes(), "photo.jpg",
                                                             "image/jpeg")}, format="multipart")
    assert answer.status_code == 202, answer.json()
    assert answer.json()["source_format"] == "png"


# -- scratch ------------------------------------------------------------------------


def stopping_after(calls: int):
    """A worker that shuts down after ``calls`` progress reports (``breeding.tasks``)."""
    seen = []

    def stop_if_stopping():
        seen.append(1)
        if len(seen) > calls:
            raise Interrupted("the worker is shutting down; the job will run again")

    return stop_if_stopping


@pytest.mark.django_db(transaction=True)
def test_a_stopped_render_leaves_no_scratch_once_retried_or_swept(as_alice, alice, space):
    keys = works(alice, space)
    root = Path(settings.JOB_SCRATCH_DIR)

    # Stopped mid-render, then run again: the retry starts from an empty folder and leaves
    # nothing behind.
    video = Video.objects.get(public_id=ask(as_alice, keys, seconds_per_step=2).json()["id"])
    with pytest.raises(Interrupted):
        videos.run(video.pk, stopping_after(3))
    scratch = root / f"video-{video.pk}"
    assert scratch.is_dir()  # left behind, as by a worker killed there
    assert sweep_scratch() == 0  # still running as far as anyone knows: left alone
    assert videos.run(video.pk) is not None
    assert not scratch.exists()

    # Stopped mid-render, then cancelled by its owner: the sweep empties it.
    other = Video.objects.get(public_id=ask(as_alice, keys, seconds_per_step=2).json()["id"])
    with pytest.raises(Interrupted):
        videos.run(other.pk, stopping_after(3))
    assert (root / f"video-{other.pk}").is_dir()
    assert as_alice.post(f"/api/videos/{other.public_id}/cancel/").status_code == 200
    assert sweep_scratch() == 1
    assert not any(root.iterdir())


# -- progress -----------------------------------------------------------------------


def assert_honest(events: list[dict], running: str) -> None:
    fractions = [e["fraction"] for e in events]
    assert fractions == sorted(fractions), fractions
    assert all(f < 1 for e, f in zip(events, fractions, strict=True) if e["status"] == running)
    assert events[-1]["status"] == "done" and fractions[-1] == 1.0
    times = [e["eta_s"] for e in events if e["status"] == running]
    assert times and all(t is not None and t >= 0 for t in times)


@pytest.mark.django_db(transaction=True)
async def test_the_progress_of_a_job_only_grows_and_reaches_one_when_it_is_done(
        client, alice, space):
    from tests.breeding.test_studio_socket import connect

    mine = await connect(client, alice)
    await mine.receive_json_from()  # hello

    async def heard() -> list[dict]:
        events = []
        while not events or events[-1]["status"] not in ("done", "failed"):
            events.append(await mine.receive_json_from(timeout=10))
        return events

    upload = await sync_to_async(actions.do_upload)(alice, space, decode(picture_bytes()), "")
    await sync_to_async(projection.run)(upload.pk)
    assert_honest(await heard(), UploadStatus.PROJECTING)

    keys = await sync_to_async(works)(alice, space)
    plan = videos.Plan(seconds_per_step=2.0, fps=24, size=256)
    video = await sync_to_async(videos.do_video)(alice, space, keys, plan)
    await sync_to_async(videos.run)(video.pk)
    assert_honest(await heard(), VideoStatus.RENDERING)
    await mine.disconnect()


@pytest.mark.django_db
def test_a_progress_never_goes_back_and_the_time_left_is_measured(alice, space):
    upload = actions.do_upload(alice, space, decode(picture_bytes()), "")
    job = Upload.claim(upload.pk)
    progress = job.progress_meter(prior_s=100.0)
    progress(0.0, force=True)
    assert job.eta_s == pytest.approx(100.0, rel=0.01)  # nothing measured yet: the prior
    progress(0.5, force=True)
    progress(0.3, force=True)  # a phase that counts from its own start
    progress(1.0, force=True)  # the end of the work, but not of the job
    upload.refresh_from_db()
    assert upload.progress == pytest.approx(0.999) and upload.fraction == 0.999
    assert upload.eta_s < 100.0 * 0.5  # half done in far less than the prior said
    # A retried run starts from where the last one got, not from nothing.
    again = Upload.claim(upload.pk)
    again.progress_meter(prior_s=10.0)(0.2, force=True)
    upload.refresh_from_db()
    assert upload.progress == pytest.approx(0.999)


def test_every_kind_of_job_names_the_task_that_runs_it():
    from breeding import tasks
    from breeding.jobs import KINDS
    from gallery import tasks as gallery_tasks
    from gallery.models import MapBuild

    assert KINDS == {tasks.project_upload.name: Upload, tasks.render_video.name: Video,
                     tasks.train_space.name: Training, tasks.transcode_media.name: MediaWork,
                     gallery_tasks.build_map.name: MapBuild}
    assert ((Upload.TASK_ARG, Video.TASK_ARG, Training.TASK_ARG, MediaWork.TASK_ARG, MapBuild.TASK_ARG)
            == ("upload_id", "video_id", "training_id", "media_id", "build_id"))


@pytest.mark.django_db(transaction=True)
def test_a_stalled_job_already_queued_again_is_failed_and_the_others_put_back():
    """A killed worker may have been running a periodic task whose next run is already
    queued under the same queueing lock: putting the dead one back would break that lock.
    It is marked failed instead, and the other stalled jobs are still put back."""
    from asgiref.sync import async_to_sync
    from procrastinate.contrib.django import app

    from gallery.tasks import close_round, exhibition_hours
    from mendel.tasks import retry_stalled

    def status(job_id: int) -> str:
        with connection.cursor() as cursor:
            cursor.execute("SELECT status FROM procrastinate_jobs WHERE id = %s", [job_id])
            return cursor.fetchone()[0]

    dead_hours = exhibition_hours.defer(timestamp=1)
    dead_round = close_round.defer(round_id=10**9)
    with connection.cursor() as cursor:  # taken by a worker that has no heartbeat any more
        cursor.execute("UPDATE procrastinate_jobs SET status = 'doing' WHERE id IN (%s, %s)",
                       [dead_hours, dead_round])
    next_hours = exhibition_hours.defer(timestamp=2)

    assert async_to_sync(retry_stalled)(app.job_manager, 1) == 1
    assert (status(dead_hours), status(next_hours), status(dead_round)) == ("failed", "todo", "todo")
    assert async_to_sync(retry_stalled)(app.job_manager, 1) == 0
