"""The unread count and the notice list of a breeder with 100,000 notices.

    .venv/bin/python bench/notices.py [--notices 100000] [--works 2000] [--others 1000]
                                      [--site-notices 400000] [--site-works 200000]
                                      [--requests 300] [--json]

Seeds a database of its own (``--database``, made afresh each run on the embedded
PostgreSQL, or on the server of ``DATABASE_URL`` when that is set) with SQL alone
(``INSERT ... SELECT generate_series``, no row passes through Python):

- the breeder, ``--others`` other people and ``--works`` works of the breeder's (5 % of them
  removed: their notices must be left out), plus a public child of each by someone else
  (what a "bred" notice may name), ``--site-works`` works of the others (a fifth private),
  and three exhibitions, one of them a draft (its notices left out too);
- ``--notices`` notices for the breeder over the last year, of every kind (liked 55 %,
  bred 15 %, commented 10 %, followed 12 %, hung 8 %), the newer half unread and the older
  read; and ``--site-notices`` for the others, so the table is not the breeder's alone.

Latents are a one-number placeholder, as in bench/feed.py: the notices never read them.

Then, ``--requests`` times each, through Django's whole stack in this process, logged in by
session, one request at a time: the unread count as every page's header reads it
(``gallery.notices.unread_count``) and the list's first page (``GET /api/notices/``, which
carries the count too), and the page after it by its cursor. Every answer is checked
(newest first, none about a removed work or a draft show, the count as the database says);
a wrong one stops the benchmark. Reports p50 and p95 (the issue's bar: p95 ≤ 20 ms for
both, ``unread_p95_ms`` and ``list_p95_ms``) and EXPLAIN ANALYZE of both queries.
"""

from __future__ import annotations

import argparse
import sys
import time
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
from bench._server import cpu_model, latency_report  # noqa: E402

WARM_UP = 10
REMOVED_SHARE = 0.05


#: Works: the breeder's (``kind`` 'own', some removed) and a public child of each by someone
#: else (``kind`` 'child'). ``bench_work`` numbers them for the notices to draw from.
WORKS_SQL = """
INSERT INTO breeding_creation
    (public_id, owner_id, space_id, latent, latent_sha, version, origin, genes, title,
     visibility, depth, created, kept_at, removed_at, like_count, hot)
SELECT 'n' || lpad(g::text, 12, '0'), %(breeder)s, %(space)s, '[0]', md5(g::text), '', 'random',
       '{}', 'Work ' || g, 'public', 0, now() - interval '400 days', now() - interval '400 days',
       CASE WHEN g %% %(removed_every)s = 0 THEN now() - interval '1 day' END, 0, 0
FROM generate_series(1, %(works)s) g
"""

CHILDREN_SQL = """
INSERT INTO breeding_creation
    (public_id, owner_id, space_id, latent, latent_sha, version, origin, genes, title,
     visibility, depth, created, kept_at, removed_at, like_count, hot)
SELECT 'c' || lpad(w.n::text, 12, '0'), o.id, %(space)s, '[0]', md5('c' || w.n), '', 'children',
       '{}', 'Child ' || w.n, 'public', 1, now() - interval '300 days', now() - interval '300 days',
       NULL, 0, 0
FROM bench_work w JOIN bench_other o ON o.n = 1 + w.n %% %(others)s
"""

#: Everyone else's works: the table a notice's work is looked up in is the whole site's.
SITE_WORKS_SQL = """
INSERT INTO breeding_creation
    (public_id, owner_id, space_id, latent, latent_sha, version, origin, genes, title,
     visibility, depth, created, kept_at, removed_at, like_count, hot)
SELECT 's' || lpad(s.g::text, 12, '0'), o.id, %(space)s, '[0]', md5('s' || s.g), '', 'random',
       '{}', 'Site work ' || s.g, CASE WHEN s.g %% 5 = 0 THEN 'private' ELSE 'public' END, 0,
       now() - s.g * interval '1 minute', now(), NULL, 0, 0
FROM (SELECT g, 1 + floor(random() * %(others)s)::int AS o FROM generate_series(1, %(count)s) g OFFSET 0) s
JOIN bench_other o ON o.n = s.o
"""

