"""``uploads list`` and ``uploads show``: the weights in the registry's data store, one entry
per upload, registered (a custom model's ``blob_prefix`` covers it) or orphaned (docs/commands.md).

The registry hands out a read+list SAS for the whole ``uploads`` container
(``GET /datastore/list-sas``); azure-storage-blob lists the blobs through it. Each upload has a
folder ``{model}/{upload_id}/`` in that container, which is how blobs group into uploads.
The listing itself (and ``uploads prune``'s deletes) is ``blob.listing``: azure-storage-blob
and the one storage error map stay in ``blob/``.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from aimodels.blob.listing import StoredBlob, list_blobs
from aimodels.errors import AimodelsError, Diagnostic
from aimodels.live import paths
from aimodels.service.reading import (
    ReadScope,
    ReadTarget,
    require_registry,
    run_read,
)
from aimodels.transport.client import AzureClient
from aimodels.transport.endpoints import rewrite_url
from aimodels.transport.redact import register_sas


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

    @property
    def upload_id(self) -> str | None:
        """The registry's upload id: the second segment of a ``{model}/{upload_id}/`` folder."""
        parts = self.prefix.split("/")
        return parts[1] if len(parts) == 3 and not parts[2] else None

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "prefix": self.prefix, "uploadId": self.upload_id,
                "files": len(self.blobs),
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


def show_upload(target: ReadTarget, ref: str) -> tuple[Upload, tuple[Diagnostic, ...]]:
    """The one upload ``ref`` names (see ``find_upload``), with the loader's warnings."""
    scope, uploads = run_read(target, read_uploads)
    return find_upload(uploads, ref), scope.warnings


async def read_uploads(scope: ReadScope, client: AzureClient) -> tuple[Upload, ...]:
    """Ask for the list SAS and the custom models together, then list the blobs."""
    store = await read_store(client)
    return store.uploads


@dataclass(frozen=True, slots=True)
class DataStore:
    """One reading of the data store: its uploads (grouped, matched to models), the SAS URL
    they were listed with (never printed), and the models it read."""

    uploads: tuple[Upload, ...]
    container_url: str = field(repr=False)
    models: tuple[Mapping[str, Any], ...] = ()


async def read_store(client: AzureClient, permissions: str | None = None) -> DataStore:
    """List the data store; ``permissions`` asks the registry for a SAS that can do more than
    read and list (``rdl``: delete too, for ``uploads prune``)."""
    require_registry(client)
    params = {"permissions": permissions} if permissions else None
    grant, models = await asyncio.gather(
        client.get_json(paths.DATASTORE_SAS, api="registry", params=params),
        client.list_all(paths.CUSTOM_MODELS, api="registry"),
    )
    register_sas(str(grant.get("sas_uri") or ""))
    url = rewrite_url(client.config, str(grant["sas_uri"]))  # a missing one: unexpected shape
    blobs = await asyncio.to_thread(list_blobs, url)
    container = str(grant.get("container") or "uploads")
    return DataStore(group_uploads(blobs, models, container), url, tuple(models))


def find_upload(uploads: Sequence[Upload], ref: str) -> Upload:
    """The upload ``ref`` names: its upload id, its folder (``llama/0a1b…/``, with or without
    the container and the trailing slash), or the name of a blob in it. Exit 1 when none."""
    wanted = ref.strip().strip("/").lower()
    for upload in uploads:
        folder = upload.prefix.strip("/").lower()
        names = {folder, f"{upload.path.strip('/').lower()}", (upload.upload_id or "").lower()}
        blobs = {b.name.lower() for b in upload.blobs}
        if wanted in names or wanted in blobs or wanted.split("/", 1)[-1] in blobs:
            return upload
    raise AimodelsError(f"no upload {ref} in the data store; see `aimodels uploads list`",
                        hint="Name it by its upload id, its folder (model/upload-id) or a "
                        "blob in it.")


def group_uploads(blobs: Sequence[StoredBlob], models: Sequence[Mapping[str, Any]],
                  container: str) -> tuple[Upload, ...]:
    """Blobs grouped by upload folder and matched to the models registered from them.

    A model covers an upload when its ``blob_prefix`` is the upload's folder, or contains it,
    or lies inside it: whichever way the folders nest, weights a model reads are never shown
    as orphaned (``uploads prune`` relies on it)."""
    groups: dict[str, list[StoredBlob]] = defaultdict(list)
    for blob in blobs:
        groups[upload_prefix(blob.name)].append(blob)
    uploads = [Upload(path=f"{container}/{prefix}", prefix=prefix,
                      blobs=tuple(sorted(group, key=lambda b: b.name)),
                      registered_as=tuple(sorted(registered_in(prefix, models))))
               for prefix, group in groups.items()]
    return tuple(sorted(uploads, key=lambda u: u.path))


def registered_in(prefix: str, models: Sequence[Mapping[str, Any]]) -> list[str]:
    """``name:version`` of every model whose ``blob_prefix`` overlaps the folder ``prefix``."""
    found = []
    for model in models:
        owned = str(model.get("blob_prefix") or "")
        if owned and (prefix.startswith(owned) or owned.startswith(prefix)):
            found.append(f"{model.get('name')}:{model.get('version')}")
    return found


def upload_prefix(blob_name: str) -> str:
    """The upload folder of a blob: ``{model}/{upload_id}/`` for the registry's layout, else
    the blob's own folder (or the name itself for a blob at the top)."""
    parts = blob_name.split("/")
    if len(parts) >= 3:
        return "/".join(parts[:2]) + "/"
    if len(parts) == 2:
        return parts[0] + "/"
    return blob_name

