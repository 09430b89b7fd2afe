"""A folder of pictures as a training set: read with the upload rules, bad files listed
with the reason and never fatal, an empty or unusable folder refused with a sentence."""

from __future__ import annotations

import io
import os

import pytest
import torch
from PIL import Image

from breeding.trainsets import TrainingSetRefused, held_out, read_folder


def picture(fmt: str = "PNG", size=(40, 30), colour=(200, 80, 40), mode="RGB") -> bytes:
    image = Image.new(mode, size, colour if mode == "RGB" else (*colour, 0))
    if mode == "RGBA":
        image.paste((*colour, 255), (10, 10, 20, 20))
    buffer = io.BytesIO()
    image.save(buffer, fmt)
    return buffer.getvalue()


def test_good_pictures_are_read_and_bad_files_listed_with_their_reason(tmp_path):
    (tmp_path / "a.png").write_bytes(picture())
    (tmp_path / "b.jpg").write_bytes(picture("JPEG", colour=(20, 200, 40)))
    (tmp_path / "nested").mkdir()
    (tmp_path / "nested" / "c.webp").write_bytes(picture("WEBP", mode="RGBA", colour=(0, 0, 255)))
    (tmp_path / "notes.txt").write_text("not a picture")
    (tmp_path / "cut.png").write_bytes(picture()[:60])
    (tmp_path / "tiny.png").write_bytes(picture(size=(8, 8)))
    (tmp_path / ".DS_Store").write_bytes(b"\0\0")
    os.symlink("/etc/passwd", tmp_path / "link.png")
    data = read_folder(tmp_path, 16, minimum=3)
    assert data.names == ["a.png", "b.jpg", os.path.join("nested", "c.webp")]
    assert data.pictures.shape == (3, 3, 16, 16) and data.pictures.dtype == torch.uint8
    # Transparency is composited on white, as for uploads.
    assert data.pictures[2, :, 0, 0].tolist() == [255, 255, 255]
    r, g, b = data.pictures[2, :, 8, 5].tolist()
    assert r < 20 and g < 20 and b > 235
    why = dict(data.skipped)
    assert set(why) == {"notes.txt", "cut.png", "tiny.png", "link.png"}
    assert "JPEG, PNG, WebP or GIF" in why["notes.txt"]
    assert "damaged" in why["cut.png"] or "cut short" in why["cut.png"]
    assert "16 pixels" in why["tiny.png"]
    assert why["link.png"] == "It is a link or not a regular file."


def test_missing_empty_and_unusable_folders_are_refused_with_a_sentence(tmp_path):
    with pytest.raises(TrainingSetRefused, match="There is no folder at"):
        read_folder(tmp_path / "nowhere", 64)
    (tmp_path / "empty").mkdir()
    with pytest.raises(TrainingSetRefused, match="holds no files"):
        read_folder(tmp_path / "empty", 64)
    (tmp_path / "bad").mkdir()
    for i in range(3):
        (tmp_path / "bad" / f"{i}.txt").write_text("words")
    (tmp_path / "bad" / "ok.png").write_bytes(picture())
    with pytest.raises(TrainingSetRefused) as refused:
        read_folder(tmp_path / "bad", 64)
    said = str(refused.value)
    assert said.startswith("The folder has 1 usable pictures of 4 files, and training needs at least 16.")
    assert "0.txt: " in said


def test_held_out_files_are_the_same_every_time_and_about_the_share_asked_for(tmp_path):
    names = [f"{i:04x}.webp" for i in range(2000)]
    held = [n for n in names if held_out(n, 10)]
    assert held == [n for n in names if held_out(n, 10)]
    assert 150 < len(held) < 250 and not any(held_out(n, 0) for n in names)
    for i in range(40):
        (tmp_path / f"{i}.png").write_bytes(picture(colour=(i * 6, 100, 100)))
    train = read_folder(tmp_path, 16, hold_out=25, minimum=1)
    kept = read_folder(tmp_path, 16, hold_out=25, held=True, minimum=1)
    assert set(train.names).isdisjoint(kept.names) and len(train.names) + len(kept.names) == 40


def test_the_command_line_trains_exports_and_a_new_run_goes_on_from_the_export(tmp_path):
    """``python -m breeding.trainsets``, as the built-in space's weights are made: a run
    from nothing, then a new version going on from its export."""
    import subprocess
    import sys

    from mendel.processes import ROOT

    folder = tmp_path / "pictures"
    folder.mkdir()
    for i in range(20):
        (folder / f"{i:02d}.png").write_bytes(picture(size=(24, 24), colour=(10 * i, 200 - 5 * i, 90)))

    def run(*args: str) -> str:
        done = subprocess.run([sys.executable, "-m", "breeding.trainsets", str(folder), "--resolution", "16",
                               "--batch", "8", "--threads", "1", *args],
                              cwd=ROOT, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr
        return done.stdout

    said = run("--out", str(tmp_path / "v1"), "--pictures", "16", "--seed", "3")
    assert "training on 20 pictures at 16 px" in said and "done at 16 pictures shown: 16 in this run" in said
    export = tmp_path / "v1" / "generator.safetensors"
    assert export.is_file() and (tmp_path / "v1" / "checkpoint.pt").is_file()
    said = run("--out", str(tmp_path / "v2"), "--pictures", "32", "--seed", "4", "--continue-from", str(export))
    assert f"continuing from {export} at 16 pictures" in said
    assert "done at 32 pictures shown: 16 in this run" in said
