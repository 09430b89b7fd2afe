"""Published works: a picture, a video, a sound or a text made anywhere, through the API,
its job, its files and the rule of who may see them."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from breeding import actions, media
from breeding.models import Creation, MediaWork, Medium, Origin, Parentage, Technique, Visibility
from tests import media_files
from tests.breeding.test_videos import body_of

pytestmark = pytest.mark.django_db


def publish(client, kind, data=None, **fields):
    body = {"kind": kind, "title": f"A {kind}", **fields}
    if data is not None:
        body["file"] = SimpleUploadedFile("whatever.bin", data)
    return client.post("/api/media/", body, format="multipart")


def transcoded(client, kind, data, **fields) -> MediaWork:
    answer = publish(client, kind, data, **fields)
    assert answer.status_code == 202, answer.json()
    job = MediaWork.objects.get(public_id=answer.json()["id"])
    assert media.run(job.pk) is not None
    job.refresh_from_db()
    return job


def test_a_text_is_a_work_at_once_and_shown_escaped(as_alice, alice, api):
    answer = as_alice.post("/api/media/", {
        "kind": "text", "title": "Salt", "text": "<script>alert(1)</script>\n*tide* and\n\nfoam",
        "markdown": True, "techniques": ["GPT-3", "Ink and Patience"], "visibility": "public",
        "licence": "cc-by-4.0", "statement": "Written at the shore.",
        "links": [{"url": "https://example.org/salt", "label": "Notes"}]}, format="json")
    assert answer.status_code == 201, answer.json()
    work = Creation.objects.get(public_id=answer.json()["creation"])
    assert (work.origin, work.medium, work.space_id, work.latent) == (Origin.MEDIA, Medium.TEXT, None, None)
    detail = api.get(f"/api/creations/{work.public_id}/").json()
    html = detail["media"]["text_html"]
    assert "<script>" not in html and "&lt;script&gt;" in html and "<em>tide</em>" in html
    assert detail["media"]["techniques"] == ["GPT-3", "Ink and Patience"]
    assert detail["media"]["licence"]["url"].startswith("https://creativecommons.org/licenses/by/")
    assert Technique.objects.filter(name="Ink and Patience").exists()
    cover = api.get(detail["images"]["256"])
    assert cover.status_code == 200 and cover["Content-Type"] == "image/webp"


def test_a_picture_is_decoded_and_reencoded_and_served_as_it_is(as_alice, alice, api):
    answer = publish(as_alice, "picture", media_files.picture((300, 200)), visibility="public")
    assert answer.status_code == 201, answer.json()
    job = MediaWork.objects.get(public_id=answer.json()["id"])
    assert (job.width, job.height) == (300, 200)
    files = media.files_of(job)
    assert files["file"].endswith("/picture.png")
    assert api.get(files["file"])["Content-Type"] == "image/png"


def test_a_sound_is_transcoded_by_a_job_with_a_waveform(as_alice, alice, api):
    job = transcoded(as_alice, "sound", media_files.sound(2.0, "mp3"), visibility="public")
    assert job.status == "done" and abs(job.duration_s - 2.0) < 0.1
    files = media.files_of(job)
    assert files["file"].endswith("/sound.m4a")
    answer = api.get(files["file"])
    assert answer["Content-Type"] == "audio/mp4" and body_of(answer)[4:8] == b"ftyp"
    assert not job.source  # the file as it came is not kept


def test_a_video_is_transcoded_to_h264_with_a_poster(as_alice, alice, api):
    import io

    import av

    job = transcoded(as_alice, "video", media_files.film(1.0, container="webm", codec="libvpx-vp9"),
                     visibility="unlisted")
    answer = api.get(media.files_of(job)["file"])
    with av.open(io.BytesIO(body_of(answer))) as played:
        assert [s.codec_context.codec.canonical_name for s in played.streams] == ["h264", "aac"]
    assert api.get(f"/m/{job.public_id}/large.webp").status_code == 200


def test_what_is_not_the_kind_it_claims_is_refused_with_a_sentence(as_alice, alice):
    answer = publish(as_alice, "video", media_files.sound(1.0, "wav"))
    assert answer.status_code == 400
    assert "publish it as a sound" in answer.json()["error"]
    answer = publish(as_alice, "sound", b"PK\x03\x04" + b"\x00" * 200)
    assert answer.status_code == 400 and "ZIP archive" in answer.json()["error"]
    assert not MediaWork.objects.exists()


def test_a_private_work_and_its_files_are_its_owners_alone(as_alice, as_bob, alice, api):
    job = transcoded(as_alice, "sound", media_files.sound(1.0), visibility="private")
    url = media.files_of(job)["file"]
    assert as_alice.get(url).status_code == 200
    assert as_bob.get(url).status_code == 404 and api.get(url).status_code == 404
    assert as_bob.get(f"/api/creations/{job.creation.public_id}/").status_code == 404


def test_removing_a_published_work_deletes_its_files(as_alice, alice, api,
                                                     django_capture_on_commit_callbacks):
    import os

    job = transcoded(as_alice, "sound", media_files.sound(1.0), visibility="public")
    path = job.file.path
    with django_capture_on_commit_callbacks(execute=True):
        assert as_alice.delete(f"/api/creations/{job.creation.public_id}/").status_code == 204

    assert not os.path.exists(path)
    assert api.get(media.files_of(job)["cover"]).status_code == 404
    answer = as_alice.post(f"/api/creations/{job.creation.public_id}/restore/")
    assert answer.status_code == 400 and "publish the file again" in str(answer.json())


def test_a_published_work_cannot_be_bred_from(as_alice, alice):
    answer = publish(as_alice, "picture", media_files.picture(), visibility="public")
    work = answer.json()["creation"]
    refused = as_alice.post(f"/api/creations/{work}/children/", {"n": 2}, format="json")
    assert refused.status_code == 400 and "cannot be bred from" in str(refused.json())


def test_made_with_makes_it_a_child_of_the_bred_work(as_alice, alice, space):
    (bred,) = actions.do_random(alice, space, 1, seed=3)
    answer = publish(as_alice, "picture", media_files.picture(), made_with=bred.public_id)
    work = Creation.objects.get(public_id=answer.json()["creation"])
    assert Parentage.objects.get(child=work).parent == bred and work.depth == bred.depth + 1
    assert Visibility.PRIVATE == work.visibility


def test_a_published_work_is_no_keyframe_no_parent_and_opens_no_studio(as_alice, alice, space):
    work = publish(as_alice, "picture", media_files.picture(), visibility="public").json()["creation"]
    (bred,) = actions.do_random(alice, space, 1, seed=4)
    refused = as_alice.post("/api/videos/", {"keyframes": [work, bred.public_id]}, format="json")
    assert refused.status_code == 400 and "cannot be a keyframe" in str(refused.json())
    refused = as_alice.post("/api/cross/", {"parents": [{"id": work}, {"id": bred.public_id}]},
                            format="json")
    assert refused.status_code == 400 and "cannot be bred from" in str(refused.json())
    assert as_alice.get(f"/studio/{work}/")["Location"].endswith(f"/w/{work}/")
    answer = as_alice.post(f"/w/{work}/breed/", follow=True)
    assert answer.status_code == 200 and "cannot be bred from" in answer.content.decode()


def test_bad_fields_get_sentences_and_nothing_is_kept(as_alice, alice):
    cases = [
        ({"kind": "poem", "title": "x"}, "kind", "picture, a video, a sound or a text"),
        ({"kind": "text", "title": ""}, "title", "required"),
        ({"kind": "text", "title": "x", "text": ""}, "text", "required"),
        ({"kind": "text", "title": "x", "text": "y" * (media.TEXT_MAX + 1)}, "text", "20000"),
        ({"kind": "text", "title": "x", "text": "y", "licence": "mine"}, "licence", "licences"),
        ({"kind": "text", "title": "x", "text": "y", "visibility": "draft"}, "visibility", "private"),
        ({"kind": "text", "title": "x", "text": "y", "links": ["javascript:alert(1)"]}, "links", "web address"),
        ({"kind": "text", "title": "x", "text": "y", "made_with": "nosuchwork"}, "made_with", "no work"),
        ({"kind": "text", "title": "x", "text": "y", "techniques": ["a" * 41]}, "techniques", "40"),
        ({"kind": "sound", "title": "x"}, "file", "No file"),
    ]
    for body, field, words in cases:
        answer = as_alice.post("/api/media/", body, format="json")
        assert answer.status_code == 400, (body, answer.json())
        assert words in answer.json()["fields"][field][0], (body, answer.json())
    assert not MediaWork.objects.exists() and not Creation.objects.exists()


def test_cancelling_a_transcode_leaves_no_work(as_alice, alice):
    answer = publish(as_alice, "sound", media_files.sound(1.0))
    job_id = answer.json()["id"]
    cancelled = as_alice.post(f"/api/media/{job_id}/cancel/")
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    job = MediaWork.objects.get(public_id=job_id)
    assert media.run(job.pk) is None and job.creation_id is None
    job.refresh_from_db()
    assert not job.source
    again = as_alice.post(f"/api/media/{job_id}/cancel/")
    assert again.status_code == 400 and "nothing to cancel" in str(again.json())


@pytest.mark.parametrize("body", [
    [None, None], {"kind": "text", "title": {"a": 1}, "text": "x"},
    {"kind": "text", "title": "x", "text": ["x"]}, {"kind": "text", "title": "x", "text": "x", "techniques": 5},
    {"kind": "text", "title": "x", "text": "x", "links": {"url": "https://a.b"}},
    {"kind": ["text"], "title": "x"}, {"kind": "text", "title": "x", "text": "x", "made_with": {"id": 1}},
])
def test_tampered_bodies_get_sentences_not_errors(as_alice, alice, body):
    answer = as_alice.post("/api/media/", body, format="json")
    assert answer.status_code == 400, answer.content
    assert "error" in answer.json()


def test_the_family_tree_and_the_published_work_know_each_other(as_alice, as_bob, alice, space, api):
    (bred,) = actions.do_random(alice, space, 1, seed=5)
    actions.do_update(bred, visibility=Visibility.PUBLIC)
    answer = publish(as_alice, "picture", media_files.picture(), made_with=bred.public_id,
                     visibility="public", statement="A print of it.")
    work = answer.json()["creation"]
    tree = api.get(f"/api/creations/{bred.public_id}/lineage/?direction=down&depth=2").json()
    found = [node for node in str(tree).split("'id': '")[1:] if node.startswith(work)]
    assert found and f"/m/{answer.json()['id']}/cover.webp" in str(tree)
    detail = api.get(f"/api/creations/{work}/").json()
    assert detail["media"]["made_with"]["id"] == bred.public_id
    assert detail["parents"][0]["id"] == bred.public_id
    page = api.get(f"/w/{bred.public_id}/lineage/")
    assert page.status_code == 200 and work in page.content.decode()
    # made private, the bred work is no longer named to others
    actions.do_update(bred, visibility=Visibility.PRIVATE)
    assert as_bob.get(f"/api/creations/{work}/").json()["media"]["made_with"] is None


def test_a_technique_named_for_a_private_work_is_offered_to_its_artist_only(as_alice, as_bob, alice, api,
                                                                         built_in_techniques):
    answer = as_alice.post("/api/media/", {"kind": "text", "title": "Diary", "text": "x",
                                           "techniques": ["Letters to Marguerite"]}, format="json")
    assert answer.status_code == 201
    offered = {who: [t["name"] for t in client.get("/api/techniques/").json()]
               for who, client in (("alice", as_alice), ("bob", as_bob), ("anyone", api))}
    assert "Letters to Marguerite" in offered["alice"]
    assert "Letters to Marguerite" not in offered["bob"] + offered["anyone"]
    assert "StyleGAN2" in offered["anyone"]  # the built-in ones are offered to all
    assert "Letters to Marguerite" not in as_bob.get("/publish/").content.decode()
    actions.do_update(Creation.objects.get(public_id=answer.json()["creation"]), visibility="public")
    assert "Letters to Marguerite" in [t["name"] for t in api.get("/api/techniques/").json()]
