"""Commands over manifests alone, with no network: ``validate`` and ``schema``.

yaml, jsonschema and the loader are imported inside the commands, so ``aimodels --help`` and
``--version`` start without them.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

import click

from aimodels.cli.options import manifest_paths
from aimodels.errors import EXIT_MANIFEST, Diagnostic, ManifestError, UsageError
from aimodels.model.kinds import ALL_KINDS


@click.command()
@manifest_paths
@click.option("-o", "--output", type=click.Choice(["text", "json"]), default="text",
              show_default=True, help="text for people; json for tools (on stdout).")
@click.option("--strict-env", is_flag=True,
              help="An unset credential.fromEnv variable is an error, as in plan and apply "
              "(default: a warning).")
def validate(paths: tuple[str, ...], output: str, strict_env: bool) -> None:
    """Check manifests: schema, references, duplicates, secrets. No network.

    Exits 0 when valid (warnings allowed), 3 with every problem listed when not. A path given
    with -f that does not exist is a manifest problem too (exit 3).
    """
    from aimodels.manifest.load import load_manifests
    from aimodels.render.diagnostics import format_diagnostics

    try:
        result = load_manifests(paths, env=os.environ, strict_env=strict_env)
    except ManifestError as exc:
        if output == "json":
            _echo_json(_report(False, exc.diagnostics, exc.message))
            raise click.exceptions.Exit(EXIT_MANIFEST) from exc
        raise
    desired = result.desired
    count = len(desired.resources)
    summary = (f"{_count(count, 'resource')} in {_count(len(desired.files), 'file')} "
               f"{'is' if count == 1 else 'are'} valid (Stack {desired.stack.name}, "
               f"target {desired.stack.target})")
    if output == "json":
        _echo_json(_report(True, result.warnings, summary, resources=len(desired.resources),
                           files=list(desired.files)))
        return
    if result.warnings:
        click.echo(format_diagnostics(result.warnings), err=True)
        summary += f", {_count(len(result.warnings), 'warning')}"
    click.echo(summary)


@click.command()
@click.argument("kind", required=False)
def schema(kind: str | None) -> None:
    """Print the JSON Schema of KIND (any letter case), or list the kinds and their files.

    Editors use the same files: start a manifest with
    `# yaml-language-server: $schema=<path to the file>`.
    """
    from aimodels.manifest.schemas import find_kind, schema_file_name, schema_resource, schema_text

    if kind is None:
        for name in ALL_KINDS:
            click.echo(f"{name:<18} {schema_file_name(name):<32} {schema_resource(name)}")
        return
    found = find_kind(kind)
    if found is None:
        from aimodels.manifest.explain import did_you_mean

        guess = did_you_mean(kind, ALL_KINDS)
        raise UsageError(f"unknown kind '{kind}'" + (f"; did you mean '{guess}'?" if guess else ""),
                         hint=f"the kinds are {', '.join(ALL_KINDS)}")
    sys.stdout.write(schema_text(found))


def _report(valid: bool, diagnostics: Any, summary: str, **extra: Any) -> dict[str, Any]:
    items: list[Diagnostic] = list(diagnostics)
    return {"valid": valid, "summary": summary, **extra,
            "diagnostics": [d.to_dict() for d in items]}


def _echo_json(document: dict[str, Any]) -> None:
    click.echo(json.dumps(document, indent=2))


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


COMMANDS = [validate, schema]
