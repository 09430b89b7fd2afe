"""Uploads: the API, the projection job run for real (small and short), exactly one
creation per upload, cancelling, privacy of the original, progress on the owner's socket."""

from __future__ import annotations

import io
import threading
import time

import pytest
from django.db import connection, transaction
from PIL import Image

from breeding import actions, projection
from breeding.models import Creation, Origin, Upload, UploadStatus, Visibility
from breeding.uploads import decode

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_jobs_queued")]


@pytest.fixture(autouse=True)
def _quick_projection(settings):
    settings.PROJECTION_SIZE = 32
    settings.PROJECTION_BUDGET_S = 1.0


def picture_bytes(fmt: str = "PNG", size=(96, 64), colour=(200, 120, 40)) -> bytes:
    image = Image.new("RGB", size, colour)
    for x in range(size[0] // 2):  # a shape on a ground, so it is not one flat colour
        for y in range(size[1] // 3, size[1] // 2):
            image.putpixel((x, y), (30, 60, 160))
    buffer = io.BytesIO()
    image.save(buffer, fmt)
    return buffer.getvalue()


def as_file(data: bytes, name: str = "photo.png", content_type: str = "image/png"):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, data, content_type=content_type)


def jobs_for(upload: Upload) -> list[tuple[str, str]]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT task_name, status FROM procrastinate_jobs WHERE args->>'upload_id' = %s",
                       [str(upload.pk)])
        return cursor.fetchall()


def test_an_upload_is_kept_and_its_projection_queued_in_one_transaction(as_alice, alice, space):
    answer = as_alice.post("/api/uploads/", {"file": as_file(picture_bytes()), "title": "Dusk"},
                           format="multipart")
    assert answer.status_code == 202, answer.json()
    body = answer.json()
    assert (body["status"], body["space"], body["title"], body["creation"]) == ("queued", "abstract", "Dusk", None)
    assert (body["width"], body["height"], body["source_format"]) == (96, 64, "png")
    upload = Upload.objects.get(public_id=body["id"])
    assert upload.owner == alice
    assert jobs_for(upload) == [("breeding.tasks.project_upload", "todo")]
    # Named by Mendel, never by the name it came with.
    assert "photo" not in upload.original.name and upload.original.name.endswith("/original.png")

    # A transaction that fails leaves neither the row nor the job.
    before = Upload.objects.count()
    with pytest.raises(RuntimeError), transaction.atomic():
        actions.do_upload(alice, space, decode(picture_bytes()), "")
        raise RuntimeError("something after it failed")
    assert Upload.objects.count() == before
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM procrastinate_jobs WHERE task_name = 'breeding.tasks.project_upload'")
        assert cursor.fetchone()[0] == 1


def test_the_job_makes_exactly_one_private_creation_linked_to_its_upload(alice, space):
    upload = actions.do_upload(alice, space, decode(picture_bytes()), "Dusk")
    made = projection.run(upload.pk)
    upload.refresh_from_db()
    creation = Creation.objects.get(public_id=made)
    assert upload.status == UploadStatus.DONE and upload.creation == creation
    assert (creation.origin, creation.owner, creation.visibility, creation.title) == (
        Origin.UPLOAD, alice, Visibility.PRIVATE, "Dusk")
    assert creation.kept_at is not None and creation.depth == 0
    assert upload.psnr_db is not None and upload.psnr_db > 5
    assert upload.step == upload.steps > 0

    # The job again (a retry after its worker died just before it was marked done, say):
    # nothing new.
    assert projection.run(upload.pk) is None
    assert Creation.objects.filter(origin=Origin.UPLOAD).count() == 1
    # Two runs racing to the finish: the second finds it done under the row lock.
    upload.status = UploadStatus.PROJECTING
    assert projection.finish(upload, creation.tensor(), 20.0) is None
    assert Creation.objects.filter(origin=Origin.UPLOAD).count() == 1


def test_the_projected_work_breeds_and_crosses_like_any_other(as_alice, alice, space):
    upload = actions.do_upload(alice, space, decode(picture_bytes()), "")
    made = projection.run(upload.pk)
    children = as_alice.post(f"/api/creations/{made}/children/", {"n": 2}, format="json")
    assert children.status_code == 201
    other = actions.do_random(alice, space, 1)[0]
    cross = as_alice.post("/api/cross/", {"parents": [{"id": made}, {"id": other.public_id}]}, format="json")
    assert cross.status_code == 201


