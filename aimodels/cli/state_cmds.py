"""Commands that inspect, repair and move state: ``state list|show|rm|rehome|history|restore|
push|pull`` and ``force-unlock``.

The state is found from the manifests' Stack (its ``state`` block: the local file beside it,
or the azureblob backend); unset ``fromEnv`` secrets do not matter here, so they are only
warnings. ``list`` and ``show`` read any state, even another Stack's (to inspect it); ``rm``
refuses another Stack's state, as plan and apply do, and ``rehome`` is how a state changes
Stack. The moving commands live in ``cli.state_move_cmds``.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import click

from aimodels.cli.options import manifest_paths, output_format

if TYPE_CHECKING:
    from aimodels.model.desired import Stack
    from aimodels.state.backend import StateBackend
    from aimodels.state.values import ResourceState, StackIdentity, State


@contextlib.contextmanager
def stack_state(paths: tuple[str, ...]) -> Iterator[tuple[StateBackend, StackIdentity, Stack]]:
    """The state backend of the manifests' Stack (closed afterwards), the Stack's identity,
    and the Stack."""
    from aimodels.manifest import load_manifests
    from aimodels.service.planning import stack_backend, stack_identity

    loaded = load_manifests(paths or (".",), env=os.environ, strict_env=False)
    with stack_backend(loaded.desired, os.environ) as backend:
        yield backend, stack_identity(loaded.desired.stack), loaded.desired.stack


def _json(value: Any) -> str:
    return json.dumps(value, indent=2, sort_keys=True)


@click.group()
def state() -> None:
    """Inspect and repair the state aimodels keeps of what it manages."""


@state.command(name="list")
@manifest_paths
@output_format
def state_list(paths: tuple[str, ...], output: str) -> None:
    """List the addresses in state."""
    from aimodels.service.state import list_resources

    with stack_state(paths) as (backend, _, _):
        resources = list_resources(backend)
    if output == "json":
        click.echo(_json([r.to_dict() for r in resources]))
        return
    if not resources:
        click.echo("The state holds no resource.")
        return
    width = max(len(r.address) for r in resources)
    for resource in resources:
        click.echo(f"{resource.address:<{width}}  {resource.resource_id}")


@state.command(name="show")
@manifest_paths
@click.argument("address")
@output_format
def state_show(paths: tuple[str, ...], address: str, output: str) -> None:
    """Show what state records for ADDRESS."""
    from aimodels.service.state import show_resource

    with stack_state(paths) as (backend, _, _):
        resource = show_resource(backend, address)
    if output == "json":
        click.echo(_json(resource.to_dict()))
        return
    click.echo(_describe(resource))


def _describe(resource: ResourceState) -> str:
    """The entry for people: identity, guard and ETag, then the applied spec."""
    lines = [f"# {resource.address}",
             f"resource id:     {resource.resource_id}",
             f"etag:            {resource.etag or '(none)'}",
             f"preventDestroy:  {str(resource.prevent_destroy).lower()}"]
    if resource.ignore_changes:
        lines.append(f"ignoreChanges:   {', '.join(resource.ignore_changes)}")
    failed = resource.extra.get("provisioningFailed")
    if failed:
        lines.append(f"last operation:  failed: {failed.get('message', '')}")
    if resource.extra.get("secretDigests"):
        lines.append("secrets:         " + ", ".join(sorted(resource.extra["secretDigests"]))
                     + " (keyed digests only)")
    lines += ["applied spec:", *("  " + line for line in _json(dict(resource.desired))
                                 .splitlines())]
    return "\n".join(lines)


@state.command(name="rm")
@manifest_paths
@click.argument("address")
def state_rm(paths: tuple[str, ...], address: str) -> None:
    """Forget ADDRESS without deleting it in Azure."""
    from aimodels.service.state import remove_resource

    with stack_state(paths) as (backend, stack, _):
        removed = remove_resource(backend, address, stack=stack, command="aimodels state rm")
    click.echo(f"Removed {removed.address} from the state; it still exists in Azure "
               f"({removed.resource_id}). `aimodels import {removed.address} "
               f"{removed.resource_id}` adopts it again.")


@state.command(name="rehome")
@manifest_paths
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
def state_rehome(paths: tuple[str, ...], yes: bool) -> None:
    """Make the state file the state of the manifests' Stack (after a rename or a move).

    The state records the Stack it belongs to (name, target, subscription, resource group),
    and plan, apply, destroy, drift, import and state rm refuse a state of another Stack.
    When the Stack really was renamed or moved, this records the new one: it shows both,
    asks (or --yes; without a terminal --yes is required), and writes under the lock. Azure
    is not touched. Exit codes: 0 done or nothing to do, 1 no state or cancelled, 6 locked
    or the state changed meanwhile, 64 usage.
    """
    from aimodels.cli.output import confirm
    from aimodels.errors import AimodelsError
    from aimodels.service.state import rehome_state

    with stack_state(paths) as (backend, stack, _):
        seen = backend.read()
        if not backend.exists():
            raise AimodelsError(f"There is no {backend.where}: nothing to rehome",
                                hint="A new state records its Stack on the first apply.")
        if seen.stack is not None and seen.stack.matches(stack):
            click.echo(f"The {backend.where} already belongs to {seen.stack.describe()}.")
            return
        click.echo(_describe_rehome(backend.where, seen, stack))
        confirm(yes, "state rehome", "Make it the state of this Stack?",
                "Rehome cancelled; the state was not changed")
        written = rehome_state(backend, stack, seen)
        click.echo(f"The {backend.where} now belongs to {stack.describe()} (serial "
                   f"{written.serial}). Run `aimodels plan` to see what it would change.")


def _describe_rehome(where: str, seen: State, stack: StackIdentity) -> str:
    """What rehome is about to do, and what the next plan will make of it."""
    recorded = seen.stack.describe() if seen.stack else "no Stack (an older aimodels wrote it)"
    lines = [f"The {where} records {recorded}.",
             f"It would become the state of {stack.describe()}.",
             f"It holds {len(seen.resources)} resource(s). The next plan compares them with "
             "these manifests: those the manifests do not declare are planned for deletion."]
    scope = f"/subscriptions/{stack.subscription_id}/resourcegroups/{stack.resource_group}/"
    outside = [r.address for r in seen.resources if r.resource_id.startswith("/subscriptions/")
               and not r.resource_id.lower().startswith(scope.lower())]
    if outside:
        lines.append(f"{len(outside)} of them are outside resource group "
                     f"{stack.resource_group} of subscription {stack.subscription_id}: "
                     + ", ".join(outside))
    return "\n".join(lines)


@click.command(name="force-unlock")
@manifest_paths
@click.argument("lock_id")
def force_unlock(paths: tuple[str, ...], lock_id: str) -> None:
    """Release the state lock LOCK_ID left by a process that is gone."""
    from aimodels.service.state import force_unlock as unlock

    with stack_state(paths) as (backend, _, _):
        held = unlock(backend, lock_id)
    click.echo(f"Released the state lock {held.id}, held by {held.describe()}.")


def _register_moves() -> None:
    from aimodels.cli import state_move_cmds

    for command in state_move_cmds.COMMANDS:
        state.add_command(command)


_register_moves()
COMMANDS = [state, force_unlock]
