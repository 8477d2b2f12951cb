"""Commands that compare manifests with Azure and change it: plan, apply, destroy, drift, import,
export."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import click

from aimodels.cli.options import manifest_paths, parallelism, plan_format, targets
from aimodels.cli.output import confirm, progress_note, show_warnings, use_color
from aimodels.errors import EXIT_CHANGES, EXIT_ERROR, EXIT_OK

if TYPE_CHECKING:
    from aimodels.cli.main import Context


@click.command()
@manifest_paths
@click.option("--out", type=click.Path(dir_okay=False),
              help="Save the plan to FILE for `apply FILE`.")
@plan_format
@click.option(
    "--detailed-exitcode",
    is_flag=True,
    help="Exit 0 when there are no changes, 2 when there are, 1+ on errors.",
)
@targets
@click.option("--replace", "replace", multiple=True, metavar="ADDR",
              help="Force replacement of ADDR.")
@parallelism
@click.pass_obj
def plan(obj: Context, paths: tuple[str, ...], out: str | None, fmt: str, detailed_exitcode: bool,
         targets: tuple[str, ...], replace: tuple[str, ...], parallelism: int) -> int:
    """Show what apply would change, with cost and pre-flight findings. Read-only.

    Exit codes: 0 success (with --detailed-exitcode: no changes), 1 error or a plan that cannot
    be applied (pre-flight errors), 2 changes present (--detailed-exitcode only), 3 invalid
    manifests, 4 authentication, 5 Azure error.
    """
    from aimodels.render.plan import render_plan
    from aimodels.service.planning import PlanOptions, plan_changes
    from aimodels.transport.redact import scrub_secrets

    options = PlanOptions(paths or (".",), os.environ, endpoint=obj.endpoint, targets=targets,
                          replace=replace, parallelism=parallelism)
    with progress_note("Reading live state and planning", obj):
        outcome = plan_changes(options)
    show_warnings(outcome.warnings)
    click.echo(render_plan(outcome.plan, fmt, color=use_color(obj),
                           stack=outcome.desired.stack.name))
    if outcome.plan.errored:
        return EXIT_ERROR
    if out:
        from aimodels.plan.planfile import write_plan_file  # jsonschema: only for --out

        write_plan_file(out, outcome.plan, scrub=scrub_secrets)
        click.echo(f"\nSaved the plan to {out}. Apply exactly it with: aimodels apply {out}",
                   err=True)
    return EXIT_CHANGES if detailed_exitcode and outcome.plan.summary().has_changes else EXIT_OK


@click.command()
@click.argument("planfile", required=False, type=click.Path(dir_okay=False))
@manifest_paths
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
@targets
@parallelism
@click.pass_obj
def apply(obj: Context, planfile: str | None, paths: tuple[str, ...], yes: bool,
          targets: tuple[str, ...], parallelism: int) -> int:
    """Carry out a plan: the saved PLANFILE, or a fresh one after confirmation.

    Without PLANFILE: plan, show it, ask (or --yes; without a terminal --yes is required),
    apply. With PLANFILE (from `plan --out`): apply exactly it, refused when the manifests, the
    state or a live resource changed since. Exit codes: 0 done or no changes, 1 error or a plan
    with errors, 3 invalid manifests, 4 authentication, 5 Azure error, 6 stale plan or state
    locked, 7 some changes failed (the others were done), 64 usage.
    """
    from aimodels.cli.apply_flow import run_change
    from aimodels.service.applying import ApplyRequest

    request = ApplyRequest(paths or (".",), os.environ, obj.endpoint, targets, parallelism,
                           command="aimodels apply")
    return run_change(obj, request, planfile, yes)


@click.command()
@manifest_paths
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
@targets
@parallelism
@click.pass_obj
def destroy(obj: Context, paths: tuple[str, ...], yes: bool, targets: tuple[str, ...],
            parallelism: int) -> int:
    """Delete everything the state manages, dependents first.

    With --target ADDR: that resource and everything that depends on it. Resources with
    lifecycle.preventDestroy refuse the plan. Exit codes as for apply.
    """
    from aimodels.cli.apply_flow import run_change
    from aimodels.service.applying import ApplyRequest

    request = ApplyRequest(paths or (".",), os.environ, obj.endpoint, targets, parallelism,
                           command="aimodels destroy", destroying=True)
    return run_change(obj, request, None, yes)


@click.command()
@manifest_paths
@plan_format
@parallelism
@click.pass_obj
def drift(obj: Context, paths: tuple[str, ...], fmt: str, parallelism: int) -> int:
    """Report what changed outside aimodels, what was deleted outside it, and manifest changes
    not yet applied. Read-only; for cron jobs: exit 0 no drift, 2 drift found, 1+ errors."""
    from aimodels.render.drift import render_drift
    from aimodels.service.drifting import check_drift

    with progress_note("Reading live state", obj):
        outcome = check_drift(paths or (".",), os.environ, obj.endpoint, parallelism)
    show_warnings(outcome.diagnostics)
    click.echo(render_drift(outcome.report, fmt, stack=outcome.stack))
    return EXIT_CHANGES if outcome.report.has_drift else EXIT_OK


@click.command(name="import")
@manifest_paths
@click.argument("address")
@click.argument("resource_id")
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
@click.pass_obj
def import_(obj: Context, paths: tuple[str, ...], address: str, resource_id: str, yes: bool) -> int:
    """Adopt the existing Azure resource RESOURCE_ID into state as ADDRESS (Kind/name).

    ADDRESS must be declared in the manifests, and RESOURCE_ID must be where its manifest puts
    it (a CustomModel: /custom-models/NAME, the manifest's version). Shows what the next plan
    would change, asks (or --yes; without a terminal --yes is required), then records the live
    resource in the state. Azure is not changed. Exit codes: 0 imported, 1 cancelled, 3
    invalid manifests, 4 authentication, 5 not found or Azure error, 6 already managed or
    state locked, 64 usage (ADDRESS not declared, RESOURCE_ID of another kind or place).
    """
    from aimodels.render.importing import render_import_preview, render_imported
    from aimodels.service.importing import ImportRequest, ImportSession

    request = ImportRequest(address, resource_id, paths or (".",), os.environ, obj.endpoint)
    with ImportSession.open(request) as session:
        show_warnings(session.warnings)
        with progress_note(f"Reading {resource_id}", obj):
            preview = session.preview()
        click.echo(render_import_preview(preview, color=use_color(obj)))
        confirm(yes, "import", "Import it into the state?",
                "Import cancelled; the state was not changed")
        state_file = session.record(preview)
    click.echo(render_imported(preview, str(state_file)))
    return EXIT_OK


@click.command()
@manifest_paths
@click.option(
    "--kind",
    type=click.Choice(["ModelSource", "CustomModel", "ModelDeployment", "FoundryDeployment"]),
    help="Only resources of this kind.",
)
@click.option("--out-dir", type=click.Path(file_okay=False),
              help="Write one file per resource here.")
@click.option("--force", is_flag=True, help="With --out-dir: overwrite files that exist.")
@click.pass_obj
def export(obj: Context, paths: tuple[str, ...], kind: str | None, out_dir: str | None,
           force: bool) -> int:
    """Write manifests from live resources (valid input for `validate`).

    Everything live in the Stack's scope: the model sources and deployments of its AI
    managers, the deployments of its Foundry accounts, the registry's custom models (newest
    version). Secrets are never written, and weights are not downloaded. Without --out-dir,
    every manifest goes to stdout, separated by `---`; with it, one file per resource,
    `<kind>-<name>.yaml`, refusing to overwrite unless --force. Exit codes: 0 done, 1 a file
    exists, 3 invalid manifests, 4 authentication, 5 Azure error.
    """
    from aimodels.render.export import render_manifest, render_stream
    from aimodels.service.exporting import (
        ExportRequest,
        export_resources,
        file_name,
        schema_folder,
        write_files,
    )

    request = ExportRequest(paths or (".",), os.environ, obj.endpoint, kind)
    with progress_note("Reading live resources", obj):
        outcome = export_resources(request)
    show_warnings(outcome.warnings)
    schemas = schema_folder(out_dir or ".")
    if out_dir is None:
        if outcome.resources:
            click.echo(render_stream(outcome.resources, schemas), nl=False)
    else:
        written = write_files(out_dir, [(file_name(r), render_manifest(r, schemas))
                                        for r in outcome.resources], force)
        for path in written:
            click.echo(f"wrote {path}", err=True)
    click.echo(f"Exported {len(outcome.resources)} resource"
               f"{'' if len(outcome.resources) == 1 else 's'}.", err=True)
    return EXIT_OK


COMMANDS = [plan, apply, destroy, drift, import_, export]