def test_a_cancelled_upload_is_never_projected(as_alice, alice, space):
    upload = actions.do_upload(alice, space, decode(picture_bytes()), "")
    answer = as_alice.post(f"/api/uploads/{upload.public_id}/cancel/")
    assert answer.status_code == 200 and answer.json()["status"] == "cancelled"
    assert projection.run(upload.pk) is None
    assert not Creation.objects.filter(origin=Origin.UPLOAD).exists()
    again = as_alice.post(f"/api/uploads/{upload.public_id}/cancel/")
    assert again.status_code == 400
    assert again.json()["error"] == "This upload is cancelled already: there is nothing to cancel."


@pytest.mark.django_db(transaction=True)
def test_cancelling_stops_a_projection_under_way(alice, space, settings):
    settings.PROJECTION_BUDGET_S = 30.0
    upload = actions.do_upload(alice, space, decode(picture_bytes()), "")
    outcome = {}
    def work():
        try:
            outcome.update(made=projection.run(upload.pk))
        finally:
            connection.close()  # this thread's own connection, back to the pool

    worker = threading.Thread(target=work)
    worker.start()
    deadline = time.monotonic() + 60
    while not Upload.objects.filter(pk=upload.pk, step__gt=0).exists():
        assert time.monotonic() < deadline, "the projection never reported a step"
        time.sleep(0.1)
    assert projection.do_cancel_upload(upload)
    worker.join(60)
    assert outcome == {"made": None}
    upload = Upload.objects.get(pk=upload.pk)
    assert upload.step < upload.steps  # it stopped, far from the end of its budget
    assert Upload.objects.get(pk=upload.pk).status == UploadStatus.CANCELLED
    assert not Creation.objects.filter(origin=Origin.UPLOAD).exists()


def test_uploads_and_their_pictures_are_their_owners_alone(as_alice, as_bob, api, alice, space):
    upload = actions.do_upload(alice, space, decode(picture_bytes("JPEG")), "")
    for path in (f"/api/uploads/{upload.public_id}/", f"/uploads/{upload.public_id}/original",
                 f"/uploads/{upload.public_id}/thumb"):
        assert as_bob.get(path).status_code == 404, path
        assert api.get(path).status_code in (403, 404), path
    assert as_bob.post(f"/api/uploads/{upload.public_id}/cancel/").status_code == 404
    assert as_bob.get("/api/uploads/").json() == []

    original = as_alice.get(f"/uploads/{upload.public_id}/original")
    assert original.status_code == 200 and original["Content-Type"] == "image/jpeg"
    assert original["Cache-Control"].startswith("private")
    thumb = as_alice.get(f"/uploads/{upload.public_id}/thumb")
    assert thumb["Content-Type"] == "image/webp"
    assert Image.open(io.BytesIO(thumb.content)).size == (96, 64)
    assert [u["id"] for u in as_alice.get("/api/uploads/").json()] == [upload.public_id]

    # Published, the work is everyone's to see; the picture it came from is still hers.
    made = Creation.objects.get(public_id=projection.run(upload.pk))
    actions.do_update(made, visibility=Visibility.PUBLIC)
    assert as_bob.get(f"/api/creations/{made.public_id}/").status_code == 200
    assert as_bob.get(f"/uploads/{upload.public_id}/original").status_code == 404


