"""Operators add spaces from weights files; a space whose file is gone, changed or too slow
for this machine says so instead of hanging."""

from __future__ import annotations

import io
import os
import pickle

import pytest
import torch
from django.core.management import CommandError, call_command

from breeding import images, spaces
from breeding.models import Creation, Space
from inference import space as registry
from inference.stylegan import file_digest
from tests.inference.snapshots import snapshot_bytes, tiny_stylegan2

pytestmark = pytest.mark.django_db


@pytest.fixture
def snapshot(tmp_path):
    path = tmp_path / "portraits.pkl"
    path.write_bytes(snapshot_bytes(tiny_stylegan2()))
    return path


@pytest.fixture
def added(snapshot):
    out = io.StringIO()
    call_command("addspace", kind="stylegan", path=str(snapshot), slug="portraits",
                 title="Portraits", stdout=out)
    yield Space.objects.get(slug="portraits"), out.getvalue()
    registry._REGISTRY.pop("portraits", None)
    registry._LOADED.pop("portraits", None)


def listed(api, slug):
    response = api.get("/api/spaces/")
    assert response.status_code == 200
    return next(s for s in response.json() if s["slug"] == slug)


def test_addspace_records_the_file_digest_and_the_space_is_selectable(added, snapshot, api, as_alice):
    row, said = added
    assert row.kind == "stylegan" and row.version == file_digest(snapshot)[:16]
    assert (row.layers, row.dim) == (8, 16)
    assert row.settings["path"] == str(snapshot) and row.settings["needs_gpu"] is False
    assert "Added the Portraits space (portraits): stylegan2, latent 8 x 16" in said
    assert listed(api, "portraits") | {"version": None} == {
        "slug": "portraits", "title": "Portraits", "kind": "stylegan", "version": None,
        "layers": 8, "dim": 16, "coarse_layers": row.coarse_layers, "can_project": True, "can_move_camera": False,
        "available": True, "reason": "", "has_words": False}
    made = as_alice.post("/api/spaces/portraits/random/", {"n": 2, "seed": 1}, format="json")
    assert made.status_code == 201, made.content
    picture = as_alice.get(made.json()[0]["images"]["64"])
    assert picture.status_code == 200 and picture["Content-Type"] == "image/webp"
    page = as_alice.get("/studio/")
    assert b'data-random="portraits"' in page.content


def test_another_process_finds_an_added_space_by_its_row(added):
    row, _ = added
    registry._REGISTRY.pop("portraits")
    registry._LOADED.pop("portraits", None)
    space = registry.get_space("portraits")  # through breeding.spaces.resolve
    assert space.version == row.version and space.layers == row.layers


def test_a_missing_file_makes_the_space_unavailable_and_its_works_keep_their_latents(
        added, snapshot, api, as_alice):
    made = as_alice.post("/api/spaces/portraits/random/", {"n": 1}, format="json").json()[0]
    latent = Creation.objects.get(public_id=made["id"]).tensor()
    os.remove(snapshot)
    entry = listed(api, "portraits")
    assert entry["available"] is False
    assert entry["reason"] == "Its weights (portraits.pkl) are missing on the server."
    refused = as_alice.post("/api/spaces/portraits/random/", {"n": 1}, format="json")
    assert refused.status_code == 503
    assert "The Portraits space is unavailable. Its weights (portraits.pkl) are missing" in refused.json()["error"]
    assert torch.equal(Creation.objects.get(public_id=made["id"]).tensor(), latent)
    page = as_alice.get("/studio/")
    assert b"Portraits: Its weights (portraits.pkl) are missing on the server." in page.content
    assert b'data-random="portraits"' not in page.content


def test_a_changed_file_makes_the_space_unavailable_until_added_again(added, snapshot, api):
    snapshot.write_bytes(snapshot_bytes(tiny_stylegan2(seed=1)))
    entry = listed(api, "portraits")
    assert entry["available"] is False and "changed since the space was added" in entry["reason"]
    call_command("addspace", kind="stylegan", path=str(snapshot), slug="portraits", stdout=io.StringIO())
    entry = listed(api, "portraits")
    assert entry["available"] is True and entry["version"] == file_digest(snapshot)[:16]


