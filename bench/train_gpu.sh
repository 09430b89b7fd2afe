#!/usr/bin/env bash
# Train the emoji space on a GPU machine, in one go, within the time it is lent for: which
# GPU; the training speed at 64 and 128 px; then a run at 128 px (64 with RESOLUTION=64)
# for MINUTES minutes that writes checkpoints, sample grids and the weights to OUT. The
# machine reaches no network: build the training set here first and carry it
# (python -m inference.make_emoji_set var/emoji-set). Run it again with the same OUT to go
# on from the last checkpoint. Then commit OUT/generator.safetensors as
# inference/weights/emoji.safetensors and record the figures in docs/benchmarks.md.
#
#     MINUTES=8 OUT=$OUT/emoji bash bench/train_gpu.sh
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
SET=${SET:-var/emoji-set}
OUT=${OUT:-var/emoji-gpu}
MINUTES=${MINUTES:-8}
RESOLUTION=${RESOLUTION:-128}
test -d "$SET" || { echo "no training set at $SET: python -m inference.make_emoji_set $SET" >&2; exit 2; }
$PY -c 'import torch; print({"gpu": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None, "torch": torch.__version__})'
$PY - <<'PYEOF'
import json, time, torch
from inference import gan
for res in (64, 128):
    pictures = torch.randint(0, 256, (512, 3, res, res), dtype=torch.uint8)
    t = gan.Trainer(pictures, gan.Recipe(resolution=res, batch=64), "cuda")
    for _ in range(3):
        t.step()
    torch.cuda.synchronize()
    started = time.perf_counter()
    for _ in range(20):
        t.step()
    torch.cuda.synchronize()
    print(json.dumps({"resolution": res, "batch": 64, "pictures_per_s": round(20 * 64 / (time.perf_counter() - started), 1)}))
PYEOF
$PY -m breeding.trainsets "$SET" --out "$OUT" --resolution "$RESOLUTION" --seed 1 --hold-out 10 \
    --batch 64 --device cuda --pictures 50000000 --every 120 --minutes "$MINUTES"
tail -n 3 "$OUT/log.jsonl"
