"""The following feed at scale: a breeder who follows 10,000 artists, over 1M works.

    .venv/bin/python bench/feed.py [--works 1000000] [--artists 10000] [--others 40000] [--json]

Seeds a database of its own (``--database``, made afresh each run on the embedded
PostgreSQL, or on the server of ``DATABASE_URL`` when that is set) with SQL alone
(``INSERT ... SELECT generate_series``, no row passes through Python):

- ``--artists`` artists the breeder follows and ``--others`` they do not; every artist also
  follows a few others, so the follow table is not the breeder's alone;
- ``--works`` works, each by an artist drawn at random, made at a random time in the last
  year: 80 % public, 4 % public but removed, 6 % drafts, 6 % private, 4 % unlisted.

Latents are a one-number placeholder: a real latent (512 floats and up) is stored out of
line (TOAST) and the feed never reads it, so the rows the feed reads are the same size, and
a million works seed in minutes rather than writing 2 GB.

Then asks for the breeder's following feed (``GET /api/gallery/?order=following``, logged
in by session, through Django's whole stack in this process, one request at a time)
``--requests`` times: the first page, then the pages after it by the cursor each page
gives, ``--depth`` pages deep, over and over. Every answer is checked (works of followed
artists only, newest first, none twice); a wrong one stops the benchmark. Reports p50 and
p95 (``p95_ms``: the issue's bar is 50 ms at the default sizes) for the first page and the
later ones, and EXPLAIN ANALYZE of the first page's query and of the deepest page's.
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench._database import (  # noqa: E402
    drop_database,
    fresh_database,
    log,
    server_url,
    setup_django,
)
from bench._server import cpu_model, latency_report, percentile  # noqa: E402

#: Each artist follows this many others, at random (the breeder's follows come on top).
FOLLOWS_EACH = 5
WARM_UP_ROUNDS = 2


#: The works, in one statement: ``s`` is one row per work with its random draws.
WORKS_SQL = """
INSERT INTO breeding_creation
    (public_id, owner_id, space_id, latent, latent_sha, version, origin, genes, title,
     visibility, depth, created, kept_at, removed_at, like_count, hot)
SELECT 'f' || lpad(s.g::text, 12, '0'), a.id, %(space)s, '[0]', md5(s.g::text), '', 'random',
       '{}', 'Work ' || s.g,
       CASE WHEN s.v < 0.84 THEN 'public' WHEN s.v < 0.90 THEN 'draft'
            WHEN s.v < 0.96 THEN 'private' ELSE 'unlisted' END,
       0, s.made, CASE WHEN s.v < 0.84 OR s.v >= 0.90 THEN s.made END,
       CASE WHEN s.v >= 0.80 AND s.v < 0.84 THEN s.made + interval '1 day' END,
       0, extract(epoch FROM s.made) / 43200.0
FROM (SELECT g, random() AS v, 1 + floor(random() * %(artists)s)::int AS n,
             now() - random() * interval '365 days' AS made
      FROM generate_series(1, %(works)s) g
      OFFSET 0) s  -- drawn once per work: the planner must not fold the draws into the join
JOIN bench_artist a ON a.n = s.n
"""


def seed(works: int, artists: int, others: int) -> tuple[object, float]:
    """The site and the breeder (returned), and how long seeding took (s)."""
    from django.contrib.auth import get_user_model
    from django.db import connection, transaction

    from breeding import actions

    started = time.perf_counter()
    space = actions.sync_spaces()[0]
    breeder = get_user_model().objects.create_user("bench-breeder")
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT setseed(0.42)")
        for prefix, count in (("followed", artists), ("other", others)):
            cursor.execute(
                "INSERT INTO auth_user (password, is_superuser, username, first_name, last_name, "
                "email, is_staff, is_active, date_joined) "
                "SELECT '!', false, %s || g, '', '', '', false, true, now() - interval '2 years' "
                "FROM generate_series(1, %s) g", [prefix, count])
        cursor.execute("CREATE TEMP TABLE bench_artist AS SELECT row_number() OVER (ORDER BY id) AS n, id "
                       "FROM auth_user WHERE id <> %s", [breeder.pk])
        cursor.execute("CREATE INDEX ON bench_artist (n)")
        cursor.execute("ANALYZE bench_artist")
        cursor.execute(
            "INSERT INTO gallery_follow (follower_id, artist_id, created) "
            "SELECT %s, id, now() FROM auth_user WHERE username LIKE 'followed%%'", [breeder.pk])
        cursor.execute(  # (the draws refer to ``a``: drawn again for each artist)
            "INSERT INTO gallery_follow (follower_id, artist_id, created) "
            "SELECT DISTINCT a.id, b.id, now() FROM bench_artist a "
            "CROSS JOIN LATERAL (SELECT 1 + floor(random() * %s)::int AS n "
            "                    FROM generate_series(1, %s) WHERE a.n > 0 OFFSET 0) drawn "
            "JOIN bench_artist b ON b.n = drawn.n "
            "WHERE b.id <> a.id ON CONFLICT DO NOTHING", [artists + others, FOLLOWS_EACH])
        log(f"{artists + others:,} artists and their follows seeded; now {works:,} works")
        cursor.execute(WORKS_SQL, {"space": space.pk, "artists": artists + others, "works": works})
        cursor.execute("DROP TABLE bench_artist")
    with connection.cursor() as cursor:
        for table in ("auth_user", "gallery_follow", "breeding_creation"):
            cursor.execute(f"VACUUM ANALYZE {table}")
    return breeder, time.perf_counter() - started


class WrongAnswer(Exception):
    pass


def check(page: dict, seen: set[str], last: datetime | None) -> datetime | None:
    """Raise WrongAnswer unless ``page`` holds only followed artists' works, newest first,
    none seen before in this walk; returns the creation time of its last work."""
    for item in page["results"]:
        created = datetime.fromisoformat(item["created"])
        if not item["owner"].startswith("followed"):
            raise WrongAnswer(f"{item['id']} by {item['owner']}, whom the breeder does not follow")
        if item["id"] in seen:
            raise WrongAnswer(f"{item['id']} twice in one walk down the feed")
        if last is not None and created > last:
            raise WrongAnswer(f"{item['id']} is newer than the work before it")
        seen.add(item["id"])
        last = created
    return last


def measure(breeder, requests: int, depth: int) -> tuple[list[float], list[float], str | None]:
    """Walk the feed ``depth`` pages deep, again and again, until ``requests`` answers;
    returns the first pages' and the later pages' times (s), and the deepest cursor's URL."""
    from django.test import Client

    client = Client()
    client.force_login(breeder)
    first, later, deepest = [], [], None
    rounds = 0
    while len(first) + len(later) < requests:
        url, seen, last = "/api/gallery/?order=following", set(), None
        for level in range(depth):
            started = time.perf_counter()
            response = client.get(url)
            took = time.perf_counter() - started
            if response.status_code != 200:
                raise WrongAnswer(f"{url} answered {response.status_code}: {response.content[:200]!r}")
            page = response.json()
            last = check(page, seen, last)
            if rounds >= WARM_UP_ROUNDS:
                (first if level == 0 else later).append(took)
            if level > 0:
                deepest = url
            if not page["next"] or len(first) + len(later) >= requests:
                break
            url = page["next"]
        rounds += 1
    return first, later, deepest


