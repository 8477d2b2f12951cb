"""The layers of docs/architecture.md hold: every import of every module of ``aimodels/`` runs
to a package its row allows, and no packages import each other around a loop.

The rules are read from the table in docs/architecture.md, so the document and the check cannot
disagree. Imports inside functions count too: a lazy import is still a dependency.
"""

from __future__ import annotations

import ast
import graphlib
import re
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "aimodels"
DOC = ROOT / "docs" / "architecture.md"
#: ``aimodels/__init__.py`` holds only ``__version__``: any layer may read it.
TOP = "aimodels"
_ROW = re.compile(r"^\|\s*`([\w]+)`\s*\|(.*)\|\s*$")


def allowed_imports(doc: str) -> dict[str, frozenset[str]]:
    """The table of docs/architecture.md: each package and the packages it may import."""
    rules: dict[str, frozenset[str]] = {}
    for line in doc.splitlines():
        if (match := _ROW.match(line)) is not None:
            rules[match[1]] = frozenset(re.findall(r"`(\w+)`", match[2]))
    return rules


def package_of(path: Path) -> str:
    """The first-level package (or top-level module) a file of ``aimodels/`` belongs to."""
    parts = path.relative_to(PACKAGE).parts
    return parts[0] if len(parts) > 1 else parts[0].removesuffix(".py")


def imported_packages(tree: ast.AST) -> Iterator[tuple[int, str]]:
    """(line, first-level package of aimodels) of every import in ``tree``, at any depth."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = ([f"{TOP}.{a.name}" for a in node.names] if node.module == TOP
                     else [node.module])
        else:
            continue
        for name in names:
            parts = name.split(".")
            if parts[0] == TOP and len(parts) > 1:
                yield node.lineno, parts[1]


def package_imports() -> dict[str, dict[str, list[str]]]:
    """For each package: the packages it imports, each with where (``file:line``)."""
    found: dict[str, dict[str, list[str]]] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        here = package_of(path)
        edges = found.setdefault(here, {})
        for line, target in imported_packages(ast.parse(path.read_text(), str(path))):
            # ``from aimodels import __version__`` names no package: allowed to all.
            is_package = (PACKAGE / target).is_dir() or (PACKAGE / f"{target}.py").is_file()
            if is_package and target != here:
                edges.setdefault(target, []).append(f"{path.relative_to(ROOT)}:{line}")
    return found


RULES = allowed_imports(DOC.read_text())
IMPORTS = package_imports()


def test_every_package_has_a_row() -> None:
    missing = set(IMPORTS) - {"__init__"} - set(RULES)
    assert not missing, f"add a row to docs/architecture.md for {sorted(missing)}"
    assert {"plan", "model", "errors", "cli"} <= set(RULES)  # the table was found and read


def test_a_row_allows_only_packages_of_the_table() -> None:
    unknown = {p: sorted(allowed - set(RULES)) for p, allowed in RULES.items()
               if allowed - set(RULES)}
    assert not unknown


@pytest.mark.parametrize("package", sorted(RULES))
def test_a_package_imports_only_what_its_row_allows(package: str) -> None:
    wrong = {target: where for target, where in IMPORTS.get(package, {}).items()
             if target not in RULES[package]}
    assert not wrong, f"{package} may import only {sorted(RULES[package])}; found {wrong}"


def _cycle(graph: Mapping[str, object]) -> list[str]:
    try:
        graphlib.TopologicalSorter(graph).prepare()
    except graphlib.CycleError as exc:
        return list(exc.args[1])
    return []


def test_no_import_cycle_between_packages() -> None:
    assert _cycle({p: set(targets) for p, targets in IMPORTS.items()}) == []


def test_the_rules_themselves_are_layered() -> None:
    assert _cycle(RULES) == []
    assert RULES["plan"] == {"errors", "model", "state"}


def test_the_checker_sees_lazy_and_plain_imports() -> None:
    """The checker itself: an import inside a function, a ``from aimodels import x`` and a
    plain ``import aimodels.x.y`` all count; a third-party import does not."""
    source = ("import httpx\nfrom aimodels.live.reader import read_live\n"
              "from aimodels import errors\n"
              "def f() -> None:\n    import aimodels.apply.executor\n")
    assert list(imported_packages(ast.parse(source))) == [
        (2, "live"), (3, "errors"), (5, "apply")]
    assert _cycle({"a": {"b"}, "b": {"a"}}) != []


#: The I/O modules that act on any kind: they ask the provider registry where a kind is listed
#: and how it is written, and never name a kind themselves (docs/architecture.md, "How to add
#: a kind").
KIND_BLIND = ("apply/executor.py", "apply/operations.py", "live/reader.py")
#: Where naming a kind is the point: the kinds themselves, their providers, their schemas, and
#: the emulator (a fake Azure serving each kind's routes).
KIND_HOMES = ("model/kinds.py", "providers/", "emulator/")


def kind_names() -> frozenset[str]:
    """The kinds of ``model/kinds.py``, by their constants' values."""
    tree = ast.parse((PACKAGE / "model" / "kinds.py").read_text())
    return frozenset(node.value.value for node in ast.walk(tree)
                     if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant)
                     and isinstance(node.value.value, str) and node.value.value[:1].isupper())


