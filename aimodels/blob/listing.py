"""The registry's data store as plain values: listing its blobs and deleting some, through the
container SAS the registry hands out (``uploads list``, ``uploads show``, ``uploads prune``).

Blocking calls of azure-storage-blob; the service layer runs them in a worker thread. Failures
go through the one error map, worded for the data store (``errors.DATA_STORE``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from azure.core import MatchConditions
from azure.core.exceptions import ResourceModifiedError, ResourceNotFoundError
from azure.storage.blob import ContainerClient

from aimodels.blob.errors import DATA_STORE, storage_errors


@dataclass(frozen=True, slots=True)
class StoredBlob:
    """One blob of the data store: name inside the container, size, last write, metadata;
    ``etag`` (a delete is conditioned on it) and ``copy_status`` (``pending`` while the
    service copies into it) are for ``uploads prune``."""

    name: str
    size: int
    last_modified: str
    metadata: Mapping[str, str]
    etag: str = field(default="", compare=False)
    copy_status: str | None = field(default=None, compare=False)

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "sizeBytes": self.size, "lastModified": self.last_modified,
                "metadata": dict(self.metadata)}


def list_blobs(container_sas_url: str) -> list[StoredBlob]:
    """Every blob of the container, with metadata (azure-storage-blob, blocking)."""
    with storage_errors("Listing the data store", wording=DATA_STORE), \
            ContainerClient.from_container_url(container_sas_url) as container:
        return [StoredBlob(b.name, int(b.size or 0), _iso(b.last_modified),
                           dict(b.metadata or {}), str(b.etag or ""),
                           getattr(b.copy, "status", None) if b.copy else None)
                for b in container.list_blobs(include=["metadata", "copy"])]


def delete_blobs(container_sas_url: str, blobs: Sequence[StoredBlob]) -> str | None:
    """Delete ``blobs``, each only if its ETag is still the one listed (blocking). Returns why
    it stopped when a blob changed since, else None; storage failures raise."""
    with storage_errors("Deleting from the data store", wording=DATA_STORE), \
            ContainerClient.from_container_url(container_sas_url) as container:
        for blob in blobs:
            try:
                container.delete_blob(blob.name, etag=blob.etag or None,
                                      match_condition=MatchConditions.IfNotModified
                                      if blob.etag else None)
            except ResourceNotFoundError:
                continue  # already gone: what we wanted
            except ResourceModifiedError:
                return f"kept: {blob.name} was written since the listing"
    return None


def _iso(when: datetime | None) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%SZ") if when else ""
