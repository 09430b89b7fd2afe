"""The map of a space: every public work laid out in [0, 1]^2 so that works that look alike
sit together, drawn in the browser from texture atlases (PixPlot's approach), kept live as
works come and go, and a place to breed from.

- **Layout** (``layout_of``): the works' look vectors (``inference.look``) reduced to
  ``PCA_DIMS`` principal components, then openTSNE (FFT-accelerated t-SNE, Linderman et al.
  2019; Poličar et al. 2024) to 2-D, scaled into the unit square keeping its aspect. Look
  vectors read better than latents (``bench/map.py --basis``): a map is looked at, and works
  whose latents are close may still look unlike (the latent's fine layers change colour and
  texture a lot), so a latent map puts unlike pictures side by side.
- **Order and atlases**: the works of a layout are sorted along a Z-order (Morton) curve of
  their place, so a page of the atlas holds works that sit together and its bounding box is
  small: the client fetches only the pages its view meets. For each cell size in
  ``MAP_CELLS`` a page is an ``ATLAS_SIDE`` px square WebP of ``per_page(cell)`` thumbnails,
  row-major; the work of order ``o`` sits in page ``o // per_page``, slot ``o % per_page``.
- **Live**: a new public work is placed among its look-alikes already on the map (the
  distance-weighted mean of their places, ``place_new``) with the next order, so it lands
  on the last page, which alone is repainted. A work that leaves the public loses its point
  in the transaction that hides it (``listing_changed``: the points answer without it at
  once; the layout's ``state`` bumps) and a job paints its slots blank (``blank_gone``).
  A full relayout is a ``MapBuild`` job (``run_build``): staff ask for one, and every space
  is laid out again nightly.
- **Breeding from a place** (``breed_here``): the works nearest a place on the map, their
  latents blended with weights that fall with their distance on the map, as a cross of
  them (``breeding.actions.do_cross``): drafts in the breeder's studio, with the place kept
  (``MapPlace``).

Who may see a work is ``Creation.objects.public()``: the map is made of public works only,
and every answer asks the rule again rather than trusting the points.
"""

from __future__ import annotations

import io
import logging
import math
from collections.abc import Callable, Iterable

import numpy as np
import torch
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection, transaction
from django.db.models import F, Max, Min
from django.utils.translation import gettext as _
from PIL import Image

from breeding import actions, images, looks, spaces
from breeding.jobs import Cancelled
from breeding.models import Creation, Origin, Space
from common.errors import Refused
from gallery.models import ATLAS_SIDE, MAP_CELLS, MapBuild, MapLayout, MapPlace, MapPoint, per_page
from inference.batcher import RenderBatcher

log = logging.getLogger(__name__)

#: Principal components kept before t-SNE (its usual input size: the noise in the last of
#: the look's 276 dimensions only slows the neighbour search).
PCA_DIMS = 50
#: t-SNE's perplexity: about a third of the neighbours each point is attracted to.
PERPLEXITY = 30.0
#: The margin around the layout, as a fraction of the unit square.
MARGIN = 0.02
#: The largest thumbnail kept, the size pictures are rendered at for the atlases.
THUMB = max(MAP_CELLS)
#: What a blank slot (and the rest of a page) is painted with: the page's background.
BLANK = (16, 16, 18)
WEBP_QUALITY = 82
#: Works read, rendered and pasted per step of a build.
CHUNK = 256
#: A new work's place: the mean of the places of this many of its nearest look-alikes.
PLACE_NEIGHBOURS = 8
#: Works placed per run of the placing job (the rest in the next run, a minute later).
PLACE_BATCH = 500
#: Region labels: at most this many, from the peaks of the points' density on a grid of
#: ``LABEL_GRID`` x ``LABEL_GRID`` cells, at least ``LABEL_SEPARATION`` cells apart.
LABELS = 12
LABEL_GRID = 32
LABEL_SEPARATION = 4
#: Breeding from a place: the works blended are the nearest ``BREED_PARENTS`` within
#: ``BREED_REACH`` of the place, weighed by a Gaussian of their distance on the map whose
#: width is the distance of the farthest of them (at least ``BREED_MIN_SIGMA``); each new
#: work leans its own way around that blend (Dirichlet weights of concentration
#: ``BREED_CONCENTRATION`` per parent: lower, more varied) with a small mutation
#: (``BREED_MUTATION``), so that the pictures differ as the neighbourhood does.
BREED_PARENTS = 8
BREED_REACH = 0.12
BREED_MIN_PARENTS = 3
BREED_MAX_REACH = 0.48
BREED_MIN_SIGMA = 0.01
BREED_CONCENTRATION = 0.5
BREED_MUTATION = 0.15
#: What a work must be to stand on a map: a place in a space, and a look.
NOT_ON_MAPS = (Origin.VIDEO, Origin.MEDIA)


