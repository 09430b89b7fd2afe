from __future__ import annotations

import pytest
from django.db import connection

pytestmark = pytest.mark.django_db


def test_the_vector_extension_is_installed():
    with connection.cursor() as cursor:
        cursor.execute("SELECT extversion FROM pg_extension WHERE extname = 'vector'")
        row = cursor.fetchone()
    assert row is not None, "migrations must create the pgvector extension"
    major, minor = (int(part) for part in row[0].split(".")[:2])
    assert (major, minor) >= (0, 8), "iterative index scans need pgvector 0.8"


def test_an_hnsw_index_finds_the_nearest_row():
    import numpy as np

    rng = np.random.default_rng(7)
    points = rng.normal(size=(500, 16)).astype(np.float32)
    query = points[123] + 0.01 * rng.normal(size=16).astype(np.float32)
    literal = lambda v: "[" + ",".join(f"{x:.6f}" for x in v) + "]"  # noqa: E731

    with connection.cursor() as cursor:
        cursor.execute("CREATE TEMP TABLE probe (id int PRIMARY KEY, v vector(16))")
        cursor.executemany(
            "INSERT INTO probe VALUES (%s, %s::vector)",
            [(i, literal(p)) for i, p in enumerate(points)],
        )
        cursor.execute("CREATE INDEX ON probe USING hnsw (v vector_cosine_ops)")
        cursor.execute("ANALYZE probe")
        cursor.execute("SET LOCAL enable_seqscan = off")
        sql = "SELECT id FROM probe ORDER BY v <=> %s::vector LIMIT 1"
        cursor.execute("EXPLAIN " + sql, [literal(query)])
        plan = "\n".join(row[0] for row in cursor.fetchall())
        cursor.execute(sql, [literal(query)])
        nearest = cursor.fetchone()[0]

    assert "probe_v_idx" in plan, plan
    assert nearest == 123
