"""Morph videos as works: asking for one, its job, its files, who may see them."""

from __future__ import annotations

import io
import threading
import time

import av
import numpy as np
import pytest
from asgiref.sync import async_to_sync, sync_to_async
from django.db import connection

from breeding import actions, images, videos
from breeding.models import Creation, Origin, Video, VideoStatus, Visibility
from inference import get_space

pytestmark = pytest.mark.django_db

QUICK = {"seconds_per_step": 0.25, "fps": 24, "size": 256, "even_speed": False}


def works(owner, space, n=2, visibility=Visibility.PRIVATE):
    made = actions.do_random(owner, space, n, seed=7)
    for work in made:
        actions.do_update(work, visibility=visibility)
    return made


def ask(client, keyframes, **body):
    return client.post("/api/videos/", {"keyframes": [k.public_id for k in keyframes], **QUICK,
                                        **body}, format="json")


def made_video(client, keyframes, **body) -> Video:
    answer = ask(client, keyframes, **body)
    assert answer.status_code == 202, answer.json()
    video = Video.objects.get(public_id=answer.json()["id"])
    assert videos.run(video.pk) is not None
    video.refresh_from_db()
    return video


def body_of(response) -> bytes:
    """The whole body of a response, streamed (asynchronously, as video files are) or not."""
    if not response.streaming:
        return response.content

    async def collect():
        return b"".join([part async for part in response.streaming_content])

    return async_to_sync(collect)()


def fetch(client, url, **headers) -> bytes:
    response = client.get(url, **headers)
    assert response.status_code in (200, 206), (url, response.status_code)
    return body_of(response)


def test_a_video_request_is_kept_with_its_job_in_one_transaction(as_alice, alice, space):
    keys = works(alice, space)
    answer = ask(as_alice, keys, title="Drift")
    assert answer.status_code == 202
    body = answer.json()
    assert body["status"] == "queued" and body["frames_total"] == 7 and body["files"] is None
    assert body["keyframes"] == [k.public_id for k in keys]
    video = Video.objects.get(public_id=body["id"])
    with connection.cursor() as cursor:
        cursor.execute("SELECT task_name, status FROM procrastinate_jobs WHERE args->>'video_id' = %s",
                       [str(video.pk)])
        assert cursor.fetchall() == [("breeding.tasks.render_video", "todo")]


def test_the_job_renders_both_files_and_makes_one_work_that_is_a_child_of_its_keyframes(
        as_alice, alice, space):
    keys = works(alice, space, 3)
    video = made_video(as_alice, keys, title="Drift", loop=True)
    assert video.status == VideoStatus.DONE and video.frames_done == video.frames_total == 18
    assert video.duration_s == pytest.approx(0.75)
    work = video.creation
    assert (work.origin, work.visibility, work.title, work.owner) == (
        Origin.VIDEO, Visibility.PRIVATE, "Drift", alice)
    assert [link.parent for link in work.parent_links.order_by("position")] == keys
    assert videos.run(video.pk) is None  # a second run does nothing
    assert Creation.objects.filter(origin=Origin.VIDEO).count() == 1

    detail = as_alice.get(f"/api/videos/{video.public_id}/").json()
    assert detail["status"] == "done" and detail["creation"] == work.public_id
    files = detail["files"]
    mp4 = fetch(as_alice, files["mp4"])
    webm = fetch(as_alice, files["webm"])
    generator = get_space(space.slug)
    keyframe_pictures = generator.render(np_stack([k.tensor() for k in keys]), 256).numpy()
    for data, codec in ((mp4, "h264"), (webm, "vp9")):
        with av.open(io.BytesIO(data)) as container:
            stream = container.streams.video[0]
            assert stream.codec_context.name == codec
            assert (stream.width, stream.height, stream.average_rate) == (256, 256, 24)
            frames = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
        assert len(frames) == 18
        # The first frame is the first keyframe; a loop's frame 6 is the second, 12 the third.
        for index, key in ((0, 0), (6, 1), (12, 2)):
            error = np.abs(frames[index].astype(int) - keyframe_pictures[key].astype(int)).mean()
            assert error < 6, (codec, index, error)
    poster = fetch(as_alice, files["poster"])
    assert poster[:4] == b"RIFF" and poster[8:12] == b"WEBP"
    # The work answers with its video.
    answer = as_alice.get(f"/api/creations/{work.public_id}/").json()
    assert answer["origin"] == "video" and answer["video"]["mp4"] == files["mp4"]
    assert answer["video"]["fps"] == 24 and answer["video"]["size"] == 256