#: The notices: ``s`` is one row per notice with its random draws; ``g`` orders them in time.
NOTICES_SQL = """
INSERT INTO gallery_notice (recipient_id, kind, actor_id, work_id, exhibition_id, day, created, read)
SELECT %(recipient)s, k.kind,
       CASE WHEN k.kind = 'hung' THEN NULL ELSE o.id END,
       CASE WHEN k.kind = 'followed' THEN NULL ELSE w.id END,
       CASE WHEN k.kind = 'hung' THEN e.id END,
       (s.made)::date + s.g,  -- distinct days keep the once-a-day constraints out of the way
       s.made, s.g <= %(read)s
FROM (SELECT g, random() AS k, 1 + floor(random() * %(works)s)::int AS w,
             1 + floor(random() * %(others)s)::int AS o, 1 + floor(random() * 3)::int AS e,
             now() - interval '365 days' + g * (interval '365 days' / %(count)s) AS made
      FROM generate_series(1, %(count)s) g OFFSET 0) s
CROSS JOIN LATERAL (SELECT CASE WHEN s.k < 0.55 THEN 'liked' WHEN s.k < 0.70 THEN 'bred'
                                WHEN s.k < 0.80 THEN 'commented' WHEN s.k < 0.92 THEN 'followed'
                                ELSE 'hung' END AS kind) k
JOIN bench_work w ON w.n = s.w
JOIN bench_other o ON o.n = s.o
JOIN bench_show e ON e.n = s.e
ON CONFLICT DO NOTHING  -- a work hung twice in one show: made up for below
"""

#: As many likes as the hangings that were one too many, at random times of the year.
TOP_UP_SQL = """
INSERT INTO gallery_notice (recipient_id, kind, actor_id, work_id, day, created, read)
SELECT %(recipient)s, 'liked', o.id, w.id, s.made::date + 1000000 + s.g, s.made, random() < 0.5
FROM (SELECT g, 1 + floor(random() * %(works)s)::int AS w, 1 + floor(random() * %(others)s)::int AS o,
             now() - random() * interval '365 days' AS made
      FROM generate_series(1, %(count)s) g OFFSET 0) s
JOIN bench_work w ON w.n = s.w
JOIN bench_other o ON o.n = s.o
"""


