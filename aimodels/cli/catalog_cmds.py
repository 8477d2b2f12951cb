"""Read commands over the catalog and what runs: models, deployments, uploads, cost,
availability, access, chat."""

from __future__ import annotations

import json
import os
from typing import TYPE_CHECKING, Any

import click

from aimodels.cli.options import manifest_paths, output_format
from aimodels.cli.output import use_color
from aimodels.errors import EXIT_OK

if TYPE_CHECKING:
    # The --type and --auth choices are these literals: click.Choice admits nothing else.
    from aimodels.cli.main import Context
    from aimodels.service.catalog import ModelType, ShowType
    from aimodels.service.chat import AuthMode
    from aimodels.service.reading import ReadTarget


@click.group()
def models() -> None:
    """Catalog and custom models, one view."""


@models.command(name="list")
@manifest_paths
@click.option("--type", "model_type", type=click.Choice(["base", "custom", "all"]), default="all",
              show_default=True, help="Catalog (base) models, custom models, or both.")
@click.option("--query", "-q", metavar="Q", help="Only models whose name or description has Q.")
@output_format
@click.pass_obj
def models_list(obj: Context, paths: tuple[str, ...], model_type: ModelType, query: str | None,
                output: str) -> None:
    """List base and custom models in one table, with TYPE and CATALOG columns.

    Base models come from the AI manager's AIModel catalog and the Foundry (Azure OpenAI)
    catalog of the Stack's region, custom models from the registry (one row per version).
    Exit 0 (also when nothing matches), 3 invalid manifests, 4 authentication, 5 Azure error.
    """
    from aimodels.render.tables import render_models, to_json
    from aimodels.service.catalog import list_models

    listing = list_models(_read_target(obj, paths), model_type, query)
    _read_warnings(listing.warnings)
    if output == "json":
        click.echo(to_json([row.to_dict() for row in listing.rows]))
    else:
        click.echo(render_models(listing.rows, only=_only(model_type), **_read_style(obj)))


@models.command(name="show")
@manifest_paths
@click.argument("name")
@click.option("--type", "model_type", type=click.Choice(["auto", "base", "custom"]),
              default="auto", show_default=True,
              help="Where to look: auto-detect (custom registry first, then the catalogs), "
              "or only the base catalogs or the custom registry.")
@output_format
@click.pass_obj
def models_show(obj: Context, paths: tuple[str, ...], name: str, model_type: ShowType,
                output: str) -> None:
    """Show one model: a custom model with all its versions (sha256 in JSON), an AI manager
    catalog model by modelId (microsoft/Phi-4-mini-instruct), or a Foundry catalog model by
    name (gpt-4o) with its versions. A name found in several places is shown from the first,
    with a warning naming the others. Exit 1 when there is no such model.
    """
    from aimodels.render.details import render_model
    from aimodels.render.tables import to_json
    from aimodels.service.catalog import show_model

    model, warnings = show_model(_read_target(obj, paths), name, model_type)
    _read_warnings(warnings)
    if output == "json":
        click.echo(to_json(model.to_dict()))
    else:
        click.echo(render_model(model, **_read_style(obj)))


@click.group()
def deployments() -> None:
    """ModelDeployments and FoundryDeployments, one view."""


@deployments.command(name="list")
@manifest_paths
@click.option("--model", "-m", metavar="M", help="Only deployments of model M (name or modelId).")
@click.option("--type", "model_type", type=click.Choice(["base", "custom", "all"]), default="all",
              show_default=True, help="Deployments of catalog (base) models, of custom models, "
              "or both.")
@click.option("--status", "-s", metavar="S",
              help="Only deployments in provisioning state S (Succeeded, Creating, Failed...).")
@output_format
@click.pass_obj
def deployments_list(obj: Context, paths: tuple[str, ...], model: str | None,
                     model_type: ModelType,
                     status: str | None, output: str) -> None:
    """List ModelDeployments (every namespace of the AI managers the Stack, manifests and state
    name) and FoundryDeployments (their accounts) in one table, with the TYPE of their model
    (Base or Custom); `*` marks those this state manages. Exit 0 (also when nothing matches),
    3, 4 or 5 on errors, 64 for a bad --type.
    """
    from aimodels.render.tables import render_deployments, to_json
    from aimodels.service.deployments import list_deployments

    listing = list_deployments(_read_target(obj, paths), model, status, model_type)
    _read_warnings(listing.warnings)
    if output == "json":
        click.echo(to_json([row.to_dict() for row in listing.rows]))
    else:
        click.echo(render_deployments(listing.rows, only=_only(model_type),
                                      **_read_style(obj)))


@deployments.command(name="show")
@manifest_paths
@click.argument("name")
@output_format
@click.pass_obj
def deployments_show(obj: Context, paths: tuple[str, ...], name: str, output: str) -> None:
    """Show one deployment with its status and endpoint. NAME may be PARENT/NAME (an account,
    a namespace, AIMANAGER/NAMESPACE or a kind) when several share the name. Exit 1 when none
    has it, 64 when several do.
    """
    from aimodels.render.details import render_deployment
    from aimodels.render.tables import to_json
    from aimodels.service.deployments import show_deployment

    row, warnings = show_deployment(_read_target(obj, paths), name)
    _read_warnings(warnings)
    if output == "json":
        click.echo(to_json(row.to_dict()))
    else:
        click.echo(render_deployment(row, **_read_style(obj)))


