#!/usr/bin/env bash
# Full batches on a GPU, in one go (issue 30, item 4): which GPU; a full-size StyleGAN2
# (1024 px, random weights: nothing is downloaded) written as a training snapshot; then for
# it and for the built-in emoji space, the generator's own rate in passes of 16, whether a
# picture's bytes stay the same among any companions, and the inference service at 16
# clients with --fixed-batch and without (one picture a pass). One JSON object per size.
#
#     bash bench/fixed_batch_gpu.sh [seconds per measurement]      # default: 5
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
SECONDS_EACH=${1:-5}
SNAPSHOT=${TMPDIR:-/tmp}/mendel-bench-stylegan2-1024.pkl
ADD="bench-gan=stylegan:$SNAPSHOT"
$PY -c 'import torch; print({"gpu": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None, "torch": torch.__version__})'
[ -f "$SNAPSHOT" ] || $PY bench/stylegan_gpu.py --models full --write-snapshot "$SNAPSHOT" --seconds 1
$PY bench/fixed_batch.py --json --device cuda --add "$ADD" --spaces bench-gan --size 1024 --seconds "$SECONDS_EACH"
$PY bench/fixed_batch.py --json --device cuda --add "$ADD" --spaces bench-gan,emoji --size 256 --seconds "$SECONDS_EACH"
