"""Mendel's settings with another channel layer, for benchmarks that compare layers.

``BENCH_CHANNEL_LAYER`` holds the layer's settings as JSON (``{"BACKEND": ..., "CONFIG":
...}``); the Redis host, when the config names none, is ``REDIS_URL``.
"""

import json
import os

from mendel.settings import *  # noqa: F403
from mendel.settings import REDIS_URL

_layer = json.loads(os.environ["BENCH_CHANNEL_LAYER"])
if "redis" in _layer["BACKEND"]:
    _layer.setdefault("CONFIG", {}).setdefault("hosts", [REDIS_URL])
CHANNEL_LAYERS = {"default": _layer}
