"""Render from a plain shell, without Django.

    python -m inference render abstract --seed 3 --size 1024 -o out.png
    python -m inference sheet abstract --seed 0 --count 16 --size 256 -o sheet.png
    python -m inference spaces
    python -m inference serve --spaces abstract --port 8100
    python -m inference precision abstract --device cuda --precision fp16
"""

from __future__ import annotations

import argparse
import math
import os
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m inference", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)

    render = commands.add_parser("render", help="render one random picture of a space")
    render.add_argument("space")
    render.add_argument("--seed", type=int, default=0)
    render.add_argument("--index", type=int, default=0, help="which of the seed's samples")
    render.add_argument("--size", type=int, default=1024)
    render.add_argument("-o", "--output", required=True, help="a .png or .webp file")

    sheet = commands.add_parser("sheet", help="a contact sheet of random pictures")
    sheet.add_argument("space")
    sheet.add_argument("--seed", type=int, default=0)
    sheet.add_argument("--count", type=int, default=16)
    sheet.add_argument("--size", type=int, default=256)
    sheet.add_argument("-o", "--output", required=True)

    commands.add_parser("spaces", help="list the registered spaces")

    serve = commands.add_parser("serve", help="the inference HTTP service (one process per GPU)")
    serve.add_argument("--spaces", default="abstract", help="comma-separated space slugs")
    serve.add_argument("--add", action="append", default=[], metavar="SLUG=KIND:PATH",
                       help="serve a space added with manage.py addspace, from the same weights "
                            "(e.g. portraits=stylegan:/models/ffhq.pkl); repeatable")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8100)
    serve.add_argument("--device", default="auto", help="auto, cpu, cuda or cuda:N")
    serve.add_argument("--precision", default="fp32", help="fp32, or fp16/bf16 (mixed precision)")
    serve.add_argument("--max-batch", type=int, default=16, help="pictures in one forward pass")
    serve.add_argument("--fixed-batch", action="store_true",
                       help="on a GPU, render StyleGAN spaces in passes of exactly --max-batch "
                            "pictures (padded): full batches, each picture's pixels independent "
                            "of its companions (default: one picture a pass)")
    serve.add_argument("--max-wait-ms", type=float, default=5.0,
                       help="how long a pass waits for more requests to join it")
    serve.add_argument("--max-queue", type=int, default=256,
                       help="pictures waiting at most; past it requests get 503")
    serve.add_argument("--max-projections", type=int, default=2)
    serve.add_argument("--max-projection-s", type=float, default=600.0,
                       help="the longest one projection may run, whatever it asks for")
    serve.add_argument("--max-size", type=int, default=2048,
                       help="the largest side of a picture, in pixels (the site asks for 2048 at most)")
    serve.add_argument("--max-large", type=int, default=2,
                       help="renders of 4 megapixels or more at once; past it requests get 503")
    serve.add_argument("--max-unsent-mb", type=float, default=256.0,
                       help="answers accepted but not yet read by their clients, in MB; past it 503")
    serve.add_argument("--send-timeout-s", type=float, default=30.0,
                       help="a client that reads no part of its answer for this long is dropped")
    serve.add_argument("--token", default=None,
                       help="the shared secret every /v1/ request must bring as a bearer token "
                            "(default: INFERENCE_TOKEN; required with a --host beyond loopback)")
    serve.add_argument("--graceful-s", type=float, default=30.0,
                       help="on SIGTERM, how long requests in flight may take to finish")
    serve.add_argument("--threads", type=int, default=argparse.SUPPRESS,
                       help="torch CPU threads (also accepted before the command)")

    precision = commands.add_parser(
        "precision", help="how far mixed-precision pictures are from float32 ones")
    precision.add_argument("space")
    precision.add_argument("--device", default="auto")
    precision.add_argument("--precision", default="fp16")
    precision.add_argument("--count", type=int, default=16)
    precision.add_argument("--size", type=int, default=256)
    precision.add_argument("--add", action="append", default=[], metavar="SLUG=KIND:PATH",
                           help="measure a space added from weights (as serve --add)")
    parser.add_argument("--threads", type=int, default=None, help="torch threads")
    args = parser.parse_args(argv)

    import torch

    from inference import get_space, space_slugs
    from inference.encode import encode, format_for

    if args.threads:
        torch.set_num_threads(args.threads)
    if args.command == "serve":
        return _serve(args)
    if args.command == "precision":
        return _precision(args)
    if args.command == "spaces":
        for slug in space_slugs():
            space = get_space(slug)
            print(f"{slug}\tlatent ({space.layers}, {space.dim})\tversion {space.version}")
        return 0
    try:
        fmt = format_for(args.output)
        space = get_space(args.space)
        if args.command == "render":
            latents = space.sample(args.index + 1, args.seed)[args.index : args.index + 1]
            image = space.render(latents, args.size)[0]
        else:
            image = contact_sheet(space.render(space.sample(args.count, args.seed), args.size))
    except (KeyError, ValueError) as exc:
        print(f"error: {exc.args[0]}", file=sys.stderr)
        return 2
    Path(args.output).write_bytes(encode(image, fmt))
    print(f"wrote {args.output}")
    return 0


