"""What the plan renderers share: a plan seen as a person reads it, before any formatting.

Text and markdown print the same things (the legend, the headline and reasons of a change, one
line per field, the summary sentence); this module says *what* they are, and ``plan_text`` /
``plan_markdown`` say how they look. ``plan_json`` shares only the masking.

Secrets are masked here a second time, on purpose. The planner already carries
``SENSITIVE_VALUE`` in ``before``/``after``, but a renderer is the last place a leak can be
stopped, so anything at or under a path that a field change marks sensitive is masked again
before it is printed. Not for deciding anything: this module only reads the plan.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from typing import Any

from aimodels.errors import Severity
from aimodels.plan.values import (
    SENSITIVE_CHANGED,
    SENSITIVE_VALUE,
    Action,
    Change,
    FieldChange,
    Plan,
    PlanSummary,
)
from aimodels.render.diagnostics import counted

#: The marker of a forget (a no-op in Azure that only drops the state entry), as in Terraform.
FORGET_SYMBOL = "."

#: The marker of a record (a lifecycle change written into the state only, no call to Azure).
RECORD_SYMBOL = "*"

#: The note after a field whose change forces a replacement.
FORCES_REPLACEMENT = "# forces replacement"

#: What each symbol means, in the order the legend lists them.
_LEGEND = (("+", "create"), ("~", "update in place"), ("-", "destroy"),
           ("-/+", "destroy and then create replacement"),
           (FORGET_SYMBOL, "forget (drop from the state only)"),
           (RECORD_SYMBOL, "record a lifecycle change in the state (no call to Azure)"))


@dataclass(frozen=True, slots=True)
class FieldLine:
    """One line of a change's body: ``sign`` is ``+`` (added), ``-`` (removed) or ``~`` (changed).

    ``text`` is ``path: value`` or ``path: before -> after``, values already masked and quoted;
    ``forces_replacement`` asks the formatter to add the ``# forces replacement`` note.
    """

    sign: str
    text: str
    forces_replacement: bool = False


def masked_plan(plan: Plan) -> Plan:
    """The plan with every change passed through ``masked_change``."""
    return replace(plan, changes=tuple(masked_change(c) for c in plan.changes))


def masked_change(change: Change) -> Change:
    """The change with anything under a sensitive field path masked in every value it carries."""
    secret = tuple(fc.path for fc in change.field_changes if fc.sensitive)
    if not secret:
        return change
    return replace(change, before=_mask(change.before, "spec", secret),
                   after=_mask(change.after, "spec", secret),
                   field_changes=tuple(_mask_field(fc, secret) for fc in change.field_changes))


def _mask(value: Any, path: str, secret: tuple[str, ...]) -> Any:
    """A copy of ``value`` (found at ``path``) with every secret subtree set to SENSITIVE_VALUE."""
    if value is None:
        return None
    if _covered(path, secret):
        return SENSITIVE_VALUE
    if isinstance(value, Mapping):
        return {k: _mask(v, f"{path}.{k}", secret) for k, v in value.items()}
    return value


def _mask_field(fc: FieldChange, secret: tuple[str, ...]) -> FieldChange:
    if fc.sensitive or not _covered(fc.path, secret):
        return fc
    before, after = (None if v is None else SENSITIVE_VALUE for v in (fc.before, fc.after))
    return FieldChange(fc.path, before, after, forces_replacement=fc.forces_replacement,
                       sensitive=True)


def _covered(path: str, secret: tuple[str, ...]) -> bool:
    return any(path == p or path.startswith((f"{p}.", f"{p}[")) for p in secret)


def shown_changes(plan: Plan) -> tuple[Change, ...]:
    """The changes a person is shown: every action but unchanged no-ops (forgets and records
    are shown)."""
    return tuple(c for c in plan.changes if c.action is not Action.NOOP or c.is_state_only)


def symbol(change: Change) -> str:
    """The marker printed before the address (``+``, ``~``, ``-/+``, ``-``, ``.``, ``*``)."""
    if change.is_record:
        return RECORD_SYMBOL
    return FORGET_SYMBOL if change.is_forget else change.action.symbol


def action_word(change: Change) -> str:
    """The action as one word (``create`` ... ``forget``, ``record``), for tables."""
    if change.is_record:
        return "record"
    return "forget" if change.is_forget else change.action.value


def verb(change: Change) -> str:
    """What happens to the resource: ``must be replaced``, ``will be forgotten (...)``..."""
    if change.is_forget:
        return "will be forgotten (dropped from the state only)"
    if change.is_record:
        return "will have its lifecycle recorded in the state (no call to Azure)"
    return change.action.verb


def headline(change: Change) -> str:
    """``ModelDeployment/phi4-chat must be replaced``: the address and what happens to it."""
    return f"{change.address} {verb(change)}"


def legend(changes: tuple[Change, ...]) -> list[tuple[str, str]]:
    """The ``(symbol, meaning)`` pairs of the symbols these changes use, in a fixed order."""
    used = {symbol(c) for c in changes}
    return [entry for entry in _LEGEND if entry[0] in used]


def field_lines(change: Change) -> list[FieldLine]:
    """One line per field: the planned spec of a create, what goes for a delete, else the diff."""
    if change.is_forget:
        return []
    if change.action is Action.CREATE:
        return [FieldLine("+", f"{path}: {show(v)}") for path, v in leaves(change.after)]
    if change.action is Action.DELETE:
        return [FieldLine("-", f"{path}: {show(v)}") for path, v in leaves(change.before)]
    return [field_line(fc) for fc in change.field_changes]


def field_line(fc: FieldChange) -> FieldLine:
    """One changed field as a line: `+` added, `-` removed, `~` changed (secrets masked)."""
    if fc.before is None:
        return FieldLine("+", f"{fc.path}: {_side(fc, fc.after)}", fc.forces_replacement)
    if fc.after is None:
        return FieldLine("-", f"{fc.path}: {_side(fc, fc.before)}", fc.forces_replacement)
    moved = SENSITIVE_CHANGED if fc.sensitive else f"{show(fc.before)} -> {show(fc.after)}"
    return FieldLine("~", f"{fc.path}: {moved}", fc.forces_replacement)


def _side(fc: FieldChange, value: Any) -> str:
    return SENSITIVE_VALUE if fc.sensitive else show(value)


def leaves(spec: Mapping[str, Any] | None, path: str = "spec") -> Iterator[tuple[str, Any]]:
    """``(dotted path, value)`` for every leaf of a spec, keys sorted; lists stay whole."""
    if spec is None:
        return
    for key in sorted(spec, key=str):
        value, here = spec[key], f"{path}.{key}"
        if isinstance(value, Mapping) and value:
            yield from leaves(value, here)
        else:
            yield here, value


def show(value: Any) -> str:
    """A value as JSON (strings quoted), except the sensitive marker, shown as it is."""
    if value == SENSITIVE_VALUE:
        return SENSITIVE_VALUE
    return json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)


def summary_counts(summary: PlanSummary) -> str:
    """``1 to create, 0 to update, 1 to replace, 0 to destroy`` (and forgets and lifecycle
    records when there are)."""
    parts = [f"{summary.create} to create", f"{summary.update} to update",
             f"{summary.replace} to replace", f"{summary.delete} to destroy"]
    if summary.forget:
        parts.append(f"{summary.forget} to forget")
    if summary.record:
        parts.append(f"{summary.record} lifecycle change{'s' if summary.record > 1 else ''} "
                     "to record")
    return ", ".join(parts)


def summary_sentence(plan: Plan) -> str:
    """Terraform's closing line: ``Plan: ...`` or ``No changes. ...``. An errored plan never
    says the infrastructure matches: its errors may hide changes (an unmanaged resource, a
    refused delete), so it says the plan failed."""
    summary = plan.summary()
    if summary.has_changes:
        return f"Plan: {summary_counts(summary)}."
    if plan.errored:
        return "No changes planned: the plan failed."
    return "No changes. Your infrastructure matches the manifests."


def error_count(plan: Plan) -> int:
    """How many of the plan's diagnostics are errors."""
    return sum(d.severity is Severity.ERROR for d in plan.diagnostics)


def refusal(plan: Plan) -> str | None:
    """``This plan cannot be applied: N errors.`` for an errored plan, else None."""
    if not plan.errored:
        return None
    return f"This plan cannot be applied: {counted(error_count(plan), 'error')}."