def kind_mentions(tree: ast.AST, kinds: frozenset[str]) -> Iterator[tuple[int, str]]:
    """(line, what) of each place ``tree`` names a kind: a kind constant imported from
    ``aimodels.model.kinds``, or a kind's name as a string literal."""
    constants = {"STACK", "MODEL_SOURCE", "CUSTOM_MODEL", "MODEL_DEPLOYMENT",
                 "FOUNDRY_DEPLOYMENT"}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == f"{TOP}.model.kinds":
            for alias in node.names:
                if alias.name in constants:
                    yield node.lineno, f"imports {alias.name}"
        elif isinstance(node, ast.Constant) and node.value in kinds:
            yield node.lineno, repr(node.value)


def kind_comparisons(tree: ast.AST, kinds: frozenset[str]) -> Iterator[int]:
    """Lines of ``tree`` comparing something with a kind's name written as a literal."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Compare):
            sides = [node.left, *node.comparators]
            if any(isinstance(s, ast.Constant) and s.value in kinds for s in sides):
                yield node.lineno


KINDS = kind_names()


@pytest.mark.parametrize("module", KIND_BLIND)
def test_the_io_layers_ask_the_registry_and_name_no_kind(module: str) -> None:
    path = PACKAGE / module
    found = [f"{module}:{line} {what}"
             for line, what in kind_mentions(ast.parse(path.read_text()), KINDS)]
    assert not found, "ask the provider (writer, collection, export) instead: " + str(found)


def test_no_kind_literal_is_compared_outside_its_homes() -> None:
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE).as_posix()
        if not relative.startswith(KIND_HOMES):
            found += [f"{relative}:{line}"
                      for line in kind_comparisons(ast.parse(path.read_text()), KINDS)]
    assert not found, f"compare with the constants of model/kinds.py, or ask the provider: {found}"


def test_the_kind_checks_see_constants_literals_and_comparisons() -> None:
    assert {"ModelSource", "CustomModel", "ModelDeployment", "FoundryDeployment"} <= KINDS
    source = ("from aimodels.model.kinds import CUSTOM_MODEL, RESOURCE_KINDS\n"
              "x = 'CustomModel'\nif kind == 'FoundryDeployment':\n    pass\n")
    tree = ast.parse(source)
    assert list(kind_mentions(tree, KINDS)) == [
        (1, "imports CUSTOM_MODEL"), (2, "'CustomModel'"), (3, "'FoundryDeployment'")]
    assert list(kind_comparisons(tree, KINDS)) == [3]