def _serve(args) -> int:
    import logging

    from inference.service import Limits, serve
    from inference.space import check_size

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    spaces = [slug.strip() for slug in args.spaces.split(",") if slug.strip()]
    try:
        from inference.space import register_file

        for spec in args.add:
            if (slug := register_file(spec)) not in spaces:
                spaces.append(slug)
        if not spaces:
            raise ValueError("--spaces needs at least one space slug")
        for name in ("max_batch", "max_queue", "max_projections", "max_large"):
            if getattr(args, name) < 1:
                raise ValueError(f"--{name.replace('_', '-')} must be at least 1")
        if args.max_wait_ms < 0:
            raise ValueError("--max-wait-ms must not be negative")
        for name in ("max_projection_s", "max_unsent_mb", "send_timeout_s"):
            if not 0 < getattr(args, name) < math.inf:
                raise ValueError(f"--{name.replace('_', '-')} must be a positive number")
        check_size(args.max_size)
        token = args.token if args.token is not None else os.environ.get("INFERENCE_TOKEN", "")
        limits = Limits(max_batch=args.max_batch, max_wait_ms=args.max_wait_ms,
                        max_queue=args.max_queue, max_projections=args.max_projections,
                        max_size=args.max_size, max_large=args.max_large,
                        max_unsent_mb=args.max_unsent_mb, send_timeout_s=args.send_timeout_s,
                        max_projection_s=args.max_projection_s, fixed_batch=args.fixed_batch)
        serve(spaces, args.host, args.port, limits, args.device, args.precision, args.graceful_s,
              token.strip() or None)
    except (KeyError, ValueError) as exc:
        print(f"error: {exc.args[0]}", file=sys.stderr)
        return 2
    return 0


def _precision(args) -> int:
    from inference import get_space
    from inference.device import precision_difference

    try:
        from inference.space import register_file

        for spec in args.add:
            register_file(spec)
        found = precision_difference(get_space(args.space), args.device, args.precision,
                                     n=args.count, size=args.size)
    except (KeyError, ValueError) as exc:
        print(f"error: {exc.args[0]}", file=sys.stderr)
        return 2
    print(f"{found.space} on {found.device}, {found.precision} against fp32, {found.pictures} "
          f"pictures at {found.size} px: mean |diff| {found.mean_abs} of 255, max {found.max_abs}, "
          f"PSNR {found.psnr_db} dB: {'the same' if found.same_to_the_eye else 'NOT the same'} "
          "to the eye")
    return 0


def contact_sheet(images, columns: int | None = None, gap: int = 8, background=(16, 16, 18)):
    """Lay (n, size, size, 3) pictures out in a grid on a dark ground, as one uint8 tensor."""
    import torch

    n, size = images.shape[0], images.shape[1]
    columns = columns or math.ceil(math.sqrt(n))
    rows = math.ceil(n / columns)
    sheet = torch.empty(rows * (size + gap) + gap, columns * (size + gap) + gap, 3, dtype=torch.uint8)
    sheet[:] = torch.tensor(background, dtype=torch.uint8)
    for i in range(n):
        top, left = gap + (i // columns) * (size + gap), gap + (i % columns) * (size + gap)
        sheet[top : top + size, left : left + size] = images[i]
    return sheet


if __name__ == "__main__":
    sys.exit(main())