def test_the_family_tree_shows_the_upload_as_the_parent(as_alice, as_bob, alice, space):
    upload = actions.do_upload(alice, space, decode(picture_bytes()), "Dusk")
    made = Creation.objects.get(public_id=projection.run(upload.pk))
    child = actions.do_children(alice, made, 1, 0.3)[0]
    actions.do_update(made, visibility=Visibility.PUBLIC)
    actions.do_update(child, visibility=Visibility.PUBLIC)

    tree = as_alice.get(f"/api/creations/{child.public_id}/lineage/?depth=3").json()
    node = next(n for n in tree["nodes"] if n.get("upload"))
    assert node == {"id": f"upload-{upload.public_id}", "upload": True, "generation": 2,
                    "title": "Dusk", "images": {"256": f"/uploads/{upload.public_id}/thumb"}}
    assert {"child": made.public_id, "parent": node["id"]} in tree["links"]
    # Others learn that it came from an upload (its origin says so), nothing of the picture.
    seen = as_bob.get(f"/api/creations/{child.public_id}/lineage/?depth=3").json()
    assert [n for n in seen["nodes"] if n.get("upload")] == [
        {"id": "upload-1", "upload": True, "generation": 2}]
    # One generation up is not deep enough to reach it.
    shallow = as_alice.get(f"/api/creations/{child.public_id}/lineage/?depth=1").json()
    assert not any(n.get("upload") for n in shallow["nodes"])
    page = as_alice.get(f"/w/{child.public_id}/lineage/")
    assert b"The uploaded picture it was projected from" in page.content
    # The work page says where it came from; the picture itself to its owner only.
    thumb = f"/uploads/{upload.public_id}/thumb".encode()
    mine = as_alice.get(f"/w/{made.public_id}/").content
    assert b"Projected from an uploaded picture, seen only by you" in mine and thumb in mine
    theirs = as_bob.get(f"/w/{made.public_id}/").content
    assert b"Projected from an uploaded picture." in theirs and thumb not in theirs


@pytest.mark.parametrize("files, field, message", [
    ([], "file", "No picture was sent: choose one picture to upload."),
    ([("a.png", picture_bytes()), ("b.png", picture_bytes())], "file",
     "Only one picture can be uploaded at a time, and 2 files were sent."),
    ([("notes.png", b"just some words, not a picture at all")], "file", None),
])
def test_bad_uploads_are_refused_with_a_sentence(as_alice, space, files, field, message):
    from django.core.files.uploadedfile import SimpleUploadedFile

    body = {"title": "x"}
    for i, (name, data) in enumerate(files):
        body[f"file{i}" if i else "file"] = SimpleUploadedFile(name, data, content_type="image/png")
    answer = as_alice.post("/api/uploads/", body, format="multipart")
    assert answer.status_code == 400
    said = answer.json()
    assert said["fields"] == {field: [said["error"]]}
    if message:
        assert said["error"] == message
    else:
        assert said["error"].endswith(".") and "JPEG" in said["error"]
    assert not Upload.objects.exists()


def test_a_space_that_cannot_project_says_so_before_the_upload(as_alice, space, monkeypatch):
    assert as_alice.get("/api/spaces/").json()[0]["can_project"] is True
    monkeypatch.setattr(type(space.generator()), "can_project", False, raising=False)
    assert as_alice.get("/api/spaces/").json()[0]["can_project"] is False
    answer = as_alice.post("/api/uploads/", {"file": as_file(picture_bytes())}, format="multipart")
    assert answer.json() == {"error": "The abstract space cannot take uploads.",
                             "fields": {"space": ["The abstract space cannot take uploads."]}}
    page = as_alice.get("/upload/")
    assert b"abstract (cannot take uploads)" in page.content
    assert as_alice.post("/api/uploads/", {"file": as_file(picture_bytes()), "space": "nowhere"},
                         format="multipart").json()["error"] == "There is no space 'nowhere'."


def test_uploads_count_against_an_allowance(as_alice, alice, space, settings):
    settings.UPLOADS_WAITING_MAX = 2
    for _ in range(2):
        assert as_alice.post("/api/uploads/", {"file": as_file(picture_bytes())}, format="multipart").status_code == 202
    full = as_alice.post("/api/uploads/", {"file": as_file(picture_bytes())}, format="multipart")
    assert full.status_code == 429
    assert full.json()["error"] == ("You already have 2 pictures waiting to be projected. Wait "
                                    "for one to finish, or cancel one.")
    Upload.objects.update(status=UploadStatus.DONE)
    settings.UPLOADS_PER_HOUR = 3
    assert as_alice.post("/api/uploads/", {"file": as_file(picture_bytes())}, format="multipart").status_code == 202
    Upload.objects.update(status=UploadStatus.DONE)
    hourly = as_alice.post("/api/uploads/", {"file": as_file(picture_bytes())}, format="multipart")
    assert hourly.status_code == 429 and hourly["Retry-After"]
    assert hourly.json()["error"].startswith("You have uploaded 3 pictures this hour")
    # A picture that is refused does not count.
    assert Upload.objects.count() == 3


