"""The blob operations the state backend needs, as plain values: whole-blob reads and
conditional writes (``If-Match`` an ETag, or ``If-None-Match: *``), snapshots, append blobs,
and leases with a proposed id.

Every call translates storage failures through ``blob.errors``; a missing container gets its
own message saying how to create it. Synchronous (azure-storage-blob's sync client); callers
on an event loop run these in a worker thread.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import quote

from azure.core import MatchConditions
from azure.core.exceptions import (
    AzureError,
    ResourceExistsError,
    ResourceModifiedError,
    ResourceNotFoundError,
    ServiceRequestError,
    ServiceResponseError,
)
from azure.storage.blob import BlobClient, BlobLeaseClient, ContainerClient

from aimodels.blob.client import account_name
from aimodels.blob.errors import UNREACHABLE_HINT, error_code, reason, storage_error
from aimodels.errors import ConflictError, RemoteError

#: Lease answers that mean "this lease is not (or no longer) the one held on the blob".
_NOT_OUR_LEASE = frozenset({
    "LeaseIdMismatchWithLeaseOperation", "LeaseNotPresentWithLeaseOperation",
    "LeaseIdMismatchWithBlobOperation", "LeaseLost", "LeaseIsBrokenAndCannotBeRenewed",
    "LeaseIsBreakingAndCannotBeAcquired", "BlobNotFound"})


@dataclass(frozen=True, slots=True)
class StoredBlob:
    """A blob's content with the ETag it was read at and its metadata."""

    data: bytes
    etag: str
    metadata: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class BlobSnapshot:
    """One snapshot of a blob: its id (a timestamp Azure assigns), when the content was last
    written, and the metadata it was written with."""

    snapshot: str
    modified: datetime | None
    metadata: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class LeaseView:
    """What anyone can see of a blob's lease: whether one is active, and the blob's metadata
    (where a holder records itself). The lease id itself is never visible."""

    leased: bool
    metadata: Mapping[str, str] = field(default_factory=dict)


