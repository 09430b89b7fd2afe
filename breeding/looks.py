"""Works that look alike: each kept work's look vector (``inference.look``), found by a
job, and searched per space with pgvector HNSW (Euclidean).

- **Which works get one.** Every kept work with a place in a space (drafts are thrown away
  after a day; a published work has no space; a morph video sits on its first keyframe).
  Keeping a work defers ``tasks.fill_looks`` after commit; the same task runs every minute
  and also fills works from before looks existed, a batch at a time.
- **The index.** One partial HNSW index per space over its public works that have a look,
  ``WHERE space_id = S AND look IS NOT NULL AND <PUBLIC_SQL>`` (``ensure_index``), as the
  latent neighbours of ``gallery.neighbours`` are indexed.
- **The rule.** ``lookalike_ids`` answers with works the viewer may list
  (``Creation.objects.listed_for``): the public ones through the index, and the viewer's
  own that are not public by an exact search over their few rows, merged by distance.
"""

from __future__ import annotations

import logging

import numpy as np
import torch
from django.conf import settings
from django.db import connection, transaction
from django.utils.translation import gettext as _
from pgvector.django import L2Distance
from PIL import Image
from procrastinate.contrib.django import app

from breeding import budget, images
from breeding.jobs import DECODING, busy, release_connection
from breeding.models import PUBLIC_SQL, Creation, Origin, Space, viewer_id
from breeding.uploads import UploadRefused, check_files, decode, read_limited
from common.errors import Refused
from inference import look
from inference.batcher import RenderBatcher

log = logging.getLogger(__name__)

#: The size looks are measured at (``inference.look.SIZE``).
SIZE = look.SIZE
#: Works measured per pass of the fill job.
BATCH = 64
#: The fields of a work its look-alikes are found by (``like``).
SEARCHED_BY = ("pk", "public_id", "owner_id", "space_id", "look", "visibility", "removed_at")


def index_name(space: Space | int) -> str:
    return f"creation_look_space_{int(getattr(space, 'pk', space))}"


def ensure_index(space: Space | int, m: int | None = None, ef_construction: int | None = None) -> None:
    """Create the space's look-alike index if it does not exist (cheap when it does)."""
    pk = int(getattr(space, "pk", space))
    m = int(m or settings.LOOKS_HNSW_M)
    ef_construction = int(ef_construction or settings.LOOKS_HNSW_EF_CONSTRUCTION)
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE INDEX IF NOT EXISTS {index_name(pk)} ON breeding_creation "
            f"USING hnsw (look vector_l2_ops) WITH (m = {m}, ef_construction = {ef_construction}) "
            f"WHERE space_id = {pk} AND look IS NOT NULL AND {PUBLIC_SQL}"
        )


def ensure_indexes(stdout=None) -> None:
    for space in Space.objects.all():
        ensure_index(space)


# -- measuring ------------------------------------------------------------------------------


def wanting():
    """Works that should have a look and have none yet."""
    return (Creation.objects.alive().kept()
            .filter(look__isnull=True, space__isnull=False, latent__isnull=False)
            .exclude(origin__in=(Origin.VIDEO, Origin.MEDIA)))


def pictures(creations: list[Creation]) -> np.ndarray:
    """The works' pictures at 64 px (n, 64, 64, 3), each in its own space version, through
    the space's batcher (or the inference service), after what people wait for."""
    futures = []
    for c in creations:
        earlier = "" if c.version in ("", c.space.version) else c.version
        renderer = images.batcher(images.in_version(c.space.slug, earlier))
        if isinstance(renderer, RenderBatcher):
            futures.append(renderer.submit(c.tensor()[None], SIZE, who="looks", urgent=False))
        else:  # the inference service keeps its own order
            futures.append(renderer.submit(c.tensor()[None], SIZE))
    return np.concatenate([np.asarray(f.result()) for f in futures])


def compute(creations: list[Creation]) -> int:
    """Measure and store the looks of ``creations``; how many were stored."""
    if not creations:
        return 0
    vectors = look.embed(pictures(creations))
    for creation, vector in zip(creations, vectors, strict=True):
        creation.look = vector
    Creation.objects.bulk_update(creations, ["look"])
    return len(creations)


def fill(ids: list[int] | None = None, limit: int | None = None) -> int:
    """Measure the works that want a look (of ``ids``, or any), a batch at a time; how many
    were measured. A work its space can no longer render is left without one."""
    done = 0
    while limit is None or done < limit:
        wanted = wanting()
        if ids is not None:
            wanted = wanted.filter(pk__in=ids)
        batch = list(wanted.select_related("space").order_by("pk")[:BATCH])
        batch = [c for c in batch if images.can_render(c.space)]
        if not batch:
            return done
        with torch.inference_mode():
            done += compute(batch)
    return done


