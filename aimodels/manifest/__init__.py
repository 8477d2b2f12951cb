"""Manifest loading and validation: YAML files and folders in, documents with file:line:column
out, every problem reported as a Diagnostic in one run. No network."""

from typing import Any


def __getattr__(name: str) -> Any:
    # `from aimodels.manifest import load_manifests` without importing yaml and jsonschema
    # whenever any submodule is imported (start-up time of the CLI).
    if name in ("load_manifests", "LoadResult"):
        from aimodels.manifest import load

        return getattr(load, name)
    raise AttributeError(name)
