"""The layers of DESIGN.md, beyond what ``lint-imports`` checks (``make test`` runs both).

import-linter's contracts (``[tool.importlinter]`` in pyproject.toml) say which package may
import which; these tests add that no module imports one that imports it back, even inside a
function, that every API module is among those only URL configuration may import, and that
no module borrows another's private names.
"""

from __future__ import annotations

import ast
import tomllib
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parent.parent
CONFIG = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
PACKAGES = CONFIG["root_packages"]


def test_no_module_imports_one_that_imports_it_back():
    graph = grimp.build_graph(*PACKAGES, cache_dir=None)  # imports inside functions too
    cycles = set()
    for importer in graph.modules:
        for imported in graph.find_modules_directly_imported_by(importer):
            back = graph.find_shortest_chain(importer=imported, imported=importer)
            if back:  # imported -> ... -> importer, and importer -> imported closes it
                start = back.index(min(back))  # one spelling per cycle
                ring = back[start:] + back[:start]
                cycles.add(" -> ".join((*ring, ring[0])))
    assert sorted(cycles) == []


def test_every_api_module_is_imported_only_by_url_configuration():
    (contract,) = [c for c in CONFIG["contracts"] if c["id"] == "api"]
    found = sorted(
        ".".join(path.relative_to(ROOT).with_suffix("").parts)
        for package in PACKAGES
        for path in (ROOT / package).rglob("*.py")
        if path.stem == "api" or path.stem.endswith("_api")
    )
    assert found == sorted(contract["protected_modules"])


def test_no_module_imports_a_private_name_of_another():
    borrowed = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if (isinstance(node, ast.ImportFrom) and node.level == 0 and node.module
                        and node.module.split(".")[0] in PACKAGES):
                    borrowed += [f"{path.relative_to(ROOT)}:{node.lineno}: {node.module}.{a.name}"
                                 for a in node.names
                                 if a.name.startswith("_") and not a.name.startswith("__")]
    assert borrowed == []
