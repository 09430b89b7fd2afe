#!/usr/bin/env bash
# The inference service on a GPU machine, in one go: which GPU; a full-size StyleGAN2
# (1024 px, random weights: nothing is downloaded) written as a training snapshot and served
# with --add; how far mixed precision moves its pixels; its raw rendering speed in fp32 and
# fp16; and the service's pictures/s and p95 at 256 and 1024 px, fp32 and fp16, batching
# on and off. The built-in spaces compute on the CPU in their own threads, so a GPU does
# not change them. Prints one line or JSON object per measurement.
#
#     bash bench/inference_gpu.sh [seconds per level]      # default: 3
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
SECONDS_PER_LEVEL=${1:-3}
SNAPSHOT=${TMPDIR:-/tmp}/mendel-bench-stylegan2-1024.pkl
ADD="bench-gan=stylegan:$SNAPSHOT"
$PY -c 'import torch; print({"gpu": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None, "torch": torch.__version__})'
$PY bench/stylegan_gpu.py --models full --write-snapshot "$SNAPSHOT"
# The same latents on the GPU and on the CPU, fp32: how far a deployment's pictures move
# when its renders go from one to the other.
$PY - "$SNAPSHOT" <<'PYEOF'
import json, sys, torch
from inference.stylegan import StyleGANSpace
torch.set_num_threads(4)
space = StyleGANSpace(sys.argv[1], slug="bench-gan", stats_samples=256)
latents = space.sample(8, 1)
gpu = space.to("cuda").render(latents, 256).to(torch.int16)
cpu = space.to("cpu").render(latents, 256).to(torch.int16)
diff = (gpu - cpu).abs().float()
print(json.dumps({"cuda_vs_cpu_fp32_256px": {"mean_abs": round(float(diff.mean()), 3),
                  "max_abs": int(diff.max()), "tf32_conv": torch.backends.cudnn.allow_tf32}}))
PYEOF
for precision in fp16 bf16; do
  $PY -m inference precision bench-gan --add "$ADD" --device cuda --precision "$precision" --count 8 --size 1024
done
$PY bench/stylegan_gpu.py --json --models tiny,full --batch 16 --seconds 5
for size in 256 1024; do
  for precision in fp32 fp16; do
    $PY bench/inference.py --json --add "$ADD" --space bench-gan --device cuda --precision "$precision" \
      --size "$size" --levels 1,8,32 --seconds "$SECONDS_PER_LEVEL" --rounds 1 --threads 4
  done
done
