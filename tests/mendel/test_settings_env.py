"""Settings come from the environment and fail loudly, naming the variable."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from mendel.env import database_config, env_bool, env_int, env_list, env_url, env_url_list

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("raw,expected", [("1", True), ("yes", True), ("off", False), ("", False)])
def test_booleans_accept_the_usual_spellings(monkeypatch, raw, expected):
    monkeypatch.setenv("DEBUG", raw)
    assert env_bool("DEBUG", not expected) is expected


def test_a_malformed_boolean_names_the_variable(monkeypatch):
    monkeypatch.setenv("DEBUG", "maybe")
    with pytest.raises(ImproperlyConfigured, match="DEBUG.*'maybe'"):
        env_bool("DEBUG", False)


def test_a_port_must_be_a_number_in_range(monkeypatch):
    monkeypatch.setenv("PORT", "eighty")
    with pytest.raises(ImproperlyConfigured, match="PORT must be a whole number"):
        env_int("PORT", 8000, low=1, high=65535)
    monkeypatch.setenv("PORT", "70000")
    with pytest.raises(ImproperlyConfigured, match="PORT must be between 1 and 65535"):
        env_int("PORT", 8000, low=1, high=65535)


def test_allowed_hosts_reject_empty_entries(monkeypatch):
    monkeypatch.setenv("ALLOWED_HOSTS", "example.org,,www.example.org")
    with pytest.raises(ImproperlyConfigured, match="ALLOWED_HOSTS"):
        env_list("ALLOWED_HOSTS", [])
    monkeypatch.setenv("ALLOWED_HOSTS", "example.org, www.example.org")
    assert env_list("ALLOWED_HOSTS", []) == ["example.org", "www.example.org"]


@pytest.mark.parametrize(
    "name,raw,schemes",
    [
        ("REDIS_URL", "http://127.0.0.1:6379", ("redis", "rediss", "unix")),
        ("REDIS_URL", "redis://127.0.0.1:port", ("redis", "rediss", "unix")),
        ("INFERENCE_URL", "gpu-node-1:9000", ("http", "https")),
        ("INFERENCE_URL", "http://", ("http", "https")),
    ],
)
def test_malformed_urls_name_the_variable(monkeypatch, name, raw, schemes):
    monkeypatch.setenv(name, raw)
    with pytest.raises(ImproperlyConfigured, match=name):
        env_url(name, schemes)


def test_a_database_url_must_be_postgres(monkeypatch, tmp_path):
    monkeypatch.setenv("DATABASE_URL", "mysql://root@localhost/mendel")
    with pytest.raises(ImproperlyConfigured, match="DATABASE_URL must be a PostgreSQL URL"):
        database_config("DATABASE_URL", tmp_path)
    monkeypatch.setenv("DATABASE_URL", "postgres://u:p@db.example.org:5433/gallery")
    config = database_config("DATABASE_URL", tmp_path)
    assert (config["HOST"], config["PORT"], config["NAME"]) == ("db.example.org", 5433, "gallery")


def _load_settings(**env: str) -> subprocess.CompletedProcess:
    """Load the real settings module in a fresh interpreter with the given environment."""
    clean = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "DEBUG", "DATABASE_URL")}
    clean.update(env)
    code = (
        "import django; django.setup(); from django.conf import settings; "
        "print(settings.CHANNEL_LAYERS['default']['BACKEND']); print(settings.DEBUG)"
    )
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=clean, capture_output=True, text=True, timeout=60
    )


@pytest.mark.parametrize("env,message", [
    ({"DEBUG": "sometimes"}, "ImproperlyConfigured: DEBUG must be true or false"),
    # a shared deployment must set its secret key
    ({"DATABASE_URL": "postgres://u:p@db.example.org/gallery"},
     "SECRET_KEY must be set when DATABASE_URL is set"),
    # no dead configuration: a variable that does nothing any more says so
    ({"INFERENCE_URL": "http://gpu-1:8100,,http://gpu-2:8100"},
     "INFERENCE_URL must be a comma-separated list without empty entries"),
    ({"INFERENCE_URL": "http://gpu-1:8100,gpu-2:8100"}, "INFERENCE_URL must start with http://"),
    ({"INFERENCE_URL": "http://gpu-1:8100,http://gpu-1:8100"}, "INFERENCE_URL names a URL twice"),
    ({"MEDIA_S3_BUCKET": "mendel-media", "MEDIA_S3_ENDPOINT_URL": "minio:9000"},
     "MEDIA_S3_ENDPOINT_URL must start with http://"),
    ({"BREED_RATE": "120/min"},
     "BREED_RATE is no longer read: rendering is budgeted by RENDER_BUDGET_CPU_S_PER_MIN"),
])
def test_the_settings_module_refuses_what_it_cannot_honour_by_name(env, message):
    result = _load_settings(**env)
    assert result.returncode != 0
    assert message in result.stderr


def test_redis_url_selects_the_redis_channel_layer():
    with_redis = _load_settings(REDIS_URL="redis://127.0.0.1:6379/3")
    assert with_redis.returncode == 0, with_redis.stderr
    assert with_redis.stdout.split()[0] == "channels_redis.core.RedisChannelLayer"
    without = _load_settings()
    assert without.returncode == 0, without.stderr
    assert without.stdout.split() == ["channels.layers.InMemoryChannelLayer", "False"]


def test_inference_url_takes_several_replicas(monkeypatch):
    monkeypatch.setenv("INFERENCE_URL", "http://gpu-1:8100, https://gpu-2.example.org/")
    assert env_url_list("INFERENCE_URL", ("http", "https")) == [
        "http://gpu-1:8100", "https://gpu-2.example.org/"]
    monkeypatch.delenv("INFERENCE_URL")
    assert env_url_list("INFERENCE_URL", ("http", "https")) == []


def test_media_on_s3_needs_django_storages_and_says_so():
    code = ("import django; django.setup(); from django.conf import settings; "
            "print(settings.STORAGES['default']['BACKEND'])")
    clean = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "DEBUG", "DATABASE_URL")}
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                            timeout=60, env={**clean, "MEDIA_S3_BUCKET": "mendel-media"})
    try:
        import storages  # noqa: F401
    except ImportError:
        assert result.returncode != 0
        assert "MEDIA_S3_BUCKET is set, but django-storages is not installed" in result.stderr
    else:
        assert result.stdout.strip() == "storages.backends.s3.S3Storage", result.stderr
