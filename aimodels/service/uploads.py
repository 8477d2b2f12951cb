"""``uploads list``: the weights in the registry's data store, one entry per upload, registered
(a custom model's ``blob_prefix`` covers it) or orphaned (seed 001).

The registry hands out a read+list SAS for the whole ``uploads`` container
(``GET /datastore/list-sas``); azure-storage-blob lists the blobs through it. Each upload has a
folder ``{model}/{upload_id}/`` in that container, which is how blobs group into uploads.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from azure.core.exceptions import AzureError, ClientAuthenticationError
from azure.storage.blob import ContainerClient

from aimodels.blob.errors import error_code, reason
from aimodels.errors import AuthError, Diagnostic, RemoteError
from aimodels.service.reading import (
    CUSTOM_MODELS,
    ReadScope,
    ReadTarget,
    require_registry,
    run_read,
)
from aimodels.transport.client import AzureClient
from aimodels.transport.endpoints import rewrite_url


@dataclass(frozen=True, slots=True)
class StoredBlob:
    """One blob of the data store: name inside the container, size, last write, metadata."""

    name: str
    size: int
    last_modified: str
    metadata: Mapping[str, str]

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "sizeBytes": self.size, "lastModified": self.last_modified,
                "metadata": dict(self.metadata)}


@dataclass(frozen=True, slots=True)
class Upload:
    """The blobs of one upload folder, and the custom-model versions registered from it.

    ``registered_as`` lists ``name:version``; empty means orphaned (weights kept after a delete
    with KeepWeights, or an upload that was never registered).
    """

    path: str
    prefix: str
    blobs: tuple[StoredBlob, ...]
    registered_as: tuple[str, ...]

    @property
    def size_bytes(self) -> int:
        return sum(b.size for b in self.blobs)

    @property
    def uploaded_at(self) -> str:
        """When the last blob of the upload was written."""
        return max((b.last_modified for b in self.blobs), default="")

    @property
    def orphaned(self) -> bool:
        return not self.registered_as

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "prefix": self.prefix, "files": len(self.blobs),
                "sizeBytes": self.size_bytes, "uploadedAt": self.uploaded_at,
                "registered": not self.orphaned, "registeredAs": list(self.registered_as),
                "blobs": [b.to_dict() for b in self.blobs]}


@dataclass(frozen=True, slots=True)
class UploadListing:
    """Every upload of the data store, sorted by path, and the loader's warnings."""

    uploads: tuple[Upload, ...]
    warnings: tuple[Diagnostic, ...] = ()


def list_uploads(target: ReadTarget) -> UploadListing:
    """The data store's uploads, each marked registered or orphaned."""
    scope, uploads = run_read(target, read_uploads)
    return UploadListing(uploads, scope.warnings)


async def read_uploads(scope: ReadScope, client: AzureClient) -> tuple[Upload, ...]:
    """Ask for the list SAS and the custom models together, then list the blobs."""
    require_registry(client)
    grant, models = await asyncio.gather(
        client.get_json("/datastore/list-sas", api="registry"),
        client.list_all(CUSTOM_MODELS, api="registry"),
    )
    if not isinstance(grant, dict) or not grant.get("sas_uri"):
        raise RemoteError("The registry's list-sas answer has no sas_uri", code="BadResponse")
    url = rewrite_url(client.config, str(grant["sas_uri"]))
    blobs = await asyncio.to_thread(list_blobs, url)
    container = str(grant.get("container") or "uploads")
    return group_uploads(blobs, models, container)


def list_blobs(container_sas_url: str) -> list[StoredBlob]:
    """Every blob of the container, with metadata (azure-storage-blob, blocking)."""
    try:
        with ContainerClient.from_container_url(container_sas_url) as container:
            return [StoredBlob(b.name, int(b.size or 0), _iso(b.last_modified),
                               dict(b.metadata or {}))
                    for b in container.list_blobs(include=["metadata"])]
    except ClientAuthenticationError as exc:
        raise AuthError(f"The data store refused the registry's list SAS: {reason(exc)}",
                        hint="The SAS may have expired or the clock be off; run the "
                        "command again.") from exc
    except AzureError as exc:
        raise RemoteError(f"Listing the data store failed: {reason(exc)}",
                          code=error_code(exc) or "StorageError",
                          status=getattr(exc, "status_code", 0) or 0) from exc


def group_uploads(blobs: Sequence[StoredBlob], models: Sequence[Mapping[str, Any]],
                  container: str) -> tuple[Upload, ...]:
    """Blobs grouped by upload folder and matched to the models registered from them."""
    groups: dict[str, list[StoredBlob]] = defaultdict(list)
    for blob in blobs:
        groups[upload_prefix(blob.name)].append(blob)
    owners: dict[str, list[str]] = defaultdict(list)
    for model in models:
        prefix = str(model.get("blob_prefix") or "")
        owners[prefix].append(f"{model.get('name')}:{model.get('version')}")
    uploads = [Upload(path=f"{container}/{prefix}", prefix=prefix,
                      blobs=tuple(sorted(group, key=lambda b: b.name)),
                      registered_as=tuple(sorted(owners.get(prefix, []))))
               for prefix, group in groups.items()]
    return tuple(sorted(uploads, key=lambda u: u.path))


def upload_prefix(blob_name: str) -> str:
    """The upload folder of a blob: ``{model}/{upload_id}/`` for the registry's layout, else
    the blob's own folder (or the name itself for a blob at the top)."""
    parts = blob_name.split("/")
    if len(parts) >= 3:
        return "/".join(parts[:2]) + "/"
    if len(parts) == 2:
        return parts[0] + "/"
    return blob_name


def _iso(when: datetime | None) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%SZ") if when else ""
