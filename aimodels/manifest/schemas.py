"""The JSON Schemas of the manifest kinds: the one source of truth for fields and their rules.

The files ship inside the package (``aimodels/schemas/<kind>.schema.json``, read through
importlib.resources so an installed wheel works); editors use the same files through a
``# yaml-language-server: $schema=...`` comment, and the loader validates against them.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from importlib import resources
from importlib.resources.abc import Traversable
from typing import TYPE_CHECKING, Any

from aimodels.model.kinds import ALL_KINDS

if TYPE_CHECKING:
    from jsonschema import Draft202012Validator


def schema_file_name(kind: str) -> str:
    """``ModelDeployment`` -> ``modeldeployment.schema.json``."""
    return f"{kind.lower()}.schema.json"


def schema_resource(kind: str) -> Traversable:
    """The packaged schema file of ``kind`` (a Traversable: may live inside a wheel)."""
    return resources.files("aimodels").joinpath("schemas", schema_file_name(kind))


def schema_text(kind: str) -> str:
    """The schema file of ``kind``, byte for byte as shipped."""
    return schema_resource(kind).read_text(encoding="utf-8")


@functools.cache
def load_schema(kind: str) -> Mapping[str, Any]:
    """The parsed schema of ``kind``. Cached: do not mutate it."""
    loaded: Mapping[str, Any] = json.loads(schema_text(kind))
    return loaded


@functools.cache
def validator(kind: str) -> Draft202012Validator:
    """A Draft 2020-12 validator for documents of ``kind``: only to find and explain the
    errors of a document the compiled check refused (jsonschema is imported then, not on
    every run)."""
    from jsonschema import Draft202012Validator

    return Draft202012Validator(load_schema(kind))


def find_kind(name: str) -> str | None:
    """The kind spelled ``name`` in any letter case, or None."""
    by_lower = {kind.lower(): kind for kind in ALL_KINDS}
    return by_lower.get(name.strip().lower())


def resolve(kind: str, subschema: Mapping[str, Any]) -> Mapping[str, Any]:
    """``subschema`` with a local ``$ref`` (``#/$defs/x``) merged in; siblings win."""
    ref = subschema.get("$ref")
    if not isinstance(ref, str) or not ref.startswith("#/$defs/"):
        return subschema
    target = load_schema(kind)["$defs"][ref.removeprefix("#/$defs/")]
    return {**target, **{k: v for k, v in subschema.items() if k != "$ref"}}


def spec_schema(kind: str) -> Mapping[str, Any]:
    """The schema of ``spec`` for ``kind``."""
    return resolve(kind, load_schema(kind)["properties"]["spec"])


@functools.cache
def spec_field_paths(kind: str) -> frozenset[str]:
    """Every dotted field path under ``spec`` the kind declares (``scale.replicas``), for
    ``lifecycle.ignoreChanges``. A free map (``overrides``) allows any key: ``overrides.*``."""
    paths: set[str] = set()
    _collect_paths(kind, spec_schema(kind), "", paths)
    paths.discard("lifecycle")
    return frozenset(p for p in paths if not p.startswith("lifecycle."))


def _collect_paths(kind: str, schema: Mapping[str, Any], prefix: str, out: set[str]) -> None:
    schema = resolve(kind, schema)
    for branch in schema.get("oneOf", ()):
        _collect_paths(kind, branch, prefix, out)
    for name, sub in schema.get("properties", {}).items():
        path = f"{prefix}{name}"
        out.add(path)
        _collect_paths(kind, sub, f"{path}.", out)
    if isinstance(schema.get("additionalProperties"), Mapping) and prefix:
        out.add(f"{prefix}*")


def defaults_of(kind: str, schema: Mapping[str, Any]) -> dict[str, Any]:
    """The ``default`` of each property of ``schema`` that declares one."""
    props = resolve(kind, schema).get("properties", {})
    return {name: resolve(kind, sub)["default"] for name, sub in props.items()
            if "default" in resolve(kind, sub)}
