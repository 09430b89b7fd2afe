"""Reading settings from the environment, failing loudly on malformed values.

Every helper raises ``ImproperlyConfigured`` with a message that names the variable and
the value it did not understand, so a typo in a deployment is found at start, not later.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlparse

from django.core.exceptions import ImproperlyConfigured

TRUE = {"1", "true", "yes", "on"}
FALSE = {"0", "false", "no", "off", ""}


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in TRUE:
        return True
    if value in FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false (1/0, yes/no, on/off), got {raw!r}.")


def env_int(name: str, default: int, *, low: int, high: int) -> int:
    return _env_number(name, default, int, "a whole number", low, high)


def env_float(name: str, default: float, *, low: float, high: float) -> float:
    return _env_number(name, default, float, "a number", low, high)


def _env_number(name: str, default, parse, kind: str, low, high):
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = parse(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be {kind}, got {raw!r}.") from None
    if not low <= value <= high:  # also refuses nan
        raise ImproperlyConfigured(f"{name} must be between {low:g} and {high:g}, got {raw.strip()}.")
    return value


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return default
    items = [item.strip() for item in raw.split(",")]
    if not all(items):
        raise ImproperlyConfigured(
            f"{name} must be a comma-separated list without empty entries, got {raw!r}."
        )
    return items


def env_url(name: str, schemes: tuple[str, ...]) -> str | None:
    """A URL whose scheme is one of ``schemes``, or None when the variable is unset or empty."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return None
    return _check_url(name, raw, schemes)


def env_url_list(name: str, schemes: tuple[str, ...]) -> list[str]:
    """Comma-separated URLs whose schemes are among ``schemes``; empty when unset."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return []
    items = [item.strip() for item in raw.split(",")]
    if not all(items):
        raise ImproperlyConfigured(
            f"{name} must be a comma-separated list without empty entries, got {raw!r}."
        )
    urls = [_check_url(name, item, schemes) for item in items]
    if len(set(urls)) != len(urls):
        raise ImproperlyConfigured(f"{name} names a URL twice: {raw!r}.")
    return urls


def _check_url(name: str, raw: str, schemes: tuple[str, ...]) -> str:
    parsed = urlparse(raw)
    if parsed.scheme not in schemes:
        allowed = ", ".join(f"{s}://" for s in schemes)
        raise ImproperlyConfigured(f"{name} must start with {allowed}; got {raw!r}.")
    if parsed.scheme in ("http", "https", "redis", "rediss") and not parsed.hostname:
        raise ImproperlyConfigured(f"{name} has no host name: {raw!r}.")
    try:
        parsed.port  # noqa: B018 - raises ValueError on a malformed port
    except ValueError:
        raise ImproperlyConfigured(f"{name} has a malformed port: {raw!r}.") from None
    return raw


def env_path(name: str, default: Path, base: Path) -> Path:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    path = Path(raw).expanduser()
    if not path.is_absolute():
        path = base / path
    if path.exists() and not path.is_dir():
        raise ImproperlyConfigured(f"{name} must be a folder, but {raw!r} is a file.")
    return path


def database_config(name: str, base: Path) -> dict:
    """DATABASES['default'] from ``DATABASE_URL``, or the embedded PostgreSQL when unset."""
    import dj_database_url

    url = os.environ.get(name, "").strip()
    if not url:
        from mendel import embedded

        url = embedded.database_url(base)
    scheme = urlparse(url).scheme
    if scheme not in ("postgres", "postgresql", "pgsql", "postgresql+psycopg"):
        raise ImproperlyConfigured(
            f"{name} must be a PostgreSQL URL (postgres://user:password@host:port/name), "
            f"got scheme {scheme!r}. Mendel needs PostgreSQL with the pgvector extension."
        )
    try:
        config = dj_database_url.parse(url.replace("postgresql+psycopg://", "postgresql://", 1))
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} could not be parsed: {exc}") from None
    # A unix-socket URL (postgresql://user@/name?host=/run/dir) puts the socket folder in
    # OPTIONS; Django and procrastinate both look for it in HOST.
    socket_dir = config.get("OPTIONS", {}).pop("host", None)
    if socket_dir and not config.get("HOST"):
        config["HOST"] = socket_dir
    if not config.get("NAME"):
        raise ImproperlyConfigured(f"{name} names no database: {url!r}.")
    return config


def env_origins(name: str) -> list[str]:
    """Comma-separated origins (``https://gallery.example.org``): a scheme and a host, an
    optional port, nothing after; an empty list when unset. ``https://*.example.org``
    stands for every subdomain, as in Django's ``CSRF_TRUSTED_ORIGINS``."""
    origins = env_list(name, [])
    for origin in origins:
        parsed = urlparse(origin)
        if parsed.scheme not in ("http", "https") or not parsed.netloc or parsed.path or parsed.query:
            raise ImproperlyConfigured(
                f"{name} must list origins like https://gallery.example.org (a scheme and a "
                f"host, no path), got {origin!r}."
            )
    return origins


def env_proxy_ssl_header(name: str) -> tuple[str, str] | None:
    """``X-Forwarded-Proto`` (or ``X-Forwarded-Proto: https``): the header a TLS-terminating
    proxy sets, as Django's ``SECURE_PROXY_SSL_HEADER`` pair; None when unset."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return None
    header, _, value = raw.partition(":")
    header, value = header.strip(), value.strip() or "https"
    if not header or not all(c.isalnum() or c == "-" for c in header) or " " in value:
        raise ImproperlyConfigured(
            f"{name} must be a header name such as X-Forwarded-Proto, optionally followed by "
            f"': https', got {raw!r}."
        )
    return "HTTP_" + header.upper().replace("-", "_"), value


def env_networks(name: str) -> list:
    """Comma-separated addresses or networks (``10.0.0.5, 10.1.0.0/16, fd00::/8``) as
    ``ipaddress`` networks; an empty list when unset."""
    import ipaddress

    networks = []
    for item in env_list(name, []):
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            raise ImproperlyConfigured(
                f"{name} must list IP addresses or networks such as 10.0.0.5 or 10.0.0.0/8, "
                f"got {item!r}."
            ) from None
    return networks