def np_stack(tensors):
    import torch

    return torch.stack(tensors)


def test_a_video_is_served_to_those_who_may_see_its_work(as_alice, as_bob, api, alice, space):
    video = made_video(as_alice, works(alice, space))
    url = f"/videos/{video.public_id}/video.mp4"
    assert as_alice.get(url).status_code == 200
    assert as_alice.get(url)["Cache-Control"].startswith("private")
    for other in (as_bob, api):
        assert other.get(url).status_code == 404
        assert other.get(f"/api/videos/{video.public_id}/").status_code in (401, 403, 404)
    actions.do_update(video.creation, visibility=Visibility.PUBLIC)
    for client in (as_alice, as_bob, api):
        response = client.get(url)
        assert response.status_code == 200 and response["Cache-Control"].startswith("public")
    actions.do_remove(video.creation)
    for client in (as_alice, as_bob, api):
        assert client.get(url).status_code == 404
    assert api.get(f"/videos/{video.public_id}/secrets.txt").status_code == 404
    assert api.get("/videos/nosuchvideo/video.mp4").status_code == 404


def test_byte_ranges_let_players_seek(as_alice, alice, space):
    video = made_video(as_alice, works(alice, space))
    url = f"/videos/{video.public_id}/video.webm"
    whole = fetch(as_alice, url)
    part = as_alice.get(url, HTTP_RANGE="bytes=100-199")
    assert part.status_code == 206 and part["Content-Range"] == f"bytes 100-199/{len(whole)}"
    assert body_of(part) == whole[100:200]
    tail = as_alice.get(url, HTTP_RANGE="bytes=-50")
    assert body_of(tail) == whole[-50:]
    assert as_alice.get(url, HTTP_RANGE=f"bytes={len(whole)}-").status_code == 416
    # Thousands of digits are an offset beyond the file, never a failed request.
    many = "9" * 5000
    assert as_alice.get(url, HTTP_RANGE=f"bytes={many}-").status_code == 416
    to_the_end = as_alice.get(url, HTTP_RANGE=f"bytes=10-{many}")
    assert to_the_end["Content-Range"] == f"bytes 10-{len(whole) - 1}/{len(whole)}"
    assert body_of(as_alice.get(url, HTTP_RANGE=f"bytes=-{many}")) == whole
    assert body_of(as_alice.get(url, HTTP_RANGE=f"bytes=0-{'0' * 5000}9")) == whole[:10]
    assert as_alice.get(url, HTTP_RANGE="bytes=\u0661\u0662-").status_code == 200  # not ASCII digits
    etag = part["ETag"]
    assert as_alice.get(url, HTTP_IF_NONE_MATCH=etag).status_code == 304


def test_keyframes_are_works_the_requester_can_see(as_alice, as_bob, alice, bob, space):
    private = works(alice, space)
    answer = ask(as_bob, private)
    assert answer.status_code == 400
    assert "that you can see" in answer.json()["error"]
    # Public works of others are fine; the video is the requester's own.
    public = works(alice, space, visibility=Visibility.PUBLIC)
    video = made_video(as_bob, public)
    assert video.creation.owner == bob
    # A keyframe made private before the job runs: the job refuses, in words.
    shared = works(alice, space, visibility=Visibility.PUBLIC)
    queued = Video.objects.get(public_id=ask(as_bob, shared).json()["id"])
    actions.do_update(shared[1], visibility=Visibility.PRIVATE)
    assert videos.run(queued.pk) is None
    queued.refresh_from_db()
    assert queued.status == VideoStatus.FAILED and "that you can see" in queued.error
    assert queued.creation is None