# -- reading ---------------------------------------------------------------------------------


def current(space: Space | int) -> MapLayout | None:
    """The space's map: its newest ready layout, or None."""
    return MapLayout.objects.filter(space_id=int(getattr(space, "pk", space)), ready=True).first()


def building(space: Space | int) -> MapBuild | None:
    """The space's relayout under way (waiting or building), or None."""
    return (MapBuild.objects.filter(space_id=int(getattr(space, "pk", space)),
                                    status__in=MapBuild.unfinished()).order_by("created").first())


def shown_points(layout: MapLayout):
    """The points of a layout anyone may see: those of public works (the rule, asked again
    whatever the points say)."""
    return MapPoint.objects.filter(layout=layout, creation__in=Creation.objects.public())


def points_binary(layout: MapLayout) -> bytes:
    """The points as the API sends them: little-endian uint32 count, then per point uint32
    order, float32 x, float32 y, uint32 rgba (r in the lowest byte), by order."""
    rows = list(shown_points(layout).order_by("order").values_list("order", "x", "y", "rgba"))
    packed = np.zeros(len(rows), dtype=[("order", "<u4"), ("x", "<f4"), ("y", "<f4"), ("rgba", "<u4")])
    if rows:
        columns = list(zip(*rows, strict=True))
        packed["order"], packed["x"], packed["y"] = columns[0], columns[1], columns[2]
        packed["rgba"] = np.asarray(columns[3], dtype=np.int64) & 0xFFFFFFFF
    return np.uint32(len(rows)).astype("<u4").tobytes() + packed.tobytes()


def page_name(layout: MapLayout, cell: int, page: int) -> str:
    return f"maps/{layout.space_id}/{layout.pk}/{cell}/{page}.webp"


def atlas_of(layout: MapLayout, url: Callable[[int, int, int], str]) -> dict:
    """The atlas pages of each cell size as the API lists them (``url(cell, page, v)``)."""
    return {str(cell): {"per_page": per_page(cell),
                        "pages": [{"url": url(cell, i, page["v"]), "bbox": page["bbox"]}
                                  for i, page in enumerate(layout.atlas.get(str(cell), []))]}
            for cell in MAP_CELLS}


def labels_of(layout: MapLayout) -> list[dict]:
    """The region labels whose example work is still public: its title (or its id) at the
    region's peak."""
    wanted = [label["creation"] for label in layout.labels]
    shown = {c.pk: c for c in Creation.objects.public().filter(pk__in=wanted).only("public_id", "title")}
    return [{"x": label["x"], "y": label["y"], "text": shown[label["creation"]].title or
             shown[label["creation"]].public_id, "public_id": shown[label["creation"]].public_id}
            for label in layout.labels if label["creation"] in shown]


# -- layout ---------------------------------------------------------------------------------


def pca(vectors: np.ndarray, dims: int = PCA_DIMS) -> np.ndarray:
    """The first ``dims`` principal components of the rows (eigenvectors of the covariance,
    which is small: the vectors are short)."""
    x = np.asarray(vectors, dtype=np.float64)
    x = x - x.mean(axis=0)
    dims = min(dims, x.shape[1], max(1, x.shape[0] - 1))
    values, vectors_ = np.linalg.eigh(x.T @ x)
    top = vectors_[:, np.argsort(values)[::-1][:dims]]
    return (x @ top).astype(np.float32)


def normalise(xy: np.ndarray, margin: float = MARGIN) -> np.ndarray:
    """Scale points into [0, 1]^2 keeping their aspect, centred, with a margin."""
    xy = np.asarray(xy, dtype=np.float64)
    if len(xy) == 0:
        return xy.reshape(0, 2)
    low, high = xy.min(axis=0), xy.max(axis=0)
    extent = float((high - low).max())
    if extent <= 0:
        return np.full_like(xy, 0.5)
    scaled = (xy - (low + high) / 2) / extent  # in [-0.5, 0.5], the longer side full
    return 0.5 + scaled * (1 - 2 * margin)


