"""Diagnostics and errors as text on stderr, compiler style: ``file:line:col: error: summary``.

The location comes first so editors and CI annotators can jump to it; the detail (what was found,
what is allowed, what to do) follows indented. Problems are sorted by file and line.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from typing import TextIO

from aimodels.errors import AimodelsError, Diagnostic, Severity


def format_diagnostic(diag: Diagnostic) -> str:
    """One diagnostic as text: a headline, then indented detail lines."""
    where = f"{diag.source}: " if diag.source else ""
    subject = ", ".join(part for part in (diag.address, diag.path) if part)
    subject = f"{subject}: " if subject else ""
    lines = [f"{where}{diag.severity.value}: {subject}{diag.summary}"]
    lines += [f"    {line}" for line in diag.detail.splitlines() if line.strip()]
    return "\n".join(lines)


def format_diagnostics(diagnostics: Iterable[Diagnostic]) -> str:
    """All diagnostics, sorted by location, errors and warnings counted at the end."""
    ordered = sorted(diagnostics, key=Diagnostic.sort_key)
    if not ordered:
        return ""
    errors = sum(d.severity is Severity.ERROR for d in ordered)
    warnings = len(ordered) - errors
    body = "\n".join(format_diagnostic(d) for d in ordered)
    return f"{body}\n\n{counted(errors, 'error')}, {counted(warnings, 'warning')}"


def print_error(exc: AimodelsError, stream: TextIO | None = None) -> None:
    """Print a known error: its diagnostics (if any), the message and the hint."""
    out = stream or sys.stderr
    if exc.diagnostics:
        print(format_diagnostics(exc.diagnostics), file=out)
    print(f"error: {exc.message}", file=out)
    if exc.hint:
        print(f"hint: {exc.hint}", file=out)


def errors_first(diagnostics: Iterable[Diagnostic]) -> list[Diagnostic]:
    """The diagnostics with every error before every warning, each group in its given order."""
    return sorted(diagnostics, key=lambda d: d.severity is not Severity.ERROR)


def counted(n: int, noun: str) -> str:
    """``1 error``, ``2 errors``: a count with its noun, for summary lines."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"