def test_a_video_cannot_be_bred_from(as_alice, alice, space, warm_gene):
    video = made_video(as_alice, works(alice, space))
    work = video.creation.public_id
    picture = actions.do_random(alice, space, 1)[0].public_id
    for url, body in ((f"/api/creations/{work}/children/", {"n": 2}),
                      ("/api/cross/", {"parents": [{"id": work}, {"id": picture}]}),
                      (f"/api/creations/{work}/edit/", {"genes": {"warmth": 1.0}})):
        answer = as_alice.post(url, body, format="json")
        assert answer.status_code == 400, url
        assert "A video cannot be bred from" in answer.json()["error"]
    # Nor be a keyframe of another video.
    assert "cannot be a keyframe" in ask(as_alice, [video.creation, video.creation]).json()["error"]


@pytest.mark.parametrize("body, message", [
    ({"fps": 25}, "fps"),
    ({"size": 300}, "size"),
    ({"easing": "bounce"}, "easing"),
    ({"seconds_per_step": 0.25, "duration": 2}, "not both"),
    ({"seconds_per_step": -1}, "seconds_per_step"),
    ({"camera": "zoom-out", "duration": 1}, "camera move is over one picture"),
    ({"camera": "zoom-out"}, "a camera move takes a duration"),
    ({"size": 1024, "fps": 60, "seconds_per_step": 60}, "too long for its size"),
    ({"keyframes": ["!!"]}, "keyframes"),
    ({"keyframes": []}, "keyframes"),
    ({"keyframes": ["aaaaaaaa"] * 17}, "keyframes"),
    ({"keyframes": ["nosuchwork"]}, "keyframes"),
])
def test_bad_requests_are_refused_with_a_sentence(as_alice, alice, space, body, message):
    keys = works(alice, space)
    payload = {"keyframes": [k.public_id for k in keys], **QUICK}
    if "duration" in body:
        payload.pop("seconds_per_step")
    payload.update(body)
    answer = as_alice.post("/api/videos/", payload, format="json")
    assert answer.status_code == 400
    assert message in answer.json()["error"]
    assert not Video.objects.exists()


def test_one_keyframe_is_not_a_morph(as_alice, alice, space):
    answer = ask(as_alice, works(alice, space, 1))
    assert answer.status_code == 400 and "A morph needs 2 to 16 keyframes" in answer.json()["error"]


def test_a_camera_move_zooms_out_of_one_picture(as_alice, alice, space):
    key = works(alice, space, 1)
    body = {"keyframes": [key[0].public_id], "camera": "zoom-out", "zoom": 2, "duration": 0.5,
            "fps": 24, "size": 256}
    answer = as_alice.post("/api/videos/", body, format="json")
    assert answer.status_code == 202, answer.json()
    video = Video.objects.get(public_id=answer.json()["id"])
    assert videos.run(video.pk) is not None
    video.refresh_from_db()
    frames = video_frames(fetch(as_alice, f"/videos/{video.public_id}/video.webm"))
    assert len(frames) == 13
    first = get_space(space.slug).render(key[0].tensor()[None], 256)[0].numpy()
    assert np.abs(frames[0].astype(int) - first.astype(int)).mean() < 6
    assert np.abs(frames[-1].astype(int) - first.astype(int)).mean() > 10  # the camera moved


def test_a_camera_move_in_a_space_without_a_canvas_is_refused(as_alice, alice):
    figures = next(s for s in actions.sync_spaces() if s.slug == "figures")
    key = works(alice, figures, 1)
    answer = as_alice.post("/api/videos/", {"keyframes": [key[0].public_id], "camera": "zoom-in"},
                           format="json")
    assert answer.status_code == 400 and "cannot move a camera" in answer.json()["error"]


