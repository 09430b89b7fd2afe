"""``GET /healthz``: does every part Mendel needs answer?"""

from __future__ import annotations

import logging

from django.conf import settings
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

log = logging.getLogger(__name__)

REDIS_TIMEOUT_S = 1.0


def check_database() -> str | None:
    """None when PostgreSQL answers with pgvector installed, else what went wrong."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # any failure to answer is a failed check
        log.warning("health: database did not answer: %s", exc)
        return "did not answer"
    return None


def check_redis() -> str | None:
    import redis

    client = redis.Redis.from_url(
        settings.REDIS_URL, socket_timeout=REDIS_TIMEOUT_S, socket_connect_timeout=REDIS_TIMEOUT_S
    )
    try:
        client.ping()
    except Exception as exc:
        log.warning("health: redis did not answer: %s", exc)
        return "did not answer"
    finally:
        client.close()
    return None


def check_inference() -> tuple[str | None, dict]:
    """None while some inference replica is ready, else what is wrong; and each replica's
    state: its circuit breaker (in, or out after repeated failures) and its ``/readyz``."""
    from breeding.images import replicas

    pool = replicas()
    assert pool is not None  # called only when INFERENCE_URL is set
    ready = pool.probe(timeout_s=REDIS_TIMEOUT_S)
    states = pool.states()
    detail = {url: {**states[url], "readyz": ready[url]} for url in states}
    usable = [url for url, s in detail.items() if s["state"] == "in" and s["readyz"] == "ready"]
    if usable:
        return None, detail
    return "no inference replica is ready", detail


@never_cache
@require_GET
def healthz(request):
    checks = {"database": check_database()}
    if settings.REDIS_URL:
        checks["redis"] = check_redis()
    replicas = None
    if settings.INFERENCE_URLS:
        checks["inference"], replicas = check_inference()
    failing = [name for name, problem in checks.items() if problem]
    body = {
        "status": "ok" if not failing else "failing",
        "checks": {name: problem or "ok" for name, problem in checks.items()},
    }
    if replicas is not None:
        body["inference"] = replicas
    if failing:
        body["failing"] = failing
    return JsonResponse(body, status=503 if failing else 200)