def seed(notices: int, works: int, others: int, site_notices: int, site_works: int):
    """The site and the breeder (returned), and how long seeding took (s)."""
    from django.contrib.auth import get_user_model
    from django.db import connection, transaction

    from breeding import actions

    started = time.perf_counter()
    space = actions.sync_spaces()[0]
    users = get_user_model().objects
    breeder = users.create_user("bench-breeder")
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT setseed(0.42)")
        cursor.execute(
            "INSERT INTO auth_user (password, is_superuser, username, first_name, last_name, "
            "email, is_staff, is_active, date_joined) "
            "SELECT '!', false, 'other' || g, '', '', '', false, true, now() - interval '2 years' "
            "FROM generate_series(1, %s) g", [others])
        cursor.execute("CREATE TEMP TABLE bench_other AS SELECT row_number() OVER (ORDER BY id) AS n, id "
                       "FROM auth_user WHERE id <> %s", [breeder.pk])
        cursor.execute(WORKS_SQL, {"breeder": breeder.pk, "space": space.pk, "works": works,
                                   "removed_every": round(1 / REMOVED_SHARE)})
        cursor.execute("CREATE TEMP TABLE bench_work AS SELECT row_number() OVER (ORDER BY id) AS n, id "
                       "FROM breeding_creation WHERE owner_id = %s", [breeder.pk])
        cursor.execute(CHILDREN_SQL, {"space": space.pk, "others": others})
        if site_works:
            log(f"{site_works:,} works of the others")
            cursor.execute(SITE_WORKS_SQL, {"space": space.pk, "others": others, "count": site_works})
        cursor.execute(
            "INSERT INTO breeding_parentage (child_id, parent_id, content_weight, style_weight, position) "
            "SELECT c.id, w.id, 1, 1, 0 FROM bench_work w "
            "JOIN breeding_creation c ON c.public_id = 'c' || lpad(w.n::text, 12, '0')")
        cursor.execute(
            "INSERT INTO gallery_exhibition (slug, title, statement, status, created, seq) "
            "SELECT 'show-' || g, 'Show ' || g, '', CASE WHEN g = 3 THEN 'draft' ELSE 'open' END, "
            "now(), 0 FROM generate_series(1, 3) g")
        cursor.execute("CREATE TEMP TABLE bench_show AS SELECT row_number() OVER (ORDER BY id) AS n, id "
                       "FROM gallery_exhibition")
        for table in ("bench_other", "bench_work", "bench_show"):
            cursor.execute(f"CREATE INDEX ON {table} (n)")
            cursor.execute(f"ANALYZE {table}")
        log(f"{works:,} works and {others:,} people seeded; now {notices:,} notices for the breeder")
        cursor.execute(NOTICES_SQL, {"recipient": breeder.pk, "works": works, "others": others,
                                     "count": notices, "read": notices // 2})
        short = notices - cursor.rowcount
        if short:
            cursor.execute(TOP_UP_SQL, {"recipient": breeder.pk, "works": works, "others": others,
                                        "count": short})
        if site_notices:
            log(f"and {site_notices:,} for the others")
            # Everyone else's: a like of the child each one was given, by the breeder.
            cursor.execute(
                "INSERT INTO gallery_notice (recipient_id, kind, actor_id, work_id, day, created, read) "
                "SELECT c.owner_id, 'liked', %s, c.id, current_date - g, "
                "       now() - g * interval '1 minute', g %% 3 = 0 "
                "FROM generate_series(1, %s) g "
                "JOIN bench_work w ON w.n = 1 + g %% %s "
                "JOIN breeding_creation c ON c.public_id = 'c' || lpad(w.n::text, 12, '0')",
                [breeder.pk, site_notices, works])
        for table in ("bench_other", "bench_work", "bench_show"):
            cursor.execute(f"DROP TABLE {table}")
    with connection.cursor() as cursor:
        for table in ("auth_user", "breeding_creation", "breeding_parentage", "gallery_exhibition",
                      "gallery_notice"):
            cursor.execute(f"VACUUM ANALYZE {table}")
    return breeder, time.perf_counter() - started


class WrongAnswer(Exception):
    pass


def expected_unread(breeder) -> int:
    """The unread count as the database says, asked plainly (no shortcut of the code under
    test): unread notices about no work or a work not removed, in no show or an open one."""
    from django.db import connection

    from gallery.notices import UNREAD_MAX

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM gallery_notice n "
            "LEFT JOIN breeding_creation c ON c.id = n.work_id "
            "LEFT JOIN gallery_exhibition e ON e.id = n.exhibition_id "
            "WHERE n.recipient_id = %s AND NOT n.read "
            "AND (n.work_id IS NULL OR c.removed_at IS NULL) "
            "AND (n.exhibition_id IS NULL OR e.status <> 'draft')", [breeder.pk])
        return min(cursor.fetchone()[0], UNREAD_MAX)


def check(page: dict, last_id: int | None, unread: int | None = None) -> int | None:
    """Raise WrongAnswer unless ``page`` is newest first, after ``last_id``, with no notice
    about a removed work or in a draft show; returns the id of its last notice."""
    if unread is not None and page["unread"] != unread:
        raise WrongAnswer(f"the page says {page['unread']} unread, the database {unread}")
    for notice in page["results"]:
        if last_id is not None and notice["id"] >= last_id:
            raise WrongAnswer(f"notice {notice['id']} is not older than the one before it")
        if notice["exhibition"] is not None and notice["exhibition"]["slug"] == "show-3":
            raise WrongAnswer(f"notice {notice['id']} names a draft exhibition")
        work = notice["work"]
        if work is not None and int(work["id"][1:]) % round(1 / REMOVED_SHARE) == 0:
            raise WrongAnswer(f"notice {notice['id']} is about removed work {work['id']}")
        last_id = notice["id"]
    return last_id


def measure(breeder, requests: int) -> tuple[list[float], list[float], list[float]]:
    """The unread count, the first page and the page after it, ``requests`` times each
    (after ``WARM_UP`` rounds); returns their times (s)."""
    from django.test import Client

    from gallery.notices import unread_count

    client = Client()
    client.force_login(breeder)
    want = expected_unread(breeder)
    counts, firsts, seconds = [], [], []
    for i in range(requests + WARM_UP):
        started = time.perf_counter()
        got = unread_count(breeder)
        took_count = time.perf_counter() - started
        if got != want:
            raise WrongAnswer(f"unread_count says {got}, the database {want}")
        pages, last = [], None
        url = "/api/notices/"
        for _ in range(2):
            started = time.perf_counter()
            response = client.get(url)
            pages.append(time.perf_counter() - started)
            if response.status_code != 200:
                raise WrongAnswer(f"{url} answered {response.status_code}: {response.content[:200]!r}")
            page = response.json()
            last = check(page, last, want)
            if not page["next"]:
                break
            url = page["next"]
        if i >= WARM_UP:
            counts.append(took_count)
            firsts.append(pages[0])
            seconds.extend(pages[1:])
    return counts, firsts, seconds


def explain(breeder) -> dict[str, list[str]]:
    """EXPLAIN (ANALYZE, BUFFERS) of the unread count's query and of the first page's."""
    from django.db import connection

    from gallery.notices import PAGE_SIZE, UNREAD_MAX, listing, shown

    plans = {}
    queries = {"unread": shown(breeder).filter(read=False)[:UNREAD_MAX],
               "list": listing(breeder)[:PAGE_SIZE + 1]}
    for name, query in queries.items():
        if name == "unread":  # as ``.count()`` asks it
            sql, params = query.values("pk").query.sql_with_params()
            sql = f"SELECT count(*) FROM ({sql}) counted"
        else:
            sql, params = query.query.sql_with_params()
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
            plans[name] = [row[0] for row in cursor.fetchall()]
    return plans


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--notices", type=int, default=100_000, help="the breeder's notices")
    parser.add_argument("--works", type=int, default=2_000, help="the breeder's works they are about")
    parser.add_argument("--others", type=int, default=1_000, help="the people who like, breed, follow")
    parser.add_argument("--site-notices", type=int, default=None,
                        help="everyone else's notices (default: 4 x --notices)")
    parser.add_argument("--site-works", type=int, default=200_000, help="everyone else's works")
    parser.add_argument("--requests", type=int, default=300, help="counts and pages asked for, each")
    parser.add_argument("--database", default="mendel_bench_notices",
                        help="the database to make afresh (and leave behind unless --drop)")
    parser.add_argument("--drop", action="store_true", help="drop the database afterwards")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    site_notices = 4 * args.notices if args.site_notices is None else args.site_notices
    if min(args.notices, args.works, args.others, args.requests) < 1 or min(site_notices, args.site_works) < 0:
        parser.error("--notices, --works, --others and --requests must be at least 1, "
                     "--site-notices and --site-works at least 0")

    server = server_url()
    try:
        setup_django(fresh_database(server, args.database))
        breeder, seed_s = seed(args.notices, args.works, args.others, site_notices, args.site_works)
        log(f"seeded in {seed_s:.0f} s; asking for the count and the list")
        try:
            counts, firsts, seconds = measure(breeder, args.requests)
        except WrongAnswer as wrong:
            log(f"wrong answer: {wrong}")
            return 1
        plans = explain(breeder)
    finally:
        from django.db import connections

        connections.close_all()
        if args.drop:
            drop_database(server, args.database)

    pages = firsts + seconds
    extra = {
        "notices": args.notices, "works": args.works, "others": args.others,
        "site_notices": site_notices, "site_works": args.site_works, "requests": args.requests, "seed_s": round(seed_s, 1),
        "cpu": cpu_model(),
        "plans": plans,
    }
    title = (f"Notices: the unread count and the list of a breeder with {args.notices:,} notices, "
             f"{site_notices:,} more on the site ({cpu_model()})")
    rows = [("unread count", "unread", counts), ("list, first page (+ count)", "list_first", firsts),
            ("list, next page (+ count)", "list_next", seconds), ("list, every page", "list", pages)]
    latency_report(title, [row for row in rows if row[2]], args.json, extra)
    if not args.json:
        for name, plan in plans.items():
            print(f"\nEXPLAIN ANALYZE, {name}:")
            print("\n".join(f"  {line}" for line in plan))
    return 0


if __name__ == "__main__":
    sys.exit(main())