def layout_of(vectors: np.ndarray, seed: int = 0, threads: int = 2,
              on_progress: Callable[[float], None] | None = None) -> np.ndarray:
    """2-D places in [0, 1]^2 for the rows of ``vectors``: PCA, then openTSNE.
    ``on_progress(fraction)`` is called as the optimisation goes (and may raise to stop)."""
    n = len(vectors)
    if n < 4:  # too few for t-SNE: along a line, in order
        return normalise(np.stack([np.arange(n, dtype=float), np.zeros(n)], axis=1)) if n > 1 \
            else np.full((n, 2), 0.5)
    from openTSNE import TSNE

    reduced = pca(vectors)
    exaggeration_iter, iterations = 250, 500
    total = exaggeration_iter + iterations
    seen = {"iteration": 0}

    def callback(iteration, error, embedding):
        seen["iteration"] += 50
        if on_progress is not None:
            on_progress(min(seen["iteration"] / total, 1.0))
        return False

    tsne = TSNE(
        n_components=2,
        perplexity=min(PERPLEXITY, (n - 1) / 3.0),
        early_exaggeration_iter=exaggeration_iter,
        n_iter=iterations,
        initialization="pca",
        neighbors="annoy" if n > 2000 else "exact",
        negative_gradient_method="fft" if n > 2000 else "bh",
        n_jobs=threads,
        random_state=seed,
        callbacks=callback,
        callbacks_every_iters=50,
        verbose=False,
    )
    embedding = np.asarray(tsne.fit(reduced))
    return normalise(embedding)


def morton(xy: np.ndarray) -> np.ndarray:
    """The Z-order (Morton) code of each place in [0, 1]^2 at 16 bits a coordinate: sorting
    by it keeps works that sit together close in the order."""
    q = np.clip((np.asarray(xy) * 65535).round(), 0, 65535).astype(np.uint64)

    def spread(v):
        v = (v | (v << np.uint64(8))) & np.uint64(0x00FF00FF)
        v = (v | (v << np.uint64(4))) & np.uint64(0x0F0F0F0F)
        v = (v | (v << np.uint64(2))) & np.uint64(0x33333333)
        return (v | (v << np.uint64(1))) & np.uint64(0x55555555)

    return spread(q[:, 0]) | (spread(q[:, 1]) << np.uint64(1))


def label_places(xy: np.ndarray, titled: np.ndarray | None = None, count: int = LABELS) -> list[int]:
    """The rows that label the densest regions: the peaks of the points' density on a grid
    (smoothed), densest first, each at least ``LABEL_SEPARATION`` cells from the others,
    labelled by the point nearest the peak's centre (a titled one where the region has one)."""
    n = len(xy)
    if n == 0:
        return []
    grid = LABEL_GRID
    cells = np.clip((np.asarray(xy) * grid).astype(int), 0, grid - 1)
    density = np.zeros((grid, grid))
    np.add.at(density, (cells[:, 1], cells[:, 0]), 1.0)
    from scipy.ndimage import gaussian_filter

    smooth = gaussian_filter(density, sigma=1.0, mode="constant")
    chosen: list[tuple[int, int]] = []
    rows: list[int] = []
    for flat in np.argsort(smooth, axis=None)[::-1]:
        if len(rows) >= count or smooth.flat[flat] <= 0:
            break
        cy, cx = divmod(int(flat), grid)
        if any(max(abs(cx - ox), abs(cy - oy)) < LABEL_SEPARATION for ox, oy in chosen):
            continue
        near = np.flatnonzero((np.abs(cells[:, 0] - cx) <= 1) & (np.abs(cells[:, 1] - cy) <= 1))
        if len(near) == 0:
            continue
        centre = np.array([(cx + 0.5) / grid, (cy + 0.5) / grid])
        distance = np.linalg.norm(xy[near] - centre, axis=1)
        if titled is not None and titled[near].any():
            distance = distance + np.where(titled[near], 0.0, 1.0)  # a titled one first
        chosen.append((cx, cy))
        rows.append(int(near[np.argmin(distance)]))
    return rows


# -- pictures and atlases -------------------------------------------------------------------


def thumbnails(works: list[Creation], size: int = THUMB) -> np.ndarray:
    """The works' pictures at ``size`` px (n, size, size, 3): from the stored 256 px picture
    where there is one (every kept work has), else rendered through the space's batcher
    after what people wait for (nothing stored)."""
    out = np.empty((len(works), size, size, 3), dtype=np.uint8)
    futures = {}
    for i, work in enumerate(works):
        name = images.path(work.space.slug, work.latent_sha, 256)
        if default_storage.exists(name):
            try:
                with default_storage.open(name) as file:
                    picture = Image.open(io.BytesIO(file.read())).convert("RGB")
                out[i] = np.asarray(picture.resize((size, size), Image.Resampling.BOX))
                continue
            except (OSError, ValueError):
                pass  # a file half written or swept meanwhile: rendered instead
        renderer = images.batcher(images.in_version(work.space.slug, work.version))
        if isinstance(renderer, RenderBatcher):
            futures[i] = renderer.submit(work.tensor()[None], size, who="maps", urgent=False)
        else:
            futures[i] = renderer.submit(work.tensor()[None], size)
    for i, future in futures.items():
        out[i] = np.asarray(future.result())[0]
    return out