def test_a_space_that_needs_a_gpu_says_so_instead_of_rendering(added, snapshot, api, as_alice):
    made = as_alice.post("/api/spaces/portraits/random/", {"n": 1, "seed": 3}, format="json").json()[0]
    call_command("addspace", "--kind=stylegan", f"--path={snapshot}", "--slug=portraits",
                 "--needs-gpu", stdout=io.StringIO())
    entry = listed(api, "portraits")
    assert entry["available"] is False
    assert entry["reason"] == "It needs a GPU inference service, and none is configured."
    picture = as_alice.get(made["images"]["256"].replace("/256.", "/1024."))
    assert picture.status_code == 503
    assert picture.json()["error"] == "The portraits space needs a GPU inference service, and none is configured."
    children = as_alice.post(f"/api/creations/{made['id']}/children/", {"n": 2, "chaos": 0.5}, format="json")
    assert children.status_code == 503


class _Evil:
    def __reduce__(self):
        return os.system, ("true",)


def test_addspace_refuses_bad_files_with_a_sentence(tmp_path):
    evil = tmp_path / "evil.pkl"
    evil.write_bytes(pickle.dumps({"G_ema": _Evil()}))
    with pytest.raises(CommandError, match=r"evil.pkl cannot be loaded as a stylegan space: .*posix\.system"):
        call_command("addspace", kind="stylegan", path=str(evil), slug="evil")
    with pytest.raises(CommandError, match="there is nothing at"):
        call_command("addspace", kind="stylegan", path=str(tmp_path / "nope.pkl"), slug="nope")
    with pytest.raises(CommandError, match="is not a slug"):
        call_command("addspace", kind="stylegan", path=str(evil), slug="no spaces")
    assert not Space.objects.filter(slug__in=["evil", "nope"]).exists()


def test_a_built_in_space_cannot_be_replaced(space, snapshot):
    with pytest.raises(CommandError, match="'abstract' is a built-in space"):
        call_command("addspace", kind="stylegan", path=str(snapshot), slug="abstract")
    assert spaces.availability(space).available


def test_a_diffusion_space_needs_a_gpu_unless_the_operator_allows_the_cpu(tmp_path, api):
    from tests.inference.test_diffusion import tiny_pipeline

    folder = tmp_path / "variations"
    tiny_pipeline(folder)
    try:
        call_command("addspace", kind="diffusion", path=str(folder), slug="variations",
                     title="Variations", stdout=io.StringIO())
        row = Space.objects.get(slug="variations")
        assert (row.layers, row.dim, row.gaussian) == (1, 16, True)
        entry = listed(api, "variations")
        assert entry["available"] is torch.cuda.is_available()
        call_command("addspace", "--kind=diffusion", f"--path={folder}", "--slug=variations",
                     "--cpu-ok", stdout=io.StringIO())
        assert listed(api, "variations")["available"] is True
    finally:
        registry._REGISTRY.pop("variations", None)
        registry._LOADED.pop("variations", None)


def test_crosses_in_a_stylegan_space_can_weigh_coarse_middle_and_fine_layers(added, as_alice):
    row, _ = added
    groups = row.settings["groups"]
    assert groups == {"coarse": [0, 4], "middle": [4, 7], "fine": [7, 8]}
    a, b = as_alice.post("/api/spaces/portraits/random/", {"n": 2, "seed": 5}, format="json").json()
    body = {"parents": [{"id": a["id"], "content": 1, "middle": 0, "style": 1},
                        {"id": b["id"], "content": 0, "middle": 1, "style": 0}]}
    made = as_alice.post("/api/cross/", body, format="json")
    assert made.status_code == 201, made.content
    child = Creation.objects.get(public_id=made.json()[0]["id"]).tensor()
    pa = Creation.objects.get(public_id=a["id"]).tensor()
    pb = Creation.objects.get(public_id=b["id"]).tensor()
    assert torch.equal(child[0:4], pa[0:4])
    assert torch.equal(child[4:7], pb[4:7])
    assert torch.equal(child[7:8], pa[7:8])
    half = {"parents": [{"id": a["id"], "middle": 1}, {"id": b["id"]}]}
    refused = as_alice.post("/api/cross/", half, format="json")
    assert refused.status_code == 400
    assert "give a middle weight for every parent or for none" in refused.content.decode()