def test_keyframes_from_two_spaces_are_refused(as_alice, alice, space):
    figures = next(s for s in actions.sync_spaces() if s.slug == "figures")
    answer = ask(as_alice, [works(alice, space, 1)[0], works(alice, figures, 1)[0]])
    assert answer.status_code == 400 and "same space" in answer.json()["error"]


def video_frames(data: bytes) -> list:
    with av.open(io.BytesIO(data)) as container:
        return [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]


def test_the_preview_is_a_small_webm_played_at_once(as_alice, alice, space):
    keys = works(alice, space)
    answer = as_alice.post("/api/videos/preview/", {"keyframes": [k.public_id for k in keys],
                                                    "seconds_per_step": 1, "even_speed": True},
                           format="json")
    assert answer.status_code == 200 and answer["Content-Type"] == "video/webm"
    with av.open(io.BytesIO(answer.content)) as container:
        stream = container.streams.video[0]
        assert (stream.width, stream.average_rate) == (128, 12)
        assert len(list(container.decode(video=0))) == 13
    assert not Video.objects.exists()  # nothing kept


@pytest.mark.django_db(transaction=True)
def test_a_cancelled_video_is_never_rendered_and_cancelling_stops_one_under_way(
        as_alice, alice, space):
    keys = works(alice, space)
    video = Video.objects.get(public_id=ask(as_alice, keys).json()["id"])
    answer = as_alice.post(f"/api/videos/{video.public_id}/cancel/")
    assert answer.status_code == 200 and answer.json()["status"] == "cancelled"
    assert videos.run(video.pk) is None
    assert as_alice.post(f"/api/videos/{video.public_id}/cancel/").status_code == 400

    long = Video.objects.get(public_id=ask(as_alice, keys, seconds_per_step=8, fps=30).json()["id"])
    outcome = {}
    def work():
        try:
            outcome.update(made=videos.run(long.pk))
        finally:
            connection.close()  # this thread's own connection, back to the pool

    worker = threading.Thread(target=work)
    worker.start()
    deadline = time.monotonic() + 60
    while not Video.objects.filter(pk=long.pk, frames_done__gt=0).exists():
        assert time.monotonic() < deadline, "the video never started"
        time.sleep(0.05)
    videos.do_cancel(long)
    worker.join(60)
    long.refresh_from_db()
    assert outcome == {"made": None} and long.status == VideoStatus.CANCELLED
    assert long.frames_done < long.frames_total and not long.mp4


def test_videos_count_against_an_allowance(as_alice, alice, space, settings):
    settings.VIDEOS_WAITING_MAX = 1
    keys = works(alice, space)
    assert ask(as_alice, keys).status_code == 202
    answer = ask(as_alice, keys)
    assert answer.status_code == 429 and "being made" in answer.json()["error"]
    assert answer["Retry-After"]


def test_logging_in_is_needed(api, alice, space):
    keys = works(alice, space, visibility=Visibility.PUBLIC)
    assert ask(api, keys).status_code in (401, 403)


@pytest.mark.django_db(transaction=True)
async def test_progress_and_the_result_reach_the_owners_sockets_only(client, alice, bob, space):
    from tests.breeding.test_studio_socket import connect

    keys = await sync_to_async(works)(alice, space)
    plan = videos.Plan(**{**QUICK, "seconds_per_step": 1.0})
    video = await sync_to_async(videos.do_video)(alice, space, keys, plan, "Heard")
    mine, theirs = await connect(client, alice), await connect(client, bob)
    for ws in (mine, theirs):
        await ws.receive_json_from()  # hello
    made = await sync_to_async(videos.run)(video.pk)

    events = []
    while not events or events[-1]["status"] not in ("done", "failed"):
        events.append(await mine.receive_json_from(timeout=10))
    assert {e["type"] for e in events} == {"video"} and {e["video"] for e in events} == {video.public_id}
    done = [e["frames_done"] for e in events if e["status"] == "rendering"]
    assert done == sorted(done) and done[-1] == 25
    assert events[-1]["status"] == "done" and events[-1]["creation"] == made
    assert events[-1]["fraction"] == 1.0
    assert await theirs.receive_nothing(timeout=0.3)
    await mine.disconnect()
    await theirs.disconnect()


