"""An upload's and a video's files live as long as their rows (django-cleanup): when a row
goes (its owner's account deleted, a work deleted for good), so do its files, once the
transaction commits; a rolled-back deletion keeps them, and removing a work (which can be
undone) keeps them too."""

from __future__ import annotations

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction

from breeding import actions
from breeding.models import Creation, Upload, Video
from breeding.uploads import decode
from tests.breeding.test_uploads import picture_bytes


def files_of(row) -> list[str]:
    fields = [getattr(row, n) for n in ("original", "thumb", "mp4", "webm", "poster") if hasattr(row, n)]
    names = [f.name for f in fields if f]
    assert names, "the row names no files"
    return names


def a_video(owner, space) -> Video:
    work = actions.do_random(owner, space, 1, seed=5)[0]
    video = Video.objects.create(owner=owner, space=space, keyframes=[work.public_id], settings={},
                                 creation=work)
    for name in ("mp4", "webm", "poster"):
        getattr(video, name).save(f"video.{name}", ContentFile(b"not really " + name.encode()), save=False)
    video.save()
    return video


def test_deleting_an_account_deletes_its_uploads_and_videos_files(alice, space,
                                                                   django_capture_on_commit_callbacks):
    upload = actions.do_upload(alice, space, decode(picture_bytes()), "Dusk")
    video = a_video(alice, space)
    names = files_of(upload) + files_of(video)
    assert all(default_storage.exists(name) for name in names)

    user_id = alice.pk
    with pytest.raises(RuntimeError), transaction.atomic():  # a deletion that fails keeps them
        alice.delete()
        raise RuntimeError("something after it failed")
    assert all(default_storage.exists(name) for name in names)

    with django_capture_on_commit_callbacks(execute=True):
        type(alice).objects.get(pk=user_id).delete()
    assert not Upload.objects.filter(pk=upload.pk).exists() and not Video.objects.filter(pk=video.pk).exists()
    assert [name for name in names if default_storage.exists(name)] == []


def test_a_work_deleted_for_good_takes_its_videos_files_and_a_removed_one_keeps_them(
        alice, space, django_capture_on_commit_callbacks):
    video = a_video(alice, space)
    names = files_of(video)
    with django_capture_on_commit_callbacks(execute=True):
        actions.do_remove(video.creation)  # can be undone: nothing goes
    assert all(default_storage.exists(name) for name in names)
    with django_capture_on_commit_callbacks(execute=True):
        Creation.objects.filter(pk=video.creation_id).delete()
    assert [name for name in names if default_storage.exists(name)] == []


def test_an_uploads_files_outlive_the_work_projected_from_it(alice, space, django_capture_on_commit_callbacks):
    upload = actions.do_upload(alice, space, decode(picture_bytes()), "Dusk")
    work = actions.do_random(alice, space, 1, seed=9)[0]
    Upload.objects.filter(pk=upload.pk).update(creation=work)
    with django_capture_on_commit_callbacks(execute=True):
        work.delete()  # the upload stays (its owner's), and with it its picture
    upload.refresh_from_db()
    assert upload.creation is None and all(default_storage.exists(name) for name in files_of(upload))
