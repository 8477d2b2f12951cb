"""From checked manifests to the DesiredState value the rest of aimodels reads.

Each resource's spec is the spec as written, with three things filled in so later phases need
no rules of their own: the parent from the Stack's defaults (``aiManager``, ``account``), the
schema's ``default`` values for omitted fields (``performanceMode: Balanced``...), and without
the ``lifecycle`` block, which becomes ``DesiredResource.lifecycle``.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aimodels.errors import SourceLocation
from aimodels.manifest.checks import field
from aimodels.manifest.crosscheck import PARENT_DEFAULTS, resolved_parent
from aimodels.manifest.header import Manifest
from aimodels.manifest.schemas import defaults_of, resolve, spec_schema
from aimodels.manifest.yamldoc import FieldPath, format_path
from aimodels.model.address import ResourceAddress
from aimodels.model.desired import (
    DesiredResource,
    DesiredState,
    Lifecycle,
    Stack,
    StateBackendConfig,
)
from aimodels.model.jsonvalue import copied
from aimodels.model.kinds import STACK


def build_desired(manifests: Sequence[Manifest], stack: Manifest) -> DesiredState:
    """The desired state of a valid manifest set with exactly one Stack."""
    resources = {}
    folders: dict[Path, Path] = {}
    names: dict[FieldPath, str] = {}
    for m in manifests:
        if m.kind != STACK:
            res = _resource(m, stack, folders, names)
            resources[res.address] = res
    files = tuple(dict.fromkeys(m.doc.file for m in manifests))
    return DesiredState(stack=build_stack(stack), resources=dict(sorted(resources.items())),
                        files=files)


def build_stack(stack: Manifest) -> Stack:
    """The Stack value of a valid Stack manifest."""
    spec = stack.spec
    state = spec.get("state", {})
    return Stack(
        name=str(stack.name), target=spec["target"], subscription_id=spec["subscriptionId"],
        resource_group=spec["resourceGroup"], location=spec["location"],
        source=stack.doc.start, base_dir=_base_dir(stack), ai_manager=spec.get("aiManager"),
        foundry_account=spec.get("foundryAccount"),
        custom_model_registry=spec.get("customModelRegistry"),
        state=StateBackendConfig(backend=state.get("backend", "local"), path=state.get("path"),
                                 account_url=state.get("accountUrl"),
                                 container=state.get("container"), blob=state.get("blob"),
                                 lease_seconds=state.get("leaseSeconds")),
        weights_roots=tuple(spec.get("weightsRoots", ())),
    )


def _resource(m: Manifest, stack: Manifest, folders: dict[Path, Path],
              names: dict[FieldPath, str]) -> DesiredResource:
    spec = {k: copied(v) for k, v in m.spec.items() if k != "lifecycle"}
    if m.kind in PARENT_DEFAULTS:
        spec[PARENT_DEFAULTS[m.kind][0]] = resolved_parent(m, stack)
    _fill_defaults(_defaults_tree(m.kind), spec)
    lifecycle = field(m, "lifecycle") or {}
    metadata = m.doc.data["metadata"]
    return DesiredResource(
        address=ResourceAddress(m.kind, str(m.name)), spec=spec, source=m.doc.start,
        base_dir=_base_dir(m, folders), labels=dict(metadata.get("labels", {})),
        lifecycle=Lifecycle(prevent_destroy=bool(lifecycle.get("preventDestroy", False)),
                            ignore_changes=tuple(lifecycle.get("ignoreChanges", ()))),
        field_sources=_field_sources(m, names),
    )


@dataclass(frozen=True, slots=True)
class _Defaults:
    """The schema's defaults of one object: its own, then those of the object properties
    to fill when the manifest has them. Derived once per kind (the schema walk and its
    ``$ref`` merges cost more than the filling itself)."""

    own: tuple[tuple[str, Any], ...]
    nested: tuple[tuple[str, _Defaults], ...]


@functools.cache
def _defaults_tree(kind: str) -> _Defaults:
    return _defaults_of_schema(kind, spec_schema(kind))


def _defaults_of_schema(kind: str, schema: Mapping[str, Any]) -> _Defaults:
    props = resolve(kind, schema).get("properties", {})
    nested = ((name, _defaults_of_schema(kind, sub))
              for name, sub in props.items() if name != "lifecycle")
    return _Defaults(own=tuple(defaults_of(kind, schema).items()),
                     nested=tuple((name, sub) for name, sub in nested if sub.own or sub.nested))


def _fill_defaults(defaults: _Defaults, value: dict[str, Any]) -> None:
    """Add the schema's defaults for omitted properties, recursing into objects present."""
    for name, default in defaults.own:
        value.setdefault(name, copied(default))
    for name, sub in defaults.nested:
        if isinstance(value.get(name), dict):
            _fill_defaults(sub, value[name])


def _field_sources(m: Manifest, names: dict[FieldPath, str]) -> dict[str, SourceLocation]:
    """Where each field of spec and metadata stands, by dotted path; ``names`` keeps the
    paths already formatted in this build (manifests of a kind share their fields)."""
    spots = sorted(((path, spot) for path, spot in m.doc.spots.items()
                    if path[:1] in (("spec",), ("metadata",)) and path[1:2] != ("lifecycle",)),
                   key=lambda item: str(item[0]))
    found = {}
    for path, spot in spots:
        name = names.get(path)
        if name is None:
            name = names[path] = format_path(path)
        found[name] = spot.value
    return found


def _base_dir(m: Manifest, folders: dict[Path, Path] | None = None) -> Path:
    """The manifest's folder, resolved; ``folders`` keeps them for one build: a repository
    holds hundreds of manifests per file, and each resolve makes a system call per part of
    the path."""
    folder = m.doc.input.path.parent
    if folders is None:
        return folder.resolve()
    if folder not in folders:
        folders[folder] = folder.resolve()
    return folders[folder]