def colours(pictures: np.ndarray) -> np.ndarray:
    """Each picture's mean colour as uint32 rgba (r in the lowest byte, alpha 255)."""
    if len(pictures) == 0:
        return np.zeros(0, dtype=np.int64)
    mean = pictures.reshape(len(pictures), -1, 3).mean(axis=1).round().astype(np.int64)
    return mean[:, 0] | (mean[:, 1] << 8) | (mean[:, 2] << 16) | (255 << 24)


def _cell_pictures(pictures: np.ndarray, cell: int) -> np.ndarray:
    if pictures.shape[1] == cell:
        return pictures
    x = torch.from_numpy(pictures).permute(0, 3, 1, 2).float()
    small = torch.nn.functional.interpolate(x, size=(cell, cell), mode="area")
    return small.round().clamp(0, 255).byte().permute(0, 2, 3, 1).numpy()


def _blank_page() -> np.ndarray:
    page = np.empty((ATLAS_SIDE, ATLAS_SIDE, 3), dtype=np.uint8)
    page[:] = BLANK
    return page


def _encode(page: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(page).save(buffer, "WEBP", quality=WEBP_QUALITY, method=3)
    return buffer.getvalue()


def _save(name: str, data: bytes) -> None:
    if default_storage.exists(name):
        default_storage.delete(name)
    default_storage.save(name, ContentFile(data))


def _read_page(name: str) -> np.ndarray:
    if not default_storage.exists(name):
        return _blank_page()
    with default_storage.open(name) as file:
        return np.array(Image.open(io.BytesIO(file.read())).convert("RGB"))


def _paste(page: np.ndarray, slot: int, cell: int, picture: np.ndarray | None) -> None:
    across = ATLAS_SIDE // cell
    row, col = divmod(slot, across)
    page[row * cell:(row + 1) * cell, col * cell:(col + 1) * cell] = BLANK if picture is None else picture


def _bbox(xy: np.ndarray) -> list[float]:
    if len(xy) == 0:
        return [0.0, 0.0, 0.0, 0.0]
    low, high = xy.min(axis=0), xy.max(axis=0)
    return [round(float(v), 5) for v in (low[0], low[1], high[0], high[1])]


class AtlasWriter:
    """Writes the pages of every cell size of a new layout, pictures given in order; a full
    page is encoded and stored by one of ``threads`` threads (Pillow lets go of the GIL
    while it encodes) while the next is pasted."""

    def __init__(self, layout: MapLayout, threads: int = 2) -> None:
        from concurrent.futures import ThreadPoolExecutor

        self.threads = max(1, threads)
        self.pool = ThreadPoolExecutor(max_workers=self.threads, thread_name_prefix="atlas")
        self.writing: list = []
        self.layout = layout
        self.pages = {cell: None for cell in MAP_CELLS}
        self.current = dict.fromkeys(MAP_CELLS, -1)
        self.places: dict[int, list[np.ndarray]] = {cell: [] for cell in MAP_CELLS}
        self.atlas: dict[str, list[dict]] = {str(cell): [] for cell in MAP_CELLS}

    def add(self, first_order: int, pictures: np.ndarray, xy: np.ndarray) -> None:
        for cell in MAP_CELLS:
            small = _cell_pictures(pictures, cell)
            for i in range(len(small)):
                page, slot = divmod(first_order + i, per_page(cell))
                if page != self.current[cell]:
                    self._flush(cell)
                    self.pages[cell], self.current[cell] = _blank_page(), page
                _paste(self.pages[cell], slot, cell, small[i])
                self.places[cell].append(xy[i])

    def _flush(self, cell: int) -> None:
        if self.pages[cell] is None:
            return
        name, pixels = page_name(self.layout, cell, self.current[cell]), self.pages[cell]
        while len(self.writing) >= 2 * self.threads:  # at most a few pages in memory
            self.writing.pop(0).result()  # (and a page that failed to be stored fails the run)
        self.writing.append(self.pool.submit(lambda: _save(name, _encode(pixels))))
        self.atlas[str(cell)].append({"v": 1, "bbox": _bbox(np.array(self.places[cell]))})
        self.pages[cell], self.places[cell] = None, []

    def close(self) -> dict:
        try:
            for cell in MAP_CELLS:
                self._flush(cell)
            for future in self.writing:
                future.result()
        finally:
            self.pool.shutdown(wait=True)
        return self.atlas


def repaint(layout_id: int, slots: dict[int, np.ndarray | None]) -> None:
    """Paint the slots of these orders (a picture, or blank for None) on every cell size's
    pages, and record the new versions and bounding boxes of the pages changed. Run by one
    job at a time per space (the tasks' lock)."""
    layout = MapLayout.objects.filter(pk=layout_id).first()
    if layout is None:  # replaced by a relayout meanwhile: nothing to paint
        return
    orders = sorted(slots)
    changed: dict[str, dict[int, None]] = {}
    for cell in MAP_CELLS:
        by_page: dict[int, list[int]] = {}
        for order in orders:
            by_page.setdefault(order // per_page(cell), []).append(order)
        for page, its in by_page.items():
            name = page_name(layout, cell, page)
            pixels = _read_page(name)
            pictures = [slots[o] for o in its]
            small = [None if p is None else _cell_pictures(p[None], cell)[0] for p in pictures]
            for order, picture in zip(its, small, strict=True):
                _paste(pixels, order % per_page(cell), cell, picture)
            _save(name, _encode(pixels))
            changed.setdefault(str(cell), {})[page] = None
    with transaction.atomic():
        locked = MapLayout.objects.select_for_update().filter(pk=layout_id).first()
        if locked is None:
            return
        for cell, pages in changed.items():
            listed = locked.atlas.setdefault(cell, [])
            for page in sorted(pages):
                size = per_page(int(cell))
                box = MapPoint.objects.filter(
                    layout_id=layout_id, order__gte=page * size, order__lt=(page + 1) * size
                ).aggregate(x0=Min("x"), y0=Min("y"), x1=Max("x"), y1=Max("y"))
                bbox = [0.0, 0.0, 0.0, 0.0] if box["x0"] is None else \
                    [round(box[k], 5) for k in ("x0", "y0", "x1", "y1")]
                while len(listed) <= page:
                    listed.append({"v": 0, "bbox": [0.0, 0.0, 0.0, 0.0]})
                listed[page] = {"v": listed[page]["v"] + 1, "bbox": bbox}
        locked.save(update_fields=["atlas"])


def remove_files(layout: MapLayout) -> None:
    """Delete a layout's atlas pages."""
    for cell in MAP_CELLS:
        for page in range(len(layout.atlas.get(str(cell), [])) + 1):
            name = page_name(layout, cell, page)
            if default_storage.exists(name):
                default_storage.delete(name)


def discard(layout: MapLayout) -> None:
    """Delete a layout that is no longer the map (or never became it): its points by one
    statement (no work leaves the public by this), its row, its files."""
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM gallery_mappoint WHERE layout_id = %s", [layout.pk])
    MapLayout.objects.filter(pk=layout.pk).delete()
    remove_files(layout)


# -- the relayout job -----------------------------------------------------------------------


def mappable(space: Space | int):
    """The works of a space that stand on its map: public, with a look."""
    return (Creation.objects.public().filter(space_id=int(getattr(space, "pk", space)),
                                             look__isnull=False)
            .exclude(origin__in=NOT_ON_MAPS))


def start_build(space: Space, owner=None, basis: str = "look") -> MapBuild:
    """Ask for a relayout of ``space`` (the one under way, if there is one): by staff
    (``owner``: their allowance applies) or by the site (the nightly job, no owner)."""
    from procrastinate.contrib.django import app

    # The task by name: the job module imports this one, never the other way round.
    task = app.configure_task("gallery.tasks.build_map", allow_unknown=False)
    if (under_way := building(space)) is not None:
        return under_way
    total = mappable(space).count()
    if owner is None:  # the site's own: no allowance; the row and its task in one transaction
        with transaction.atomic():
            job = MapBuild.objects.create(owner=None, space=space, basis=basis, works_total=total)
            task.defer(build_id=job.pk)
        return job
    with MapBuild.admit(owner):
        return MapBuild.start(owner, lambda job: task.defer(build_id=job.pk), space=space,
                              basis=basis, works_total=total)


def run_build(build_id: int, stop: Callable[[], None] | None = None, threads: int = 2,
              pictures_of: Callable[[list[Creation]], np.ndarray] = thumbnails,
              timings: dict | None = None) -> int | None:
    """Lay out a space again (the ``MapBuild`` job): read its mappable works, lay them out,
    order them, write the atlases and the points, then make the new layout the space's map
    in one transaction and discard the old. Idempotent: a run taken up again starts over.
    The layout's pk, or None when there was nothing to do. ``pictures_of``: the works'
    ``THUMB`` px pictures (``thumbnails``; a benchmark passes its own); ``timings``, if
    given, gets the seconds of each phase."""
    import time

    clock = {"at": time.perf_counter(), "cpu": time.process_time()}

    def lap(name: str) -> None:  # wall seconds, and CPU seconds of all the process's threads
        now, cpu = time.perf_counter(), time.process_time()
        if timings is not None:
            timings[name] = round(now - clock["at"], 2)
            timings[name.replace("_s", "_cpu_s")] = round(cpu - clock["cpu"], 2)
        clock["at"], clock["cpu"] = now, cpu

    job = MapBuild.claim(build_id, "space")
    if job is None:
        return None
    # An earlier run of this job, killed half way, left a layout that never became the map.
    for stale in MapLayout.objects.filter(space=job.space, ready=False):
        if not MapBuild.objects.filter(layout=stale).exclude(pk=job.pk).exists():
            discard(stale)
    progress = job.progress_meter()
    layout = writer = None
    try:
        rows = list(mappable(job.space).order_by("pk").values_list(
            "pk", "look" if job.basis == "look" else "latent"))
        MapBuild.objects.filter(pk=job.pk).update(works_total=len(rows))
        ids = np.array([pk for pk, _ in rows], dtype=np.int64)
        vectors = np.array([np.asarray(v, dtype=np.float32) for _, v in rows]) if rows else \
            np.zeros((0, 1), dtype=np.float32)
        del rows
        lap("read_s")

        def laid(fraction):
            if stop is not None:
                stop()
            progress(0.05 + 0.45 * fraction)

        xy = layout_of(vectors, threads=threads, on_progress=laid)
        lap("layout_s")
        order = np.argsort(morton(xy), kind="stable")
        ids, xy = ids[order], xy[order]
        layout = MapLayout.objects.create(space=job.space, basis=job.basis, works=len(ids),
                                          next_order=len(ids))
        MapBuild.objects.filter(pk=job.pk).update(layout=layout)
        writer = AtlasWriter(layout, threads)
        rgba = np.zeros(len(ids), dtype=np.int64)
        for start in range(0, len(ids), CHUNK):
            if stop is not None:
                stop()
            chunk = ids[start:start + CHUNK].tolist()
            works = {c.pk: c for c in Creation.objects.filter(pk__in=chunk).select_related("space")}
            present = [works.get(pk) for pk in chunk]
            pictures = np.empty((len(chunk), THUMB, THUMB, 3), dtype=np.uint8)
            pictures[:] = BLANK
            found = [i for i, w in enumerate(present) if w is not None]  # a work purged meanwhile: blank
            if found:
                pictures[found] = pictures_of([present[i] for i in found])
            rgba[start:start + len(chunk)] = colours(pictures)
            writer.add(start, pictures, xy[start:start + len(chunk)])
            MapPoint.objects.bulk_create(
                MapPoint(layout=layout, creation_id=pk, order=start + i, x=float(xy[start + i, 0]),
                         y=float(xy[start + i, 1]), rgba=int(rgba[start + i]))
                for i, pk in enumerate(chunk) if present[i] is not None)
            progress(0.5 + 0.48 * (start + len(chunk)) / max(len(ids), 1))
        atlas = writer.close()
        lap("atlas_s")
        titles = dict(Creation.objects.filter(pk__in=ids.tolist()).values_list("pk", "title"))
        titled = np.array([bool(titles.get(int(pk))) for pk in ids], dtype=bool)
        labels = [{"x": round(float(xy[r, 0]), 5), "y": round(float(xy[r, 1]), 5),
                   "creation": int(ids[r])} for r in label_places(xy, titled)]
        lap("labels_s")
    except BaseException as failure:
        if writer is not None:
            writer.pool.shutdown(wait=True)  # no page written after this
        if not isinstance(failure, Cancelled):
            raise  # the half-made layout goes when the job is taken up again
        if layout is not None:
            discard(layout)
        return None
    old: list[MapLayout] = []

    def make(locked: MapBuild) -> list[str]:
        # Works that left the public while the layout was made: their points go, their
        # slots are blanked (``blank_gone``, after commit).
        left = list(MapPoint.objects.filter(layout=layout)
                    .exclude(creation__in=Creation.objects.public()).values_list("order", flat=True))
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM gallery_mappoint WHERE layout_id = %s AND \"order\" = ANY(%s)",
                           [layout.pk, left])
        old.extend(MapLayout.objects.filter(space=locked.space, ready=True))
        new = MapLayout.objects.select_for_update().get(pk=layout.pk)
        # (and those whose points went meanwhile: ``point_gone`` listed them already)
        gone = sorted({int(o) for o in new.gone} | set(left))
        MapLayout.objects.filter(pk=layout.pk).update(
            ready=True, atlas=atlas, labels=labels, gone=gone,
            works=MapPoint.objects.filter(layout=layout).count(), state=F("state") + 1)
        locked.layout = layout
        if gone:
            transaction.on_commit(lambda: defer_blank(layout))
        return ["layout"]

    if job.finish(make) is None:  # cancelled at the last moment
        discard(layout)
        return None
    for previous in old:
        discard(previous)
    return layout.pk


# -- live: places of new works, and works that leave ----------------------------------------


def defer_place(space_id: int) -> None:
    """Place the space's new public works soon (one job queued per space, run one at a time
    with the others that paint its pages)."""
    from procrastinate.contrib.django import app
    from procrastinate.exceptions import AlreadyEnqueued

    task = app.configure_task("gallery.tasks.place_works", allow_unknown=False,
                              queueing_lock=f"map-place:{space_id}", lock=f"map-pages:{space_id}")
    try:
        with transaction.atomic():  # a savepoint: the lock's refusal must not poison a caller's transaction
            task.defer(space_id=space_id)
    except AlreadyEnqueued:
        pass


def defer_blank(layout: MapLayout) -> None:
    from procrastinate.contrib.django import app
    from procrastinate.exceptions import AlreadyEnqueued

    task = app.configure_task("gallery.tasks.blank_map", allow_unknown=False,
                              queueing_lock=f"map-blank:{layout.pk}", lock=f"map-pages:{layout.space_id}")
    try:
        with transaction.atomic():
            task.defer(layout_id=layout.pk)
    except AlreadyEnqueued:
        pass


def place_new(space: Space | int, limit: int = PLACE_BATCH) -> int:
    """Place the space's public works that have no point on its map yet (made public since
    it was laid out, or again): each at the distance-weighted mean of the places of its
    nearest look-alikes on the map, with the next orders (so on the last atlas pages, which
    alone are repainted). Works without a look yet are measured first. How many were placed."""
    space_id = int(getattr(space, "pk", space))
    layout = current(space_id)
    if layout is None:
        return 0
    unmeasured = list(looks.wanting().filter(pk__in=Creation.objects.public().filter(space_id=space_id)
                                             .values("pk")).values_list("pk", flat=True)[:limit])
    if unmeasured:
        looks.fill(unmeasured)
    new = list(mappable(space_id).exclude(map_points__layout=layout).select_related("space")
               .order_by("pk")[:limit])
    if not new:
        return 0
    places = np.array([place_of(layout, work) for work in new])
    pictures = thumbnails(new)
    rgba = colours(pictures)
    with transaction.atomic():
        locked = MapLayout.objects.select_for_update().filter(pk=layout.pk).first()
        if locked is None:  # replaced by a relayout meanwhile: placed on the new one next time
            return 0
        first = locked.next_order
        MapPoint.objects.bulk_create(
            MapPoint(layout=locked, creation=work, order=first + i, x=float(places[i, 0]),
                     y=float(places[i, 1]), rgba=int(rgba[i])) for i, work in enumerate(new))
        locked.next_order = first + len(new)
        locked.works += len(new)
        locked.state += 1
        locked.save(update_fields=["next_order", "works", "state"])
    repaint(layout.pk, {first + i: pictures[i] for i in range(len(new))})
    return len(new)


def place_of(layout: MapLayout, work: Creation) -> tuple[float, float]:
    """Where a new work goes: the mean of the places of its nearest look-alikes on the
    layout, weighed by the inverse square of their look distance (so the nearest counts
    most and a work between two regions does not fall in the empty middle so easily), a
    little apart from the one it is nearest to."""
    ids = looks.lookalike_ids(work.look, layout.space_id, None, PLACE_NEIGHBOURS * 4, exclude=work.pk)
    points = {p.creation_id: p for p in MapPoint.objects.filter(layout=layout, creation_id__in=ids)}
    near = [pk for pk in ids if pk in points][:PLACE_NEIGHBOURS]
    rng = np.random.default_rng(work.pk)
    if not near:  # nothing like it on the map yet: near the middle
        return tuple(0.5 + rng.normal(0, 0.05, 2).clip(-0.45, 0.45))
    vectors = dict(Creation.objects.filter(pk__in=near).values_list("pk", "look"))
    target = np.asarray(work.look, dtype=np.float32)
    d = np.array([np.linalg.norm(np.asarray(vectors[pk], dtype=np.float32) - target) for pk in near])
    w = 1.0 / (d**2 + 1e-6)
    xy = np.array([[points[pk].x, points[pk].y] for pk in near])
    mean = (w[:, None] * xy).sum(axis=0) / w.sum()
    spread = max(float(np.sqrt(((xy - mean) ** 2).sum(axis=1).min())), 1e-3)
    return tuple(np.clip(mean + rng.normal(0, 0.25 * spread, 2), 0.0, 1.0))


def point_gone(point: MapPoint) -> None:
    """A point was deleted (its work left the public, or was deleted with its account): its
    layout's state bumps and its order waits to be blanked, by a job after commit."""
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE gallery_maplayout SET state = state + 1, works = GREATEST(works - 1, 0), "
            "gone = gone || %s::jsonb WHERE id = %s RETURNING space_id",
            [f"[{int(point.order)}]", point.layout_id])
        row = cursor.fetchone()
    if row is not None:
        layout = MapLayout(pk=point.layout_id, space_id=row[0])
        transaction.on_commit(lambda: defer_blank(layout))


