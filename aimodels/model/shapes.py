"""The JSON type of every field of a kind's spec, as its schema file gives it, to check specs
that did not come through the manifest loader: the applied specs a state file remembers.

A state is plain JSON that people can edit. Its schema checks the entries, not the specs in
them; a provider reads an applied spec as the loader's checks guarantee (``model`` an object,
``model.catalog`` a string), so a hand edit there failed inside a provider (exit 70). Only the
types are checked here: an applied spec is normalized (defaults filled, digests added, secrets
masked), so the manifest schema's other rules (required fields, patterns, no extra fields) do
not hold for it, and a field the schema does not know is left alone. Null is accepted
anywhere: normalized specs leave unset fields out or None, and every reader takes both.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from importlib import resources
from typing import Any

_PYTHON_TYPES: dict[str, tuple[type, ...]] = {
    "object": (dict,), "array": (list,), "string": (str,), "integer": (int,),
    "number": (int, float), "boolean": (bool,), "null": (type(None),),
}
_NAMES = {dict: "an object", list: "a list", str: "a string", int: "a number",
          float: "a number", bool: "a boolean"}


def json_type_words(value: Any) -> str:
    """What ``value`` is, in JSON's words (``"a list"``): for messages that must not quote it."""
    return _NAMES.get(type(value), f"a {type(value).__name__}")


def spec_shape_problem(kind: str, spec: Mapping[str, Any]) -> tuple[str, str] | None:
    """``(dotted path, what is there)`` of the first field of ``spec`` whose JSON type the
    kind's schema does not allow (``("model.catalog", "a boolean")``), or None."""
    return _problem(_spec_shape(kind), spec, "")


@functools.cache
def _spec_shape(kind: str) -> dict[str, Any]:
    """The schema of ``kind``'s spec reduced to types, properties and items, ``$ref`` resolved
    and ``oneOf``/``anyOf`` branches merged (a field is fine if any branch allows its type)."""
    text = resources.files("aimodels").joinpath("schemas", f"{kind.lower()}.schema.json") \
        .read_text(encoding="utf-8")
    schema = json.loads(text)
    return _reduce(schema["properties"]["spec"], schema.get("$defs", {}))


def _reduce(node: Mapping[str, Any], defs: Mapping[str, Any]) -> dict[str, Any]:
    types: set[str] = set()
    properties: dict[str, Any] = {}
    items: list[Mapping[str, Any]] = []
    for branch in _branches(node, defs):
        declared = branch.get("type")
        types.update([declared] if isinstance(declared, str) else declared or ())
        for name, child in branch.get("properties", {}).items():
            properties.setdefault(name, []).append(child)
        if isinstance(branch.get("items"), Mapping):
            items.append(branch["items"])
    return {"types": frozenset(types),
            "properties": {name: _reduce({"anyOf": children}, defs)
                           for name, children in properties.items()},
            "items": _reduce({"anyOf": items}, defs) if items else None}


def _branches(node: Mapping[str, Any], defs: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """``node`` and every ``oneOf``/``anyOf`` branch under it, ``$ref`` resolved."""
    while "$ref" in node:
        node = defs[node["$ref"].rsplit("/", 1)[1]]
    found = [node]
    for branch in (*node.get("oneOf", ()), *node.get("anyOf", ())):
        found += _branches(branch, defs)
    return found


def _problem(shape: Mapping[str, Any], value: Any, path: str) -> tuple[str, str] | None:
    if value is None:
        return None
    allowed = shape["types"]
    if allowed and not any(_is(value, name) for name in allowed):
        return path or "spec", json_type_words(value)
    if isinstance(value, dict):
        for name, child in shape["properties"].items():
            if name in value and (found := _problem(child, value[name],
                                                    f"{path}.{name}" if path else name)):
                return found
    if isinstance(value, list) and shape["items"] is not None:
        for index, item in enumerate(value):
            if found := _problem(shape["items"], item, f"{path}[{index}]"):
                return found
    return None


def _is(value: Any, json_type: str) -> bool:
    if isinstance(value, bool):  # a bool is an int to Python, not to JSON
        return json_type == "boolean"
    return isinstance(value, _PYTHON_TYPES.get(json_type, ()))
