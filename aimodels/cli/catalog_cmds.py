"""Read commands over the catalog and what runs: models, deployments, uploads, cost,
availability, access, chat."""

from __future__ import annotations

import click

from aimodels.cli.options import manifest_paths, output_format
from aimodels.errors import NotImplementedYet


def _not_yet(command: str) -> NotImplementedYet:
    return NotImplementedYet(
        f"`aimodels {command}` is not implemented yet",
        hint="It is specified in the product spec and lands in a later release.",
    )


@click.group()
def models() -> None:
    """Catalog and custom models, one view."""


@models.command(name="list")
@manifest_paths
@click.option("--type", "model_type", type=click.Choice(["base", "custom", "all"]), default="all")
@click.option("--query", "-q", metavar="Q", help="Only models whose name or description has Q.")
@output_format
def models_list(**options: object) -> None:
    """List catalog (base) and custom models."""
    raise _not_yet("models list")


@models.command(name="show")
@manifest_paths
@click.argument("name")
@output_format
def models_show(**options: object) -> None:
    """Show one model: catalog spec, or a custom model with its sha256."""
    raise _not_yet("models show")


@click.group()
def deployments() -> None:
    """ModelDeployments and FoundryDeployments, one view."""


@deployments.command(name="list")
@manifest_paths
@click.option("--model", "-m", metavar="M", help="Only deployments of model M.")
@click.option("--status", "-s", metavar="S", help="Only deployments in provisioning state S.")
@output_format
def deployments_list(**options: object) -> None:
    """List deployments of both kinds."""
    raise _not_yet("deployments list")


@deployments.command(name="show")
@manifest_paths
@click.argument("name")
@output_format
def deployments_show(**options: object) -> None:
    """Show one deployment with its endpoint and status."""
    raise _not_yet("deployments show")


@click.group()
def uploads() -> None:
    """Weights in the data store."""


@uploads.command(name="list")
@manifest_paths
@output_format
def uploads_list(**options: object) -> None:
    """List uploaded blobs, registered or orphaned."""
    raise _not_yet("uploads list")


@click.command()
@manifest_paths
@click.argument("model")
@click.option("--replicas", type=click.IntRange(1, 1000), default=1, show_default=True)
@output_format
def cost(**options: object) -> None:
    """Price MODEL on every GPU size: ranked plans, feasible first (calculateCost)."""
    raise _not_yet("cost")


@click.command()
@manifest_paths
@click.argument("model")
@click.option("--version", "model_version", metavar="V", help="Model version.")
@click.option("--sku", metavar="S", help="Deployment SKU, e.g. GlobalStandard.")
@click.option("--location", "-l", metavar="L", help="Region (default: the account's).")
@output_format
def availability(**options: object) -> None:
    """Check where MODEL can be deployed: region, SKU, version and quota."""
    raise _not_yet("availability")


@click.command()
@manifest_paths
@click.argument("namespace")
@click.option("--show-keys", is_flag=True, help="Print the keys in full (masked by default).")
@output_format
def access(**options: object) -> None:
    """Endpoint and API keys of an AI manager NAMESPACE."""
    raise _not_yet("access")


@click.command()
@manifest_paths
@click.argument("deployment")
@click.argument("prompt")
@click.option("--max-tokens", type=click.IntRange(1, 100000), default=256, show_default=True)
def chat(**options: object) -> None:
    """Send PROMPT to DEPLOYMENT as an OpenAI-compatible chat completion (a smoke test)."""
    raise _not_yet("chat")


COMMANDS = [models, deployments, uploads, cost, availability, access, chat]
