"""How a built-in space (`abstract`, `figures`) looks, in numbers, and its contact sheets.

    .venv/bin/python bench/beauty.py [--space figures] [--json] [--sheets docs/img]
        [--parent 10] [--sheets-only]

Prints each measure of inference.beauty with its target band; ``--sheets`` also writes a
4 x 4 contact sheet of random pictures and a sheet of one parent (centre, the ``--parent``-th
random picture, reading order from 0) with 8 children at chaos 0.3.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from breeding.genetics import children  # noqa: E402
from inference import get_space  # noqa: E402
from inference.__main__ import contact_sheet  # noqa: E402
from inference.beauty import bands_for, evaluate  # noqa: E402
from inference.encode import encode  # noqa: E402


def family_sheet(space, parent: torch.Tensor, chaos: float, seed: int, size: int = 256):
    """A 3 x 3 grid: the parent in the centre, eight children at ``chaos`` around it."""
    kids = children(parent, 8, chaos, seed, space.stats.std)
    images = space.render(torch.cat([kids[:4], parent[None], kids[4:]]), size)
    return contact_sheet(images, columns=3)


def write_sheets(space, slug: str, folder: Path, parent: int) -> None:
    """``{slug}-random.png``: 16 random pictures (seed 0); ``{slug}-family.png``: the
    ``parent``-th of them with eight children at chaos 0.3."""
    folder.mkdir(parents=True, exist_ok=True)
    latents = space.sample(16, 0)
    random = contact_sheet(space.render(latents, 256), columns=4)
    (folder / f"{slug}-random.png").write_bytes(encode(random, "png"))
    family = family_sheet(space, latents[parent], chaos=0.3, seed=1)
    (folder / f"{slug}-family.png").write_bytes(encode(family, "png"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--space", default="abstract")
    parser.add_argument("--samples", type=int, default=256)
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--sheets", type=Path, help="folder for the contact sheets")
    parser.add_argument("--parent", type=int, default=10,
                        help="the family sheet's parent: which of the random sheet's 16 pictures")
    parser.add_argument("--sheets-only", action="store_true", help="write the sheets, measure nothing")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    space = get_space(args.space)
    bands = bands_for(args.space)

    def mutate(parent, n, chaos, seed):
        return children(parent, n, chaos, seed, space.stats.std)

    if args.sheets_only:
        write_sheets(space, args.space, args.sheets or Path("."), args.parent)
        return 0
    started = time.perf_counter()
    beauty = evaluate(space, mutate, n=args.samples, size=args.size)
    values = beauty.as_dict()
    if args.json:
        print(json.dumps(values))
    else:
        print(f"{args.space} (version {space.version}), {args.samples} samples at {args.size} px, "
              f"{time.perf_counter() - started:.1f} s")
        print(f"{'measure':<22} {'value':>9}  band")
        for name, value in values.items():
            if name in ("samples", "size"):
                continue
            band = bands.get(name)
            mark = "" if band is None else ("ok" if band[0] <= value <= band[1] else "OUTSIDE")
            shown = f"{band[0]}..{band[1]}" if band else ""
            print(f"{name:<22} {value:>9.4f}  {shown:<14} {mark}")
    if args.sheets:
        write_sheets(space, args.space, args.sheets, args.parent)
    return 1 if beauty.outside_bands(bands) else 0


if __name__ == "__main__":
    sys.exit(main())
