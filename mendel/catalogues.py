"""Compile the translation catalogues: ``locale/*/LC_MESSAGES/*.po`` into the ``.mo`` files
Django reads. Run by ``make run``, ``make test``, the Docker image and the test suite itself,
so a catalogue is never only on its author's machine. Babel does it, in Python: no gettext
tools are needed to run Mendel, only to extract new strings (``make messages``).

    python -m mendel.catalogues        # compile what changed
"""

from __future__ import annotations

import sys
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

LOCALE = Path(__file__).resolve().parent.parent / "locale"


def compile_catalogues(locale: Path = LOCALE, force: bool = False) -> list[Path]:
    """Write each ``.mo`` whose ``.po`` is newer; the ``.mo`` files written. Fuzzy entries are
    left out, as gettext's ``msgfmt`` does (the catalogue test refuses them anyway)."""
    written = []
    for po in sorted(locale.glob("*/LC_MESSAGES/*.po")):
        mo = po.with_suffix(".mo")
        if not force and mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
            continue
        with po.open("rb") as source:
            catalog = read_po(source, locale=po.parent.parent.name)
        partial = mo.with_suffix(".mo.partial")
        with partial.open("wb") as target:
            write_mo(target, catalog)
        partial.replace(mo)  # a server reading it never sees half a file
        written.append(mo)
    return written


if __name__ == "__main__":
    for path in compile_catalogues(force="--force" in sys.argv):
        print(f"compiled {path.relative_to(LOCALE.parent)}")
