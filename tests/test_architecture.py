"""The layers of docs/architecture.md hold: every import of every module of ``aimodels/`` runs
to a package its row allows, and no packages import each other around a loop. Also: the
emulator's API families stay apart, only ``blob/`` speaks the storage SDK, and every
third-party import is a declared dependency.

The rules are read from the table in docs/architecture.md, so the document and the check cannot
disagree. Imports inside functions count too: a lazy import is still a dependency.
"""

from __future__ import annotations

import ast
import graphlib
import re
import sys
import tomllib
from collections.abc import Iterator, Mapping
from functools import cache
from importlib import metadata
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


def imports(tree: ast.AST) -> Iterator[tuple[int, str]]:
    """(line, dotted name) of every absolute import in ``tree``, at any depth: ``import m``
    gives ``m``, ``from m import a`` gives ``m.a`` (a module or a name in it: ``m`` either way)."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from ((node.lineno, a.name) for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield from ((node.lineno, f"{node.module}.{a.name}") for a in node.names)


def imported_packages(tree: ast.AST, under: str = TOP) -> Iterator[tuple[int, str]]:
    """(line, first-level package of ``under``) of every import in ``tree``, at any depth."""
    prefix = under.split(".")
    for line, name in imports(tree):
        parts = name.split(".")
        if parts[:len(prefix)] == prefix and len(parts) > len(prefix):
            yield line, parts[len(prefix)]


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


#: The emulator's sub-packages, one per Azure API family (docs/architecture.md, layer 6).
EMULATOR_FAMILIES = ("containerservice", "cognitiveservices", "blob")



def test_an_emulator_family_never_imports_another() -> None:
    crossing: dict[str, list[str]] = {}
    for family in EMULATOR_FAMILIES:
        assert (PACKAGE / "emulator" / family / "__init__.py").is_file()
        for path in sorted((PACKAGE / "emulator" / family).rglob("*.py")):
            tree = ast.parse(path.read_text(), str(path))
            others = {module for _, module in imported_packages(tree, f"{TOP}.emulator")}
            if wrong := sorted(others & (set(EMULATOR_FAMILIES) - {family})):
                crossing[str(path.relative_to(ROOT))] = wrong
    assert not crossing, f"a family imports another; go through a shared module: {crossing}"
    source = ("from aimodels.emulator import blob, lro\n"
              "from aimodels.emulator.containerservice.arm import API_VERSION\n")
    assert list(imported_packages(ast.parse(source), f"{TOP}.emulator")) == [
        (1, "blob"), (1, "lro"), (2, "containerservice")]


#: The Azure SDK for storage: only ``blob/`` speaks it (and the emulator's own blob service,
#: ``emulator/blob/``, which signs SAS with it and reaches an external Azurite through it).
AZURE_SDK = ("azure.storage", "azure.core")
SDK_PACKAGES = ("blob", "emulator/blob")
#: Modules elsewhere that still import it, each with why. A module that no longer does must
#: leave this list (the test says so), so it only shrinks.
SDK_ELSEWHERE = {
    # azure-identity's credential serves ARM too, and transport/ sits below blob/: the
    # failures of its get_token are azure-core's exception types.
    "aimodels/transport/credentials.py",
}


def sdk_imports(tree: ast.AST) -> Iterator[tuple[int, str]]:
    """(line, name) of every import of azure-storage-blob or azure-core in ``tree``."""
    return ((line, name) for line, name in imports(tree) if name.startswith(AZURE_SDK))


def test_only_blob_imports_the_storage_sdk() -> None:
    found: dict[str, list[int]] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        inside = path.relative_to(PACKAGE).as_posix()
        if inside.startswith(tuple(f"{p}/" for p in SDK_PACKAGES)):
            continue
        lines = [line for line, _ in sdk_imports(ast.parse(path.read_text(), str(path)))]
        if lines:
            found[str(path.relative_to(ROOT))] = lines
    assert set(found) - SDK_ELSEWHERE == set(), (
        f"azure.storage / azure.core imported outside blob/: {found}; go through aimodels.blob")
    assert SDK_ELSEWHERE - set(found) == set(), "remove these from SDK_ELSEWHERE: no longer needed"
    source = "import azure.core\nfrom azure.storage.blob import BlobClient\nimport azure_x\n"
    assert list(sdk_imports(ast.parse(source))) == [
        (1, "azure.core"), (2, "azure.storage.blob.BlobClient")]


# --- Declared dependencies: every third-party module aimodels imports comes from a distribution
# pyproject.toml declares, so nothing works only because another package pulls it in
# (``requests`` came through azure-core before it was declared).

#: Namespace packages several distributions share: a module is named down to its second level.
NAMESPACES = {"azure"}


def third_party_modules(tree: ast.AST) -> Iterator[str]:
    """The third-party modules ``tree`` imports (``yaml``, ``azure.core``), at any depth."""
    for _, name in imports(tree):
        parts = name.split(".")
        if parts[0] not in sys.stdlib_module_names and parts[0] != TOP:
            yield ".".join(parts[:2] if parts[0] in NAMESPACES else parts[:1])


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def declared() -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return {canonical(re.split(r"[<>=!~\[;\s]", d, maxsplit=1)[0])
            for d in project["dependencies"]}


@cache
def providers() -> dict[str, set[str]]:
    """Module (``yaml``, ``azure.core``) -> the installed distributions whose files hold it."""
    found: dict[str, set[str]] = {}
    for dist in metadata.distributions():
        for file in dist.files or ():
            parts = file.parts
            if parts and parts[0] in NAMESPACES and len(parts) > 2:
                parts = (f"{parts[0]}.{parts[1]}",)
            top = parts[0].removesuffix(".py") if parts else ""
            found.setdefault(top, set()).add(canonical(dist.metadata["Name"]))
    return found


def test_every_imported_distribution_is_declared() -> None:
    missing: dict[str, list[str]] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        for module in third_party_modules(ast.parse(path.read_text(), str(path))):
            if not providers().get(module, set()) & declared():
                missing.setdefault(module, []).append(str(path.relative_to(ROOT)))
    assert not missing, f"declare these in pyproject.toml [project] dependencies: {missing}"


def test_the_checker_names_namespace_modules_by_two_levels() -> None:
    source = "import os\nimport yaml.constructor\nfrom azure.storage.blob import BlobClient\n"
    assert list(third_party_modules(ast.parse(source))) == ["yaml", "azure.storage"]
    assert "requests" in providers() and "azure.core" in providers()


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
