"""SAS URLs for tests of the emulator's blob endpoint, minted the way the registry mints them."""

from __future__ import annotations

from azure.storage.blob import BlobClient, ContainerClient

from aimodels.emulator.blob.sas import ACCOUNT_NAME, account_key, mint_container_sas
from aimodels.emulator.server import RunningEmulator

KIB = 1024
#: 64 KiB blocks and chunks: block uploads, chunked downloads and paging with little data.
SMALL = {"max_single_put_size": 64 * KIB, "max_block_size": 64 * KIB,
         "max_single_get_size": 64 * KIB, "max_chunk_get_size": 64 * KIB}


def container_url(running: RunningEmulator, permission: str = "racwdl",
                  container: str = "uploads") -> str:
    """A container SAS URL."""
    now = running.emulator.now()
    token = mint_container_sas(ACCOUNT_NAME, account_key(running.emulator.store), container,
                               permission, now - 60, now + 3600)
    return f"{running.url}/{ACCOUNT_NAME}/{container}?{token}"


def blob_client(running: RunningEmulator, name: str, permission: str = "racwdl") -> BlobClient:
    container = ContainerClient.from_container_url(container_url(running, permission), **SMALL)
    return container.get_blob_client(name)


def blob_url(running: RunningEmulator, name: str, permission: str = "racwdl") -> str:
    base, _, token = container_url(running, permission).partition("?")
    return f"{base}/{name}?{token}"
