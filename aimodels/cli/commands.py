"""Registers every command of the spec on the top-level group (one module per family)."""

from __future__ import annotations

import click


def register(group: click.Group) -> None:
    """Attach all command families to ``group``, in the order ``--help`` lists them."""
    from aimodels.cli import catalog_cmds, change_cmds, emulator_cmd, manifest_cmds, state_cmds

    for module in (manifest_cmds, change_cmds, state_cmds, catalog_cmds, emulator_cmd):
        for command in module.COMMANDS:
            group.add_command(command)
