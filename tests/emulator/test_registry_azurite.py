"""The registry handing out SAS URIs for an external Azurite (``emulator serve --azurite``):
initialize, upload to Azurite with azure-storage-blob, register, delete."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator

import httpx
import pytest
from azure.storage.blob import BlobClient, ContainerClient
from azurite import AzuriteBlob, azurite_blob  # noqa: F401  (the fixture)

from aimodels.emulator.config import EmulatorConfig
from aimodels.emulator.server import start_in_thread

KIB = 1024


@pytest.fixture
def api(azurite_blob: AzuriteBlob) -> Iterator[httpx.Client]:  # noqa: F811
    config = EmulatorConfig(external_blob=azurite_blob.external_blob)
    with start_in_thread(config) as running, httpx.Client(
            base_url=running.url, headers={"Authorization": "Bearer t"}) as client:
        yield client


def test_upload_to_azurite_then_register_and_delete(api: httpx.Client,
                                                    azurite_blob: AzuriteBlob) -> None:  # noqa: F811
    weights = os.urandom(200 * KIB)
    upload = api.post("/datastore/upload/initialize", json={
        "model_name": "llama-7b", "file_size": len(weights), "format": "safetensors",
        "file_name": "model.safetensors"}).json()
    assert upload["sas_uri"].startswith(azurite_blob.account_url + "/uploads/llama-7b/")

    refused = api.post("/custom-models", json={"name": "llama-7b", "version": "1",
                                               "upload_id": upload["upload_id"]})
    assert refused.status_code == 400
    assert refused.json()["error"]["code"] == "UploadNotCommitted"

    blob = BlobClient.from_blob_url(upload["sas_uri"], max_single_put_size=64 * KIB,
                                    max_block_size=64 * KIB)
    blob.upload_blob(weights)
    created = api.post("/custom-models", json={"name": "llama-7b", "version": "1",
                                               "upload_id": upload["upload_id"],
                                               "size_bytes": len(weights)})
    assert created.status_code == 201, created.text
    assert created.json()["status"] == "Ready"

    listing = api.get("/datastore/list-sas").json()
    assert listing["sas_uri"].startswith(azurite_blob.account_url + "/uploads?")
    container = ContainerClient.from_container_url(listing["sas_uri"])
    assert [b.size for b in container.list_blobs(name_starts_with=upload["blob_prefix"])] == \
        [len(weights)]

    assert api.delete("/custom-models/llama-7b").json()["weights_deleted"] is True
    assert list(container.list_blobs(name_starts_with=upload["blob_prefix"])) == []


def test_unreachable_external_store_is_502_not_a_traceback() -> None:
    closed = f"http://127.0.0.1:{_closed_port()}/devstoreaccount1"
    config = EmulatorConfig(external_blob=(closed, "devstoreaccount1", "a2V5" * 16))
    with start_in_thread(config) as running:
        response = httpx.post(running.url + "/datastore/upload/initialize",
                              headers={"Authorization": "Bearer t"},
                              json={"model_name": "m", "file_size": 1, "format": "gguf"})
    assert response.status_code == 502
    assert response.json()["error"]["code"] == "BlobStoreUnavailable"


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