@click.group()
def uploads() -> None:
    """Weights in the data store: list, show, prune the orphaned ones."""


@uploads.command(name="list")
@manifest_paths
@output_format
@click.pass_obj
def uploads_list(obj: Context, paths: tuple[str, ...], output: str) -> None:
    """List the uploads in the registry's data store, registered (a custom model uses them) or
    orphaned, with their sizes. Exit 0, or 1 when the Stack names no registry, 4, 5.
    """
    from aimodels.render.tables import render_uploads, to_json
    from aimodels.service.uploads import list_uploads

    listing = list_uploads(_read_target(obj, paths))
    _read_warnings(listing.warnings)
    if output == "json":
        click.echo(to_json([upload.to_dict() for upload in listing.uploads]))
    else:
        click.echo(render_uploads(listing.uploads, **_read_style(obj)))


@uploads.command(name="show")
@manifest_paths
@click.argument("upload")
@output_format
@click.pass_obj
def uploads_show(obj: Context, paths: tuple[str, ...], upload: str, output: str) -> None:
    """Show one upload: UPLOAD is its upload id, its folder (model/upload-id) or a blob in it.
    Its files with sizes and sha256, and the models registered from it (or that it is
    orphaned). Exit 1 when the data store has no such upload.
    """
    from aimodels.render.details import render_upload
    from aimodels.render.tables import to_json
    from aimodels.service.uploads import show_upload

    found, warnings = show_upload(_read_target(obj, paths), upload)
    _read_warnings(warnings)
    if output == "json":
        click.echo(to_json(found.to_dict()))
    else:
        click.echo(render_upload(found, **_read_style(obj)))


@uploads.command(name="prune")
@manifest_paths
@click.option("--min-age", "min_age", metavar="AGE", default="1h", show_default=True,
              help="Only orphans whose last blob is at least this old (30m, 2h, 1d; 0: any "
              "age): a fresh one may be an apply registering it.")
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
@click.pass_obj
def uploads_prune(obj: Context, paths: tuple[str, ...], min_age: str, yes: bool) -> int:
    """Delete orphaned uploads: weights in the data store that no registered model uses.

    Shows what it will delete and asks (or --yes; without a terminal, --yes is required). Just
    before deleting it reads the store again: an upload registered since, or a blob written
    since, is kept. A registered model's blobs are never deleted. Exit 0 (also when there is
    nothing to prune), 1 when cancelled, 4 or 5 on registry or storage errors, 64 without
    --yes and no terminal, or a bad --min-age.
    """
    from aimodels.cli.output import confirm
    from aimodels.render.tables import render_prune_report, render_prune_selection
    from aimodels.service.uploads_prune import prune_uploads, select_prune

    target = _read_target(obj, paths)
    selection = select_prune(target, _seconds(min_age))
    _read_warnings(selection.warnings)
    click.echo(render_prune_selection(selection, **_read_style(obj)))
    if not selection.doomed:
        return EXIT_OK
    confirm(yes, "uploads prune", "Delete these uploads?",
            "Prune cancelled; nothing was deleted")
    click.echo(render_prune_report(prune_uploads(target, selection), **_read_style(obj)))
    return EXIT_OK


_AGE_UNITS = {"": 1, "s": 1, "m": 60, "min": 60, "h": 3600, "d": 86400}


def _seconds(age: str) -> float:
    """``--min-age``: ``0``, ``90s``, ``30m``, ``2h``, ``1d`` in seconds; else exit 64."""
    import re

    from aimodels.errors import UsageError

    found = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*", age.lower())
    if found is None or found.group(2) not in _AGE_UNITS:
        raise UsageError(f"--min-age {age!r} is not an age",
                         hint="Write it as 0, 90s, 30m, 2h or 1d.")
    return float(found.group(1)) * _AGE_UNITS[found.group(2)]


@click.command()
@manifest_paths
@click.argument("model")
@click.option("--replicas", type=click.IntRange(1, 1000), default=1, show_default=True)
@output_format
@click.pass_obj
def cost(obj: Context, paths: tuple[str, ...], model: str, replicas: int, output: str) -> int:
    """Price MODEL on every GPU size: ranked plans, feasible first (calculateCost).

    MODEL is a catalog id such as microsoft/Phi-4-mini-instruct, priced in the region of the
    Stack's AI manager. Exit 0 with the plans, 1 when the catalog has no such model.
    """
    from aimodels.render.availability import CostView, render_cost
    from aimodels.service.pricing import cost as price

    priced = price(_read_target(obj, paths), model, replicas)
    if output == "json":
        click.echo(_json({**priced.body, "model": model, "location": priced.location}))
    else:
        view = CostView(model, priced.location, priced.quote, priced.price_as_of)
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
def availability(obj: Context, paths: tuple[str, ...], model: str, model_version: str | None,
                 sku: str | None, location: str | None, output: str) -> int:
    """Check where MODEL can be deployed: region, SKU, version and quota.

    MODEL is a model name (gpt-4o) or FORMAT/NAME (OpenAI/gpt-4o). The region defaults to the
    Stack's Foundry account's. Exit 0 with the report, available or not (the reason is in it);
    exit 1 and up only for errors.
    """
    from aimodels.render.availability import render_availability
    from aimodels.service.pricing import availability as check

    report = check(_read_target(obj, paths), model, version=model_version, sku=sku,
                   location=location)
    if output == "json":
        click.echo(_json(report.to_dict()))
    else:
        click.echo(render_availability(report, color=use_color(obj)), nl=False)
    return EXIT_OK


