"""Nearest neighbours in latent space, per space, with pgvector HNSW (cosine).

Latents of different spaces have different sizes, so one column cannot carry one index.
Each space gets a partial expression index over its own public creations:

    CREATE INDEX ... USING hnsw ((latent::vector(N)) vector_cosine_ops)
    WHERE space_id = S AND <breeding.models.PUBLIC_SQL>

and a query that repeats the same expression and predicate uses it (``neighbours_query``;
its plan is tested). With pgvector's
iterative index scans (0.8), a filtered query still returns a full page.
"""

from __future__ import annotations

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Value
from django.db.models.expressions import RawSQL
from django.db.models.functions import Cast
from pgvector.django import CosineDistance, VectorField

from breeding.models import PUBLIC_SQL, Creation, Origin, Space

#: pgvector's HNSW indexes take at most 2000 dimensions; larger latents (StyleGAN's W+,
#: 18 x 512) are searched exactly, without an index.
HNSW_MAX_DIMS = 2000


def index_name(space: Space) -> str:
    return f"creation_hnsw_space_{space.pk}"


def ensure_index(space: Space, m: int | None = None, ef_construction: int | None = None) -> None:
    """Create the space's neighbour index if it does not exist (cheap when it does).

    ``m`` and ``ef_construction`` (defaults ``NEIGHBOURS_HNSW_M``,
    ``NEIGHBOURS_HNSW_EF_CONSTRUCTION``) trade build time and size for recall; an existing
    index keeps the values it was built with.
    """
    dims = int(space.latent_size)
    if dims > HNSW_MAX_DIMS:
        return
    m = int(m or settings.NEIGHBOURS_HNSW_M)
    ef_construction = int(ef_construction or settings.NEIGHBOURS_HNSW_EF_CONSTRUCTION)
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE INDEX IF NOT EXISTS {index_name(space)} ON breeding_creation "
            f"USING hnsw ((latent::vector({dims})) vector_cosine_ops) "
            f"WITH (m = {m}, ef_construction = {ef_construction}) "
            f"WHERE space_id = {int(space.pk)} AND {PUBLIC_SQL}"
        )


def ensure_indexes(stdout=None) -> None:
    from breeding import words

    for space in Space.objects.all():
        ensure_index(space)
        if words.can_learn(space):
            ensure_place_index(space)


# -- a work's place, for the search by words ------------------------------------------------


def place_sql(space: Space) -> str:
    """SQL for a work's place in ``space`` as the search by words compares it: the sum of its
    latent's rows (W+: one w per row), a vector of the space's ``dim``. A phrase's point on
    every row sums to ``layers`` times the point, so the nearest sums are the nearest
    mean rows. An expression the space's place index is built on, so that the search
    repeats it word for word."""
    layers, dim = int(space.layers), int(space.dim)
    whole = f"latent::vector({layers * dim})"
    rows = " + ".join(f"subvector({whole}, {1 + i * dim}, {dim})" for i in range(layers))
    return f"(({rows})::vector({dim}))"


def place_index_name(space: Space) -> str:
    return f"creation_place_space_{space.pk}"


def ensure_place_index(space: Space) -> None:
    """The space's HNSW index (L2) of its public works' places (``place_sql``)."""
    if int(space.dim) > HNSW_MAX_DIMS:
        return
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE INDEX IF NOT EXISTS {place_index_name(space)} ON breeding_creation "
            f"USING hnsw ({place_sql(space)} vector_l2_ops) "
            f"WHERE space_id = {int(space.pk)} AND {PUBLIC_SQL}"
        )


def near_place_query(space: Space, point: list[float]):
    """The query of the public works of ``space`` whose places are nearest ``point`` (a
    ``dim`` vector, a mean row), nearest first: the index's predicate and expression."""
    layers = int(space.layers)
    literal = "[" + ",".join(repr(float(x) * layers) for x in point) + "]"
    distance = RawSQL(f"{place_sql(space)} <-> %s::vector({int(space.dim)})", [literal])
    return (Creation.objects.public().filter(space_id=space.pk).exclude(origin=Origin.VIDEO)
            .order_by(distance))


def near_place_ids(space: Space, point: list[float], limit: int) -> list[int]:
    with transaction.atomic(), connection.cursor() as cursor:  # SET LOCAL lasts one transaction
        cursor.execute("SET LOCAL hnsw.iterative_scan = relaxed_order")
        cursor.execute(f"SET LOCAL hnsw.ef_search = {max(int(settings.NEIGHBOURS_EF_SEARCH), limit)}")
        return list(near_place_query(space, point).values_list("id", flat=True)[:limit])


def neighbours_query(creation: Creation, limit: int):
    """The query of the public creations nearest to ``creation`` (ids, nearest first): the
    privacy rule is ``Creation.objects.public()``, the index's predicate, and the order is
    the index's expression, so the planner walks the space's HNSW graph."""
    vector = VectorField(dimensions=int(creation.space.latent_size))
    literal = "[" + ",".join(repr(float(x)) for x in creation.latent) + "]"
    return (
        Creation.objects.public()
        .filter(space_id=creation.space_id)
        .exclude(pk=creation.pk)
        .exclude(origin=Origin.VIDEO)  # a video sits on its first keyframe: not a neighbour
        .order_by(CosineDistance(Cast("latent", vector), Cast(Value(literal), vector)))
        .values_list("id", flat=True)[:limit]
    )


def neighbour_ids(creation: Creation, limit: int, ef_search: int | None = None) -> list[int]:
    """Ids of the public creations nearest to ``creation`` in its space, nearest first.

    ``ef_search`` (default ``NEIGHBOURS_EF_SEARCH``) is the candidate list HNSW keeps:
    higher finds more of the true neighbours, a little slower (docs/benchmarks.md). A
    published work has no place in a space, so no neighbours there.
    """
    if creation.latent is None or not creation.space_id:
        return []
    ef_search = int(ef_search or settings.NEIGHBOURS_EF_SEARCH)
    with transaction.atomic(), connection.cursor() as cursor:  # SET LOCAL lasts one transaction
        cursor.execute("SET LOCAL hnsw.iterative_scan = relaxed_order")
        cursor.execute(f"SET LOCAL hnsw.ef_search = {ef_search}")
        return list(neighbours_query(creation, limit))
