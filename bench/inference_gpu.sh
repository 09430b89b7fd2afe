#!/usr/bin/env bash
# The inference service on a GPU machine, in one go: which GPU, how far mixed precision
# moves the pixels, and thumbnails/s at 256 and 1024 px with and without it (batching on
# and off, concurrency 1 to 128). Prints one JSON object per measurement.
#
#     bash bench/inference_gpu.sh [space]      # default: abstract
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
SPACE=${1:-abstract}
$PY -c 'import torch; print({"gpu": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None, "torch": torch.__version__})'
for precision in fp16 bf16; do
  $PY -m inference precision "$SPACE" --device cuda --precision "$precision" --count 16 --size 256
done
for size in 256 1024; do
  for precision in fp32 fp16; do
    $PY bench/inference.py --json --space "$SPACE" --device cuda --precision "$precision" \
      --size "$size" --seconds 3 --rounds 1 --threads 4
  done
done