def _json(value: Any) -> str:
    return json.dumps(value, indent=2, sort_keys=True)


@click.command()
@manifest_paths
@click.argument("namespace")
@click.option("--ai-manager", metavar="M", help="The AI manager (default: the Stack's aiManager).")
@click.option("--show-keys", is_flag=True, help="Print the keys in full (masked by default).")
@output_format
@click.pass_obj
def access(obj: Context, paths: tuple[str, ...], namespace: str, ai_manager: str | None,
           show_keys: bool, output: str) -> None:
    """Endpoint and API keys of an AI manager NAMESPACE (listAccessInfo), keys masked unless
    --show-keys, with ready-to-paste curl and `aimodels chat` examples. Exit 1 when the AI
    manager or namespace does not exist, 64 when there is no AI manager to ask.
    """
    from aimodels.render.details import render_access
    from aimodels.render.tables import to_json
    from aimodels.service.access import get_access

    info, warnings = get_access(_read_target(obj, paths), namespace, ai_manager,
                                reveal=show_keys)
    _read_warnings(warnings)
    if output == "json":
        click.echo(to_json(info.to_dict(show_keys)))
    else:
        click.echo(render_access(info, show_keys=show_keys, **_read_style(obj)))


@click.command()
@manifest_paths
@click.argument("deployment")
@click.argument("prompt")
@click.option("--max-tokens", type=click.IntRange(1, 100000), default=256, show_default=True)
@click.option("--auth", type=click.Choice(["auto", "key", "entra"]), default="auto",
              show_default=True,
              help="FoundryDeployment credential: an account key (listKeys), a Microsoft Entra "
              "ID token, or auto (the key, else Entra ID when keys are disabled or withheld).")
@click.option("--api-version", metavar="V",
              help="Azure OpenAI api-version for a FoundryDeployment (default "
              "2024-10-21).")
@output_format
@click.pass_obj
def chat(obj: Context, paths: tuple[str, ...], deployment: str, prompt: str, max_tokens: int,
         auth: AuthMode, api_version: str | None, output: str) -> None:
    """Send PROMPT to DEPLOYMENT (base or custom) as an OpenAI-compatible chat completion, a
    smoke test.

    The answer goes to stdout, a usage line (tokens, latency, credential) to stderr. DEPLOYMENT
    may be PARENT/NAME when several share the name. A ModelDeployment takes its namespace key;
    a FoundryDeployment a key or an Entra ID token (--auth). 429 and 5xx are retried (honouring
    Retry-After) before failing. Exit 1 no such deployment, 4 the key or token was refused
    (401/403), 5 not found at the endpoint (404), throttled (429) or a service error, 64 bad
    flags or an ambiguous name.
    """
    from aimodels.render.details import chat_usage
    from aimodels.render.tables import to_json
    from aimodels.service.chat import ChatOptions
    from aimodels.service.chat import chat as send_chat

    options = ChatOptions(max_tokens, auth, api_version)
    answer, warnings = send_chat(_read_target(obj, paths), deployment, prompt, options)
    _read_warnings(warnings)
    if output == "json":
        click.echo(to_json(answer.to_dict()))
        return
    click.echo(answer.content)
    click.echo(chat_usage(answer), err=True)


def _only(model_type: str) -> str | None:
    """The type a list was filtered to (for its summary line), None for all."""
    return None if model_type == "all" else model_type


def _read_target(obj: Context, paths: tuple[str, ...]) -> ReadTarget:
    """What the read commands (models, deployments, uploads, access, chat, cost,
    availability) look at."""
    from aimodels.service.reading import ReadTarget

    return ReadTarget(paths or (".",), getattr(obj, "endpoint", None), os.environ)


def _read_warnings(warnings: Any) -> None:
    from aimodels.cli.output import show_warnings

    show_warnings(warnings)


def _read_style(obj: Context) -> dict[str, Any]:
    """Colour and width of tables: the terminal's width on a TTY, generous in pipes."""
    import shutil
    import sys

    from aimodels.cli.output import use_color

    width = shutil.get_terminal_size().columns if sys.stdout.isatty() else None
    return {"color": use_color(obj), "width": width}


COMMANDS = [models, deployments, uploads, cost, availability, access, chat]
