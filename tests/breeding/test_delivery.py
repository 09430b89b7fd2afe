"""New works answered with their pictures, each as soon as it is painted (breeding.delivery)."""

from __future__ import annotations

import base64
import io
import json
from urllib.parse import quote

import pytest
from asgiref.sync import async_to_sync
from PIL import Image

from breeding import delivery
from breeding.models import Creation


async def read(content) -> bytes:
    return b"".join([chunk async for chunk in content])


def lines(response) -> list[dict]:
    assert response["Content-Type"] == delivery.CONTENT_TYPE
    assert response["Cache-Control"] == "no-store"
    body = async_to_sync(read)(response.streaming_content)
    assert body.endswith(b"\n")
    return [json.loads(line) for line in body.decode().splitlines()]


@pytest.fixture
def parent(as_alice, space):
    return as_alice.post("/api/spaces/abstract/random/", {"n": 1, "seed": 3}, format="json").json()[0]


def test_eight_children_come_with_their_pictures_the_bytes_their_addresses_serve(as_alice, parent):
    response = as_alice.post(f"/api/creations/{parent['id']}/children/?pictures=256",
                             {"n": 8, "chaos": 0.3}, format="json")
    assert response.status_code == 201
    first, *pictures, last = lines(response)
    works = first["works"]
    assert len(works) == 8 and last == {"done": True}
    assert sorted(p["id"] for p in pictures) == sorted(w["id"] for w in works)
    for picture in pictures:
        data = base64.b64decode(picture["webp"])
        assert picture["size"] == 256
        assert Image.open(io.BytesIO(data)).size == (256, 256)
        address = next(w["images"]["256"] for w in works if w["id"] == picture["id"])
        served = as_alice.get(address)
        assert served.status_code == 200 and served.content == data


def test_random_works_and_crosses_come_with_their_pictures_too(as_alice, parent):
    made = lines(as_alice.post("/api/spaces/abstract/random/?pictures=256", {"n": 2}, format="json"))
    assert len(made[0]["works"]) == 2 and sum("webp" in line for line in made) == 2
    other = made[0]["works"][0]
    body = {"parents": [{"id": parent["id"], "content": 1, "style": 1},
                        {"id": other["id"], "content": 1, "style": 1}], "n": 3,
            "mutation": 0.2}
    crossed = lines(as_alice.post("/api/cross/?pictures=256", body, format="json"))
    assert len(crossed[0]["works"]) == 3 and sum("webp" in line for line in crossed) == 3


@pytest.mark.parametrize("asked", ["1024", "²⁵⁶", "0256", "", "256 "])
def test_a_size_that_does_not_come_with_new_works_is_a_sentence_and_makes_nothing(as_alice, parent, asked):
    before = Creation.objects.count()
    response = as_alice.post(f"/api/creations/{parent['id']}/children/", {"n": 8},
                             format="json", QUERY_STRING=f"pictures={quote(asked)}")
    assert response.status_code == 400
    assert response.json()["error"]
    assert "256" in json.dumps(response.json())
    assert Creation.objects.count() == before


def test_without_asking_the_answer_is_the_works_alone(as_alice, parent):
    response = as_alice.post(f"/api/creations/{parent['id']}/children/", {"n": 2}, format="json")
    assert response.status_code == 201 and len(response.json()) == 2


def test_a_picture_not_ready_in_time_is_named_and_its_address_serves_it_later(as_alice, parent, gated,
                                                                               monkeypatch):
    monkeypatch.setattr(delivery, "PICTURE_WAIT_S", 0.2)
    gate = gated()
    response = as_alice.post(f"/api/creations/{parent['id']}/children/?pictures=256",
                             {"n": 2, "chaos": 0.5}, format="json")
    first, *pictures, last = lines(response)
    assert last == {"done": True}
    assert [set(p) for p in pictures] == [{"id", "size", "error"}] * 2
    assert all("address" in p["error"] for p in pictures)
    gate.gate.set()
    served = as_alice.get(first["works"][0]["images"]["256"])
    assert served.status_code == 200 and served["Content-Type"] == "image/webp"