class BlobStore:
    """The blobs of one container, by name. Not a cache: every call is a request."""

    def __init__(self, container: ContainerClient, account_url: str) -> None:
        self._container = container
        self.account_url = account_url.rstrip("/")
        self.container_name = container.container_name

    def url(self, name: str) -> str:
        """The blob's URL (never with a query: nothing secret)."""
        return f"{self.account_url}/{self.container_name}/{quote(name, safe='/~')}"

    def close(self) -> None:
        """Release the HTTP session."""
        self._container.close()

    # -- content ------------------------------------------------------------------------

    def read(self, name: str, snapshot: str | None = None) -> StoredBlob | None:
        """The blob (or one snapshot of it); None when it does not exist."""
        with self._errors(name):
            try:
                found = self._blob(name, snapshot).download_blob()
            except ResourceNotFoundError as exc:
                if error_code(exc) == "ContainerNotFound":
                    raise
                return None
            return StoredBlob(found.readall(), str(found.properties.etag),
                              dict(found.properties.metadata or {}))

    def write(self, name: str, data: bytes, *, etag: str | None,
              metadata: Mapping[str, str] | None = None) -> str:
        """Replace the blob only if it is still at ``etag`` (If-Match), or create it only if
        it does not exist (``etag`` None: If-None-Match ``*``); returns the new ETag. Either
        condition failing raises ConflictError (exit 6)."""
        with self._errors(name):
            try:
                if etag is None:
                    written = self._blob(name).upload_blob(data, overwrite=False,
                                                           metadata=dict(metadata or {}))
                else:
                    written = self._blob(name).upload_blob(
                        data, overwrite=True, metadata=dict(metadata or {}), etag=etag,
                        match_condition=MatchConditions.IfNotModified)
            except ResourceModifiedError as exc:
                raise ConflictError(f"The blob {self.url(name)} changed since it was read",
                                    code="ConditionNotMet", status=412) from exc
            except ResourceExistsError as exc:
                if error_code(exc) != "BlobAlreadyExists":
                    raise
                raise ConflictError(f"The blob {self.url(name)} was created since it was "
                                    "read", code="BlobAlreadyExists", status=409) from exc
            return str(written["etag"])

    def put(self, name: str, data: bytes) -> None:
        """Replace the blob whatever it holds (for documents only one locked run writes)."""
        with self._errors(name):
            self._blob(name).upload_blob(data, overwrite=True)

    def snapshot(self, name: str, etag: str) -> str:
        """Snapshot the blob as it is at ``etag`` (ConflictError if it moved); the id."""
        with self._errors(name):
            taken = self._blob(name).create_snapshot(
                etag=etag, match_condition=MatchConditions.IfNotModified)
            return str(taken["snapshot"])

    def snapshots(self, name: str) -> list[BlobSnapshot]:
        """Every snapshot of the blob, oldest first."""
        with self._errors(name):
            found = [BlobSnapshot(str(item.snapshot), item.last_modified,
                                  dict(item.metadata or {}))
                     for item in self._container.list_blobs(
                         name_starts_with=name, include=["snapshots", "metadata"])
                     if item.name == name and item.snapshot]
        return sorted(found, key=lambda s: s.snapshot)

    def append(self, name: str, data: bytes) -> None:
        """Append ``data`` to an append blob in one atomic block, creating it when missing."""
        with self._errors(name):
            blob = self._blob(name)
            try:
                blob.append_block(data)
                return
            except ResourceNotFoundError as exc:
                if error_code(exc) == "ContainerNotFound":
                    raise
            with contextlib.suppress(ResourceExistsError):
                blob.create_append_blob(match_condition=MatchConditions.IfMissing)
            blob.append_block(data)

    def delete(self, name: str) -> None:
        """Delete the blob and its snapshots (already gone is fine)."""
        with self._errors(name):
            try:
                self._blob(name).delete_blob(delete_snapshots="include")
            except ResourceNotFoundError as exc:
                if error_code(exc) == "ContainerNotFound":
                    raise

    def names(self, prefix: str) -> list[str]:
        """The names of the blobs starting with ``prefix``, sorted."""
        with self._errors(prefix):
            return sorted(item.name for item in self._container.list_blobs(
                name_starts_with=prefix))

    # -- leases -------------------------------------------------------------------------

    def lease_view(self, name: str) -> LeaseView | None:
        """Whether the blob is leased, and its metadata; None when it does not exist."""
        with self._errors(name):
            try:
                found = self._blob(name).get_blob_properties()
            except ResourceNotFoundError as exc:
                if error_code(exc) == "ContainerNotFound":
                    raise
                return None
            state = str(getattr(found.lease, "state", "") or "")
            return LeaseView(state in ("leased", "breaking"), dict(found.metadata or {}))

    def acquire_lease(self, name: str, seconds: int, lease_id: str) -> bool:
        """Take a ``seconds`` lease on the blob (created empty when missing) with the id
        ``lease_id``; False when another lease is active."""
        with self._errors(name):
            blob = self._blob(name)
            for _ in range(2):
                try:
                    blob.acquire_lease(lease_duration=seconds, lease_id=lease_id)
                    return True
                except ResourceExistsError as exc:
                    if error_code(exc) in ("LeaseAlreadyPresent",
                                           "LeaseIsBreakingAndCannotBeAcquired"):
                        return False
                    raise
                except ResourceNotFoundError as exc:
                    if error_code(exc) == "ContainerNotFound":
                        raise
                    with contextlib.suppress(ResourceExistsError):
                        blob.upload_blob(b"", overwrite=False)
            return False

    def renew_lease(self, name: str, lease_id: str) -> bool:
        """Renew the lease ``lease_id`` for its full duration; False when it is not ours any
        more (released, broken, or expired and taken by someone else)."""
        return self._lease_call(name, lease_id, lambda lease: lease.renew())

    def release_lease(self, name: str, lease_id: str) -> bool:
        """End the lease ``lease_id`` at once; False when it is not the blob's lease."""
        return self._lease_call(name, lease_id, lambda lease: lease.release())

    def set_metadata(self, name: str, metadata: Mapping[str, str], lease_id: str) -> None:
        """Replace the blob's metadata, as the holder of the lease ``lease_id``."""
        with self._errors(name):
            self._blob(name).set_blob_metadata(dict(metadata), lease=lease_id)

    def _lease_call(self, name: str, lease_id: str,
                    action: Callable[[BlobLeaseClient], object]) -> bool:
        with self._errors(name):
            try:
                action(BlobLeaseClient(self._blob(name), lease_id=lease_id))
                return True
            except (ResourceExistsError, ResourceNotFoundError) as exc:
                if error_code(exc) in _NOT_OUR_LEASE:
                    return False
                raise

    # -- helpers ------------------------------------------------------------------------

    def _blob(self, name: str, snapshot: str | None = None) -> BlobClient:
        return self._container.get_blob_client(name, snapshot=snapshot)

    @contextlib.contextmanager
    def _errors(self, name: str) -> Iterator[None]:
        """Our errors for the block's: a missing container and an unreachable account get
        messages of their own; the rest name the blob."""
        try:
            yield
        except AzureError as exc:
            if error_code(exc) == "ContainerNotFound":
                raise self._no_container(exc) from exc
            if isinstance(exc, ServiceRequestError | ServiceResponseError):
                raise RemoteError(
                    f"Cannot reach the storage account {self.account_url}: {reason(exc)}",
                    hint=UNREACHABLE_HINT, code="StorageUnreachable") from exc
            raise storage_error(exc, f"the blob {self.url(name)}") from exc

    def _no_container(self, exc: AzureError) -> RemoteError:
        account = account_name(self.account_url)
        return RemoteError(
            f"The container {self.container_name} does not exist in the storage account "
            f"{self.account_url}",
            hint=f"Create it once: `az storage container create --account-name {account} "
                 f"--name {self.container_name} --auth-mode login` (with "
                 "AZURE_STORAGE_CONNECTION_STRING set, which az reads too: `az storage "
                 f"container create --name {self.container_name}`). aimodels never creates "
                 "it: a typo in the manifest must not start an empty state.",
            code="ContainerNotFound", status=404)
