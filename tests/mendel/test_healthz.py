from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from mendel.processes import ROOT

pytestmark = pytest.mark.django_db


def test_it_reports_a_healthy_database(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"database": "ok"}}
    assert "no-cache" in response["Cache-Control"]


def test_it_checks_the_real_redis_when_configured(client, settings, redis_url):
    settings.REDIS_URL = redis_url
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["checks"] == {"database": "ok", "redis": "ok"}


def test_it_names_redis_when_redis_does_not_answer(client, settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["failing"] == ["redis"]
    assert body["checks"]["database"] == "ok"


def test_it_names_the_database_when_it_does_not_answer():
    """A fresh process whose DATABASE_URL points at a port where nothing listens."""
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "DEBUG", "INFERENCE_URL")}
    env.update(
        DJANGO_SETTINGS_MODULE="mendel.settings",
        DATABASE_URL="postgresql://u:p@127.0.0.1:1/x?connect_timeout=1",
        SECRET_KEY="a-test-key-that-is-long-enough-for-the-settings-check",
        ALLOWED_HOSTS="testserver",
    )
    code = (
        "import json, django; django.setup()\n"
        "from django.conf import settings\n"
        "from django.db import connection\n"
        "from django.test import Client\n"
        # The pool waits this long for a connection before giving up (10 s in settings).
        "settings.DATABASES['default']['OPTIONS']['pool']['timeout'] = 1\n"
        "response = Client().get('/healthz')\n"
        "connection.close_pool()\n"
        "print(json.dumps({'status': response.status_code, 'body': response.json()}))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout.splitlines()[-1])
    assert answer["status"] == 503, answer
    assert answer["body"]["failing"] == ["database"]
    assert answer["body"]["checks"] == {"database": "did not answer"}


def test_it_answers_only_get(client):
    assert client.post("/healthz").status_code == 405
