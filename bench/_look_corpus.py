"""A corpus of a space's works for the look and map benchmarks (``bench/lookalike.py``,
``bench/map.py``): N latents drawn from the space's prior, their 64 px renders and their
look vectors (``inference.look.embed``), made once and kept on disk.

    corpus("abstract", 100_000)           # in Python: .latents, .pictures, .looks
    .venv/bin/python -m bench._look_corpus --n 100000 [--space abstract] [--threads 2]

Rendering is the slow part (about 100 renders/s at 64 px on 2 free cores: 100k take 17
minutes; 50 minutes on a busy machine), so it goes in chunks, each written to disk with the count done: a run stopped
half way goes on from the last chunk. The latents are ``space.sample(n, seed)``, whose first
rows do not depend on n, so one corpus serves every size: asking for more works grows it
(the rendered prefix is kept), asking for fewer reads its prefix.

Kept under ``$MENDEL_BENCH_CACHE`` or ``$XDG_CACHE_HOME/mendel-bench`` (``~/.cache`` when
unset), outside the repository: ``<space>-<version>-seed<seed>/`` holds ``latents.npy``
(float32, (n, layers, dim)), ``pictures.npy`` (uint8, (n, 64, 64, 3), read as a memory map:
1.2 GB at 100k), ``looks-<key>.npy`` (float32, (n, look.DIMS); the key digests look.py's
settings, so a change of COLOUR_K and the like makes new vectors from the same pictures)
and ``progress.json``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

SIZE = 64  # look.SIZE: the size looks are measured at
CHUNK = 2000


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def cache_root() -> Path:
    if path := os.environ.get("MENDEL_BENCH_CACHE"):
        return Path(path)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "mendel-bench"


def look_key() -> str:
    """A digest of everything in ``inference.look`` that changes a vector."""
    from inference import look

    settings = {name: getattr(look, name) for name in
                ("SIZE", "COLOUR_SIGMA", "SURFACE_SIGMA", "SURFACE_WEIGHT", "COLOUR_K", "SURFACE_K",
                 "DIMS")}
    return hashlib.sha256(json.dumps(settings, sort_keys=True).encode()).hexdigest()[:10]


@dataclass
class Corpus:
    space: str
    version: str
    seed: int
    latents: np.ndarray  # (n, layers, dim) float32
    pictures: np.ndarray  # (n, 64, 64, 3) uint8, a read-only memory map
    looks: np.ndarray  # (n, look.DIMS) float32
    path: Path

    def __len__(self) -> int:
        return len(self.latents)

    def maps(self, start: int, end: int):
        """``look.maps`` of works start..end (a torch tensor (end-start, 5, 64, 64))."""
        from inference import look

        return look.maps(np.array(self.pictures[start:end]))


def _progress(folder: Path) -> dict:
    try:
        return json.loads((folder / "progress.json").read_text())
    except (OSError, ValueError):
        return {"n": 0, "rendered": 0, "looks": {}}


def _save_progress(folder: Path, progress: dict) -> None:
    tmp = folder / "progress.json.tmp"
    tmp.write_text(json.dumps(progress))
    tmp.replace(folder / "progress.json")


def _resize(path: Path, dtype, shape: tuple, done: int) -> None:
    """(Re)make the array at ``path`` with ``shape``, keeping its first ``done`` rows."""
    from numpy.lib.format import open_memmap

    tmp = path.with_name(path.name + ".tmp")
    new = open_memmap(tmp, mode="w+", dtype=dtype, shape=shape)
    if done:
        new[:done] = np.load(path, mmap_mode="r")[:done]
    new.flush()
    del new
    tmp.replace(path)


def _prepare(folder: Path, progress: dict, n: int, latents: np.ndarray | None, key: str,
             dims: int) -> dict:
    """Make the arrays hold n works (``latents``: the new ones, when growing) and vectors
    for ``key``, keeping what is done; vectors of other keys are dropped."""
    if latents is not None:
        tmp = folder / "latents.tmp.npy"
        np.save(tmp, latents)
        tmp.replace(folder / "latents.npy")
        _resize(folder / "pictures.npy", np.uint8, (n, SIZE, SIZE, 3), progress["rendered"])
    else:
        n = progress["n"]
    done = progress["looks"].get(key, 0)
    _resize(folder / f"looks-{key}.npy", np.float32, (n, dims), done)
    for stale in folder.glob("looks-*.npy"):
        if stale.name != f"looks-{key}.npy":
            stale.unlink()
    progress = {"n": n, "rendered": progress["rendered"], "looks": {key: done}}
    _save_progress(folder, progress)
    return progress


def corpus(space: str = "abstract", n: int = 100_000, seed: int = 0, threads: int = 2,
           chunk: int = CHUNK, quiet: bool = False) -> Corpus:
    """The first ``n`` works of a space's corpus (drawn with ``seed``), made now where not
    made yet. Sets torch's threads to ``threads`` while it renders."""
    import torch

    from inference import get_space, look

    torch.set_num_threads(threads)
    generator = get_space(space)
    folder = cache_root() / f"{space}-{generator.version}-seed{seed}"
    folder.mkdir(parents=True, exist_ok=True)
    key, dims = look_key(), look.DIMS
    progress = _progress(folder)
    if progress["n"] < n:
        latents = generator.sample(n, seed).numpy().astype(np.float32)
        if progress["n"]:  # the prior's first rows do not depend on n: check, never assume
            kept = np.load(folder / "latents.npy", mmap_mode="r")
            if not np.array_equal(kept[:1000], latents[: len(kept[:1000])]):
                raise RuntimeError(f"{folder}: the kept latents differ from space.sample(); "
                                   "delete the folder")
        progress = _prepare(folder, progress, n, latents, key, dims)
    elif key not in progress["looks"]:
        progress = _prepare(folder, progress, n, None, key, dims)
    pictures = np.load(folder / "pictures.npy", mmap_mode="r+")
    looks = np.load(folder / f"looks-{key}.npy", mmap_mode="r+")
    latents_all = np.load(folder / "latents.npy", mmap_mode="r")
    # Render and embed, a chunk at a time, up to n (the rest, if the corpus is bigger, stays
    # for a later call).
    started, first = time.perf_counter(), progress["rendered"]
    while progress["rendered"] < n or progress["looks"][key] < n:
        done = min(progress["rendered"], progress["looks"][key])
        end = min(n, done + chunk)
        if progress["rendered"] < end:
            z = torch.from_numpy(np.array(latents_all[progress["rendered"]:end]))
            pictures[progress["rendered"]:end] = generator.render(z, SIZE).numpy()
            pictures.flush()
        looks[done:end] = look.embed(np.ascontiguousarray(pictures[done:end]))
        looks.flush()
        progress["rendered"] = max(progress["rendered"], end)
        progress["looks"][key] = end
        _save_progress(folder, progress)
        if not quiet:
            rate = (progress["rendered"] - first) / max(time.perf_counter() - started, 1e-9)
            log(f"corpus {folder.name}: {end:,}/{n:,} ({rate:.0f}/s)")
    del pictures, looks
    return Corpus(
        space=space, version=generator.version, seed=seed,
        latents=np.load(folder / "latents.npy", mmap_mode="r")[:n],
        pictures=np.load(folder / "pictures.npy", mmap_mode="r")[:n],
        looks=np.load(folder / f"looks-{key}.npy", mmap_mode="r")[:n],
        path=folder,
    )



