"""Training a space from a folder, as the site does it: a durable job (killed mid-run, it
goes on from its last checkpoint), the staff page, the command, and the space it makes."""

from __future__ import annotations

import io
import re
import signal

import pytest
import torch
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import Client
from PIL import Image

from breeding import training
from breeding.models import Space, Training, TrainingStatus
from breeding.trainsets import read_folder
from common.errors import Refused
from inference import gan
from inference import space as registry
from inference.stylegan import load_generator
from tests.breeding.test_upload_durability import start_worker, wait_for
from tests.servers import child_env, put_back_stalled

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def folder(tmp_path):
    """24 small pictures (discs of many colours on white) and two files that are not."""
    root = tmp_path / "pictures"
    root.mkdir()
    g = torch.Generator().manual_seed(0)
    for i in range(24):
        image = Image.new("RGB", (32, 32), (255, 255, 255))
        colour = tuple(int(v) for v in torch.randint(0, 256, (3,), generator=g))
        x, y = (int(v) for v in torch.randint(4, 16, (2,), generator=g))
        for dx in range(12):
            for dy in range(12):
                if (dx - 6) ** 2 + (dy - 6) ** 2 < 30:
                    image.putpixel((x + dx, y + dy), colour)
        image.save(root / f"{i:02d}.png")
    (root / "readme.txt").write_text("not a picture")
    (root / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 cut short")
    return root


@pytest.fixture
def staff(django_user_model):
    return django_user_model.objects.create_user("curie", password="pw", is_staff=True, is_superuser=True)


@pytest.fixture
def forget_spaces():
    yield
    for slug in ("discs", "discs2"):
        registry._REGISTRY.pop(slug, None)
        registry._LOADED.pop(slug, None)


def ask(staff, folder, slug="discs", pictures=64, **kw):
    return training.ask(staff, str(folder), slug, "Discs", 16, pictures, 7, allow_small=True, **kw)


def test_requests_that_cannot_be_trained_are_refused_with_a_sentence(staff, folder, tmp_path):
    from breeding import actions

    actions.sync_spaces()
    cases = [
        (dict(folder=str(tmp_path / "nowhere")), "There is no folder at"),
        (dict(slug="abstract"), "abstract is a built-in space; choose another slug."),
        (dict(slug="no spaces"), "A space's slug is letters, digits"),
        (dict(resolution=48), "The resolution is one of 64, 128 pixels."),
        (dict(pictures=10), "Show between 1,000 and 50,000,000 pictures."),
    ]
    for change, sentence in cases:
        args = dict(folder=str(folder), slug="discs", title="", resolution=64, pictures=100_000, seed=0)
        args.update(change)
        with pytest.raises(Refused, match=re.escape(sentence)):
            training.ask(staff, **args)
    assert not Training.objects.exists()


def test_a_training_reads_the_folder_trains_and_becomes_a_space_like_any_other(staff, folder, forget_spaces, settings):
    from rest_framework.test import APIClient

    settings.TRAINING_SAMPLES_S = 0.01
    job = ask(staff, folder)
    assert job.status == TrainingStatus.QUEUED
    assert training.run(job.pk) == "discs"
    job.refresh_from_db()
    assert job.status == TrainingStatus.DONE and job.fraction == 1.0
    assert job.pictures_read == 24 and job.pictures_shown == 64
    assert sorted(name for name, _ in job.skipped) == ["broken.jpg", "readme.txt"]
    assert set(job.losses) >= {"g", "d", "real", "fake"}
    assert training.samples_of(job).is_file() and not training.checkpoint_of(job).exists()
    space = Space.objects.get(slug="discs")
    assert job.space == space and space.settings["title"] == "Discs" and space.kind == "stylegan"
    assert space.settings["groups"] == {"coarse": [0, 4], "middle": [4, 5], "fine": [5, 6]}
    g, config = load_generator(training.weights_of(job))
    assert config["img_resolution"] == 16
    # The job again (a retry after its worker died at the very end): nothing new.
    assert training.run(job.pk) is None

    client = APIClient()
    client.force_login(staff)
    made = client.post("/api/spaces/discs/random/", {"n": 2, "seed": 1}, format="json")
    assert made.status_code == 201, made.content
    a, b = made.json()
    assert client.get(a["images"]["256"]).status_code == 200
    children = client.post(f"/api/creations/{a['id']}/children/", {"n": 2, "chaos": 0.3}, format="json")
    assert children.status_code == 201, children.content
    body = {"parents": [{"id": a["id"], "content": 1, "middle": 0, "style": 1},
                        {"id": b["id"], "content": 0, "middle": 1, "style": 0}]}
    assert client.post("/api/cross/", body, format="json").status_code == 201


def test_a_cancelled_training_stops_and_leaves_nothing_behind(staff, folder, settings):
    settings.TRAINING_CHECKPOINT_S = 0.01
    job = ask(staff, folder, pictures=100_000)
    ticks = []

    def cancel_after_a_few_steps():
        ticks.append(1)
        if len(ticks) == 3:
            Training.objects.get(pk=job.pk).cancel()
        return False

    assert training.run(job.pk, stopping=cancel_after_a_few_steps) is None
    job.refresh_from_db()
    assert job.status == TrainingStatus.CANCELLED and 0 < job.pictures_shown < 1000
    assert not training.folder_of(job).exists()
    assert not Space.objects.filter(slug="discs").exists()


def test_a_run_stopped_by_a_shutdown_checkpoints_and_the_next_run_goes_on(staff, folder, forget_spaces, settings):
    settings.TRAINING_CHECKPOINT_S = 3600
    job = ask(staff, folder, pictures=96)
    assert training.run(job.pk, stopping=lambda: True) is None  # stops after one minibatch
    job.refresh_from_db()
    assert job.status == TrainingStatus.TRAINING and job.checkpoint_at == 32
    assert training.run(job.pk) == "discs"
    job.refresh_from_db()
    assert job.status == TrainingStatus.DONE and job.attempts == 2 and job.pictures_shown == 96


def test_an_unusable_folder_fails_the_job_with_the_sentence(staff, tmp_path):
    (tmp_path / "words").mkdir()
    (tmp_path / "words" / "a.txt").write_text("no pictures here")
    job = ask(staff, tmp_path / "words")
    assert training.run(job.pk) is None
    job.refresh_from_db()
    assert job.status == TrainingStatus.FAILED
    assert job.error.startswith("The folder has 0 usable pictures of 1 files")


def test_a_worker_killed_mid_training_goes_on_from_its_checkpoint_to_the_same_weights(staff, folder, forget_spaces, tmp_path):

    total = 480  # a checkpoint a second: the worker is killed after the first, some 30 pictures in
    job = ask(staff, folder, pictures=total)
    env = child_env(TRAINING_CHECKPOINT_S="1", TRAINING_SAMPLES_S="1", OMP_NUM_THREADS="1")
    log_path = tmp_path / "workers.log"
    with open(log_path, "w") as log:
        first = start_worker(env, log)
        try:
            wait_for(lambda: Training.objects.filter(pk=job.pk, checkpoint_at__gt=0).exists(),
                     "a checkpoint", 120, first, log_path)
        finally:
            first.send_signal(signal.SIGKILL)
            first.wait(10)
        job.refresh_from_db()
        kept = job.checkpoint_at
        assert job.status == TrainingStatus.TRAINING and 0 < kept < total
        wait_for(put_back_stalled(job),
                 "stalled job put back", 30, first, log_path, dead_ok=True)
        second = start_worker(env, log)
        try:
            wait_for(lambda: Training.objects.filter(pk=job.pk, status=TrainingStatus.DONE).exists(),
                     "finished training", 240, second, log_path)
        finally:
            # Killed, not stopped: the gene discovery the finished training queued would
            # keep a stopping worker busy, and no worker may outlive its test.
            second.send_signal(signal.SIGKILL)
            second.wait(10)
            # ...and its job, left "doing", must not look stalled to the next test.
            with connection.cursor() as cursor:
                cursor.execute("DELETE FROM procrastinate_jobs WHERE task_name = %s",
                               ["breeding.tasks.discover_genes"])
    job.refresh_from_db()
    assert job.attempts == 2 and job.pictures_shown == total
    assert f"resumed at {kept} pictures" in log_path.read_text()
    # The same weights as a run that was never stopped, on one thread like the workers.
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        data = read_folder(folder, 16)
        unbroken = gan.Trainer(data.pictures, gan.Recipe(resolution=16, seed=7))
        gan.train(unbroken, total, save=lambda state, t: None, every_s=1e9)
    finally:
        torch.set_num_threads(threads)
    from safetensors.torch import load_file

    resumed = load_file(training.weights_of(job))
    ours = unbroken.G_ema.state_dict()
    assert resumed.keys() == ours.keys() and all(torch.equal(resumed[k], ours[k]) for k in ours)


def test_the_training_page_is_for_staff_and_starts_and_shows_trainings(staff, folder, alice, settings):
    client = Client()
    assert client.get("/training/").status_code == 302  # to the login
    client.force_login(alice)
    assert client.get("/training/").status_code == 404
    client.force_login(staff)
    page = client.get("/training/")
    assert page.status_code == 200 and "Train a space" in page.content.decode()
    refused = client.post("/training/", {"folder": str(folder / "nowhere"), "slug": "discs", "title": "",
                                         "resolution": 64, "pictures": 100_000, "seed": 0})
    assert refused.status_code == 400 and "There is no folder at" in refused.content.decode()
    made = client.post("/training/", {"folder": str(folder), "slug": "discs", "title": "Discs",
                                      "resolution": 64, "pictures": 100_000, "seed": 3})
    assert made.status_code == 302
    job = Training.objects.get()
    assert (job.slug, job.resolution, job.pictures_total, job.seed, job.owner) == ("discs", 64, 100_000, 3, staff)
    state = client.get(f"/training/{job.public_id}.json").json()
    assert state["status"] == "queued" and state["pictures_total"] == 100_000 and state["running"]
    assert client.get(f"/training/{job.public_id}/samples.png").status_code == 404
    listed = client.get("/training/").content.decode()
    assert job.public_id in listed and "Cancel" in listed
    assert client.post(f"/training/{job.public_id}/cancel/").status_code == 302
    job.refresh_from_db()
    assert job.status == TrainingStatus.CANCELLED
    client.force_login(alice)
    assert client.get(f"/training/{job.public_id}.json").status_code == 404


def test_the_command_starts_a_training_and_says_what_is_wrong(staff, folder):
    out = io.StringIO()
    call_command("trainspace", str(folder), slug="discs", resolution=64, pictures=5000, follow=False, stdout=out)
    job = Training.objects.get()
    assert f"Training {job.public_id} asked for: discs, 64 px, 5,000 pictures, seed 0." in out.getvalue()
    assert job.owner == staff
    with pytest.raises(CommandError, match="already being trained"):
        call_command("trainspace", str(folder), slug="discs", pictures=5000, follow=False, stdout=out)
    call_command("trainspace", cancel=job.public_id, stdout=out)
    assert f"Cancelled training {job.public_id}." in out.getvalue()
    with pytest.raises(CommandError, match="There is no folder at"):
        call_command("trainspace", "/nowhere/at/all", slug="discs", follow=False, stdout=out)
    with pytest.raises(CommandError, match="Give the folder of pictures and --slug"):
        call_command("trainspace", stdout=out)