def test_a_space_without_middle_layers_refuses_middle_weights(as_alice, space):
    a, b = as_alice.post("/api/spaces/abstract/random/", {"n": 2}, format="json").json()
    body = {"parents": [{"id": a["id"], "middle": 1}, {"id": b["id"], "middle": 1}]}
    refused = as_alice.post("/api/cross/", body, format="json")
    assert refused.status_code == 400
    assert "the abstract space has no middle layers" in refused.content.decode()


def test_the_studio_of_a_work_in_an_unavailable_space_says_why(added, snapshot, as_alice):
    made = as_alice.post("/api/spaces/portraits/random/", {"n": 1}, format="json").json()[0]
    assert b"data-space-unavailable" not in as_alice.get(f"/studio/{made['id']}/").content
    os.remove(snapshot)
    page = as_alice.get(f"/studio/{made['id']}/").content.decode()
    assert ("The Portraits space is unavailable: Its weights (portraits.pkl) are missing on the "
            "server. This work keeps its latent") in page


def test_latents_too_long_for_an_hnsw_index_are_searched_without_one():
    from django.db import connection

    from gallery.neighbours import ensure_index, index_name

    big = Space.objects.create(slug="w-plus", kind="stylegan", version="x", layers=18, dim=512,
                               coarse_layers=8, gaussian=False, settings={"path": "/nowhere.pkl"})
    ensure_index(big)  # pgvector's HNSW takes at most 2000 dimensions: no index, no error
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_indexes WHERE indexname = %s", [index_name(big)])
        assert cursor.fetchone()[0] == 0


@pytest.mark.django_db(transaction=True)
def test_a_picture_request_finds_an_added_space_this_process_never_loaded(snapshot, as_alice):
    call_command("addspace", kind="stylegan", path=str(snapshot), slug="portraits", stdout=io.StringIO())
    try:
        made = as_alice.post("/api/spaces/portraits/random/", {"n": 1, "seed": 2}, format="json").json()[0]
        registry._REGISTRY.pop("portraits")  # as in another web process: only the row is known
        registry._LOADED.pop("portraits", None)
        images.forget("portraits")
        picture = as_alice.get(made["images"]["64"])  # an async view: the row is read off its loop
        assert picture.status_code == 200 and picture["Content-Type"] == "image/webp"
        assert registry.loaded("portraits")
    finally:
        registry._REGISTRY.pop("portraits", None)
        registry._LOADED.pop("portraits", None)


def test_a_space_added_again_replaces_the_generator_a_process_had_loaded(added, snapshot, as_alice):
    row, _ = added
    before = registry.get_space("portraits")
    snapshot.write_bytes(snapshot_bytes(tiny_stylegan2(seed=7)))
    # Another process (the operator's command) adds it again: only the row changes here.
    Space.objects.filter(pk=row.pk).update(version=file_digest(snapshot)[:16])
    made = as_alice.post("/api/spaces/portraits/random/", {"n": 1, "seed": 1}, format="json")
    assert made.status_code == 201, made.content
    after = registry.get_space("portraits")
    assert after is not before and after.version == file_digest(snapshot)[:16]


