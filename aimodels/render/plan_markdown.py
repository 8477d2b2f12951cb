"""``aimodels plan --format markdown``: the plan as a pull-request comment.

A title with the counts, a table of changes (action, address, why in short, cost delta; a
change that a pre-flight error blocks says so in its row), the pre-flight findings (summary, then
what to do on the next line), the cost delta, then one folded ``<details>`` block per change
holding its own findings and its fields in a ```` ```diff ```` fence, so GitHub colours ``+`` and
``-`` (``~`` becomes ``!``, which the diff highlighter marks as changed).

GitHub refuses comments over 65,535 characters. Past ``budget`` we fold away the details of the
largest changes first; if the table and findings alone are still too long, we keep the errors,
then the rows of blocked changes, then the destructive ones, and say what was left out. Every
value that came from a manifest or from Azure is escaped, so a pipe or a backtick cannot break
the table or a fence.

Given the Stack's name, the comment ends with a hidden marker, ``<!-- aimodels-plan
stack=NAME -->``: GitHub does not show it, and a CI job finds its own earlier comment by it, to
update that one in place (examples/ci/github, docs/ci.md).
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable
from dataclasses import dataclass, replace

from aimodels.errors import Diagnostic, Severity
from aimodels.plan.values import Action, Change, Plan, Reason
from aimodels.render.diagnostics import counted, errors_first
from aimodels.render.plan_cost import cost_line, cost_totals, hourly_delta, total_line
from aimodels.render.plan_view import (
    FORCES_REPLACEMENT,
    FieldLine,
    action_word,
    error_count,
    field_lines,
    masked_plan,
    refusal,
    shown_changes,
    summary_counts,
    symbol,
    verb,
)

#: Comment size we aim under: GitHub's limit is 65,535, and CI wrappers add their own lines.
MARKDOWN_BUDGET = 60_000

#: The hidden line a CI job finds its comment (or issue) by; ``{subject}`` is plan or drift.
_MARKER = "<!-- aimodels-{subject} stack={stack} -->"
#: What a Stack name may bring into a marker: an RFC 1123 label cannot close the comment.
_MARKER_NAME = re.compile(r"[^A-Za-z0-9._-]")

#: Room kept for the section headings and the lines that say what was left out.
_NOTE_ROOM = 600

_TABLE_HEADER = "| Action | Resource | Why | Cost |\n|---|---|---|---|"
#: Added to the "Why" cell of a change a pre-flight error blocks.
BLOCKED = "**blocked by a pre-flight error**"
#: Field-line signs as GitHub's diff highlighter colours them (``!``: changed).
DIFF_SIGNS = {"+": "+", "-": "-", "~": "!"}
#: Characters markdown could act on; ``$`` because GitHub reads ``$...$`` as math.
_SPECIAL = re.compile(r"([\\`*_\[\]<>|~#$])")
#: Which rows stay when the table itself must be cut: the changes a reviewer must not miss first.
_KEEP_FIRST = {Action.REPLACE: 0, Action.DELETE: 1, Action.UPDATE: 2, Action.CREATE: 3,
               Action.NOOP: 4}
_SHORT = {
    Reason.CREATE_BECAUSE_NOT_IN_LIVE: "new",
    Reason.RECREATE_BECAUSE_DELETED_OUTSIDE: "deleted outside aimodels",
    Reason.UPDATE_BECAUSE_FIELDS_CHANGED: "manifest changed",
    Reason.UPDATE_BECAUSE_CHANGED_OUTSIDE: "changed outside aimodels",
    Reason.UPDATE_BECAUSE_PROVISIONING_FAILED: "provisioning failed",
    Reason.UPDATE_BECAUSE_MODEL_REPLACED: "model replaced",
    Reason.UPDATE_BECAUSE_VERSIONS_UNUSED: "old versions unused",
    Reason.REPLACE_BECAUSE_IMMUTABLE_FIELD: "immutable field changed",
    Reason.REPLACE_BECAUSE_CONTENT_CHANGED: "weights changed",
    Reason.REPLACE_BECAUSE_MODEL_REPLACED: "model replaced",
    Reason.REPLACE_BECAUSE_REQUESTED: "replace requested",
    Reason.DELETE_BECAUSE_NOT_IN_MANIFEST: "not in the manifests",
    Reason.DELETE_BECAUSE_DESTROY_REQUESTED: "destroy requested",
    Reason.FORGET_BECAUSE_DELETED_OUTSIDE: "gone from Azure",
    Reason.RECORD_BECAUSE_LIFECYCLE_CHANGED: "lifecycle changed (state only)",
}


@dataclass(frozen=True, slots=True)
class _Comment:
    """The comment in parts; a ``None`` row, finding or detail has been left out for size."""

    head: str
    rows: tuple[str | None, ...]
    findings: tuple[str | None, ...]
    cost: str
    details: tuple[str | None, ...]
    keep_order: tuple[int, ...]

    def text(self) -> str:
        parts = [self.head, _section(_TABLE_HEADER, self.rows, "\n", "change"),
                 _section("#### Pre-flight findings\n", self.findings, "\n", "finding"),
                 self.cost, _section("#### Details", self.details, "\n\n")]
        hidden = self.details.count(None)
        if hidden:
            parts.append(f"_{counted(hidden, 'change')} not shown in detail; run `aimodels plan` "
                         "locally for the full plan._")
        return "\n\n".join(part for part in parts if part)


def render_markdown(plan: Plan, *, budget: int = MARKDOWN_BUDGET, stack: str = "") -> str:
    """The plan as a GitHub comment of at most ``budget`` characters (for any sane budget),
    ending with the hidden marker of ``stack`` when one is given."""
    marker = marker_suffix("plan", stack)
    plan = masked_plan(plan)
    changes = shown_changes(plan)
    findings = errors_first(plan.diagnostics)
    by_address: dict[str, list[Diagnostic]] = {}
    for diag in findings:
        by_address.setdefault(diag.address, []).append(diag)
    blocked = {d.address for d in findings if d.severity is Severity.ERROR}
    comment = _Comment(
        head=_head(plan), rows=tuple(_row(c, str(c.address) in blocked) for c in changes),
        findings=tuple(_finding(d) for d in findings), cost=_cost(changes),
        details=tuple(_details(c, by_address.get(str(c.address), [])) for c in changes),
        keep_order=tuple(sorted(range(len(changes)), key=lambda i: (
            str(changes[i].address) not in blocked, _KEEP_FIRST[changes[i].action]))))
    return _fit(comment, budget - len(marker)).text() + marker


def marker_suffix(subject: str, stack: str) -> str:
    """The last line of a comment, after a blank one: the hidden HTML comment that tells which
    aimodels comment this is, ``subject`` (plan or drift) of Stack ``stack``; empty when no
    Stack is named. Characters a Stack name cannot have become ``_``, so the marker is always
    one well-formed comment on one line."""
    if not stack:
        return ""
    return "\n\n" + _MARKER.format(subject=subject, stack=_MARKER_NAME.sub("_", stack))


def _section(title: str, items: tuple[str | None, ...], sep: str, noun: str = "") -> str:
    """A titled list of items, with a line counting those left out (when ``noun`` is given)."""
    kept = [item for item in items if item is not None]
    hidden = len(items) - len(kept)
    if not kept and not (hidden and noun):
        return ""
    more = f"\n\n_...and {counted(hidden, f'more {noun}')} not shown._" if hidden and noun \
        else ""
    return f"{title}{sep.join(['', *kept])}{more}"


# --- fitting under the budget -----------------------------------------------------------------


def _fit(comment: _Comment, budget: int) -> _Comment:
    """The comment itself, or with the largest details folded away, or with lists cut too."""
    excess = len(comment.text()) - budget
    if excess <= 0:
        return comment
    comment = _fold_details(comment, excess + _NOTE_ROOM)
    if len(comment.text()) <= budget:
        return comment
    return _cut_lists(comment, budget)


def _fold_details(comment: _Comment, excess: int) -> _Comment:
    """Leave out the largest details until ``excess`` characters are saved."""
    details = list(comment.details)
    by_size = sorted(range(len(details)), key=lambda i: (-len(details[i] or ""), i))
    for index in by_size:
        if excess <= 0:
            break
        excess -= len(details[index] or "") + 2
        details[index] = None
    return replace(comment, details=tuple(details))


def _cut_lists(comment: _Comment, budget: int) -> _Comment:
    """No details; findings (errors first) get what they need or half the room, rows the rest."""
    bare = replace(comment, rows=(None,) * len(comment.rows),
                   findings=(None,) * len(comment.findings),
                   details=(None,) * len(comment.details))
    room = budget - len(bare.text()) - _NOTE_ROOM
    need = sum(len(row or "") + 1 for row in comment.rows)
    findings = _take(comment.findings, range(len(comment.findings)), max(room - need, room // 2))
    used = sum(len(f) + 1 for f in findings if f is not None)
    rows = _take(comment.rows, comment.keep_order, room - used)
    return replace(bare, rows=rows, findings=findings)


def _take(items: tuple[str | None, ...], order: Iterable[int], room: int,
          ) -> tuple[str | None, ...]:
    """The items taken in ``order`` while they fit in ``room``; the others become None."""
    kept: list[str | None] = [None] * len(items)
    for index in order:
        size = len(items[index] or "") + 1
        if size > room:
            break
        kept[index], room = items[index], room - size
    return tuple(kept)


# --- the parts ----------------------------------------------------------------------------------


def _head(plan: Plan) -> str:
    """The title: the counts, ``no changes``, or ``plan failed: N errors`` (a failed plan
    never claims to match: the counts of what it would do follow)."""
    summary = plan.summary()
    if plan.errored:
        lines = [f"## aimodels plan failed: {counted(error_count(plan), 'error')}"]
        if summary.has_changes:
            lines += ["", f"Planned: {summary_counts(summary)}."]
    elif not summary.has_changes:
        lines = ["## aimodels plan: no changes", "", "Your infrastructure matches the manifests."]
    else:
        lines = [f"## aimodels plan: {summary_counts(summary)}"]
    if (refused := refusal(plan)) is not None:
        lines += ["", f"**{refused}**"]
    return "\n".join(lines)


def _row(change: Change, blocked: bool) -> str:
    cost = hourly_delta(change.cost) if change.cost else ""
    why = "; ".join(part for part in (_escape(_why(change)), BLOCKED if blocked else "") if part)
    cells = [f"{_code(symbol(change), table=True)} {action_word(change)}",
             _code(str(change.address), table=True), why, _escape(cost)]
    return f"| {' | '.join(cells)} |"


def _why(change: Change) -> str:
    """The reasons in a few words, with the fields behind them (three at most)."""
    short = "; ".join(_SHORT[reason] for reason in change.reasons)
    paths = list(change.replace_paths) or [fc.path for fc in change.field_changes]
    if (change.action not in (Action.UPDATE, Action.REPLACE) and not change.is_record) \
            or not paths:
        return short
    more = f", +{len(paths) - 3} more" if len(paths) > 3 else ""
    return f"{short} ({', '.join(paths[:3])}{more})"


def _finding(diag: Diagnostic) -> str:
    subject = ", ".join(part for part in (diag.address, diag.path) if part)
    where = f" ({_escape(str(diag.source))})" if diag.source else ""
    line = f"- **{diag.severity.value}** {_code(subject)}: {_escape(diag.summary)}{where}"
    detail = [_escape(part) for part in diag.detail.splitlines() if part.strip()]
    return f"{line}<br>\n  {'<br>'.join(detail)}" if detail else line


def _cost(changes: tuple[Change, ...]) -> str:
    return "\n".join(f"**Cost change:** {_escape(total_line(t))}." for t in cost_totals(changes))


def _details(change: Change, findings: list[Diagnostic]) -> str:
    """One folded block: what and why, its pre-flight findings, the cost, notes, warnings,
    then the fields as a diff."""
    summary = (f"<summary><code>{html.escape(symbol(change))} {html.escape(str(change.address))}"
               f"</code> {html.escape(verb(change))}</summary>")
    notes = [_escape(reason.sentence) for reason in change.reasons]
    notes += [f"**pre-flight {d.severity.value}:** {_escape(d.summary)}" for d in findings]
    notes += [_escape(cost_line(change.cost))] if change.cost else []
    notes += [_escape(note) for note in change.notes]
    notes += [f"**warning:** {_escape(w)}" for w in change.warnings]
    lines = [diff_line(line) for line in field_lines(change)]
    if lines:
        notes.append(fence("\n".join(lines), "diff"))
    elif change.action is Action.REPLACE:
        notes.append("(no field changes)")
    return "\n\n".join([f"<details>{summary}", *notes, "</details>"])


def diff_line(line: FieldLine) -> str:
    """A field line as GitHub's diff highlighter shows it (``~`` becomes ``!``)."""
    note = f" {FORCES_REPLACEMENT}" if line.forces_replacement else ""
    return f"{DIFF_SIGNS[line.sign]} {line.text}{note}"


# --- escaping -----------------------------------------------------------------------------------


def _escape(text: str) -> str:
    """Text that markdown shows as it is: specials backslashed, ``&`` as an entity, one line."""
    return _SPECIAL.sub(r"\\\1", text.replace("&", "&amp;")).replace("\n", " ")


def _code(text: str, *, table: bool = False) -> str:
    """A code span that survives backticks in ``text`` (and pipes, inside a table cell)."""
    if not text:
        return ""
    ticks = "`" * (_longest_run(text, "`") + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    span = f"{ticks}{pad}{text.replace(chr(10), ' ')}{pad}{ticks}"
    return span.replace("|", "\\|") if table else span


def fence(body: str, info: str) -> str:
    """A fenced block longer than any backtick run inside it, so a value cannot close it."""
    ticks = "`" * max(3, _longest_run(body, "`") + 1)
    return f"{ticks}{info}\n{body}\n{ticks}"


def _longest_run(text: str, char: str) -> int:
    return max((len(run) for run in re.findall(f"{re.escape(char)}+", text)), default=0)
