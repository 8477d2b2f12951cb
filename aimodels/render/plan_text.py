"""``aimodels plan`` for people: Terraform's plan output, field by field.

The legend of the symbols used, one block per change (headline, reasons, cost, then the fields),
the pre-flight findings (errors, then warnings), the cost delta of the whole plan and the summary
line. Lines are (text, style) parts, made rich ``Text`` to colour them, so colour is a style,
never hand-written escape codes; whether to colour is the caller's choice (the CLI checks the
TTY, ``NO_COLOR`` and ``--no-color``). No I/O: the result is a string.
"""

from __future__ import annotations

import io

from rich.console import Console
from rich.control import strip_control_codes
from rich.text import Text

from aimodels.errors import Diagnostic, Severity
from aimodels.plan.values import Action, Change, Plan
from aimodels.render.diagnostics import errors_first, format_diagnostic
from aimodels.render.plan_cost import cost_line, cost_totals, total_line
from aimodels.render.plan_view import (
    FORCES_REPLACEMENT,
    FORGET_SYMBOL,
    RECORD_SYMBOL,
    FieldLine,
    field_lines,
    headline,
    legend,
    masked_plan,
    refusal,
    shown_changes,
    summary_sentence,
    symbol,
)

_STYLES = {"+": "green", "~": "yellow", "-": "red", "-/+": "red", FORGET_SYMBOL: "magenta",
           RECORD_SYMBOL: "cyan"}
_SEVERITY_STYLES = {Severity.ERROR: "bold red", Severity.WARNING: "bold yellow"}


def render_text(plan: Plan, *, color: bool = False) -> str:
    """The plan as terminal text, ANSI-coloured when ``color``; no trailing newline."""
    plan = masked_plan(plan)
    changes = shown_changes(plan)
    lines: list[_Line] = []
    if changes:
        lines += _legend(changes)
        lines += [_text("aimodels will perform the following actions:"), _text("")]
        for change in changes:
            lines += [*_block(change), _text("")]
    lines += _findings(plan.diagnostics)
    lines += _cost(changes)
    lines.append(_text(summary_sentence(plan), style="bold"))
    if (refused := refusal(plan)) is not None:
        lines.append(_text(refused, style="bold red"))
    return _output(lines, color)


def _legend(changes: tuple[Change, ...]) -> list[_Line]:
    lines = [_text("Resource actions are indicated with the following symbols:")]
    for sign, meaning in legend(changes):
        lines.append(_marker(sign).append(f" {meaning}"))
    return [*lines, _text("")]


def _block(change: Change) -> list[_Line]:
    """Comment lines (what, why, cost, notes, warnings), then the fields inside the braces."""
    notes = [reason.sentence for reason in change.reasons]
    notes += [cost_line(change.cost)] if change.cost else []
    notes += [*change.notes, *(f"warning: {w}" for w in change.warnings)]
    lines = [_text(f"  # {headline(change)}", style="bold")]
    lines += [_text(f"  # {note}") for note in notes]
    opening = _marker(symbol(change)).append(f" {change.address}")
    if change.is_forget:
        return [*lines, opening]
    body = [_field(line) for line in field_lines(change)]
    if not body and change.action is Action.REPLACE:
        body = [_text("        # (no field changes)", style="dim")]
    return [*lines, opening.append(" {"), *body, _text("    }")]


def _marker(sign: str) -> _Line:
    """The coloured symbol, right-aligned in three columns as Terraform lines them up."""
    return _Line.assemble(" " * (3 - len(sign)), (sign, _STYLES[sign]))


def _field(line: FieldLine) -> _Line:
    text = _Line.assemble("      ", (line.sign, _STYLES[line.sign]), f" {line.text}")
    if line.forces_replacement:
        text.append(f" {FORCES_REPLACEMENT}", style="red")
    return text


def _findings(diagnostics: tuple[Diagnostic, ...]) -> list[_Line]:
    if not diagnostics:
        return []
    lines = [_text("Pre-flight findings:", style="bold"), _text("")]
    for diag in errors_first(diagnostics):
        first, *rest = format_diagnostic(diag).splitlines()
        lines += [_text(first, style=_SEVERITY_STYLES[diag.severity]), *map(_text, rest),
                  _text("")]
    return lines


def _cost(changes: tuple[Change, ...]) -> list[_Line]:
    totals = cost_totals(changes)
    if not totals:
        return []
    return [*(_text(f"Cost change: {total_line(t)}.") for t in totals), _text("")]


def _output(lines: list[_Line], color: bool) -> str:
    """Plain text, or ANSI through a rich console that writes to a string and asks no terminal."""
    if not color:
        # what each rich Text would hold: its parts without the control codes rich strips
        return strip_control_codes("\n".join(line.plain for line in lines))
    sink = io.StringIO()
    console = Console(file=sink, force_terminal=True, color_system="standard", width=10_000,
                      no_color=False, highlight=False, emoji=False, markup=False,
                      legacy_windows=False, soft_wrap=True)
    for line in lines:
        console.print(line.rich())
    return sink.getvalue().removesuffix("\n")


class _Line:
    """One output line as (text, style) parts, made a rich ``Text`` only to colour it (a Text
    per line was most of the time of a large plan's plain text): the same calls as Text."""

    __slots__ = ("parts", "style")

    def __init__(self, parts: list[tuple[str, str]], style: str = "") -> None:
        self.parts = parts
        self.style = style

    @classmethod
    def assemble(cls, *parts: str | tuple[str, str]) -> _Line:
        return cls([(part, "") if isinstance(part, str) else part for part in parts])

    def append(self, text: str, style: str = "") -> _Line:
        self.parts.append((text, style))
        return self

    @property
    def plain(self) -> str:
        return "".join(text for text, _ in self.parts)

    def rich(self) -> Text:
        return Text.assemble(*self.parts, style=self.style)


def _text(text: str, style: str = "") -> _Line:
    """A line of one text, like ``Text(text, style=style)``."""
    return _Line([(text, "")], style)
