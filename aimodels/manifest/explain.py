"""jsonschema errors as sentences a person can act on, located at the offending YAML node.

jsonschema says ``'vmSzie' was unexpected``; we say ``unknown field 'vmSzie' in spec; did you
mean 'vmSize'?`` and list what the spec takes. Enums list their values, patterns are explained
by the schema's own ``patternErrorMessage`` (the same text editors show), ``oneOf`` forms
(replicas or autoscale) are told apart by the keys present, and a value YAML read as a date or a
number where a string belongs comes with the quoted spelling to use. Values under a credential
are never echoed.
"""

from __future__ import annotations

import datetime
import difflib
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aimodels.errors import Diagnostic, error
from aimodels.manifest.schemas import resolve
from aimodels.manifest.secrets import CREDENTIAL_KEYS
from aimodels.manifest.yamldoc import FieldPath, YamlDocument, format_path

if TYPE_CHECKING:  # errors come from jsonschema, imported only when a document is invalid
    from jsonschema import ValidationError

RFC1123 = "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"
_FIELD_HINTS = {
    ("CustomModel", "lifecycle"): "A CustomModel is not an ARM resource and has no lifecycle "
    "block; spec.deletePolicy says what a delete does.",
}


@dataclass(frozen=True, slots=True)
class _Context:
    doc: YamlDocument
    kind: str
    address: str
    #: (parent path, field) pairs a misspelt key stands for: not reported again as missing.
    typos: frozenset[tuple[FieldPath, str]] = frozenset()

    def diag(self, path: FieldPath, summary: str, detail: str = "", *,
             key: bool = False) -> Diagnostic:
        return error(summary, detail, source=self.doc.at(path, key=key),
                     path=format_path(path), address=self.address)


def explain_errors(errors: Iterable[ValidationError], doc: YamlDocument, kind: str,
                   address: str) -> list[Diagnostic]:
    """One or more diagnostics per schema error, duplicates (same place, same words) dropped."""
    errors = list(errors)
    ctx = _Context(doc, kind, address, _typos(errors, kind))
    seen: dict[tuple[str, str], Diagnostic] = {}
    for err in errors:
        for diag in explain(err, ctx):
            seen.setdefault((diag.path, diag.summary), diag)
    return list(seen.values())


def explain(err: ValidationError, ctx: _Context) -> list[Diagnostic]:
    """Diagnostics for one schema error (several for unknown fields, none when another error
    on the same node already says it)."""
    handler = _HANDLERS.get(str(err.validator), _generic)
    return handler(err, ctx)


def did_you_mean(word: str, choices: Iterable[str]) -> str | None:
    """The closest choice to ``word`` (letter case ignored), or None."""
    by_lower = {c.lower(): c for c in choices}
    if word.lower() in by_lower:
        return by_lower[word.lower()]
    close = difflib.get_close_matches(word.lower(), list(by_lower), n=1, cutoff=0.6)
    return by_lower[close[0]] if close else None


def _typos(errors: Iterable[ValidationError], kind: str) -> frozenset[tuple[FieldPath, str]]:
    """The fields that unknown keys most likely meant (``vmSzie`` -> ``vmSize``)."""
    out = set()
    for err in errors:
        if err.validator != "additionalProperties" or not isinstance(err.instance, Mapping):
            continue
        allowed = list(resolve(kind, _schema(err)).get("properties", {}))
        for key in err.instance:
            guess = did_you_mean(str(key), allowed) if key not in allowed else None
            if guess is not None and guess not in err.instance:
                out.add((tuple(err.absolute_path), guess))
    return frozenset(out)


def _unknown_fields(err: ValidationError, ctx: _Context) -> list[Diagnostic]:
    allowed = list(resolve(ctx.kind, _schema(err)).get("properties", {}))
    parent = tuple(err.absolute_path)
    if not isinstance(err.instance, Mapping):
        return []
    return [_unknown_field(ctx, parent, str(key), allowed)
            for key in err.instance if key not in allowed]


