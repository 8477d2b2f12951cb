"""``render_drift``: a DriftReport as text, JSON or a markdown issue/PR comment.

Three sections, each shown only when it has items; field lines are the plan's
(``plan_view.field_line``), so drift and plan read alike. In markdown each section is one diff
fence, signed and fenced as the plan's comment is (``~`` shows as ``!``; a backtick in a value
cannot close the fence). No I/O.

The markdown is meant for a GitHub issue, which refuses a body over 65,535 characters: past
``budget`` the resources that do not fit are left out (the summary still counts them all) and
a line says how many. Given the Stack's name it ends with the hidden marker
``<!-- aimodels-drift stack=NAME -->`` that a scheduled CI job finds its open issue by.
"""

from __future__ import annotations

import json

from aimodels.errors import UsageError
from aimodels.plan.drift import SECTIONS, DriftItem, DriftReport
from aimodels.render.diagnostics import counted
from aimodels.render.plan_markdown import MARKDOWN_BUDGET, diff_line, fence, marker_suffix
from aimodels.render.plan_view import field_line

NO_DRIFT = "No drift. Azure matches the last apply, and the manifests have nothing unapplied."

#: Room kept in markdown for the section titles, the fences and the line that counts the rest.
_FRAME_ROOM = 600


def render_drift(report: DriftReport, fmt: str, *, stack: str = "",
                 budget: int = MARKDOWN_BUDGET) -> str:
    """The report rendered as ``text``, ``json`` or ``markdown`` (at most ``budget``
    characters, ending with the hidden marker of ``stack`` when one is given)."""
    if fmt == "json":
        return json.dumps(report.to_dict(), sort_keys=True, indent=2)
    if fmt == "text":
        return _text(report)
    if fmt == "markdown":
        marker = marker_suffix("drift", stack)
        return _markdown(report, budget - len(marker)) + marker
    raise UsageError(f"unknown drift format {fmt!r}", hint="use one of text, json, markdown")


def _text(report: DriftReport) -> str:
    if not report.has_drift:
        return NO_DRIFT
    lines: list[str] = []
    for name, title in SECTIONS.items():
        items = report.section(name)
        if items:
            lines += [f"{title} ({len(items)}):", ""]
            for item in items:
                lines += _item_lines(item, "  ")
    lines.append(_summary(report))
    return "\n".join(lines)


def _markdown(report: DriftReport, budget: int) -> str:
    """Each section as one diff fence; a resource whose lines do not fit is left out."""
    if not report.has_drift:
        return f"### aimodels drift\n\n{NO_DRIFT}"
    parts = ["### aimodels drift", _summary(report)]
    room = budget - sum(len(part) + 2 for part in parts) - _FRAME_ROOM
    hidden = 0
    for name, title in SECTIONS.items():
        shown: list[str] = []
        for item in report.section(name):
            block = "\n".join(_diff_lines(item))
            if len(block) + 2 > room:
                hidden += 1
                continue
            room -= len(block) + 2
            shown.append(block)
        if shown:
            parts += [f"#### {title}", fence("\n\n".join(shown), "diff")]
    if hidden:
        parts.append(f"_{counted(hidden, 'more resource')} not shown; run `aimodels drift` "
                     "locally for the full report._")
    return "\n\n".join(parts)


def _diff_lines(item: DriftItem) -> list[str]:
    return [f"# {item.address}: {item.note}",
            *(diff_line(field_line(change)) for change in item.field_changes)]


def _item_lines(item: DriftItem, indent: str) -> list[str]:
    lines = [f"{indent}# {item.address}: {item.note}"]
    for change in item.field_changes:
        line = field_line(change)
        lines.append(f"{indent}{line.sign}   {line.text}")
    lines.append("")
    return lines


def _summary(report: DriftReport) -> str:
    counts = [len(report.section(name)) for name in SECTIONS]
    return (f"Drift: {counts[0]} changed outside aimodels, {counts[1]} deleted outside aimodels, "
            f"{counts[2]} with manifest changes not yet applied.")
