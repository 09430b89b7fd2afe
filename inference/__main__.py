"""Render from a plain shell, without Django.

    python -m inference render abstract --seed 3 --size 1024 -o out.png
    python -m inference sheet abstract --seed 0 --count 16 --size 256 -o sheet.png
    python -m inference spaces
"""

from __future__ import annotations

import argparse
import math
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
    parser.add_argument("--threads", type=int, default=None, help="torch threads")
    args = parser.parse_args(argv)

    import torch

    from inference import get_space, space_slugs
    from inference.encode import encode, format_for

    if args.threads:
        torch.set_num_threads(args.threads)
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