def _unknown_field(ctx: _Context, parent: FieldPath, key: str,
                   allowed: Sequence[str]) -> Diagnostic:
    where = format_path(parent) or "the document"
    guess = did_you_mean(key, allowed)
    summary = f"unknown field '{key}' in {where}" + (f"; did you mean '{guess}'?" if guess else "")
    detail = [_takes(ctx.kind, parent, allowed), _FIELD_HINTS.get((ctx.kind, key), "")]
    return ctx.diag((*parent, key), summary, "\n".join(d for d in detail if d), key=True)


def _takes(kind: str, parent: FieldPath, allowed: Sequence[str]) -> str:
    owner = f"A {kind}'s {format_path(parent)}" if parent else f"A {kind} document"
    return f"{owner} takes: {', '.join(allowed)}." if allowed else f"{owner} takes no fields."


def _required(err: ValidationError, ctx: _Context) -> list[Diagnostic]:
    if not isinstance(err.instance, Mapping):
        return []
    parent = tuple(err.absolute_path)
    props = resolve(ctx.kind, _schema(err)).get("properties", {})
    out = []
    for name in _listed(err):
        if name in err.instance or (parent, name) in ctx.typos:
            continue
        where = f" in {format_path(parent)}" if parent else ""
        about = resolve(ctx.kind, props.get(name, {})).get("description", "")
        detail = [f"{name}: {about}" if about else "", _why(err)]
        out.append(ctx.diag(parent, f"missing required field '{name}'{where}",
                            "\n".join(d for d in detail if d), key=True))
    return out


def _why(err: ValidationError) -> str:
    """The reason a conditional (if/then) rule applies, from the ``then`` schema's description."""
    if "then" in err.absolute_schema_path:
        return str(_schema(err).get("description", ""))
    return ""


def _enum(err: ValidationError, ctx: _Context) -> list[Diagnostic]:
    path = tuple(err.absolute_path)
    allowed = [str(v) for v in _listed(err)]
    guess = did_you_mean(str(err.instance), allowed) if not _sensitive(path) else None
    summary = f"must be one of {', '.join(allowed)}{_not(ctx, path, err.instance)}"
    summary += f" (did you mean '{guess}'?)" if guess else ""
    return [ctx.diag(path, summary, _description(err))]


def _const(err: ValidationError, ctx: _Context) -> list[Diagnostic]:
    path = tuple(err.absolute_path)
    return [ctx.diag(path, f"must be '{err.validator_value}'{_not(ctx, path, err.instance)}")]


def _type(err: ValidationError, ctx: _Context) -> list[Diagnostic]:
    path = tuple(err.absolute_path)
    expected = err.validator_value
    expected = expected if isinstance(expected, list) else [expected]
    wanted = " or ".join(_TYPE_WORDS.get(str(t), str(t)) for t in expected)
    summary = f"must be {wanted}, not {type_name(err.instance)}"
    detail = [_quote_hint(ctx, path, err.instance) if "string" in expected else "",
              _description(err)]
    return [ctx.diag(path, summary, "\n".join(d for d in detail if d))]


def _quote_hint(ctx: _Context, path: FieldPath, value: Any) -> str:
    spot = ctx.doc.spot(path)
    if spot is None or spot.raw is None or _sensitive(path) or isinstance(value, Mapping | list):
        return ""
    key = path[-1] if path and isinstance(path[-1], str) else "value"
    return (f"YAML reads {spot.raw} as {type_name(value)}; quote it to keep it a string: "
            f'{key}: "{spot.raw}"')


