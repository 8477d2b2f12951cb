"""The happy path of JSON Schema validation: a compiled validator (jsonschema-rs) that only says
whether a document is valid.

Every plan validates every manifest and the state file; with jsonschema alone that was about
three quarters of a second of CPU at 1,000 resources (docs/performance.md), although nearly
every document is valid. ``is_valid`` answers that in microseconds. Only a document it does not
call valid goes through jsonschema, which finds and explains the errors, so messages are
jsonschema's as before, and a document jsonschema-rs cannot read (a YAML date, which is not a
JSON type) or judges stricter (Python's ``$`` also matches before a final newline) just takes
the slow path, which decides. Without jsonschema-rs installed, every document takes it.
"""

from __future__ import annotations

import decimal  # noqa: F401 - see below
import json
from collections.abc import Callable, Mapping
from typing import Any

# jsonschema-rs imports `decimal` from Rust the first time it needs it; a Ctrl-C that lands
# during that import is a Rust panic (a traceback) instead of a KeyboardInterrupt. Imported
# here first, it is only looked up there.
try:
    import jsonschema_rs
    _HAVE_RS = True
except ImportError:  # pragma: no cover - a dependency; the slow path still decides
    _HAVE_RS = False

#: A compiled check: True only when the document certainly matches its schema.
Check = Callable[[Any], bool]


def compiled(schema: Mapping[str, Any]) -> Check:
    """The compiled Draft 2020-12 check of ``schema``, compiled once per schema object (pass
    the same, unchanging object: ``load_schema``'s cached one, ``STATE_SCHEMA``)."""
    found = _COMPILED.get(id(schema))
    if found is None or found[0] is not schema:
        found = _COMPILED[id(schema)] = (schema, _compile(schema))
    return found[1]


#: Compiled checks by schema object (kept, so an id is never reused while cached).
_COMPILED: dict[int, tuple[Mapping[str, Any], Check]] = {}


def _compile(schema: Mapping[str, Any]) -> Check:
    if not _HAVE_RS:  # pragma: no cover
        return _never
    validator = jsonschema_rs.Draft202012Validator(json.loads(json.dumps(schema)))

    def check(document: Any) -> bool:
        try:
            return bool(validator.is_valid(document))
        except (ValueError, TypeError, OverflowError, RecursionError):
            return False  # not plain JSON values: jsonschema decides

    return check


def _never(document: Any) -> bool:  # pragma: no cover
    return False
