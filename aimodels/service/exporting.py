"""``export``: manifests written from what is live in the Stack's scope.

The scope is the read commands' (``service.reading``): the AI managers and Foundry accounts the
Stack, the manifests and the state name, in the Stack's subscription and resource group, plus
the custom-model registry. We list every AI manager's model sources and every namespace's
model deployments, every account's deployments, and the registry's models (the newest version
of each), one LIST per collection, in parallel. Each live body goes through its provider's
``export`` (``from_live``, then the kind's own shaping), so the spec is in the manifest's
words, then:

- values equal to the Stack's defaults (``aiManager``, ``account``) and empty ones are left out;
- a catalog model id (a hash) is put back into its catalog name (``microsoft/Phi-4``);
- a secret is never written: an inline credential becomes ``fromEnv: CHANGE_ME_<NAME>_TOKEN``;
- a CustomModel's weights are not downloaded: ``path`` says where they are expected.

Nothing here prints; ``render.export`` turns the values into YAML, ``write_files`` writes them.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aimodels.errors import AimodelsError, Diagnostic, warning
from aimodels.live import paths
from aimodels.manifest.schemas import schema_resource
from aimodels.model.address import ResourceAddress
from aimodels.model.kinds import (
    CUSTOM_MODEL,
    FOUNDRY_DEPLOYMENT,
    MODEL_DEPLOYMENT,
    MODEL_SOURCE,
    RESOURCE_KINDS,
)
from aimodels.plan.provider import ExportContext, Provider
from aimodels.providers.registry import default_registry
from aimodels.service.catalog import catalog_names
from aimodels.service.reading import (
    ReadScope,
    ReadTarget,
    list_or_empty,
    registry_reachable,
    run_read,
)
from aimodels.state.local import atomic_write
from aimodels.transport.client import AzureClient
from aimodels.transport.errors import NotFoundError, unexpected_shapes
from aimodels.transport.redact import scrub_secrets

#: The note key of comments about the whole document (the others are top-level spec keys).
DOCUMENT = ""


@dataclass(frozen=True, slots=True)
class ExportRequest:
    """What ``aimodels export`` was asked: the manifests (for the Stack), Azure, the kind."""

    paths: tuple[str, ...]
    env: Mapping[str, str] = field(repr=False)
    endpoint: str | None = None
    kind: str | None = None


@dataclass(frozen=True, slots=True)
class ExportedResource:
    """One live resource as a manifest: its address, its spec in the manifest's shape (no
    secret, the Stack's defaults left out), where it lives, and whether this state manages
    it. ``notes`` are comments for the person, keyed by the top-level spec key they explain
    (``DOCUMENT`` for the whole document). Not a desired state: nobody declared it yet."""

    address: ResourceAddress
    spec: Mapping[str, Any]
    resource_id: str
    managed: bool = False
    notes: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ExportOutcome:
    """The exported resources, sorted by address, and what could not be exported cleanly."""

    resources: tuple[ExportedResource, ...]
    warnings: tuple[Diagnostic, ...] = ()


@dataclass(frozen=True, slots=True)
class _Found:
    """Live bodies by kind, the catalog's names, and problems met while listing."""

    bodies: Sequence[tuple[str, Mapping[str, Any]]]
    catalog: Mapping[str, str]
    warnings: Sequence[Diagnostic]


def export_resources(request: ExportRequest) -> ExportOutcome:
    """List the live resources in the Stack's scope (of ``request.kind`` only, if given) and
    turn each into an ExportedResource."""
    kinds = (request.kind,) if request.kind else RESOURCE_KINDS
    target = ReadTarget(request.paths or (".",), request.endpoint, request.env)
    scope, found = run_read(target, lambda scope, client: _list(scope, client, kinds))
    registry = default_registry()
    with unexpected_shapes("Azure"):  # reading the bodies, as run_read's work does
        exported = [_exported(registry.for_kind(kind), body, scope, found.catalog)
                    for kind, body in found.bodies]
    kept, duplicates = _unique(exported)
    return ExportOutcome(tuple(kept), (*scope.warnings, *found.warnings, *duplicates,
                                       *_catalog_warnings(kept)))


async def _list(scope: ReadScope, client: AzureClient, kinds: Sequence[str]) -> _Found:
    bodies: list[tuple[str, Mapping[str, Any]]] = []
    warnings: list[Diagnostic] = []
    jobs = [_manager(client, scope, m, kinds) for m in scope.ai_managers]
    if FOUNDRY_DEPLOYMENT in kinds:
        jobs += [_account(client, scope, a) for a in scope.accounts]
    if CUSTOM_MODEL in kinds:
        jobs.append(_registry(client))
    catalog = _catalog(client, scope) if MODEL_DEPLOYMENT in kinds else _nothing()
    names, listed = await asyncio.gather(catalog, asyncio.gather(*jobs))
    for found, problems in listed:
        bodies += found
        warnings += problems
    return _Found(bodies, names, warnings)


ListResult = tuple[list[tuple[str, Mapping[str, Any]]], list[Diagnostic]]


async def _manager(client: AzureClient, scope: ReadScope, manager: str,
                   kinds: Sequence[str]) -> ListResult:
    """An AI manager's model sources and its namespaces' model deployments."""
    path = scope.manager_path(manager)
    if MODEL_SOURCE not in kinds and MODEL_DEPLOYMENT not in kinds:
        return [], []
    try:
        namespaces = await client.list_all(paths.namespaces(path))
    except NotFoundError:
        return [], [_missing_parent("AI manager", manager, scope)]
    lists = [(MODEL_SOURCE, paths.model_sources(path))] if MODEL_SOURCE in kinds else []
    if MODEL_DEPLOYMENT in kinds:
        lists += [(MODEL_DEPLOYMENT,
                   paths.model_deployments(paths.namespace_path(path, str(ns["name"]))))
                  for ns in namespaces]
    found = await asyncio.gather(*(list_or_empty(client, url) for _, url in lists))
    return [(kind, body) for (kind, _), items in zip(lists, found, strict=True)
            for body in items], []


