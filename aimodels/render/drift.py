"""``render_drift``: a DriftReport as text, JSON or a markdown issue/PR comment.

Three sections, each shown only when it has items; field lines are the plan's
(``plan_view.field_line``), so drift and plan read alike. In markdown each section is one diff
fence, signed and fenced as the plan's comment is (``~`` shows as ``!``; a backtick in a value
cannot close the fence). No I/O.
"""

from __future__ import annotations

import json

from aimodels.errors import UsageError
from aimodels.plan.drift import SECTIONS, DriftItem, DriftReport
from aimodels.render.plan_markdown import diff_line, fence
from aimodels.render.plan_view import field_line

NO_DRIFT = "No drift. Azure matches the last apply, and the manifests have nothing unapplied."


def render_drift(report: DriftReport, fmt: str) -> str:
    """The report rendered as ``text``, ``json`` or ``markdown``."""
    if fmt == "json":
        return json.dumps(report.to_dict(), sort_keys=True, indent=2)
    if fmt == "text":
        return _text(report)
    if fmt == "markdown":
        return _markdown(report)
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


def _markdown(report: DriftReport) -> str:
    if not report.has_drift:
        return f"### aimodels drift\n\n{NO_DRIFT}"
    parts = ["### aimodels drift", _summary(report)]
    for name, title in SECTIONS.items():
        items = report.section(name)
        if items:
            body = "\n\n".join("\n".join(_diff_lines(item)) for item in items)
            parts += [f"#### {title}", fence(body, "diff")]
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