def test_a_morph_ends_on_its_last_keyframe(as_alice, alice, space):
    keys = works(alice, space, 2)
    video = made_video(as_alice, keys, easing="linear")
    frames = video_frames(fetch(as_alice, f"/videos/{video.public_id}/video.mp4"))
    assert len(frames) == 7
    pictures = get_space(space.slug).render(np_stack([k.tensor() for k in keys]), 256).numpy()
    assert np.abs(frames[0].astype(int) - pictures[0].astype(int)).mean() < 6
    assert np.abs(frames[-1].astype(int) - pictures[1].astype(int)).mean() < 6
    # The same keyframes and settings give the same bytes.
    again = made_video(as_alice, keys, easing="linear")
    assert again.mp4.read() == video.mp4.read() and again.webm.read() == video.webm.read()


def test_a_public_video_hangs_in_an_exhibition_and_plays_there(as_alice, alice, space, client):
    from gallery import exhibitions

    video = made_video(as_alice, works(alice, space), title="Drift")
    show = exhibitions.do_create(alice, "Moving pictures")
    with pytest.raises(exhibitions.Refused, match="only public works"):
        exhibitions.do_add(show, video.creation.public_id)
    actions.do_update(video.creation, visibility=Visibility.PUBLIC)
    event = exhibitions.do_add(show, video.creation.public_id)
    files = event["item"]["work"]["video"]
    assert files == {"mp4": f"/videos/{video.public_id}/video.mp4",
                     "webm": f"/videos/{video.public_id}/video.webm",
                     "poster": f"/videos/{video.public_id}/poster.webp"}
    exhibitions.do_update(show, status="open")
    page = client.get(f"/exhibitions/{show.slug}/").content.decode()
    assert f'<source src="{files["webm"]}" type="video/webm">' in page
    # A video is not a parent for a live breeding round.
    with pytest.raises(exhibitions.Refused, match="is a video, and a round breeds children of a picture"):
        exhibitions.do_start_round(show, alice, video.creation.public_id)


def test_a_video_is_nobodys_neighbour(as_alice, alice, space):
    from gallery.neighbours import neighbour_ids

    keys = works(alice, space, 3, visibility=Visibility.PUBLIC)
    video = made_video(as_alice, keys[:2])
    actions.do_update(video.creation, visibility=Visibility.PUBLIC)
    near = neighbour_ids(keys[0], 10)
    assert video.creation.pk not in near and set(near) == {keys[1].pk, keys[2].pk}


def test_tampered_requests_get_sentences_not_errors(as_alice, as_bob, api, alice, space):
    video = made_video(as_alice, works(alice, space))
    for body in ([1, 2], "video", {"keyframes": {"a": 1}}, {"keyframes": "abcd"},
                 {"keyframes": [video.creation.public_id] * 2, "fps": "NaN"}):
        for url in ("/api/videos/", "/api/videos/preview/"):
            answer = as_alice.post(url, body, format="json")
            assert answer.status_code == 400 and answer.json()["error"], (url, body)
    # Another breeder's video is not there for them, nor for anyone anonymous.
    for client in (as_bob, api):
        for method, url in (("get", f"/api/videos/{video.public_id}/"),
                            ("post", f"/api/videos/{video.public_id}/cancel/")):
            assert getattr(client, method)(url).status_code in (401, 403, 404)
    assert as_alice.get("/api/videos/../../etc/").status_code == 404
    url = f"/videos/{video.public_id}/video.mp4"
    for header in ("bytes=abc", "bytes=5-2", "bytes=-0", "bytes=99999999999999999999-", "items=0-9"):
        answer = as_alice.get(url, HTTP_RANGE=header)
        assert answer.status_code in (200, 416), header
    for name in ("../video.mp4", "video.MP4", "poster.png", "%2e%2e"):
        assert as_alice.get(f"/videos/{video.public_id}/{name}").status_code == 404