def _pattern(err: ValidationError, ctx: _Context) -> list[Diagnostic]:
    path = tuple(err.absolute_path)
    rule = (_schema(err).get("patternErrorMessage")
            or f"a match for the pattern {err.validator_value}")
    if "propertyNames" in err.absolute_schema_path:
        return [ctx.diag(path, f"key '{err.instance}' is not valid",
                         f"Keys of {format_path(path)} must be {rule}.")]
    if _sensitive(path):
        return [ctx.diag(path, "is not valid (the value is not shown)", f"It must be {rule}.")]
    what = "name" if path[-1:] == ("name",) else str(path[-1]) if path else "value"
    detail = [f"It must be {rule}.", _name_suggestion(err.instance, err.validator_value)]
    return [ctx.diag(path, f"'{_clip(str(err.instance))}' is not a valid {what}",
                     "\n".join(d for d in detail if d))]


def _name_suggestion(value: Any, pattern: object) -> str:
    if pattern != RFC1123 or not isinstance(value, str):
        return ""
    candidate = re.sub(r"[^a-z0-9]+", "-", value.lower()).strip("-")[:63].strip("-")
    return f"Try '{candidate}'." if candidate and candidate != value else ""


def _length(err: ValidationError, ctx: _Context) -> list[Diagnostic]:
    if not isinstance(err.instance, str):
        return _generic(err, ctx)  # jsonschema checks lengths of strings only
    path = tuple(err.absolute_path)
    size, limit = len(err.instance), err.validator_value
    if err.validator == "minLength":
        summary = "must not be empty" if size == 0 else \
            f"is {size} characters long; the minimum is {limit}"
    else:
        summary = f"is {size} characters long; at most {limit} are allowed"
    return [ctx.diag(path, summary, _description(err))]


def _bound(err: ValidationError, ctx: _Context) -> list[Diagnostic]:
    path = tuple(err.absolute_path)
    words = {"minimum": "at least", "maximum": "at most"}[str(err.validator)]
    return [ctx.diag(path, f"must be {words} {err.validator_value}, not {err.instance}",
                     _description(err))]


def _unique(err: ValidationError, ctx: _Context) -> list[Diagnostic]:
    if not isinstance(err.instance, list):
        return _generic(err, ctx)  # jsonschema checks uniqueness of arrays only
    path = tuple(err.absolute_path)
    items = [repr(i) for i in err.instance]
    dup = next((i for i in items if items.count(i) > 1), "an item")
    return [ctx.diag(path, f"lists {dup} more than once")]


def _not_allowed(err: ValidationError, ctx: _Context) -> list[Diagnostic]:
    path = tuple(err.absolute_path)
    message = _schema(err).get("errorMessage") or f"{format_path(path)} is not allowed here"
    return [ctx.diag(path, str(message), key=True)]


def _one_of(err: ValidationError, ctx: _Context) -> list[Diagnostic]:
    """Tell the forms of a oneOf apart by the keys present (a key only one form has decides;
    keys several forms share, like a model's ``version``, decide nothing), then explain
    within that form."""
    if not isinstance(err.instance, Mapping):
        return []  # the sibling `type` error says it better
    path = tuple(err.absolute_path)
    branches = [resolve(ctx.kind, b) for b in _listed(err)]
    fields = [list(b.get("properties", {})) for b in branches]
    present = set(map(str, err.instance))
    hits = [i for i, names in enumerate(_own_keys(fields)) if names & present]
    if len(hits) > 1:
        return [_mixed_forms(ctx, path, branches, hits, err.instance)]
    if len(hits) == 1:
        inner = [e for e in err.context if e.relative_schema_path[0] == hits[0]]
        return [d for e in inner for d in explain(e, ctx)]
    allowed = [name for names in fields for name in names]
    forms = " or ".join(_form(b) for b in branches)
    if present - set(allowed):
        return [_unknown_field(ctx, path, k, allowed) for k in map(str, err.instance)
                if k not in allowed]
    if present:
        return [ctx.diag(path, f"is incomplete: set {forms}", _description(err), key=True)]
    return [ctx.diag(path, f"is empty: set {forms}", _description(err), key=True)]