def copy_works(corpus, n: int, space, public_id: str, title: str, made=None) -> None:
    """The first ``n`` works of ``corpus`` written as public works of ``space`` by SQL
    (``COPY``), with their latents and looks, owned by 50 artists: work ``i`` has the public
    id ``public_id.format(i)`` and the title ``title.format(i)``; ``made(start, end)`` gives
    their times as POSIX seconds (default: now). Then the table is vacuumed and analysed."""
    from datetime import UTC, datetime

    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.utils import timezone
    from pgvector.psycopg import register_vector

    owners = [get_user_model().objects.get_or_create(username=f"artist{i}")[0].pk for i in range(50)]
    now = timezone.now().timestamp()
    connection.ensure_connection()
    raw = connection.connection
    register_vector(raw)
    columns = ("public_id, owner_id, space_id, latent, latent_sha, version, origin, genes, title, "
               "visibility, depth, created, kept_at, like_count, hot, look")
    with raw.cursor() as cursor:
        for start in range(0, n, 20_000):
            end = min(n, start + 20_000)
            latents = np.asarray(corpus.latents[start:end], dtype=np.float32).reshape(end - start, -1)
            looks = np.asarray(corpus.looks[start:end], dtype=np.float32)
            times = made(start, end) if made is not None else np.full(end - start, now)
            with cursor.copy(f"COPY breeding_creation ({columns}) FROM STDIN") as copy:
                for i in range(end - start):
                    at = datetime.fromtimestamp(times[i], tz=UTC)
                    copy.write_row((
                        public_id.format(start + i), owners[i % 50], space.pk, latents[i],
                        hashlib.sha256(latents[i].tobytes()).hexdigest()[:32], space.version,
                        "random", "{}", title.format(start + i), "public", 0, at, at, 0,
                        times[i] / 43200.0, looks[i],
                    ))
        raw.commit()
        cursor.execute("VACUUM ANALYZE breeding_creation")


def main() -> int:
    parser = argparse.ArgumentParser(description="Make (or extend) a look corpus.")
    parser.add_argument("--space", default="abstract")
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    found = corpus(args.space, args.n, args.seed, args.threads)
    log(f"{len(found):,} works in {found.path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
