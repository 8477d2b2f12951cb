"""A 100 MiB model file through the registry's upload flow with the real azure-storage-blob SDK:
``initialize`` hands out a SAS, the SDK uploads in 4 MiB blocks four at a time and downloads in
ranges, the bytes come back the same, the registry registers the upload, and the read-only SAS
of ``list-sas`` cannot write. Timed: the store must not copy the whole blob per block or range."""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from azure.core.exceptions import HttpResponseError
from azure.storage.blob import BlobClient, ContainerClient

from aimodels.emulator.config import EmulatorConfig
from aimodels.emulator.server import RunningEmulator, start_in_thread

SIZE = 100 * 1024 * 1024
#: Measured on 2 vCPUs: about 1.2 s up and 0.3 s down in memory, 1.4 s and 0.5 s with --data.
#: The bound leaves room for a loaded CI machine while catching a store that copies the whole
#: blob per block or per range (that took 3 s down alone).
BUDGET_SECONDS = 15.0


@pytest.fixture(scope="module")
def weights(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A 100 MiB file of random bytes and its sha256."""
    path = tmp_path_factory.mktemp("weights") / "model.safetensors"
    digest = hashlib.sha256()
    with path.open("wb") as out:
        for _ in range(SIZE // (4 * 1024 * 1024)):
            chunk = os.urandom(4 * 1024 * 1024)
            digest.update(chunk)
            out.write(chunk)
    return path, digest.hexdigest()


@pytest.fixture(params=["memory", "data-dir"])
def emulator(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[RunningEmulator]:
    data_dir = tmp_path / "data" if request.param == "data-dir" else None
    with start_in_thread(EmulatorConfig(data_dir=data_dir)) as running:
        yield running


def test_a_100_mib_file_uploads_through_the_issued_sas_and_comes_back_the_same(
        emulator: RunningEmulator, weights: tuple[Path, str]) -> None:
    path, digest = weights
    api = httpx.Client(base_url=emulator.url, headers={"Authorization": "Bearer t"})
    upload = api.post("/datastore/upload/initialize", json={
        "model_name": "big", "file_size": SIZE, "format": "safetensors",
        "file_name": path.name}).json()
    started = time.monotonic()
    blob = BlobClient.from_blob_url(upload["sas_uri"])
    with path.open("rb") as data:
        blob.upload_blob(data, max_concurrency=4)
    uploaded = time.monotonic() - started
    downloaded = hashlib.sha256()
    for chunk in blob.download_blob(max_concurrency=4).chunks():
        downloaded.update(chunk)
    took = time.monotonic() - started

    committed, uncommitted = blob.get_block_list("all")
    assert len(committed) == 25 and not uncommitted  # 4 MiB blocks, as the SDK sends them
    assert downloaded.hexdigest() == digest
    assert took < BUDGET_SECONDS, f"upload {uploaded:.1f} s, total {took:.1f} s"
    model = api.post("/custom-models", json={"name": "big", "version": "1",
                                             "upload_id": upload["upload_id"], "sha256": digest,
                                             "size_bytes": SIZE})
    assert model.status_code == 201, model.text
    assert model.json()["size_bytes"] == SIZE
    api.close()


def test_the_read_only_listing_sas_reads_but_cannot_write(emulator: RunningEmulator) -> None:
    api = httpx.Client(base_url=emulator.url, headers={"Authorization": "Bearer t"})
    upload = api.post("/datastore/upload/initialize", json={
        "model_name": "small", "file_size": 5, "format": "gguf", "file_name": "m.gguf"}).json()
    BlobClient.from_blob_url(upload["sas_uri"]).upload_blob(b"hello")
    reader = ContainerClient.from_container_url(api.get("/datastore/list-sas").json()["sas_uri"])
    name = upload["blob_prefix"] + "m.gguf"
    assert reader.download_blob(name).readall() == b"hello"
    with pytest.raises(HttpResponseError) as refused:
        reader.upload_blob(name, b"replaced", overwrite=True)
    assert refused.value.status_code == 403
    assert "ErrorCode:AuthorizationPermissionMismatch" in str(refused.value)
    api.close()
