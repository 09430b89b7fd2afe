"""HTTPS and security headers: off for `make run` on plain http, on from the environment for a
public deployment, and `check --deploy` has nothing left to say about them."""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from mendel.env import env_origins, env_proxy_ssl_header

ROOT = Path(__file__).resolve().parents[2]

PRODUCTION = {
    "DEBUG": "false",
    "DATABASE_URL": "postgres://mendel:secret@db.example.org:5432/mendel",
    "SECRET_KEY": secrets.token_urlsafe(50),
    "ALLOWED_HOSTS": "gallery.example.org",
    "HTTPS": "true",
    "HSTS_PRELOAD": "true",
    "SECURE_PROXY_SSL_HEADER": "X-Forwarded-Proto",
    "CSRF_TRUSTED_ORIGINS": "https://www.example.org",
}


def _run(args: list[str], **env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items()
             if k not in ("REDIS_URL", "DEBUG", "DATABASE_URL", "SECRET_KEY", "ALLOWED_HOSTS")}
    clean.update(env)
    return subprocess.run([sys.executable, *args], cwd=ROOT, env=clean, capture_output=True, text=True, timeout=120)


def _settings(*names: str, **env: str) -> list[str]:
    code = ("import django; django.setup(); from django.conf import settings; "
            f"print(*(repr(getattr(settings, n)) for n in {names!r}), sep='\\n')")
    result = _run(["-c", code], **env)
    assert result.returncode == 0, result.stderr
    return result.stdout.splitlines()


def test_check_deploy_has_no_warning_for_a_production_environment():
    result = _run(["manage.py", "check", "--deploy"], **PRODUCTION)
    assert result.returncode == 0, result.stderr
    warnings = re.findall(r"^\S*: \((\S+)\) (.*)$", result.stderr + result.stdout, re.M)
    assert warnings == []
    assert "System check identified no issues" in result.stdout


def test_the_local_run_stays_on_plain_http():
    redirect, session_secure, csrf_secure, hsts, proxy = _settings(
        "SECURE_SSL_REDIRECT", "SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE", "SECURE_HSTS_SECONDS",
        "SECURE_PROXY_SSL_HEADER")
    assert (redirect, session_secure, csrf_secure, hsts, proxy) == ("False", "False", "False", "0", "None")


def test_https_turns_on_redirects_secure_cookies_and_a_years_hsts():
    values = _settings("SECURE_SSL_REDIRECT", "SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE",
                       "SECURE_HSTS_SECONDS", "SECURE_HSTS_INCLUDE_SUBDOMAINS", "SECURE_HSTS_PRELOAD",
                       "SECURE_PROXY_SSL_HEADER", "CSRF_TRUSTED_ORIGINS", **PRODUCTION)
    assert values == ["True", "True", "True", "31536000", "True", "True",
                      "('HTTP_X_FORWARDED_PROTO', 'https')", "['https://www.example.org']"]


def test_pages_served_over_https_ask_for_https_subresources_only():
    directive = "CONTENT_SECURITY_POLICY['DIRECTIVES']['upgrade-insecure-requests']"
    code = f"import django; django.setup(); from django.conf import settings; print(settings.{directive})"
    assert _run(["-c", code], **PRODUCTION).stdout.split() == ["True"]
    assert _run(["-c", code]).stdout.split() == ["False"]


def test_hsts_can_be_tuned_apart():
    assert _settings("SECURE_HSTS_SECONDS", "SECURE_HSTS_INCLUDE_SUBDOMAINS",
                     **{**PRODUCTION, "HSTS_SECONDS": "3600", "HSTS_INCLUDE_SUBDOMAINS": "false"}) == ["3600", "False"]


@pytest.mark.parametrize("raw,expected", [
    ("X-Forwarded-Proto", ("HTTP_X_FORWARDED_PROTO", "https")),
    ("X-Forwarded-Proto: https", ("HTTP_X_FORWARDED_PROTO", "https")),
    ("X-Forwarded-Ssl: on", ("HTTP_X_FORWARDED_SSL", "on")),
])
def test_the_proxy_header_reads_as_an_operator_writes_it(monkeypatch, raw, expected):
    monkeypatch.setenv("SECURE_PROXY_SSL_HEADER", raw)
    assert env_proxy_ssl_header("SECURE_PROXY_SSL_HEADER") == expected


@pytest.mark.parametrize("name,raw", [
    ("SECURE_PROXY_SSL_HEADER", "X Forwarded Proto"),
    ("SECURE_PROXY_SSL_HEADER", ": https"),
    ("CSRF_TRUSTED_ORIGINS", "gallery.example.org"),
    ("CSRF_TRUSTED_ORIGINS", "https://gallery.example.org/studio/"),
    ("CSRF_TRUSTED_ORIGINS", "ftp://gallery.example.org"),
])
def test_malformed_values_name_their_variable(monkeypatch, name, raw):
    monkeypatch.setenv(name, raw)
    with pytest.raises(ImproperlyConfigured, match=name):
        env_proxy_ssl_header(name) if name == "SECURE_PROXY_SSL_HEADER" else env_origins(name)


@pytest.fixture
def https(settings):
    """The settings HTTPS=true and SECURE_PROXY_SSL_HEADER=X-Forwarded-Proto give."""
    settings.SECURE_SSL_REDIRECT = True
    settings.SESSION_COOKIE_SECURE = settings.CSRF_COOKIE_SECURE = True
    settings.SECURE_HSTS_SECONDS = 31536000
    settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")


@pytest.mark.django_db
def test_with_https_plain_http_is_redirected_but_health_checks_are_not(client, https):
    answer = client.get("/gallery/?order=trending")
    assert answer.status_code == 301
    assert answer["Location"] == "https://testserver/gallery/?order=trending"
    assert client.get("/healthz").status_code == 200


@pytest.mark.django_db
def test_behind_the_proxy_https_requests_get_hsts_and_secure_cookies(client, https, alice):
    proxied = {"HTTP_X_FORWARDED_PROTO": "https"}
    page = client.get("/accounts/login/", **proxied)
    assert page.status_code == 200
    assert page["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
    assert page.cookies["csrftoken"]["secure"]
    logged_in = client.post("/accounts/login/", {"username": "alice", "password": "correct horse 1"}, **proxied)
    assert logged_in.status_code == 302
    assert logged_in.cookies["sessionid"]["secure"]
