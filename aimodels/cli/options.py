"""Flags shared by several commands, defined once."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])


def manifest_paths(func: F) -> F:
    """``-f/--file PATH`` (repeatable): manifest files or folders; default the current folder."""
    return click.option(
        "-f",
        "--file",
        "paths",
        multiple=True,
        type=click.Path(path_type=str),
        help="Manifest file or folder (repeatable). Default: the current folder, recursively.",
    )(func)


def output_format(func: F) -> F:
    """``--output table|json`` for read commands."""
    return click.option(
        "-o",
        "--output",
        type=click.Choice(["table", "json"]),
        default="table",
        show_default=True,
        help="Output format.",
    )(func)


def plan_format(func: F) -> F:
    """``--format text|json|markdown`` for plan-shaped output (plan, drift)."""
    return click.option(
        "--format",
        "fmt",
        type=click.Choice(["text", "json", "markdown"]),
        default="text",
        show_default=True,
        help="text for people, json for machines, markdown for PR comments.",
    )(func)


def targets(func: F) -> F:
    """``--target ADDR`` (repeatable): only these addresses and what they depend on."""
    return click.option(
        "--target",
        "targets",
        multiple=True,
        metavar="ADDR",
        help="Only this address (Kind/name) and what it depends on; repeatable.",
    )(func)


def parallelism(func: F) -> F:
    """``--parallelism N``: how many changes or reads run at once."""
    return click.option(
        "--parallelism",
        type=click.IntRange(1, 256),
        default=10,
        show_default=True,
        help="How many operations run at once.",
    )(func)
