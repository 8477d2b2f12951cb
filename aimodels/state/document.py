"""The state document, whichever backend holds it: bytes to a ``State`` (checked) and back,
and the claim that makes a state the state of one Stack.

Every backend reads and writes the same JSON document (``formatVersion`` 1, described by
``values.STATE_SCHEMA``), so a state moves between a file and a blob byte for byte. Messages
name the document as its backend does (``where``: ``state file /path`` or ``state blob URL``).
"""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

from aimodels.errors import AimodelsError
from aimodels.fastschema import compiled
from aimodels.model.kinds import RESOURCE_KINDS
from aimodels.state.values import FORMAT_VERSION, STATE_SCHEMA, StackIdentity, State

RESTORE_HINT = ("Restore it from version control or a backup; aimodels never writes half a "
                "file.")


def encode_state(state: State) -> bytes:
    """The document's bytes: sorted keys, two-space indent, a final newline (diffable)."""
    return (json.dumps(state.to_dict(), indent=2, sort_keys=True) + "\n").encode("utf-8")


def parse_state(where: str, raw: bytes, hint: str = RESTORE_HINT) -> State:
    """The State in ``raw``; AimodelsError naming ``where`` when it is not UTF-8 JSON of our
    ``formatVersion`` matching the schema, or lists an address twice."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise AimodelsError(
            f"The {where} is not UTF-8 text (byte {exc.start}): it is not a state "
            "file aimodels wrote, or it was damaged", hint=hint) from exc
    return State.from_dict(_parse(where, text, hint))


def _parse(where: str, text: str, hint: str) -> dict[str, Any]:
    try:
        data: dict[str, Any] = json.loads(text)
    except (ValueError, RecursionError) as exc:  # RecursionError: nested beyond any state
        raise AimodelsError(
            f"The {where} is not valid JSON (line {getattr(exc, 'lineno', '?')}): "
            "it may have been edited by hand or truncated", hint=hint) from exc
    version = data.get("formatVersion") if isinstance(data, dict) else None
    if isinstance(data, dict) and version != FORMAT_VERSION:
        raise AimodelsError(
            f"The {where} has formatVersion {version!r}; this aimodels reads "
            f"formatVersion {FORMAT_VERSION}",
            hint="Use the aimodels version that wrote it, or upgrade aimodels.")
    if not compiled(STATE_SCHEMA)(data):
        _explain_invalid(where, data, hint)
    _check_unique(where, data)
    return data


def _explain_invalid(where: str, data: dict[str, Any], hint: str) -> None:
    """Raise with jsonschema's best error when it finds one: the compiled check only says
    whether a document is valid, and judges a few documents stricter (jsonschema decides).
    Imported here: jsonschema costs every plan ~0.05 s of imports for a state that is valid."""
    import jsonschema

    problem = jsonschema.exceptions.best_match(
        jsonschema.Draft202012Validator(STATE_SCHEMA).iter_errors(data))
    if problem is None:
        return
    place = "/".join(str(p) for p in problem.absolute_path) or "(top level)"
    what = problem.message
    if place.endswith("/address") and problem.validator == "pattern":
        what = (f"{problem.instance!r} is not Kind/name with a known kind "
                f"({', '.join(RESOURCE_KINDS)})")
    raise AimodelsError(f"The {where} is invalid at {place}: {what}", hint=hint)


def _check_unique(where: str, data: dict[str, Any]) -> None:
    """Every address once (one pass: states of thousands of resources stay fast)."""
    seen: set[str] = set()
    duplicates: set[str] = set()
    for item in data["resources"]:
        address = item["address"]
        (duplicates if address in seen else seen).add(address)
    if duplicates:
        raise AimodelsError(
            f"The {where} lists {', '.join(sorted(duplicates))} more than once")


def claim_state(where: str, state: State, stack: StackIdentity) -> State:
    """``state`` as the state of ``stack``, which its next write records.

    A state that records another Stack raises AimodelsError naming both (exit 1: the state is
    wrong for these manifests, not stale, so running again would not help). A state that
    records none, new or written before aimodels recorded it, is taken as this Stack's.
    """
    if state.stack is None:
        return replace(state, stack=stack)
    if state.stack.matches(stack):
        return state
    raise AimodelsError(
        f"The {where} belongs to another Stack:\n"
        f"  the state records     {state.stack.describe()}, lineage {state.lineage}\n"
        f"  the manifests declare {stack.describe()}\n"
        "Used here, it would make the other Stack's resources this one's and plan those "
        "not in these manifests for deletion, so it is refused",
        hint="If the state was put here by mistake, put this Stack's own state back (or "
        "move it away to start with an empty state). If this Stack really was renamed "
        "or moved, run `aimodels state rehome` with the same -f to make the state its own.",
    )
