"""``models list`` and ``models show``: the two base-model catalogs and the custom-model
registry as one view (seeds 000/001).

Base models come from two catalogs of the Stack's region: the AI manager's AIModel catalog
(``Microsoft.ContainerService/locations/{loc}/aiModels``; a model's resource name is a hash, its
``modelId`` is what people type; a ModelDeployment deploys them) and the Foundry catalog
(``Microsoft.CognitiveServices/locations/{loc}/models``: gpt-4o, o3-mini...; a
FoundryDeployment deploys them, see ``catalog_foundry``). Custom models come from the registry
(``/custom-models``), one row per registered version.

``models show NAME`` detects the type (docs/commands.md): the custom registry first (the user's
own models), then the base catalogs; ``--type`` overrides. Among base models, a name with a
``/`` is an AIModel ``modelId`` first (``microsoft/Phi-4``), else a Foundry ``FORMAT/NAME``; a
bare name is a Foundry model's name first (``gpt-4o``, ``Phi-4``), else an AIModel resource
name or the unique last segment of a ``modelId``. A match in the other place is named in a
warning, with how to show it.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from aimodels.errors import AimodelsError, AuthError, Diagnostic, RemoteError, UsageError, warning
from aimodels.live import paths
from aimodels.live.availability import FoundryReader
from aimodels.providers.custommodel import custom_model_ref
from aimodels.service.catalog_foundry import (
    AI_MANAGER_CATALOG,
    FOUNDRY_CATALOG,
    FoundryModel,
    context_length,
    foundry_match,
    foundry_models,
)
from aimodels.service.reading import (
    ReadScope,
    ReadTarget,
    registry_reachable,
    run_read,
)
from aimodels.transport.client import AzureClient

ModelType = Literal["base", "custom", "all"]
#: ``models show --type``: auto-detect, or only look in one place.
ShowType = Literal["auto", "base", "custom"]
REGISTRY_CATALOG = "registry"
_RESOURCE_NAME = re.compile(r"^[0-9a-f]{16}$")


@dataclass(frozen=True, slots=True)
class ModelRow:
    """One row of ``models list``: a catalog model (``base``) or one version of a custom model.

    Fields a type does not have are None (an AI manager model has no version or format; a
    custom model has no license or context length). ``catalog`` says where the model is listed
    and so which kind deploys it: ``aiManager`` (ModelDeployment ``spec.model.catalog``),
    ``foundry`` (FoundryDeployment ``spec.model``; ``format`` is its model format, ``version``
    the default of ``versions``) or ``registry`` (a custom model: either kind).
    ``managed_by`` is the state address of a custom model this state registered.
    """

    name: str
    type: Literal["base", "custom"]
    status: str
    catalog: str = AI_MANAGER_CATALOG
    versions: tuple[str, ...] = ()
    description: str = ""
    version: str | None = None
    format: str | None = None
    size_bytes: int | None = None
    context_length: int | None = None
    license: str | None = None
    restricted: bool | None = None
    created_at: str | None = None
    resource_id: str | None = None
    managed_by: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """The row as JSON (camelCase), every key present."""
        return {
            "name": self.name, "type": self.type, "catalog": self.catalog,
            "status": self.status, "version": self.version,
            "versions": list(self.versions) or None, "format": self.format,
            "sizeBytes": self.size_bytes,
            "maxContextLength": self.context_length, "license": self.license,
            "restricted": self.restricted, "createdAt": self.created_at,
            "description": self.description, "resourceId": self.resource_id,
            "managed": self.managed_by is not None, "address": self.managed_by,
        }


@dataclass(frozen=True, slots=True)
class ModelListing:
    """What ``models list`` found, and why a part may be missing (warnings)."""

    rows: tuple[ModelRow, ...]
    warnings: tuple[Diagnostic, ...] = ()


@dataclass(frozen=True, slots=True)
class CatalogModel:
    """``models show`` of a base model: the AIModel resource and its resolved spec."""

    model_id: str
    resource_name: str
    resource_id: str
    description: str
    license: str | None
    restricted: bool
    context_length: int | None
    parameter_count: int | None
    size_bytes: int | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "type": "base", "catalog": AI_MANAGER_CATALOG, "name": self.model_id,
            "modelId": self.model_id,
            "resourceName": self.resource_name, "resourceId": self.resource_id,
            "description": self.description, "license": self.license,
            "restricted": self.restricted, "maxContextLength": self.context_length,
            "parameterCount": self.parameter_count, "sizeBytes": self.size_bytes,
        }


@dataclass(frozen=True, slots=True)
class CustomModel:
    """``models show`` of a custom model: every registered version, newest first, each
    ``managed`` when aimodels registered it (and deletes it on destroy)."""

    name: str
    versions: tuple[Mapping[str, Any], ...]
    managed_by: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"type": "custom", "catalog": REGISTRY_CATALOG, "name": self.name,
                "managed": self.managed_by is not None,
                "address": self.managed_by, "versions": [dict(v) for v in self.versions]}


def list_models(target: ReadTarget, model_type: ModelType = "all",
                query: str | None = None) -> ModelListing:
    """The catalog and custom models, filtered by type and by ``query`` (a case-insensitive
    substring of the name or description)."""

    async def work(scope: ReadScope, client: AzureClient) -> ModelListing:
        return await read_models(client, scope, model_type, query)

    scope, listing = run_read(target, work)
    return ModelListing(listing.rows, scope.warnings + listing.warnings)


async def read_models(client: AzureClient, scope: ReadScope, model_type: ModelType,
                      query: str | None) -> ModelListing:
    """List the three sources in parallel and merge them: base models first, by name."""
    warnings: list[Diagnostic] = []
    want_base = model_type != "custom"
    want_custom = model_type in ("custom", "all")
    if want_custom and not registry_reachable(client):
        warnings.append(warning("custom models not listed: the Stack names no "
                                "customModelRegistry"))
        want_custom = False
    base, foundry, custom = await asyncio.gather(
        client.list_all(scope.catalog_path()) if want_base else _nothing(),
        _foundry_or_warning(client, scope, warnings) if want_base else _no_models(),
        client.list_all(paths.CUSTOM_MODELS, api="registry") if want_custom else _nothing(),
    )
    rows = [base_row(item) for item in base] + [foundry_row(m) for m in foundry] + \
        [custom_row(item, scope) for item in custom]
    rows = [r for r in rows if _matches(r, query)]
    rows.sort(key=lambda r: (r.type != "base", r.name.lower(), r.catalog, r.version or ""))
    return ModelListing(tuple(rows), tuple(warnings))


ShownModel = CatalogModel | FoundryModel | CustomModel


def show_model(target: ReadTarget, name: str, model_type: ShowType = "auto"
               ) -> tuple[ShownModel, tuple[Diagnostic, ...]]:
    """One model by name, with the warnings (the loader's, and a same-named model elsewhere):
    see the module docstring for how the name is resolved. Raises when none matches (exit 1)."""
    notes: list[Diagnostic] = []

    async def work(scope: ReadScope, client: AzureClient) -> ShownModel:
        return await find_model(client, scope, name, model_type, notes)

    scope, found = run_read(target, work)
    return found, scope.warnings + tuple(notes)


async def find_model(client: AzureClient, scope: ReadScope, name: str,
                     model_type: ShowType = "auto",
                     notes: list[Diagnostic] | None = None) -> ShownModel:
    """The model called ``name`` (see ``show_model``); ``notes`` receives the warnings."""
    if model_type == "custom" and not registry_reachable(client):
        raise UsageError("--type custom: the Stack names no custom-model registry",
                         hint="Set spec.customModelRegistry in the Stack.")
    custom_query = model_type != "base" and registry_reachable(client) and "/" not in name
    catalog, foundry, versions = await asyncio.gather(
        client.list_all(scope.catalog_path()) if model_type != "custom" else _nothing(),
        _foundry_or_warning(client, scope, notes if notes is not None else [])
        if model_type != "custom" else _no_models(),
        client.list_all(paths.CUSTOM_MODELS, api="registry", params={"name": name})
        if custom_query else _nothing(),
    )
    found = [m for m in (_custom_match(versions, name, scope), *_base_matches(catalog, foundry,
                                                                             name)) if m]
    if not found:
        raise AimodelsError(f"no model named {name} in {_looked_in(scope, model_type)}; see "
                            "`aimodels models list`")
    if notes is not None:
        notes += [_also(name, other) for other in found[1:]]
    return found[0]


def foundry_row(model: FoundryModel) -> ModelRow:
    """A Foundry catalog model as a row: its default version, status and context length."""
    default = model.versions[0] if model.versions else {}
    return ModelRow(
        name=model.name, type="base", catalog=FOUNDRY_CATALOG,
        status=str(default.get("lifecycleStatus") or "Available"),
        version=model.default_version, versions=tuple(str(v.get("version"))
                                                      for v in model.versions),
        format=model.format, context_length=context_length(default),
    )


async def _foundry_or_warning(client: AzureClient, scope: ReadScope,
                              warnings: list[Diagnostic]) -> list[FoundryModel]:
    """The Foundry catalog of the Stack's region; when it cannot be read (not an auth
    failure), a warning and nothing, so the other catalogs still show."""
    location = scope.stack.location
    try:
        items = await FoundryReader(client, scope.stack.subscription_id).location_models(location)
    except AuthError:
        raise
    except RemoteError as exc:
        warnings.append(warning(f"Foundry models not listed: {exc.message}"))
        return []
    return foundry_models(items, location.lower())


def _custom_match(versions: Sequence[Mapping[str, Any]], name: str,
                  scope: ReadScope) -> CustomModel | None:
    mine = [v for v in versions if str(v.get("name", "")).lower() == name.lower()]
    if not mine:
        return None
    mine.sort(key=lambda v: (str(v.get("created_at", "")), str(v.get("version"))), reverse=True)
    canonical = str(mine[0]["name"])
    ours = scope.managed_versions.get(custom_model_ref(canonical).lower(), ())
    return CustomModel(canonical, tuple({**_public_version(v),
                                         "managed": str(v.get("version")) in ours}
                                        for v in mine),
                       scope.managed_address(custom_model_ref(canonical)))


def _base_matches(catalog: Sequence[Mapping[str, Any]], foundry: Sequence[FoundryModel],
                  name: str) -> list[CatalogModel | FoundryModel]:
    """The base models ``name`` may mean, the most likely first (see the module docstring)."""
    ai_manager = _catalog_match(catalog, name)
    manager_model = catalog_detail(ai_manager) if ai_manager is not None else None
    foundry_model = foundry_match(foundry, name)
    ordered = [manager_model, foundry_model] if "/" in name else [foundry_model, manager_model]
    return [m for m in ordered if m is not None]


def _also(name: str, other: ShownModel) -> Diagnostic:
    """A warning naming a model the name also matches, and the command that shows it."""
    if isinstance(other, CustomModel):
        where, command = "a custom model", f"aimodels models show {other.name} --type custom"
    elif isinstance(other, FoundryModel):
        where = f"Foundry catalog model {other.format}/{other.name}"
        command = f"aimodels models show {other.name} --type base"
    else:
        where = f"AI manager catalog model {other.model_id}"
        command = f"aimodels models show {other.model_id}"
    return warning(f"{name} also names {where}; show it with `{command}`")


def _looked_in(scope: ReadScope, model_type: ShowType) -> str:
    base = f"the AI manager and Foundry catalogs of {scope.stack.location}"
    if model_type == "base":
        return base
    if model_type == "custom":
        return "the custom-model registry"
    return f"{base} or the custom-model registry"


def base_row(item: Mapping[str, Any]) -> ModelRow:
    """An AI manager catalog AIModel as a row."""
    props = item.get("properties") or {}
    spec = props.get("spec") or {}
    restricted = bool(spec.get("isRestricted"))
    return ModelRow(
        name=str(props.get("modelId") or item.get("name")), type="base",
        status="Restricted" if restricted else "Available",
        description=str(props.get("description") or ""),
        size_bytes=props.get("sizeBytes"), context_length=spec.get("maxContextLength"),
        license=spec.get("license"), restricted=restricted, resource_id=item.get("id"),
    )


def custom_row(item: Mapping[str, Any], scope: ReadScope) -> ModelRow:
    """One registered version of a custom model as a row."""
    name = str(item.get("name"))
    return ModelRow(
        name=name, type="custom", catalog=REGISTRY_CATALOG,
        status=str(item.get("status") or "Unknown"),
        description=str(item.get("description") or ""), version=item.get("version"),
        format=item.get("format"), size_bytes=item.get("size_bytes"),
        created_at=item.get("created_at"), resource_id=custom_model_ref(name),
        managed_by=scope.managed_address(custom_model_ref(name)),
    )


def catalog_detail(item: Mapping[str, Any]) -> CatalogModel:
    """A catalog AIModel as ``models show`` presents it."""
    props = item.get("properties") or {}
    spec = props.get("spec") or {}
    return CatalogModel(
        model_id=str(props.get("modelId") or item.get("name")),
        resource_name=str(item.get("name")), resource_id=str(item.get("id", "")),
        description=str(props.get("description") or ""), license=spec.get("license"),
        restricted=bool(spec.get("isRestricted")),
        context_length=spec.get("maxContextLength"),
        parameter_count=props.get("parameterCount"), size_bytes=props.get("sizeBytes"),
    )


def catalog_names(items: Sequence[Mapping[str, Any]]) -> dict[str, str]:
    """Lower-cased AIModel resource name -> modelId, to put a name on a modelResourceId."""
    return {str(i.get("name", "")).lower(): str((i.get("properties") or {}).get("modelId")
                                                 or i.get("name"))
            for i in items}


def _catalog_match(items: Sequence[Mapping[str, Any]], name: str) -> Mapping[str, Any] | None:
    """The catalog item ``name`` means: its modelId, its resource name, or (when it is the
    only one) the model id's last segment, all compared case-insensitively."""
    wanted = name.lower()
    by_id = [i for i in items if str((i.get("properties") or {}).get("modelId", "")).lower()
             == wanted]
    by_name = [i for i in items if _RESOURCE_NAME.match(wanted)
               and str(i.get("name", "")).lower() == wanted]
    by_tail = [i for i in items
               if str((i.get("properties") or {}).get("modelId", "")).lower()
               .rsplit("/", 1)[-1] == wanted]
    for found in (by_id, by_name):
        if found:
            return found[0]
    return by_tail[0] if len(by_tail) == 1 else None


def _public_version(item: Mapping[str, Any]) -> dict[str, Any]:
    """A registry version as shown: the registry's own fields, camelCased."""
    return {
        "version": item.get("version"), "format": item.get("format"),
        "status": item.get("status"), "sizeBytes": item.get("size_bytes"),
        "sha256": item.get("sha256"), "createdAt": item.get("created_at"),
        "path": item.get("path"), "fileCount": item.get("file_count"),
        "uploadId": item.get("upload_id"), "description": item.get("description") or "",
        "tags": dict(item.get("tags") or {}),
    }


def _matches(row: ModelRow, query: str | None) -> bool:
    if not query:
        return True
    wanted = query.lower()
    return any(wanted in text.lower() for text in (row.name, row.description,
                                                   row.format or ""))


async def _nothing() -> list[Any]:
    return []


async def _no_models() -> list[FoundryModel]:
    return []
