"""Commands that compare manifests with Azure and change it: plan, apply, destroy, drift, import,
export."""

from __future__ import annotations

import click

from aimodels.cli.options import manifest_paths, parallelism, plan_format, targets
from aimodels.errors import NotImplementedYet


def _not_yet(command: str) -> NotImplementedYet:
    return NotImplementedYet(
        f"`aimodels {command}` is not implemented yet",
        hint="It is specified in the product spec and lands in a later release; "
        "`aimodels validate` works today.",
    )


@click.command()
@manifest_paths
@click.option("--out", type=click.Path(dir_okay=False), help="Save the plan to FILE for `apply FILE`.")
@plan_format
@click.option(
    "--detailed-exitcode",
    is_flag=True,
    help="Exit 0 when there are no changes, 2 when there are, 1+ on errors.",
)
@targets
@click.option("--replace", "replace", multiple=True, metavar="ADDR", help="Force replacement of ADDR.")
@parallelism
def plan(**options: object) -> None:
    """Show what apply would change, with cost and pre-flight findings. Read-only."""
    raise _not_yet("plan")


@click.command()
@click.argument("planfile", required=False, type=click.Path(dir_okay=False))
@manifest_paths
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
@targets
@parallelism
def apply(**options: object) -> None:
    """Carry out a plan: the saved PLANFILE, or a fresh one after confirmation."""
    raise _not_yet("apply")


@click.command()
@manifest_paths
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
@targets
@parallelism
def destroy(**options: object) -> None:
    """Delete everything the state manages, dependents first."""
    raise _not_yet("destroy")


@click.command()
@manifest_paths
@plan_format
def drift(**options: object) -> None:
    """Report changes made outside aimodels and manifest changes not yet applied (exit 2 on drift)."""
    raise _not_yet("drift")


@click.command(name="import")
@manifest_paths
@click.argument("address")
@click.argument("resource_id")
def import_(**options: object) -> None:
    """Adopt the existing Azure resource RESOURCE_ID into state as ADDRESS (Kind/name)."""
    raise _not_yet("import")


@click.command()
@manifest_paths
@click.option(
    "--kind",
    type=click.Choice(["ModelSource", "CustomModel", "ModelDeployment", "FoundryDeployment"]),
    help="Only resources of this kind.",
)
@click.option("--out-dir", type=click.Path(file_okay=False), help="Write one file per resource here.")
def export(**options: object) -> None:
    """Write manifests from live resources (valid input for `validate`)."""
    raise _not_yet("export")


COMMANDS = [plan, apply, destroy, drift, import_, export]
