"""Uploads where no byte leaves this machine: the storage service copies by itself.

- **From a URL** (``spec.path: https://...``): Put Blob From URL (``upload_blob_from_url``):
  the service reads the source, as AzCopy's server-to-server copy does. Azure caps
  one such call at 5000 MiB, which covers a Hugging Face shard (5 GB by default); a larger
  single file has to be downloaded and uploaded from a folder instead.
- **From registered content** (dedup): when a registered model already holds the same sha256
  and size, its blobs are copied into the new upload's folder with Copy Blob inside the
  account (``start_copy_from_url``, polled until it succeeds). Each model keeps its own copy,
  so deleting one never deletes the other's weights (the registry refuses two models on one
  upload for that reason).

Synchronous (azure-storage-blob); ``apply.upload`` runs these in a worker thread.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from azure.core.exceptions import ResourceNotFoundError
from azure.storage.blob import BlobClient, ContainerClient

from aimodels.blob.client import blob_url
from aimodels.errors import AimodelsError

#: How often a running Copy Blob is polled.
COPY_POLL_SECONDS = 1.0


@dataclass(frozen=True, slots=True)
class CopiedBlob:
    """A blob a copy wrote: its name in the container and its size."""

    name: str
    size: int


def copy_from_url(container_url: str, blob_name: str, source_url: str) -> CopiedBlob:
    """Put Blob From URL into ``blob_name``, unless the blob already holds a finished copy of
    this source (a resumed apply); returns what the blob holds."""
    blob = BlobClient.from_blob_url(blob_url(container_url, blob_name))
    with blob:
        existing = _properties(blob)
        if existing is None or not _copied_from(existing, source_url):
            blob.upload_blob_from_url(source_url, overwrite=True,
                                      metadata={"source": _without_query(source_url)})
            existing = blob.get_blob_properties()
        return CopiedBlob(blob_name, int(existing.size or 0))


def copy_registered(container_url: str, source_prefix: str, target_prefix: str,
                    rename: Callable[[str], str],
                    sleep: Callable[[float], None] = time.sleep) -> list[CopiedBlob]:
    """Copy every blob under ``source_prefix`` to ``target_prefix`` + ``rename(relative)``
    inside the container, waiting for each copy to finish."""
    container = ContainerClient.from_container_url(container_url)
    with container:
        sources = list(container.list_blobs(name_starts_with=source_prefix))
    if not sources:
        raise AimodelsError(f"The registered weights under {source_prefix} are gone",
                            hint="Run apply again: the weights are then uploaded.")
    copied = []
    for source in sources:
        relative = source.name[len(source_prefix):]
        target = target_prefix + rename(relative)
        copied.append(_copy_one(container_url, source.name, target, sleep))
    return copied


def _copy_one(container_url: str, source_name: str, target_name: str,
              sleep: Callable[[float], None]) -> CopiedBlob:
    blob = BlobClient.from_blob_url(blob_url(container_url, target_name))
    with blob:
        started = blob.start_copy_from_url(blob_url(container_url, source_name))
        status = started.get("copy_status")
        while status == "pending":
            sleep(COPY_POLL_SECONDS)
            status = blob.get_blob_properties().copy.status
        if status != "success":
            raise AimodelsError(f"Copying {source_name} to {target_name} ended as {status}",
                                hint="Run apply again; the copy is retried.")
        return CopiedBlob(target_name, int(blob.get_blob_properties().size or 0))


def total_size(blobs: Sequence[CopiedBlob]) -> int:
    return sum(b.size for b in blobs)


def _properties(blob: BlobClient) -> Any:
    try:
        return blob.get_blob_properties()
    except ResourceNotFoundError:
        return None


def _copied_from(properties: Any, source_url: str) -> bool:
    metadata: Mapping[str, str] = properties.metadata or {}
    return metadata.get("source") == _without_query(source_url) and bool(properties.size)


def _without_query(url: str) -> str:
    """A URL without its query (a source's own SAS never lands in metadata)."""
    return url.split("?", 1)[0]