def listing_changed(creation: Creation, listed: bool) -> None:
    """A work entered or left the public (``breeding.signals.listing_changed``, inside the
    transaction that changed it): one that left loses its points now; one that entered is
    placed by a job soon after commit."""
    if not listed:
        return
    if creation.listed_for(None):
        if creation.space_id:
            space_id = creation.space_id
            transaction.on_commit(lambda: defer_place(space_id))
    else:
        for point in MapPoint.objects.filter(creation=creation):
            point.delete()  # point_gone, through the post_delete signal


def blank_gone(layout_id: int) -> int:
    """Paint blank the atlas slots of the works that left a layout; how many."""
    layout = MapLayout.objects.filter(pk=layout_id).first()
    if layout is None or not layout.gone:
        return 0
    orders = sorted(set(int(o) for o in layout.gone))
    repaint(layout_id, dict.fromkeys(orders))
    with transaction.atomic():
        locked = MapLayout.objects.select_for_update().filter(pk=layout_id).first()
        if locked is None:
            return 0
        locked.gone = [o for o in locked.gone if int(o) not in set(orders)]
        locked.save(update_fields=["gone"])
    return len(orders)


# -- breeding from a place ------------------------------------------------------------------


def parents_near(layout: MapLayout, x: float, y: float,
                 count: int = BREED_PARENTS) -> list[tuple[Creation, float, float, float]]:
    """The public works of the layout nearest (x, y) within ``BREED_REACH`` that can be
    bred from, with their distance and place on the map, nearest first; on a sparse map
    the reach doubles (up to ``BREED_MAX_REACH``) until ``BREED_MIN_PARENTS`` are found,
    so that a place always blends several works."""
    reach = BREED_REACH
    while True:
        box = shown_points(layout).filter(x__gte=x - reach, x__lte=x + reach,
                                          y__gte=y - reach, y__lte=y + reach)
        rows = list(box.values_list("creation_id", "x", "y"))
        scored = sorted((math.hypot(px - x, py - y), pk, px, py) for pk, px, py in rows)
        scored = [row for row in scored if row[0] <= reach]
        if len(scored) >= BREED_MIN_PARENTS or reach >= BREED_MAX_REACH:
            break
        reach = min(2 * reach, BREED_MAX_REACH)
    works = {c.pk: c for c in Creation.objects.public().filter(
        pk__in=[row[1] for row in scored]).exclude(origin__in=NOT_ON_MAPS).select_related("space")}
    return [(works[pk], d, px, py) for d, pk, px, py in scored if pk in works][:count]