def explain(breeder, cursor_url: str | None) -> dict[str, list[str]]:
    """EXPLAIN (ANALYZE, BUFFERS) of the first page's query, and of the deepest page's (the
    same paginator the API uses, so the same SQL)."""
    from django.db import connection
    from django.test import RequestFactory
    from rest_framework.request import Request

    from gallery.listings import ORDERS, GalleryPage, following_works

    plans = {}
    for name, url in (("first", "/api/gallery/?order=following"), ("deep", cursor_url)):
        if url is None:
            continue
        request = Request(RequestFactory().get(url))
        paginator = GalleryPage(ORDERS["following"])
        captured = {}

        def keep(execute, sql, params, many, context, captured=captured):
            captured.setdefault("sql", (sql, params))
            return execute(sql, params, many, context)

        with connection.execute_wrapper(keep):
            paginator.paginate_queryset(following_works(breeder), request)
        sql, params = captured["sql"]
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
            plans[name] = [row[0] for row in cursor.fetchall()]
    return plans


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--works", type=int, default=1_000_000)
    parser.add_argument("--artists", type=int, default=10_000, help="artists the breeder follows")
    parser.add_argument("--others", type=int, default=None,
                        help="artists the breeder does not follow (default: 4 x --artists)")
    parser.add_argument("--requests", type=int, default=300, help="feed pages asked for, in all")
    parser.add_argument("--depth", type=int, default=5, help="pages down the feed in each walk")
    parser.add_argument("--database", default="mendel_bench_feed",
                        help="the database to make afresh (and leave behind unless --drop)")
    parser.add_argument("--drop", action="store_true", help="drop the database afterwards")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    others = 4 * args.artists if args.others is None else args.others
    if min(args.works, args.artists, args.requests, args.depth) < 1 or others < 0:
        parser.error("--works, --artists, --requests and --depth must be at least 1, --others at least 0")

    server = server_url()
    try:
        setup_django(fresh_database(server, args.database))
        breeder, seed_s = seed(args.works, args.artists, others)
        log(f"seeded in {seed_s:.0f} s; asking for the feed")
        try:
            first, later, deepest = measure(breeder, args.requests, args.depth)
        except WrongAnswer as wrong:
            log(f"wrong answer: {wrong}")
            return 1
        plans = explain(breeder, deepest)
    finally:
        from django.db import connections

        connections.close_all()
        if args.drop:
            drop_database(server, args.database)

    every = first + later
    extra = {
        "p50_ms": round(percentile(every, 50) * 1000, 1),
        "p95_ms": round(percentile(every, 95) * 1000, 1),
        "works": args.works, "artists_followed": args.artists, "artists_not_followed": others,
        "requests": len(every), "depth": args.depth, "seed_s": round(seed_s, 1),
        "cpu": cpu_model(),
        "plans": plans,
    }
    title = (f"The following feed: a breeder who follows {args.artists:,} of {args.artists + others:,} "
             f"artists, over {args.works:,} works ({cpu_model()})")
    rows = [("first page", "first_page", first), ("later pages (cursor)", "later_pages", later),
            ("every page", "every_page", every)]
    latency_report(title, [row for row in rows if row[2]], args.json, extra)
    if not args.json:
        for name, plan in plans.items():
            print(f"\nEXPLAIN ANALYZE, {name} page:")
            print("\n".join(f"  {line}" for line in plan))
    return 0


if __name__ == "__main__":
    sys.exit(main())
