"""The one exception hierarchy of aimodels, its diagnostics, and the exit codes of the spec.

Every failure a user can cause or meet is one of these classes; the CLI maps ``exit_code`` to the
process status and prints ``message`` and ``hint``. Anything else that escapes is a bug (exit 70).

    AimodelsError               base: .message, .hint, .diagnostics, exit_code (ClassVar) = 1
    ├── UsageError              exit 64  bad flags or arguments
    ├── ManifestError           exit 3   schema, reference, duplicate address, cycle, secrets
    ├── AuthError               exit 4   azure-identity failures, 401/403
    ├── RemoteError             exit 5   Azure error after retries (ARM code + message)
    │   └── ConflictError       exit 6   409/412 ETag mismatch, stale plan, state lock held
    ├── PreconditionError       exit 6   a saved plan or a lock refused before any remote call
    └── ApplyIncomplete         exit 7   some changes failed; .result lists done/failed/skipped
        └── ApplyRefused        exit 6   ... only because they changed since the plan (412)

Exit 2 is reserved for "changes present" (``plan --detailed-exitcode``, ``drift``): no error
ever exits 2. Exit 0 is success.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_CHANGES = 2
EXIT_MANIFEST = 3
EXIT_AUTH = 4
EXIT_REMOTE = 5
EXIT_CONFLICT = 6
EXIT_INCOMPLETE = 7
EXIT_USAGE = 64
EXIT_INTERNAL = 70


class Severity(enum.Enum):
    """How bad a diagnostic is: errors stop the command, warnings are shown and let it go on."""

    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True, slots=True, order=True)
class SourceLocation:
    """Where in a manifest file something stands (1-based line and column)."""

    file: str
    line: int = 0
    column: int = 0

    def __str__(self) -> str:
        if self.line:
            return f"{self.file}:{self.line}:{self.column}"
        return self.file


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """One problem found in a phase (loading, validation, pre-flight), shown to a person.

    ``summary`` says what is wrong in one line; ``detail`` says what was found and what is allowed
    or what to do. ``path`` is the field path inside the document (``spec.scale.replicas``).
    Diagnostics are collected and raised together, so one run reports every problem.
    """

    severity: Severity
    summary: str
    detail: str = ""
    source: SourceLocation | None = None
    path: str = ""
    address: str = ""

    def sort_key(self) -> tuple[Any, ...]:
        src = self.source or SourceLocation("")
        return (src.file, src.line, src.column, self.path, self.summary)

    def to_dict(self) -> dict[str, Any]:
        """The diagnostic as plain JSON values, for ``--output json`` and golden files."""
        out: dict[str, Any] = {"severity": self.severity.value, "summary": self.summary}
        if self.detail:
            out["detail"] = self.detail
        if self.source:
            out["file"] = self.source.file
            out["line"] = self.source.line
            out["column"] = self.source.column
        if self.path:
            out["path"] = self.path
        if self.address:
            out["address"] = self.address
        return out


def error(summary: str, detail: str = "", **where: Any) -> Diagnostic:
    """Shorthand for an error diagnostic."""
    return Diagnostic(Severity.ERROR, summary, detail, **where)


def warning(summary: str, detail: str = "", **where: Any) -> Diagnostic:
    """Shorthand for a warning diagnostic."""
    return Diagnostic(Severity.WARNING, summary, detail, **where)


def has_errors(diagnostics: Iterable[Diagnostic]) -> bool:
    """True when any diagnostic is an error (warnings alone let a command go on)."""
    return any(d.severity is Severity.ERROR for d in diagnostics)


@dataclass(eq=False)
class AimodelsError(Exception):
    """Base of every error a user can meet. Not for bugs: those stay plain exceptions (exit 70)."""

    message: str
    hint: str = ""
    diagnostics: Sequence[Diagnostic] = field(default_factory=tuple)
    exit_code: ClassVar[int] = EXIT_ERROR

    def __post_init__(self) -> None:
        super().__init__(self.message)

    def __str__(self) -> str:
        return self.message


class UsageError(AimodelsError):
    """Bad flags or arguments on the command line."""

    exit_code = EXIT_USAGE


class ManifestError(AimodelsError):
    """The manifests are invalid; ``diagnostics`` lists every problem found in one run."""

    exit_code = EXIT_MANIFEST


class AuthError(AimodelsError):
    """Authentication or authorization failed (no credential, a 401 or a 403)."""

    exit_code = EXIT_AUTH


@dataclass(eq=False)
class RemoteError(AimodelsError):
    """Azure answered with an error that retries did not cure; carries the ARM code and status."""

    code: str = ""
    status: int = 0
    exit_code: ClassVar[int] = EXIT_REMOTE


class ConflictError(RemoteError):
    """The resource changed since the plan (412), or Azure reported a conflicting write (409)."""

    exit_code = EXIT_CONFLICT


class PreconditionError(AimodelsError):
    """Refused before touching Azure: a stale saved plan, or the state lock held by someone else."""

    exit_code = EXIT_CONFLICT


@dataclass(eq=False)
class ApplyIncomplete(AimodelsError):
    """Some changes failed while independent ones were done; ``result`` says which is which."""

    result: Any = None
    exit_code: ClassVar[int] = EXIT_INCOMPLETE


class ApplyRefused(ApplyIncomplete):
    """Apply stopped short only because resources changed since the plan (their ETag moved,
    412): exit 6 as for a stale saved plan, since planning again is what to do."""

    exit_code = EXIT_CONFLICT
