"""Commands over manifests alone, with no network: ``validate`` and ``schema``."""

from __future__ import annotations

import click

from aimodels.cli.options import manifest_paths
from aimodels.errors import NotImplementedYet


@click.command()
@manifest_paths
def validate(paths: tuple[str, ...]) -> None:
    """Check manifests: schema, references, duplicates, secrets. No network."""
    raise NotImplementedYet("`aimodels validate` is not implemented yet")


@click.command()
@click.argument("kind", required=False)
def schema(kind: str | None) -> None:
    """Print the JSON Schema of KIND (or list the kinds)."""
    raise NotImplementedYet("`aimodels schema` is not implemented yet")


COMMANDS = [validate, schema]
