"""``aimodels export`` output: one YAML manifest per exported resource.

Each document starts with the ``yaml-language-server`` schema comment (editors complete and
check fields with it), says where it was exported from, and whether this state manages the
resource; notes on a field are comments on the lines above it. Values are dumped by PyYAML's
safe dumper, which quotes what YAML would otherwise read as another type (``"1.0"``,
``"2024-11-20"``). No I/O: the results are strings.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import yaml

from aimodels.manifest.schemas import schema_file_name
from aimodels.model.kinds import API_VERSION
from aimodels.service.exporting import DOCUMENT, ExportedResource

#: What separates documents when several go to one stream.
SEPARATOR = "---\n"


def render_manifest(resource: ExportedResource, schema_folder: str) -> str:
    """The manifest of ``resource``, ending with a newline; ``schema_folder`` is where the
    JSON Schemas are, as seen from the file the manifest is written to."""
    address = resource.address
    lines = [f"# yaml-language-server: $schema={schema_folder}/"
             f"{schema_file_name(address.kind)}",
             f"# Exported by `aimodels export` from {resource.resource_id}",
             *_comments(resource.notes.get(DOCUMENT, ()), ""),
             f"apiVersion: {API_VERSION}",
             f"kind: {address.kind}",
             "metadata:",
             f"  name: {_scalar(address.name)}",
             "spec:"]
    for key, value in resource.spec.items():
        lines += _comments(resource.notes.get(key, ()), "  ")
        lines += ["  " + line for line in _dump({key: value}).splitlines()]
    return "\n".join(lines) + "\n"


def render_stream(resources: Sequence[ExportedResource], schema_folder: str) -> str:
    """Every manifest in one YAML stream, separated by ``---``; empty when there is none."""
    return SEPARATOR.join(render_manifest(r, schema_folder) for r in resources)


def _comments(notes: Iterable[str], indent: str) -> list[str]:
    return [f"{indent}# {note}" for note in notes]


def _dump(value: object) -> str:
    return yaml.safe_dump(value, sort_keys=False, default_flow_style=False, allow_unicode=True,
                          width=10_000)


def _scalar(text: str) -> str:
    """A name as YAML: bare when it reads back as the same string, else quoted."""
    return _dump(text).removesuffix("\n...\n").strip()
