"""StyleGAN2 rendering speed on a GPU (or the CPU), fp32 and fp16, against the FLOP floor.

    .venv/bin/python bench/stylegan_gpu.py [--json] [--models tiny,full] [--seconds 5]

Generators with random weights (no weights are ever downloaded): ``tiny`` is the test
network (32 px), ``full`` the official 1024 px config (channel_base 32768, channel_max 512,
18 × 512 W+). The FLOP floor counts the synthesis convolutions only, 2 FLOP per
multiply-add (``inference.stylegan.gmac_per_image``: about 151 GFLOP per 1024 px picture);
what a run reaches is images/s × that floor, and the ratio between fp16 and fp32 is
measured within the same run. fp16 needs CUDA (autocast); on the CPU its rows are skipped.
Rendering here is batched (``--batch``), as raw throughput; the space itself renders one
picture at a time so that batching never changes a picture.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

MODELS = {
    "tiny": {"z_dim": 16, "w_dim": 16, "img_resolution": 32, "channel_base": 512,
             "channel_max": 32, "mapping_layers": 2},
    "full": {"img_resolution": 1024, "channel_base": 32768, "channel_max": 512},
}


def measure(g, device, dtype, batch: int, seconds: float) -> tuple[float, int]:
    """(images/s, images rendered) over about ``seconds`` after a warm-up."""
    import torch

    z = torch.randn(batch, g.z_dim, device=device)
    autocast = torch.autocast("cuda", dtype=torch.float16) if dtype == "fp16" else _null()

    def once():
        with torch.no_grad(), autocast:
            return g.synthesis(g.mapping(z, 0.7))

    def sync():
        if device.type == "cuda":
            torch.cuda.synchronize()

    once()
    sync()
    done, started = 0, time.perf_counter()
    while True:
        once()
        done += batch
        sync()
        elapsed = time.perf_counter() - started
        if elapsed >= seconds:
            return done / elapsed, done


class _null:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--models", default="tiny,full")
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--threads", type=int, default=2, help="CPU threads (for CPU runs)")
    parser.add_argument("--device", default=None, help="cuda or cpu (default: cuda if present)")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--write-snapshot", metavar="PATH",
                        help="only write the first model, random weights, as a training snapshot "
                             "(for the inference service's --add NAME=stylegan:PATH)")
    args = parser.parse_args(argv)

    import torch

    from bench._server import cpu_model
    from inference import stylegan_nets as nets
    from inference.stylegan import gmac_per_image

    torch.set_num_threads(args.threads)
    device = torch.device(args.device or ("cuda" if torch.cuda.is_available() else "cpu"))
    names = [m for m in args.models.split(",") if m]
    unknown = [m for m in names if m not in MODELS]
    if unknown:
        parser.error(f"unknown model {unknown[0]!r}; the models are {', '.join(MODELS)}")
    if args.write_snapshot:
        from tests.inference.snapshots import snapshot_bytes

        torch.manual_seed(0)
        Path(args.write_snapshot).write_bytes(snapshot_bytes(nets.stylegan2(**MODELS[names[0]])))
        print(f"wrote {args.write_snapshot} ({names[0]}, random weights)")
        return 0
    gpu = torch.cuda.get_device_name(device) if device.type == "cuda" else ""
    rows = []
    for name in names:
        torch.manual_seed(0)
        g = nets.stylegan2(**MODELS[name]).to(device)
        gflop = 2 * gmac_per_image(g)
        base = None
        for dtype in ("fp32", "fp16"):
            if dtype == "fp16" and device.type != "cuda":
                rows.append({"model": name, "dtype": dtype, "skipped": "fp16 needs CUDA"})
                continue
            rate, count = measure(g, device, dtype, args.batch, args.seconds)
            base = base or rate
            rows.append({"model": name, "dtype": dtype, "resolution": g.img_resolution,
                         # four significant digits: the tiny model has 0.015 GFLOP a picture
                         "gflop_per_image": float(f"{gflop:.4g}"), "images_per_s": round(rate, 2),
                         "tflop_per_s": float(f"{rate * gflop / 1000:.4g}"),
                         "vs_fp32": round(rate / base, 2), "images": count})
        del g
        if device.type == "cuda":
            torch.cuda.empty_cache()
    result = {"device": gpu or "cpu", "cpu": cpu_model(), "torch": torch.__version__,
              "batch": args.batch, "threads": args.threads, "rows": rows}
    if args.json:
        print(json.dumps(result))
        return 0
    print(f"StyleGAN2 random weights on {gpu or 'the CPU'} ({cpu_model()}), torch "
          f"{torch.__version__}, batch {args.batch}, ~{args.seconds:g} s per row")
    print(f"{'model':<6} {'dtype':<5} {'px':>5} {'GFLOP/img':>10} {'img/s':>9} {'TFLOP/s':>8} {'vs fp32':>8}")
    for r in rows:
        if "skipped" in r:
            print(f"{r['model']:<6} {r['dtype']:<5} {'':>5} {r['skipped']}")
            continue
        print(f"{r['model']:<6} {r['dtype']:<5} {r['resolution']:>5} {r['gflop_per_image']:>10} "
              f"{r['images_per_s']:>9} {r['tflop_per_s']:>8} {r['vs_fp32']:>8}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