def breed_here(owner, space: Space, x: float, y: float, n: int, seed: int | None = None) -> list[Creation]:
    """``n`` new works (drafts of ``owner``) whose latents blend those of the works nearest
    (x, y) on the space's map, weighed by a Gaussian of their distance on the map; each
    leaning its own way around that blend, with a small mutation, as a cross of those works
    (``actions.do_cross``), and the place kept (``MapPlace``). ``Refused`` with a sentence
    where the space has no map or no work to blend near the place."""
    layout = current(space)
    if layout is None:
        raise Refused(_("The %(space)s space has no map yet.") % {"space": spaces.title_of(space)}, 404)
    near = parents_near(layout, x, y)
    if not near:
        raise Refused(_("There are no works near this place to breed from. Click closer to "
                        "some pictures."), 400)
    seed = actions.new_seed() if seed is None else seed
    rng = np.random.default_rng(seed)
    sigma = max(max(d for _, d, _, _ in near), BREED_MIN_SIGMA)
    # The place's own blend: each work weighed by a Gaussian of its distance on the map.
    place = np.array([math.exp(-(d * d) / (2 * sigma * sigma)) + 1e-6 for _, d, _, _ in near])
    place /= place.sum()
    made: list[Creation] = []
    with transaction.atomic():
        for i in range(n):
            # Each picture leans its own way around the place's blend (a Dirichlet draw whose
            # mean is that blend): eight pictures of the place, not one picture eight times.
            weights = rng.dirichlet(BREED_CONCENTRATION * len(near) * place) if len(near) > 1 else place
            parents = [actions.ParentWeight(work, float(w), float(w))
                       for (work, _, _, _), w in zip(near, weights, strict=True)]
            made += actions.do_cross(owner, parents, 1, BREED_MUTATION, seed + i)
        MapPlace.objects.bulk_create(MapPlace(creation=work, layout=layout, x=x, y=y,
                                              parents=len(near)) for work in made)
    return made


def spaces_with_maps() -> Iterable[int]:
    return (MapLayout.objects.filter(ready=True).values_list("space_id", flat=True).distinct())
