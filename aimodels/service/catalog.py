"""``models list`` and ``models show``: the AIModel catalog and the custom-model registry as
one view (seeds 000/001).

Base models come from the catalog of the Stack's region (``locations/{loc}/aiModels``; a
model's resource name is a hash, its ``modelId`` is what people type). Custom models come
from the registry (``/custom-models``), one row per registered version.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from aimodels.errors import AimodelsError, Diagnostic, warning
from aimodels.service.reading import (
    CUSTOM_MODELS,
    ReadScope,
    ReadTarget,
    registry_reachable,
    run_read,
)
from aimodels.transport.client import AzureClient

ModelType = Literal["base", "custom", "all"]
_RESOURCE_NAME = re.compile(r"^[0-9a-f]{16}$")


@dataclass(frozen=True, slots=True)
class ModelRow:
    """One row of ``models list``: a catalog model (``base``) or one version of a custom model.

    Fields a type does not have are None (a base model has no version or format; a custom
    model has no license or context length). ``managed_by`` is the state address of a custom
    model this state registered.
    """

    name: str
    type: Literal["base", "custom"]
    status: str
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
            "name": self.name, "type": self.type, "status": self.status,
            "version": self.version, "format": self.format, "sizeBytes": self.size_bytes,
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
            "type": "base", "name": self.model_id, "modelId": self.model_id,
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
        return {"type": "custom", "name": self.name, "managed": self.managed_by is not None,
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
    """List both sources in parallel and merge them: base models first, each sorted by name."""
    warnings: list[Diagnostic] = []
    want_custom = model_type in ("custom", "all")
    if want_custom and not registry_reachable(client):
        warnings.append(warning("custom models not listed: the Stack names no "
                                "customModelRegistry"))
        want_custom = False
    base, custom = await asyncio.gather(
        client.list_all(scope.catalog_path()) if model_type != "custom" else _nothing(),
        client.list_all(CUSTOM_MODELS, api="registry") if want_custom else _nothing(),
    )
    rows = [base_row(item) for item in base] + [custom_row(item, scope) for item in custom]
    rows = [r for r in rows if _matches(r, query)]
    rows.sort(key=lambda r: (r.type != "base", r.name.lower(), r.version or ""))
    return ModelListing(tuple(rows), tuple(warnings))


def show_model(target: ReadTarget, name: str
               ) -> tuple[CatalogModel | CustomModel, tuple[Diagnostic, ...]]:
    """One model by name, with the loader's warnings: a catalog model (modelId, its last
    segment, or the resource name), else a custom model with all its versions. Raises when
    neither exists (exit 1)."""

    async def work(scope: ReadScope, client: AzureClient) -> CatalogModel | CustomModel:
        return await find_model(client, scope, name)

    scope, found = run_read(target, work)
    return found, scope.warnings


async def find_model(client: AzureClient, scope: ReadScope, name: str
                     ) -> CatalogModel | CustomModel:
    """The catalog model or custom model called ``name`` (see ``show_model``)."""
    custom_query = registry_reachable(client) and "/" not in name
    catalog, versions = await asyncio.gather(
        client.list_all(scope.catalog_path()),
        client.list_all(CUSTOM_MODELS, api="registry", params={"name": name})
        if custom_query else _nothing(),
    )
    match = _catalog_match(catalog, name)
    if match is not None:
        return catalog_detail(match)
    mine = [v for v in versions if str(v.get("name", "")).lower() == name.lower()]
    if mine:
        mine.sort(key=lambda v: (str(v.get("created_at", "")), str(v.get("version"))),
                  reverse=True)
        canonical = str(mine[0]["name"])
        ours = scope.managed_versions.get(f"{CUSTOM_MODELS}/{canonical}".lower(), ())
        return CustomModel(canonical, tuple({**_public_version(v),
                                             "managed": str(v.get("version")) in ours}
                                            for v in mine),
                           scope.managed_address(f"{CUSTOM_MODELS}/{canonical}"))
    raise AimodelsError(f"no model named {name} in the catalog of {scope.stack.location} or "
                        "the custom-model registry; see `aimodels models list`")


def base_row(item: Mapping[str, Any]) -> ModelRow:
    """A catalog AIModel as a row."""
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
        name=name, type="custom", status=str(item.get("status") or "Unknown"),
        description=str(item.get("description") or ""), version=item.get("version"),
        format=item.get("format"), size_bytes=item.get("size_bytes"),
        created_at=item.get("created_at"), resource_id=f"{CUSTOM_MODELS}/{name}",
        managed_by=scope.managed_address(f"{CUSTOM_MODELS}/{name}"),
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
    return wanted in row.name.lower() or wanted in row.description.lower()


async def _nothing() -> list[Any]:
    return []