def test_logging_in_is_needed(api, client, space):
    assert api.post("/api/uploads/", {"file": as_file(picture_bytes())}, format="multipart").status_code == 403
    assert client.get("/upload/").status_code == 302


def test_the_upload_page_works_without_javascript(client, alice, space):
    client.force_login(alice)
    page = client.get("/upload/")
    assert page.status_code == 200 and b"Drop a picture here" in page.content
    cut = picture_bytes("GIF")[:60]
    with pytest.raises(ValueError) as refusal:
        decode(cut, "x.gif", "image/gif")
    refused = client.post("/upload/", {"file": as_file(cut, "x.gif", "image/gif"), "space": "abstract"})
    assert refused.status_code == 400
    assert refusal.value.message.encode() in refused.content
    sent = client.post("/upload/", {"file": as_file(picture_bytes()), "space": "abstract", "title": "Dusk"})
    upload = Upload.objects.get()
    assert sent.status_code == 302 and sent["Location"] == f"/upload/?id={upload.public_id}"
    following = client.get(sent["Location"])
    assert b"Waiting for a worker" in following.content
    assert client.get("/upload/?id=nothing").status_code == 404


@pytest.mark.django_db(transaction=True)
async def test_progress_and_the_result_reach_the_owners_sockets_only(client, alice, bob, space):
    from asgiref.sync import sync_to_async

    from tests.breeding.test_studio_socket import connect

    upload = await sync_to_async(actions.do_upload)(alice, space, decode(picture_bytes()), "")
    mine, theirs = await connect(client, alice), await connect(client, bob)
    for ws in (mine, theirs):
        await ws.receive_json_from()  # hello
    made = await sync_to_async(projection.run)(upload.pk)

    events = []
    while not events or events[-1]["status"] not in ("done", "failed"):
        events.append(await mine.receive_json_from(timeout=10))
    assert {e["type"] for e in events} == {"upload"} and {e["upload"] for e in events} == {upload.public_id}
    steps = [e["step"] for e in events if e["status"] == "projecting"]
    assert steps == sorted(steps) and steps[-1] > 0
    assert any(e.get("preview", "").startswith("data:image/webp;base64,") for e in events)
    assert events[-1]["status"] == "done" and events[-1]["creation"] == made
    assert events[-1]["fraction"] == 1.0
    assert await theirs.receive_nothing(timeout=0.3)
    await mine.disconnect()
    await theirs.disconnect()


async def test_bodies_larger_than_an_upload_are_refused_before_they_are_read():
    from mendel.bodylimit import BodyLimit

    seen = []

    async def app(scope, receive, send):
        while True:
            message = await receive()
            seen.append(message["type"])
            if message["type"] == "http.disconnect" or not message.get("more_body"):
                break
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"read"})

    limited = BodyLimit(app, 1000, "Too large.")

    async def run(headers, chunks):
        sent, queue = [], list(chunks)

        async def receive():
            body = queue.pop(0)
            return {"type": "http.request", "body": body, "more_body": bool(queue)}

        async def send(message):
            sent.append(message)

        seen.clear()
        await limited({"type": "http", "headers": headers}, receive, send)
        return sent

    # Said too large by its length: 413 and not a byte read.
    sent = await run([(b"content-length", b"5000")], [b"x" * 5000])
    assert sent[0]["status"] == 413 and seen == []
    assert sent[1]["body"] == b'{"error": "Too large."}'
    # Sent in chunks without a length: refused once it outgrows the limit, the app sees none.
    sent = await run([(b"transfer-encoding", b"chunked")], [b"x" * 600, b"x" * 600, b"x" * 600])
    assert sent[0]["status"] == 413 and seen == []
    # Within the limit, in chunks: the app gets it whole, with its length.
    sent = await run([(b"transfer-encoding", b"chunked")], [b"x" * 300, b"x" * 300])
    assert sent[0]["status"] == 200 and seen == ["http.request"]
    # Within the limit: untouched.
    sent = await run([(b"content-length", b"900")], [b"x" * 900])
    assert sent[0]["status"] == 200 and seen == ["http.request"]