def test_a_keyframe_made_private_during_the_render_fails_the_video(as_bob, alice, bob, space):
    """Alice makes a keyframe private while Bob's video of her works is being rendered: the
    video fails with a sentence instead of ending with her picture in it (and at its own
    address, through Bob's video, once he shared it)."""
    from breeding import images

    shared = works(alice, space, visibility=Visibility.PUBLIC)
    video = Video.objects.get(public_id=ask(as_bob, shared).json()["id"])
    generator = space.generator()

    def render_while_alice_hides_one(latents, size, views):
        if Creation.objects.filter(pk=shared[1].pk, visibility=Visibility.PUBLIC).exists():
            actions.do_update(Creation.objects.get(pk=shared[1].pk), visibility=Visibility.PRIVATE)
        return images.render_frames(generator, latents, size, views)

    assert videos.run(video.pk, render=render_while_alice_hides_one) is None
    video.refresh_from_db()
    assert video.status == VideoStatus.FAILED and video.creation is None and not video.mp4
    assert video.error == ("A keyframe was made private or removed while the video was being "
                           "made, so it cannot be in the video. Make the video again without it.")
    assert not Creation.objects.filter(owner=bob).exists()
    assert as_bob.get(f"/r/abstract/{shared[1].latent_sha}/256.webp").status_code == 404


def test_a_preview_is_charged_the_cpu_it_measured(as_alice, alice, space, settings, one_minute):
    """Issue #24: a preview's cost is its planning, rendering and encoding, far more than
    its frames' area; the budget counts it in measured CPU seconds and is spent soon."""
    settings.RENDER_BUDGET_CPU_S_PER_MIN = 2.0
    keys = works(alice, space, n=3)
    body = {"keyframes": [k.public_id for k in keys], "seconds_per_step": 2, "even_speed": True}
    statuses = []
    for _ in range(40):
        statuses.append(as_alice.post("/api/videos/preview/", body, format="json").status_code)
        if statuses[-1] != 200:
            break
    assert statuses[-1] == 429 and set(statuses[:-1]) == {200}
    refused = as_alice.post("/api/videos/preview/", body, format="json").json()["error"]
    assert refused.startswith("You have asked for more pictures than Mendel renders for one person "
                              "in a minute (2 seconds of computing). Try again in ")


@pytest.mark.django_db(transaction=True)
def test_one_preview_at_a_time_per_person(as_alice, as_bob, alice, bob, space, gated):
    keys = works(alice, space, visibility=Visibility.PUBLIC)
    body = {"keyframes": [k.public_id for k in keys], "seconds_per_step": 1, "even_speed": False}
    assert images.settle(timeout=60)  # the keyframes' eager pictures: not held at the gate
    gate = gated()
    first = {}

    def ask_first():
        try:
            first["answer"] = as_alice.post("/api/videos/preview/", body, format="json")
        finally:
            connection.close()  # this thread's own

    thread = threading.Thread(target=ask_first)
    try:
        thread.start()
        gate.entered.wait()  # Alice's first preview is being rendered
        second = as_alice.post("/api/videos/preview/", body, format="json")
        assert second.status_code == 429 and second["Retry-After"] == "2"
        assert second.json()["error"] == ("Your previous video preview is still being made. Wait "
                                          "for it, then ask again.")
        gate.gate.set()
        thread.join()
        assert first["answer"].status_code == 200
        assert as_alice.post("/api/videos/preview/", body, format="json").status_code == 200
    finally:
        gate.gate.set()
        thread.join()
