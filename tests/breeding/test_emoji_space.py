"""The built-in ``emoji`` space through the API: random pictures, children, crosses by
coarse, middle and fine layers, and an upload projected into it."""

from __future__ import annotations

import pytest
import torch
from django.core.files.uploadedfile import SimpleUploadedFile

from breeding import projection
from breeding.models import Creation, Upload
from breeding.uploads import decode
from tests.breeding.test_uploads import picture_bytes

pytestmark = pytest.mark.django_db


def test_the_emoji_space_breeds_crosses_by_layer_group_and_takes_uploads(emoji, as_alice, alice, settings):
    assert emoji.kind == "EmojiSpace" and (emoji.layers, emoji.dim) == (10, 256)
    assert emoji.settings["groups"] == {"coarse": [0, 4], "middle": [4, 8], "fine": [8, 10]}
    made = as_alice.post("/api/spaces/emoji/random/", {"n": 2, "seed": 4}, format="json")
    assert made.status_code == 201, made.content
    a, b = made.json()
    picture = as_alice.get(a["images"]["256"])
    assert picture.status_code == 200 and picture["Content-Type"] == "image/webp"

    children = as_alice.post(f"/api/creations/{a['id']}/children/", {"n": 3, "chaos": 0.3}, format="json")
    assert children.status_code == 201, children.content
    parent = Creation.objects.get(public_id=a["id"]).tensor()
    kids = [Creation.objects.get(public_id=c["id"]).tensor() for c in children.json()]
    assert all(0 < (k - parent).abs().mean() < 0.5 * parent.abs().mean() for k in kids)

    body = {"parents": [{"id": a["id"], "content": 1, "middle": 0, "style": 1},
                        {"id": b["id"], "content": 0, "middle": 1, "style": 0}]}
    crossed = as_alice.post("/api/cross/", body, format="json")
    assert crossed.status_code == 201, crossed.content
    child = Creation.objects.get(public_id=crossed.json()[0]["id"]).tensor()
    pb = Creation.objects.get(public_id=b["id"]).tensor()
    assert torch.equal(child[0:4], parent[0:4]) and torch.equal(child[4:8], pb[4:8])
    assert torch.equal(child[8:10], parent[8:10])

    settings.PROJECTION_SIZE, settings.PROJECTION_BUDGET_S = 64, 3
    sent = as_alice.post("/api/uploads/", {"file": SimpleUploadedFile("cat.png", picture_bytes(), "image/png"),
                                           "space": "emoji"}, format="multipart")
    assert sent.status_code in (201, 202), sent.content
    upload = Upload.objects.get()
    made = projection.run(upload.pk)
    upload.refresh_from_db()
    assert made is not None and upload.psnr_db is not None
    work = Creation.objects.get(public_id=made)
    assert work.space == emoji
    # Closer to the picture than the space's random pictures are (the budget is seconds of
    # work, so how close depends on the machine's load; that it moved towards it does not).
    import numpy as np

    from inference import get_space
    from inference.projection import prepare_target

    generator = get_space("emoji")
    target = prepare_target(np.asarray(decode(picture_bytes()).image), 64).numpy().astype(np.float64)

    def psnr(picture) -> float:
        return 10 * np.log10(1.0 / np.mean((picture.numpy().astype(np.float64) / 255.0 - target) ** 2))

    projected = psnr(generator.render(work.tensor()[None], 64)[0])
    randoms = [psnr(p) for p in generator.render(generator.sample(8, 77), 64)]
    assert projected > max(randoms) + 1.0, (projected, randoms)


def test_emoji_gene_amounts_count_standard_deviations_of_its_pictures_and_show():
    """A StyleGAN's W is not a unit Gaussian: a gene's amount counts standard deviations of
    the space's samples along it (3 units were less than one, and moved nothing visibly),
    and the emoji space's genes are measured by the subject's size, shape and place too."""
    from breeding.genes import MIN_CHANGE, discover_candidates, measures_of
    from inference import get_space
    from inference.metrics import SUBJECT_ATTRIBUTES

    space = get_space("emoji")
    assert set(SUBJECT_ATTRIBUTES) <= set(measures_of(space))
    assert not set(SUBJECT_ATTRIBUTES) & set(measures_of(get_space("abstract")))
    genes = discover_candidates(space, samples=128, held_out=4, size=64, components=2, steps=5)
    samples = space.sample(128, 0).reshape(128, -1).double()
    centred = samples - samples.mean(dim=0)
    for gene in genes:
        direction = gene.direction.reshape(-1).double()
        along = centred @ (direction / direction.norm())
        assert float(direction.norm()) == pytest.approx(float(along.std(unbiased=False)), rel=1e-3)
    closed_form = [g for g in genes if g.source == "closed-form"]
    assert len(closed_form) == 2 and max(g.change for g in closed_form) >= MIN_CHANGE
