"""Every third-party module aimodels imports comes from a distribution pyproject.toml declares:
nothing works only because another package happens to pull it in (``requests`` came through
azure-core before it was declared)."""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from collections.abc import Iterator
from functools import cache
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
#: Namespace packages several distributions share: a module is named down to its second level.
NAMESPACES = {"azure"}


def third_party_modules(tree: ast.AST) -> Iterator[str]:
    """The third-party modules ``tree`` imports (``yaml``, ``azure.core``), at any depth."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        else:
            continue
        for name in names:
            parts = name.split(".")
            if parts[0] in sys.stdlib_module_names or parts[0] == "aimodels":
                continue
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
    for path in sorted((ROOT / "aimodels").rglob("*.py")):
        for module in third_party_modules(ast.parse(path.read_text(), str(path))):
            if not providers().get(module, set()) & declared():
                missing.setdefault(module, []).append(str(path.relative_to(ROOT)))
    assert not missing, f"declare these in pyproject.toml [project] dependencies: {missing}"


def test_the_checker_names_namespace_modules_by_two_levels() -> None:
    source = "import os\nimport yaml.constructor\nfrom azure.storage.blob import BlobClient\n"
    assert list(third_party_modules(ast.parse(source))) == ["yaml", "azure.storage"]
    assert "requests" in providers() and "azure.core" in providers()