def _own_keys(fields: list[list[str]]) -> list[set[str]]:
    """For each form, the keys no other form has."""
    return [set(names).difference(*(other for j, other in enumerate(fields) if j != i))
            for i, names in enumerate(fields)]


def _mixed_forms(ctx: _Context, path: FieldPath, branches: list[Mapping[str, Any]],
                 hits: list[int], instance: Mapping[Any, Any]) -> Diagnostic:
    forms = " or ".join(_form(branches[i]) for i in hits)
    own = _own_keys([list(b.get("properties", {})) for b in branches])
    found = [f"{k} ({branches[i].get('title', 'form ' + str(i + 1))})"
             for i in hits for k in branches[i].get("properties", {})
             if k in instance and k in own[i]]
    second = next(k for k in branches[hits[1]].get("properties", {})
                  if k in instance and k in own[hits[1]])
    return ctx.diag((*path, second), f"takes {forms}, not both",
                    f"Found {' and '.join(found)}: keep one form.", key=True)


def _form(branch: Mapping[str, Any]) -> str:
    names = branch.get("required") or list(branch.get("properties", {}))
    return "{" + ", ".join(names) + "}" if len(names) > 1 else f"'{names[0]}'"


def _generic(err: ValidationError, ctx: _Context) -> list[Diagnostic]:
    path = tuple(err.absolute_path)
    summary = f"is not valid ({err.validator})" if _sensitive(path) else err.message
    return [ctx.diag(path, summary, _description(err))]


def _description(err: ValidationError) -> str:
    about = _schema(err).get("description")
    return str(about) if about else ""


def _schema(err: ValidationError) -> Mapping[str, Any]:
    """The schema object holding the rule that failed. jsonschema also allows a boolean schema
    (or none, for an error built by hand); ours have no boolean subschemas, and an empty one
    explains nothing rather than crash."""
    return err.schema if isinstance(err.schema, Mapping) else {}


def _listed(err: ValidationError) -> list[Any]:
    """The failing rule's list: ``required`` names, ``enum`` values, ``oneOf`` branches (set on
    every error validation reports; typed as possibly unset by jsonschema)."""
    value = err.validator_value
    return list(value) if isinstance(value, list | tuple) else []


def _not(ctx: _Context, path: FieldPath, value: Any) -> str:
    """``, not 'Fast'`` as written in the file, or nothing for a value we must not echo."""
    if _sensitive(path):
        return ""
    spot = ctx.doc.spot(path)
    shown = spot.raw if spot is not None and spot.raw is not None else str(value)
    return f", not '{_clip(shown)}'"


def _sensitive(path: FieldPath) -> bool:
    return any(str(p).lower() in CREDENTIAL_KEYS for p in path)


def _clip(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


_TYPE_WORDS = {"object": "a mapping", "array": "a list", "string": "a string",
               "integer": "an integer", "number": "a number", "boolean": "true or false",
               "null": "empty"}


def type_name(value: Any) -> str:
    """What YAML made of a value, in words: ``a date``, ``a mapping``, ``an integer``..."""
    checks: list[tuple[type | tuple[type, ...], str]] = [
        (bool, "true/false"), (int, "an integer"), (float, "a number"), (str, "a string"),
        (datetime.datetime, "a timestamp"), (datetime.date, "a date"), (Mapping, "a mapping"),
        (list, "a list"), (bytes, "binary data"), ((set, frozenset), "a set"),
    ]
    if value is None:
        return "empty (null)"
    return next((word for cls, word in checks if isinstance(value, cls)), type(value).__name__)


_Handler = Callable[["ValidationError", _Context], list[Diagnostic]]
_HANDLERS: dict[str, _Handler] = {
    "additionalProperties": _unknown_fields, "required": _required, "enum": _enum,
    "const": _const, "type": _type, "pattern": _pattern, "minLength": _length,
    "maxLength": _length, "minimum": _bound, "maximum": _bound, "uniqueItems": _unique,
    "not": _not_allowed, "oneOf": _one_of,
}