def wanted_after_commit(creations: list[Creation]) -> None:
    """Measure these works' looks soon after the transaction commits (kept works)."""
    ids = [c.pk for c in creations if c.space_id and c.origin not in (Origin.VIDEO, Origin.MEDIA)]
    if ids:
        # The task by name: the job module imports this one, never the other way round.
        task = app.configure_task("breeding.tasks.fill_looks", allow_unknown=False)
        transaction.on_commit(lambda: task.defer(ids=ids))


# -- searching ------------------------------------------------------------------------------


def _as_vector(vector) -> np.ndarray:
    return np.asarray(vector, dtype=np.float32)


def nearest(rows, vector, space_id: int, limit: int, exclude: int | None = None):
    """The query of ``rows``' works in the space nearest in look to ``vector``: (distance,
    id) pairs, nearest first. On ``Creation.objects.public()`` its predicate and order are
    the space's index's, so the planner walks that index's graph (its plan is tested)."""
    rows = rows.filter(space_id=space_id, look__isnull=False)
    if exclude is not None:
        rows = rows.exclude(pk=exclude)
    return (rows.annotate(d=L2Distance("look", _as_vector(vector))).order_by("d")
            .values_list("d", "pk")[:limit])


def lookalike_ids(vector, space_id: int, user, limit: int, exclude: int | None = None,
                  ef_search: int | None = None) -> list[int]:
    """Ids of the works the viewer may list in the space nearest in look to ``vector``,
    nearest first."""
    ef_search = int(ef_search or settings.LOOKS_EF_SEARCH)
    searches = [Creation.objects.public()]  # through the space's index
    if (uid := viewer_id(user)) is not None:  # and the viewer's own, exactly: a few rows
        searches.append(Creation.objects.listed_for(user).filter(owner_id=uid))
    found: dict[int, float] = {}
    with connection.cursor() as cursor:
        # For the session, in one round trip: no transaction to open and close around the
        # search. (Only look-alike searches read them unset; the latent neighbours set their
        # own for their transaction.)
        cursor.execute(f"SET hnsw.iterative_scan = relaxed_order; "
                       f"SET hnsw.ef_search = {max(ef_search, limit + 1)}")
    for rows in searches:
        found.update((pk, d) for d, pk in nearest(rows, vector, space_id, limit, exclude))
    return sorted(found, key=found.__getitem__)[:limit]


def like(creation: Creation, user, limit: int) -> list[int]:
    """Ids of the works the viewer may list that look most like ``creation`` (none while
    it has no look yet)."""
    if creation.look is None or not creation.space_id:
        return []
    return lookalike_ids(creation.look, creation.space_id, user, limit, exclude=creation.pk)


def like_upload(user, address: str | None, files, space_slug: str | None,
                limit: int) -> tuple[list[int], np.ndarray]:
    """Ids of the works the viewer may list that look most like an uploaded picture (one
    file, checked and decoded by the upload rules), in one space or in every space that
    has looks, and the picture as it was measured (RGB, at most 256 px a side); ``Refused``
    with a sentence for a bad file, an unknown space or a spent render budget.

    Decoding and measuring a picture is computing like painting one: what it measured is
    charged to the sender's render budget (``breeding.budget``; per ``address`` for a
    visitor), so that a stream of pictures is refused before it holds the decoders that
    uploads wait for."""
    with budget.measured(user.pk if user is not None and user.is_authenticated else None, address):
        return _like_upload(user, files, space_slug, limit)


def _like_upload(user, files, space_slug, limit):
    if space_slug:
        space = Space.objects.filter(slug=space_slug).first()
        if space is None:
            raise Refused(_("There is no space %(slug)s.") % {"slug": repr(space_slug[:40])},
                          field="space")
        space_ids = [space.pk]
    else:
        space_ids = list(Space.objects.order_by("pk").values_list("pk", flat=True))
    try:
        file = check_files(files)
        data = read_limited(file)
        release_connection()
        with DECODING.slot(settings.UPLOAD_DECODE_WAIT_S, busy):
            decoded = decode(data, file.name, file.content_type)
            small = decoded.image.copy()
            small.thumbnail((4 * SIZE, 4 * SIZE), Image.Resampling.LANCZOS, reducing_gap=3.0)
            picture = np.asarray(small.convert("RGB"))
    except UploadRefused as refused:
        raise Refused(refused.message, 413 if refused.code == "too-large" else 400,
                      field="file") from None
    return like_picture(picture, user, limit, space_ids), picture


def like_picture(picture: np.ndarray, user, limit: int, space_ids: list[int]) -> list[int]:
    """Ids of the works the viewer may list that look most like an uploaded picture, in
    the given spaces (nearest first across them): the picture is measured as it is, not
    projected into any space."""
    vector = look.embed(picture)[0]
    if len(space_ids) == 1:
        return lookalike_ids(vector, space_ids[0], user, limit)
    ids = [i for s in space_ids for i in lookalike_ids(vector, s, user, limit)]
    distance = dict(Creation.objects.filter(pk__in=ids)
                    .annotate(d=L2Distance("look", _as_vector(vector))).values_list("pk", "d"))
    return sorted(ids, key=distance.__getitem__)[:limit]
