"""Commands that inspect and repair state: ``state list|show|rm`` and ``force-unlock``."""

from __future__ import annotations

import click

from aimodels.cli.options import manifest_paths, output_format
from aimodels.errors import NotImplementedYet


def _not_yet(command: str) -> NotImplementedYet:
    return NotImplementedYet(
        f"`aimodels {command}` is not implemented yet",
        hint="It lands with `apply`; `aimodels validate` works today.",
    )


@click.group()
def state() -> None:
    """Inspect and repair the state aimodels keeps of what it manages."""


@state.command(name="list")
@manifest_paths
@output_format
def state_list(**options: object) -> None:
    """List the addresses in state."""
    raise _not_yet("state list")


@state.command(name="show")
@manifest_paths
@click.argument("address")
@output_format
def state_show(**options: object) -> None:
    """Show what state records for ADDRESS."""
    raise _not_yet("state show")


@state.command(name="rm")
@manifest_paths
@click.argument("address")
def state_rm(**options: object) -> None:
    """Forget ADDRESS without deleting it in Azure."""
    raise _not_yet("state rm")


@click.command(name="force-unlock")
@manifest_paths
@click.argument("lock_id")
def force_unlock(**options: object) -> None:
    """Release the state lock LOCK_ID left by a process that is gone."""
    raise _not_yet("force-unlock")


COMMANDS = [state, force_unlock]
