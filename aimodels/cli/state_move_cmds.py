"""``state history|restore|push|pull``: the earlier states a backend keeps, and moving a state
between a local file and the azureblob backend (the ``state`` group adds these commands).

Each one that writes shows what it is about to do and asks (or ``--yes``; without a terminal
``--yes`` is required), then writes under the state lock, checking that nothing moved since
what was shown.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import click

from aimodels.cli.options import manifest_paths, output_format

if TYPE_CHECKING:
    from aimodels.service.state import Move
    from aimodels.state.backend import StateBackend, StateVersion
    from aimodels.state.values import State

_YES = click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")


@click.command(name="history")
@manifest_paths
@output_format
def state_history(paths: tuple[str, ...], output: str) -> None:
    """List the earlier states the backend keeps (newest first).

    The azureblob backend snapshots the state blob before every write, so every earlier
    state can be restored with `aimodels state restore SNAPSHOT`. The local backend keeps
    no history (exit 1). Exit codes: 0 listed, 1 no history kept, 4 or 5 the backend cannot
    be read.
    """
    from aimodels.cli.state_cmds import stack_state
    from aimodels.service.state import state_history as history

    with stack_state(paths) as (backend, _, _):
        versions = list(reversed(history(backend)))
        current = backend.read() if backend.exists() else None
    if output == "json":
        click.echo(json.dumps([_version_dict(v) for v in versions], indent=2))
        return
    if current is not None:
        click.echo(f"Current: serial {current.serial}, {len(current.resources)} resources, "
                   f"lineage {current.lineage}.")
    if not versions:
        click.echo("No earlier state is kept yet: the first write keeps the one it replaces.")
        return
    click.echo(_history_table(versions))


def _version_dict(version: StateVersion) -> dict[str, object]:
    return {"snapshot": version.id, "written": version.written, "lineage": version.lineage,
            "serial": version.serial, "resources": version.resources,
            "writtenBy": version.written_by, "command": version.command}


def _history_table(versions: list[StateVersion]) -> str:
    rows = [("SNAPSHOT", "WRITTEN", "SERIAL", "RESOURCES", "BY", "COMMAND")]
    rows += [(v.id, v.written, str(v.serial), str(v.resources), v.written_by, v.command)
             for v in versions]
    widths = [max(len(row[i]) for row in rows) for i in range(5)]
    return "\n".join("  ".join(cell.ljust(width) for cell, width in zip(row, widths,
                                                                        strict=False))
                     + "  " + row[5] for row in rows).rstrip()


@click.command(name="restore")
@manifest_paths
@click.argument("snapshot")
@_YES
def state_restore(paths: tuple[str, ...], snapshot: str, yes: bool) -> None:
    """Make the earlier state SNAPSHOT (from `state history`) the current one.

    It is written as a new version (serial bumped, so plans saved before are stale), and the
    state it replaces is kept as a snapshot too: a restore can be undone the same way. Azure
    is not touched: run `aimodels plan` afterwards to see what the restored state makes of
    it. Exit codes: 0 restored, 1 cancelled or no such snapshot, 4 or 5 the backend cannot be
    reached, 6 locked or the state moved meanwhile, 64 usage.
    """
    from aimodels.cli.output import confirm
    from aimodels.cli.state_cmds import stack_state
    from aimodels.service.state import restore_state
    from aimodels.state.document import claim_state

    with stack_state(paths) as (backend, stack, _):
        seen = claim_state(backend.where, backend.read(), stack)
        earlier = backend.read_version(snapshot)
        click.echo(_describe_change(f"Snapshot {snapshot}", earlier, backend.where, seen))
        confirm(yes, "state restore", "Restore this snapshot?",
                "Restore cancelled; the state was not changed")
        written = restore_state(backend, snapshot, seen, stack)
    click.echo(f"Restored snapshot {snapshot} as serial {written.serial} of the "
               f"{backend.where}. Run `aimodels plan` to see what it would change.")


@click.command(name="push")
@manifest_paths
@click.option("--from", "source", type=click.Path(dir_okay=False), metavar="FILE",
              help="The local state file to push (default .aimodels/state.json beside the "
                   "Stack).")
@_YES
def state_push(paths: tuple[str, ...], source: str | None, yes: bool) -> None:
    """Move a local state file into the Stack's azureblob backend.

    Set `state.backend: azureblob` in the Stack first. The blob must not hold another state
    (another lineage with resources) nor a newer serial of this one. The local file is then
    renamed *.pushed, so that nothing uses it by mistake. Exit codes: 0 pushed, 1 cancelled
    or nothing to push, 4 or 5 the blob cannot be reached, 6 locked or refused (lineage,
    serial, an interrupted apply), 64 usage (the Stack's backend is local).
    """
    _move(paths, source, yes, pushing=True)


@click.command(name="pull")
@manifest_paths
@click.option("--to", "target", type=click.Path(dir_okay=False), metavar="FILE",
              help="Where to write the state (default .aimodels/state.json beside the Stack).")
@_YES
def state_pull(paths: tuple[str, ...], target: str | None, yes: bool) -> None:
    """Copy the Stack's azureblob state into a local state file (to leave the blob backend).

    Run it while the Stack still says `state.backend: azureblob`, then switch the Stack to
    the local backend. The local file must not hold another state nor a newer serial of this
    one. The blob is left as it is (with its history). Exit codes as for `state push`.
    """
    _move(paths, target, yes, pushing=False)


def _move(paths: tuple[str, ...], local: str | None, yes: bool, *, pushing: bool) -> None:
    from aimodels.cli.output import confirm
    from aimodels.cli.state_cmds import stack_state
    from aimodels.errors import UsageError
    from aimodels.service.state import check_move, move_state
    from aimodels.state.backend import LocalBackend, local_state_path

    verb = "push" if pushing else "pull"
    with stack_state(paths) as (backend, stack, config):
        if backend.kind == "local":
            raise UsageError(f"`state {verb}` moves a state to or from the azureblob backend, "
                             "and this Stack's state backend is local",
                             hint="Set spec.state in the Stack to backend: azureblob with "
                                  "accountUrl, container and blob, then run it again.")
        file = LocalBackend(local or local_state_path(config))
        source, target = (file, backend) if pushing else (backend, file)
        seen = check_move(source, target, stack)
        click.echo(_describe_move(source, target, seen))
        confirm(yes, f"state {verb}", f"{verb.capitalize()} the state?",
                f"{verb.capitalize()} cancelled; nothing was changed")
        written = move_state(source, target, stack, seen, command=f"aimodels state {verb}")
    renamed = f"; the local file is now {file.path.name}.pushed" if pushing else ""
    click.echo(f"The {target.where} now holds serial {written.serial} "
               f"({len(written.resources)} resources){renamed}.")


def _describe_move(source: StateBackend, target: StateBackend, seen: Move) -> str:
    lines = [f"From the {source.where}: lineage {seen.source.lineage}, serial "
             f"{seen.source.serial}, {seen.resources} resources."]
    if seen.target_exists:
        lines.append(f"It replaces the {target.where}: lineage {seen.target.lineage}, serial "
                     f"{seen.target.serial}, {len(seen.target.resources)} resources (kept in "
                     "its history when the target is the blob).")
    else:
        lines.append(f"To the {target.where}, which does not exist yet.")
    return "\n".join(lines)


def _describe_change(label: str, earlier: State, where: str, current: State) -> str:
    """What a restore does to the addresses in state."""
    before, after = set(current.addresses), set(earlier.addresses)
    lines = [f"{label} holds serial {earlier.serial} with {len(after)} resources; the {where} "
             f"is at serial {current.serial} with {len(before)}."]
    if after - before:
        lines.append("It brings back: " + ", ".join(sorted(after - before)))
    if before - after:
        lines.append("It forgets: " + ", ".join(sorted(before - after)) +
                     " (they stay in Azure; the next plan sees them as unmanaged)")
    changed = [a for a in sorted(before & after) if earlier.get(a) != current.get(a)]
    if changed:
        lines.append("It records older values for: " + ", ".join(changed))
    return "\n".join(lines)


COMMANDS = [state_history, state_restore, state_push, state_pull]
