"""Rebuild the training set of the ``emoji`` space: Microsoft's Fluent Emoji in 3D, as
packaged on npm by LobeHub (``@lobehub/fluent-emoji-3d``, MIT), with each picture's Unicode
CLDR name, keywords and group in English and Simplified Chinese from ``emojibase-data``
(MIT).

    python -m inference.make_emoji_set var/emoji-set

Both packages are fetched from the npm registry with ``npm pack`` (the only place this
project reaches the network for data, and never at run time or in tests). The folder gets
every picture as it is in the package (256 px WebP with transparency; the training reader
composites it on white) and ``_labels.json`` (names starting with "_" are not read as pictures): file name -> {"hexcode", "group", "en",
"zh", "en_tags", "zh_tags"}.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

PICTURES = "@lobehub/fluent-emoji-3d@1.1.0"
LABELS = "emojibase-data@16.0.3"


def npm_pack(spec: str, into: Path) -> Path:
    """The package's tarball, fetched by npm into ``into``."""
    out = subprocess.run(["npm", "pack", spec, "--silent"], cwd=into, check=True,
                         capture_output=True, text=True).stdout.strip().splitlines()
    return into / out[-1]


def _key(hexcode: str) -> str:
    """A hexcode as both packages can agree on: lower case, no variation selectors, no
    leading zeros, tag sequences joined with dashes."""
    parts = hexcode.lower().replace("_", "-").split("-")
    return "-".join(p.lstrip("0") or "0" for p in parts if p != "fe0f")


def label_table(root: Path) -> dict[str, dict]:
    groups = {g["order"]: g["key"] for g in json.loads((root / "en/messages.json").read_text())["groups"]}
    table: dict[str, dict] = {}
    for lang in ("en", "zh"):
        for entry in json.loads((root / f"{lang}/data.json").read_text()):
            for e in [entry, *entry.get("skins", [])]:
                row = table.setdefault(_key(e["hexcode"]), {"hexcode": e["hexcode"]})
                group = e.get("group", entry.get("group"))
                if group is not None:
                    row["group"] = groups[group]
                row[lang] = e.get("label", "")
                row[f"{lang}_tags"] = e.get("tags", entry.get("tags", []))
    return table


def build(out: Path) -> dict:
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        pictures, labels = npm_pack(PICTURES, tmp), npm_pack(LABELS, tmp)
        with tarfile.open(labels) as tar:
            tar.extractall(tmp / "labels", filter="data")
        table = label_table(tmp / "labels/package")
        found = {}
        with tarfile.open(pictures) as tar:
            for member in tar.getmembers():
                name = Path(member.name).name
                if not (member.isfile() and member.name.startswith("package/assets/") and name.endswith(".webp")):
                    continue
                with tar.extractfile(member) as src, open(out / name, "wb") as dst:
                    shutil.copyfileobj(src, dst)
                found[name] = table.get(_key(name[:-5]), {"hexcode": name[:-5].upper()})
            licence = tar.extractfile("package/package.json").read()
    (out / "_labels.json").write_text(json.dumps(found, ensure_ascii=False, indent=0, sort_keys=True))
    (out / "_source.json").write_text(json.dumps({
        "pictures": PICTURES, "labels": LABELS,
        "licence": json.loads(licence).get("license")}, indent=1))
    return found


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1:
        print(__doc__)
        return 2
    found = build(Path(argv[0]))
    labelled = sum(1 for v in found.values() if "group" in v)
    print(f"{len(found)} pictures, {labelled} with a Unicode group and names, in {argv[0]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
