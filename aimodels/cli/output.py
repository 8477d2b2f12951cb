"""Terminal decisions shared by commands: colour, progress notes, loader warnings, and the
last line of defence for secrets.

Renderers return strings and never look at the terminal; this is where we decide whether the
terminal gets colour or a spinner (only a TTY does, and never with NO_COLOR or --no-color).
``scrubbed_terminal`` puts a ``ScrubbingStream`` in front of stdout and stderr for a whole
command, so every known secret value is replaced whoever writes: click.echo, print, rich,
logging, a renderer we add next year.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterable, Iterator
from typing import IO, TYPE_CHECKING, Any

import click

from aimodels.errors import AimodelsError, Diagnostic, UsageError
from aimodels.transport.redact import scrub_secrets

if TYPE_CHECKING:
    from aimodels.cli.main import Context


def use_color(obj: Context | None, stream: Any = None) -> bool:
    """Colour only on a TTY, and not when NO_COLOR or --no-color asked otherwise."""
    target = stream or sys.stdout
    return bool(getattr(target, "isatty", lambda: False)()) and not getattr(obj, "no_color", False)


@contextlib.contextmanager
def progress_note(message: str, obj: Context | None) -> Iterator[None]:
    """A spinner on stderr while a slow step runs, on a TTY only; nothing otherwise."""
    if not sys.stderr.isatty():
        yield
        return
    from rich.console import Console

    console = Console(stderr=True, no_color=getattr(obj, "no_color", False))
    with console.status(message):
        yield


def show_warnings(warnings: Iterable[Diagnostic]) -> None:
    """Loader and pre-flight warnings on stderr, before the command's own output."""
    from aimodels.render.diagnostics import format_diagnostic

    for warning in warnings:
        click.echo(format_diagnostic(warning), err=True)


def confirm(yes: bool, command: str, question: str, cancelled: str) -> None:
    """Ask ``question`` before a command changes anything, unless ``--yes``; only ``yes``
    goes ahead. Without a terminal we refuse to guess (exit 64), as Terraform's apply does
    without -auto-approve; ``cancelled`` is the error for any other answer."""
    if yes:
        return
    if not sys.stdin.isatty():
        raise UsageError(f"`{command}` asks for confirmation, and stdin is not a terminal",
                         hint="Pass --yes to go ahead without asking (as in CI).")
    answer = click.prompt(f"\n{question} Only 'yes' will be accepted", default="",
                          show_default=False)
    if answer.strip() != "yes":
        raise AimodelsError(cancelled)


class ScrubbingStream:
    """A text stream in front of ``inner`` that replaces every registered secret value
    (``transport.redact.register_secret``) with REDACTED before it is written.

    Each ``write`` is scrubbed on its own: every writer of ours (click.echo, print, rich, the
    log handler) writes a line or more at once, so a secret is never split across two calls.
    Everything else (``isatty``, ``fileno``, ``encoding``, ``flush``...) is ``inner``'s.
    """

    def __init__(self, inner: IO[str]) -> None:
        self.inner = inner

    def write(self, text: str) -> int:
        if not isinstance(text, str):  # click probes with b"" whether a stream is binary
            return self.inner.write(text)
        self.inner.write(scrub_secrets(text))
        return len(text)

    def writelines(self, lines: Iterable[str]) -> None:
        for line in lines:
            self.write(line)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


@contextlib.contextmanager
def scrubbed_terminal() -> Iterator[None]:
    """stdout and stderr behind a ``ScrubbingStream`` while the block runs, then restored."""
    saved = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = (s if isinstance(s, ScrubbingStream) else ScrubbingStream(s)
                              for s in saved)
    try:
        yield
    finally:
        sys.stdout, sys.stderr = saved
