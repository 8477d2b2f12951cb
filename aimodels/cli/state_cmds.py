"""Commands that inspect and repair state: ``state list|show|rm`` and ``force-unlock``.

The state file is found from the manifests' Stack (``.aimodels/state.json`` beside it, or
``state.path``); unset ``fromEnv`` secrets do not matter here, so they are only warnings.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from aimodels.cli.options import manifest_paths, output_format

if TYPE_CHECKING:
    from aimodels.state.values import ResourceState


def _state_path(paths: tuple[str, ...]) -> Path:
    from aimodels.manifest import load_manifests
    from aimodels.service.planning import state_path

    loaded = load_manifests(paths or (".",), env=os.environ, strict_env=False)
    return state_path(loaded.desired)


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
    from aimodels.state.service import list_resources

    resources = list_resources(_state_path(paths))
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
    from aimodels.state.service import show_resource

    resource = show_resource(_state_path(paths), address)
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
    from aimodels.state.service import remove_resource

    removed = remove_resource(_state_path(paths), address, command="aimodels state rm")
    click.echo(f"Removed {removed.address} from the state; it still exists in Azure "
               f"({removed.resource_id}). `aimodels import {removed.address} "
               f"{removed.resource_id}` adopts it again.")


@click.command(name="force-unlock")
@manifest_paths
@click.argument("lock_id")
def force_unlock(paths: tuple[str, ...], lock_id: str) -> None:
    """Release the state lock LOCK_ID left by a process that is gone."""
    from aimodels.state.service import force_unlock as unlock

    held = unlock(_state_path(paths), lock_id)
    click.echo(f"Released the state lock {held.id}, held by {held.describe()}.")


COMMANDS = [state, force_unlock]
