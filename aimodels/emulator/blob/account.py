"""The storage account the registry hands upload SAS URIs for: the emulator's own blob endpoint,
or an external Azurite (``aimodels emulator serve --azurite ACCOUNT_URL``).

Both answer the same few questions the registry asks (mint a container SAS, list the committed
blobs under an upload's folder, delete them), so registry routes never care which one is in use.
The external one talks to Azurite with azure-storage-blob and Shared Key; its calls block, so the
registry runs them in a thread.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from azure.core.exceptions import AzureError, ResourceExistsError
from azure.storage.blob import ContainerClient

from aimodels.emulator.blob.sas import ACCOUNT_NAME, account_key, mint_container_sas
from aimodels.emulator.blob.store import BlobStore

#: What an account's calls raise when the blob store behind it fails (the external one is
#: azure-storage-blob talking to an Azurite that may be down).
UNAVAILABLE: tuple[type[Exception], ...] = (AzureError,)


@dataclass(frozen=True, slots=True)
class StoredBlob:
    """A committed blob under an upload's folder: its full name and size in bytes."""

    name: str
    size: int


class UploadAccount(Protocol):
    """What the registry needs from a blob account."""

    def account_url(self, origin: str) -> str:
        """The account URL (``http://127.0.0.1:PORT/<account>``) seen from ``origin``."""
        ...

    def ensure_container(self, container: str) -> None: ...

    def sas(self, container: str, permission: str, start: float, expiry: float) -> str:
        """A container SAS token (no ``?``)."""
        ...

    def blobs(self, container: str, prefix: str) -> list[StoredBlob]:
        """Committed blobs whose names start with ``prefix`` (staged blocks do not count)."""
        ...

    def delete_blobs(self, container: str, prefix: str) -> int: ...


class LocalAccount:
    """The emulator's own blob endpoint (account ``aimodelsdevstore``, path-style URLs)."""

    def __init__(self, emu: Any) -> None:
        self.emu = emu
        self.blobs_store = BlobStore(emu.store, emu.now)

    def account_url(self, origin: str) -> str:
        return f"{origin}/{ACCOUNT_NAME}"

    def ensure_container(self, container: str) -> None:
        self.blobs_store.ensure_container(container)

    def sas(self, container: str, permission: str, start: float, expiry: float) -> str:
        key = account_key(self.emu.store)
        return mint_container_sas(ACCOUNT_NAME, key, container, permission, start, expiry)

    def blobs(self, container: str, prefix: str) -> list[StoredBlob]:
        page = self.blobs_store.listing(container, prefix, "", 1_000_000)
        return [StoredBlob(doc["name"], doc["size"]) for doc in page.blobs]

    def delete_blobs(self, container: str, prefix: str) -> int:
        return self.blobs_store.delete_prefix(container, prefix)


class ExternalAccount:
    """An Azurite (or any Storage account reachable with Shared Key) holding the uploads."""

    def __init__(self, account_url: str, account_name: str, key: str) -> None:
        self.url = account_url.rstrip("/")
        self.name = account_name
        self.key = key

    def account_url(self, origin: str) -> str:
        return self.url

    def _client(self, container: str) -> ContainerClient:
        credential = {"account_name": self.name, "account_key": self.key}
        # No retries: Azurite is on loopback, and the registry's caller has its own retry policy
        # (the SDK's default backs off 15 s and more before giving up).
        return ContainerClient(self.url, container, credential=credential, retry_total=0,
                               connection_timeout=5)

    def ensure_container(self, container: str) -> None:
        with self._client(container) as client:
            try:
                client.create_container()
            except ResourceExistsError:
                pass

    def sas(self, container: str, permission: str, start: float, expiry: float) -> str:
        return mint_container_sas(self.name, self.key, container, permission, start, expiry)

    def blobs(self, container: str, prefix: str) -> list[StoredBlob]:
        with self._client(container) as client:
            return [StoredBlob(b.name, b.size or 0)
                    for b in client.list_blobs(name_starts_with=prefix)]

    def delete_blobs(self, container: str, prefix: str) -> int:
        with self._client(container) as client:
            names = [b.name for b in client.list_blobs(name_starts_with=prefix)]
            for name in names:
                client.delete_blob(name)
        return len(names)


def account_for(emu: Any) -> UploadAccount:
    """The account ``emu`` hands SAS URIs for: external when ``config.external_blob`` is set."""
    if emu.config.external_blob:
        url, name, key = emu.config.external_blob
        return ExternalAccount(url, name, key)
    return LocalAccount(emu)
