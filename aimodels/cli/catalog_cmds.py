"""Read commands over the catalog and what runs: models, deployments, uploads, cost,
availability, access, chat."""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

import click

from aimodels.cli.options import manifest_paths, output_format
from aimodels.cli.output import use_color
from aimodels.errors import EXIT_OK, NotImplementedYet

if TYPE_CHECKING:
    from aimodels.model.desired import Stack
    from aimodels.transport.client import AzureClient

T = TypeVar("T")


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
@click.pass_obj
def cost(obj: Any, paths: tuple[str, ...], model: str, replicas: int, output: str) -> int:
    """Price MODEL on every GPU size: ranked plans, feasible first (calculateCost).

    MODEL is a catalog id such as microsoft/Phi-4-mini-instruct, priced in the region of the
    Stack's AI manager. Exit 0 with the plans, 1 when the catalog has no such model.
    """
    from aimodels.live.pricing import price_model
    from aimodels.render.availability import CostView, render_cost

    priced = _with_stack(obj, paths, lambda client, stack: price_model(client, stack, model,
                                                                       replicas))
    if output == "json":
        click.echo(_json({**priced.body, "model": model, "location": priced.location}))
    else:
        view = CostView(model, priced.location, priced.quote, priced.body.get("priceAsOf") or
                        _first_price_date(priced.body))
        click.echo(render_cost(view, color=use_color(obj)), nl=False)
    return EXIT_OK


@click.command()
@manifest_paths
@click.argument("model")
@click.option("--version", "model_version", metavar="V", help="Model version.")
@click.option("--sku", metavar="S", help="Deployment SKU, e.g. GlobalStandard.")
@click.option("--location", "-l", metavar="L", help="Region (default: the account's).")
@output_format
@click.pass_obj
def availability(obj: Any, paths: tuple[str, ...], model: str, model_version: str | None,
                 sku: str | None, location: str | None, output: str) -> int:
    """Check where MODEL can be deployed: region, SKU, version and quota (seed 004).

    MODEL is a model name (gpt-4o) or FORMAT/NAME (OpenAI/gpt-4o). The region defaults to the
    Stack's Foundry account's. Exit 0 with the report, available or not (the reason is in it);
    exit 1 and up only for errors.
    """
    from aimodels.live.availability import check_availability
    from aimodels.render.availability import render_availability

    report = _with_stack(obj, paths, lambda client, stack: check_availability(
        client, stack, model, version=model_version, sku=sku, location=location))
    if output == "json":
        click.echo(_json(report.to_dict()))
    else:
        click.echo(render_availability(report, color=use_color(obj)), nl=False)
    return EXIT_OK


def _with_stack(obj: Any, paths: tuple[str, ...],
                work: Callable[[AzureClient, Stack], Awaitable[T]]) -> T:
    """Load the manifests for their Stack, connect where it points (or ``--endpoint``), and
    run ``work``. Credentials are not needed for catalog reads, so unset ones only warn."""
    from aimodels.manifest.load import load_manifests
    from aimodels.service.connection import connect

    loaded = load_manifests(paths or (".",), env=os.environ, strict_env=False)
    desired = loaded.desired

    async def run() -> T:
        async with connect(desired, getattr(obj, "endpoint", None)) as client:
            return await work(client, desired.stack)

    return asyncio.run(run())


def _first_price_date(body: Mapping[str, Any]) -> str | None:
    return next((p["priceAsOf"] for p in body.get("plans") or () if p.get("priceAsOf")), None)


def _json(value: Any) -> str:
    return json.dumps(value, indent=2, sort_keys=True)


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
