"""Terminal decisions shared by commands: colour, progress notes and loader warnings.

Renderers return strings and never look at the terminal; this is where we decide whether the
terminal gets colour or a spinner (only a TTY does, and never with NO_COLOR or --no-color).
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterable, Iterator
from typing import Any

import click

from aimodels.errors import AimodelsError, Diagnostic, UsageError


def use_color(obj: Any, stream: Any = None) -> bool:
    """Colour only on a TTY, and not when NO_COLOR or --no-color asked otherwise."""
    target = stream or sys.stdout
    return bool(getattr(target, "isatty", lambda: False)()) and not getattr(obj, "no_color", False)


@contextlib.contextmanager
def progress_note(message: str, obj: Any) -> Iterator[None]:
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


def confirm(command: str, question: str, yes: bool, cancelled: str) -> None:
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