async def _account(client: AzureClient, scope: ReadScope, account: str) -> ListResult:
    try:
        items = await client.list_all(paths.account_deployments(scope.account_path(account)))
    except NotFoundError:
        return [], [_missing_parent("Foundry account", account, scope)]
    return [(FOUNDRY_DEPLOYMENT, body) for body in items], []


async def _registry(client: AzureClient) -> ListResult:
    """The newest version of each registered custom model."""
    if not registry_reachable(client):
        return [], [warning("custom models not exported: the Stack names no custom-model "
                            "registry", "Set spec.customModelRegistry in the Stack.")]
    newest: dict[str, Mapping[str, Any]] = {}
    for body in await client.list_all(paths.CUSTOM_MODELS, api="registry"):
        name = str(body.get("name", "")).lower()
        if name not in newest or _created(body) > _created(newest[name]):
            newest[name] = body
    return [(CUSTOM_MODEL, body) for body in newest.values()], []


def _created(body: Mapping[str, Any]) -> tuple[str, str]:
    return str(body.get("created_at", "")), str(body.get("version", ""))


async def _catalog(client: AzureClient, scope: ReadScope) -> Mapping[str, str]:
    try:
        return catalog_names(await client.list_all(scope.catalog_path()))
    except NotFoundError:
        return {}


async def _nothing() -> Mapping[str, str]:
    return {}


def _missing_parent(what: str, name: str, scope: ReadScope) -> Diagnostic:
    return scope.missing_parent(what, name, "nothing exported from it")


def _exported(provider: Provider, body: Mapping[str, Any], scope: ReadScope,
              catalog: Mapping[str, str]) -> ExportedResource:
    """One live body as a manifest of the provider's kind, in the words it exports."""
    address = ResourceAddress(provider.kind, str(body.get("name", "")))
    resource_id = provider.listed_id(body)
    shaped = provider.export(body, ExportContext(scope.stack, catalog))
    spec = {key: value for key, value in shaped.spec.items() if value not in ({}, "", None)}
    notes = dict(shaped.notes)
    managed_as = scope.managed_address(resource_id)
    if managed_as is not None:
        notes[DOCUMENT] = ("managed by this state" if managed_as == str(address) else
                           f"managed by this state as {managed_as}",)
    return ExportedResource(address, spec, resource_id, managed_as == str(address), notes)


def _unique(exported: list[ExportedResource]
            ) -> tuple[list[ExportedResource], list[Diagnostic]]:
    """One resource per address (a manifest set holds one): the first by resource id wins;
    the others are reported."""
    kept: dict[ResourceAddress, ExportedResource] = {}
    problems = []
    for resource in sorted(exported, key=lambda r: (r.address, r.resource_id.lower())):
        first = kept.setdefault(resource.address, resource)
        if first is not resource:
            problems.append(warning(
                f"{resource.address} exists twice in scope; exported {first.resource_id} only",
                f"Also at {resource.resource_id}. One manifest set holds one resource per "
                "address: export the other with a Stack of its own.",
                address=str(resource.address)))
    return list(kept.values()), problems


def _catalog_warnings(resources: Sequence[ExportedResource]) -> list[Diagnostic]:
    return [warning(f"{r.address}: its model is not in the catalog of the Stack's region",
                    "The manifest keeps the AIModel id, which validate refuses: replace it "
                    "with the model's publisher/model name.", address=str(r.address))
            for r in resources if "model" in r.notes and r.address.kind == MODEL_DEPLOYMENT]


def schema_folder(base: str | os.PathLike[str]) -> str:
    """The packaged schemas folder as seen from ``base`` (where the manifests are written),
    for the ``yaml-language-server`` comment: a relative path when there is one."""
    folder = Path(str(schema_resource(CUSTOM_MODEL))).parent
    try:
        return Path(os.path.relpath(folder, Path(base).resolve())).as_posix()
    except ValueError:  # another drive (Windows): no relative path exists
        return folder.as_posix()


def file_name(resource: ExportedResource) -> str:
    """``<kind>-<name>.yaml``, the kind in lower case (``modeldeployment-phi4-chat.yaml``)."""
    return f"{resource.address.kind.lower()}-{resource.address.name}.yaml"


def write_files(out_dir: str | os.PathLike[str], files: Sequence[tuple[str, str]],
                force: bool = False) -> list[Path]:
    """Write ``(file name, text)`` pairs into ``out_dir`` (created if needed). Refuses, before
    writing anything, when a file exists, unless ``force``."""
    folder = Path(out_dir)
    targets = [(folder / name, text) for name, text in files]
    existing = [str(path) for path, _ in targets if path.exists()]
    if existing and not force:
        raise AimodelsError(
            f"Not overwriting {len(existing)} existing file{'s' if len(existing) > 1 else ''}: "
            + ", ".join(existing),
            hint="Pass --force to overwrite them, or export into another --out-dir.")
    for path, text in targets:  # manifests get committed: no known secret, as on the terminal
        try:
            atomic_write(path, scrub_secrets(text).encode("utf-8"))
        except OSError as exc:
            raise AimodelsError(f"Cannot write {path}: {exc.strerror or exc}",
                                hint="Export into a folder you can write to (--out-dir).") \
                from exc
    return [path for path, _ in targets]