def test_a_space_that_needs_a_gpu_renders_on_the_inference_service(snapshot, as_alice, settings,
                                                                   monkeypatch):
    """Unavailable here without a service; with one serving the same weights
    (``serve --add slug=kind:path``), bred and pictured through it, the same pixels."""
    from breeding.serializers import SpaceSerializer
    from inference.encode import encode
    from mendel.processes import free_port, stop
    from tests.servers import start_inference, wait_ready

    call_command("addspace", kind="stylegan", path=str(snapshot), slug="portraits",
                 title="Portraits", cpu_ok=False, stdout=io.StringIO())
    try:
        row = Space.objects.get(slug="portraits")
        if not torch.cuda.is_available():
            found = spaces.availability(row)
            assert not found.available and "needs a GPU inference service" in found.reason
        port = free_port()
        replica = start_inference(port, "--add", f"portraits=stylegan:{snapshot}")
        try:
            base = f"http://127.0.0.1:{port}"
            assert "portraits" in wait_ready(base, replica)["spaces"]
            settings.INFERENCE_URLS = [base]
            monkeypatch.setattr(images, "_batchers", {})
            monkeypatch.setattr(images, "_remote", None)
            assert SpaceSerializer(row).data["available"] is True
            made = as_alice.post("/api/spaces/portraits/random/", {"n": 1, "seed": 3}, format="json")
            assert made.status_code == 201, made.content
            png = as_alice.get(made.json()[0]["images"]["64"].replace(".webp", ".png"))
            assert png.status_code == 200
            work = Creation.objects.get(public_id=made.json()[0]["id"])
            local = registry.get_space("portraits").render(work.tensor()[None], 64)[0]
            assert png.content == encode(local, "png")
        finally:
            stop(replica)
    finally:
        registry._REGISTRY.pop("portraits", None)
        registry._LOADED.pop("portraits", None)


def _served_pixels(client, url: str):
    import numpy as np
    from PIL import Image

    response = client.get(url)
    assert response.status_code == 200, response.content
    return np.asarray(Image.open(io.BytesIO(response.content)).convert("RGB"))


def test_a_space_trained_again_is_a_new_version_and_old_works_render_in_theirs(snapshot, as_alice, tmp_path):
    """Added again from a new file (a retrained space), the space is a new version: new works
    render in it, and a work made before keeps rendering in the version it was made in, as
    long as that version's file is there; without it, in the present one."""
    import numpy as np
    from django.core.files.storage import default_storage

    call_command("addspace", kind="stylegan", path=str(snapshot), slug="portraits", stdout=io.StringIO())
    try:
        first = Space.objects.get(slug="portraits")
        old = as_alice.post("/api/spaces/portraits/random/", {"n": 1, "seed": 3}, format="json").json()[0]
        work = Creation.objects.get(public_id=old["id"])
        assert work.version == first.version
        before = _served_pixels(as_alice, old["images"]["64"])

        retrained = tmp_path / "retrained.pkl"
        retrained.write_bytes(snapshot_bytes(tiny_stylegan2(seed=7)))
        call_command("addspace", kind="stylegan", path=str(retrained), slug="portraits", stdout=io.StringIO())
        second = Space.objects.get(slug="portraits")
        assert second.version != first.version
        assert second.settings["versions"] == {first.version: str(snapshot)}
        new = as_alice.post("/api/spaces/portraits/random/", {"n": 1, "seed": 3}, format="json").json()[0]
        assert Creation.objects.get(public_id=new["id"]).version == second.version
        # The same latent in the new version is another picture.
        assert not np.array_equal(_served_pixels(as_alice, new["images"]["64"]), before)

        # The old work's pictures, rendered afresh (none stored), still come from its version.
        default_storage.delete(images.path("portraits", work.latent_sha, 64))
        assert images.needs_render("portraits", work.latent_sha, 64)
        assert np.array_equal(_served_pixels(as_alice, old["images"]["64"]), before)
        assert registry.get_space(f"portraits@{first.version}").version == first.version

        # Its file gone, it renders in the present version instead of failing.
        default_storage.delete(images.path("portraits", work.latent_sha, 64))
        snapshot.unlink()
        images.forget(f"portraits@{first.version}")
        registry._REGISTRY.pop(f"portraits@{first.version}", None)
        registry._LOADED.pop(f"portraits@{first.version}", None)
        present = registry.get_space("portraits").render(work.tensor()[None], 64)[0].numpy()
        lossless = old["images"]["64"].replace(".webp", ".png")
        assert np.array_equal(_served_pixels(as_alice, lossless), present)
    finally:
        for name in [n for n in registry._REGISTRY if n.startswith("portraits")]:
            registry._REGISTRY.pop(name, None)
            registry._LOADED.pop(name, None)
            images.forget(name)
