"""JSON-shaped values (dicts, lists, scalars) as manifests and Azure bodies hold them."""

from __future__ import annotations

import copy
from typing import Any

_ATOMS = frozenset({str, int, float, bool, type(None)})


def copied(value: Any) -> Any:
    """A deep copy of JSON-shaped data (dicts, lists, scalars), anything else by
    ``copy.deepcopy``. Loading and planning copy each spec several times; this is ~5x faster
    (and does not keep a YAML alias shared: each use gets its own copy)."""
    kind = type(value)
    # Scalars are most of the items: tested inline, not by a call each.
    if kind is dict:
        return {key: item if type(item) in _ATOMS else copied(item)
                for key, item in value.items()}
    if kind is list:
        return [item if type(item) in _ATOMS else copied(item) for item in value]
    if kind in _ATOMS:
        return value
    return copy.deepcopy(value)
