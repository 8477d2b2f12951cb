"""The custom-model registry over HTTP: initialize an upload, upload through the SAS with
azure-storage-blob, register, read, page, delete, and list what the uploads container holds."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
from azure.storage.blob import BlobClient, ContainerClient
from hand_clock import START, Clock

from aimodels.emulator.app import Emulator
from aimodels.emulator.config import EmulatorConfig
from aimodels.emulator.registry import sas_lifetime
from aimodels.emulator.server import RunningEmulator, start_in_thread

KIB = 1024
GB = 10**9
SMALL = {"max_single_put_size": 64 * KIB, "max_block_size": 64 * KIB}


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def emulator(clock: Clock) -> Iterator[RunningEmulator]:
    with start_in_thread(emulator=Emulator(EmulatorConfig(), clock=clock)) as running:
        yield running


@pytest.fixture
def api(emulator: RunningEmulator) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=emulator.url, headers={"Authorization": "Bearer t"}) as client:
        yield client


def initialize(api: httpx.Client, model: str, size: int = 1000, **extra: object) -> dict:
    response = api.post("/datastore/upload/initialize",
                        json={"model_name": model, "file_size": size, "format": "safetensors",
                              "file_name": "model.safetensors", **extra})
    assert response.status_code == 200, response.text
    return response.json()


def upload(api: httpx.Client, model: str, data: bytes) -> dict:
    """Initialize, then upload ``data`` as one file through the SAS URI."""
    upload = initialize(api, model, len(data))
    BlobClient.from_blob_url(upload["sas_uri"], **SMALL).upload_blob(data)
    return upload


def register(api: httpx.Client, name: str, version: str, upload_id: str,
             **extra: object) -> httpx.Response:
    return api.post("/custom-models", json={"name": name, "version": version,
                                            "upload_id": upload_id, **extra})


def test_initialize_hands_out_a_container_sas_for_a_per_upload_folder(
        api: httpx.Client, emulator: RunningEmulator) -> None:
    upload = initialize(api, "llama-7b")
    assert upload["container"] == "uploads"
    assert upload["blob_prefix"] == f"llama-7b/{upload['upload_id']}/"
    blob_url = urlsplit(upload["sas_uri"])
    assert f"{blob_url.scheme}://{blob_url.netloc}" == emulator.url
    assert blob_url.path.endswith(f"/uploads/llama-7b/{upload['upload_id']}/model.safetensors")
    sas = parse_qs(blob_url.query)
    assert sas["sr"] == ["c"] and sas["sp"] == ["rcwl"]
    assert upload["container_sas_uri"].split("?")[0].endswith("/uploads")
    assert upload["expires_at"] == _iso(START + 1800)


@pytest.mark.parametrize(("size", "seconds"), [
    pytest.param(0, 1800, id="empty: the 30-minute minimum"),
    pytest.param(10 * GB, 1800, id="10 GB: 30 minutes"),
    pytest.param(50 * GB, 3576, id="50 GB: about an hour"),
    pytest.param(200 * GB, 14305, id="200 GB: about four hours"),
    pytest.param(5000 * GB, 86400, id="5 TB: the 24-hour maximum"),
])
def test_sas_lifetime_follows_the_file_size(size: int, seconds: int) -> None:
    assert sas_lifetime(size) == seconds


def test_requested_lifetime_is_used_within_bounds(api: httpx.Client) -> None:
    upload = initialize(api, "short", sas_lifetime_seconds=120)
    assert upload["expires_at"] == _iso(START + 120)
    for wrong in (30, 100_000):
        response = api.post("/datastore/upload/initialize", json={
            "model_name": "short", "file_size": 1, "format": "gguf",
            "sas_lifetime_seconds": wrong})
        assert response.status_code == 400
        assert response.json()["error"]["code"] == "InvalidRequestContent"


@pytest.mark.parametrize("body", [
    pytest.param({"model_name": "m", "file_size": 1}, id="format missing"),
    pytest.param({"model_name": "m", "file_size": -1, "format": "gguf"}, id="negative size"),
    pytest.param({"model_name": "bad name", "file_size": 1, "format": "gguf"}, id="bad name"),
    pytest.param({"model_name": "m", "file_size": 1, "format": "exe"}, id="unknown format"),
    pytest.param({"model_name": "m", "file_size": 1, "format": "gguf", "file_name": "../x"},
                 id="file name escapes the folder"),
])
def test_initialize_rejects_bad_bodies(api: httpx.Client, body: dict) -> None:
    response = api.post("/datastore/upload/initialize", json=body)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "InvalidRequestContent"


def test_registry_needs_a_bearer_token(emulator: RunningEmulator) -> None:
    for method, path in (("POST", "/datastore/upload/initialize"), ("GET", "/custom-models"),
                         ("GET", "/datastore/list-sas")):
        response = httpx.request(method, emulator.url + path, json={})
        assert response.status_code == 401


def test_upload_register_show_and_duplicate(api: httpx.Client, clock: Clock) -> None:
    weights = os.urandom(200 * KIB)
    first = upload(api, "llama-7b", weights)
    created = register(api, "llama-7b", "1.0", first["upload_id"], description="Fine-tuned",
                       tags={"team": "ml"}, sha256="ab" * 32, size_bytes=len(weights))
    assert created.status_code == 201
    model = created.json()
    assert model["status"] == "Ready"
    assert model["size_bytes"] == len(weights)
    assert model["path"] == f"uploads/{first['blob_prefix']}model.safetensors"
    assert model["tags"] == {"team": "ml"} and model["format"] == "safetensors"

    clock.now += 60
    second = upload(api, "llama-7b", b"v2 weights")
    assert register(api, "llama-7b", "2.0", second["upload_id"]).status_code == 201
    assert api.get("/custom-models/llama-7b").json()["version"] == "2.0"
    assert api.get("/custom-models/llama-7b", params={"version": "1.0"}).json() == model

    duplicate = register(api, "llama-7b", "1.0", second["upload_id"])
    assert duplicate.status_code == 409
    assert duplicate.json()["error"]["code"] == "ModelAlreadyExists"
    reused = register(api, "other", "1.0", first["upload_id"])
    assert reused.status_code == 409
    assert reused.json()["error"]["code"] == "UploadAlreadyRegistered"
    missing = api.get("/custom-models/absent")
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "ModelNotFound"


def test_register_needs_a_committed_blob_of_the_right_size(api: httpx.Client) -> None:
    pending = initialize(api, "pending")
    client = BlobClient.from_blob_url(pending["sas_uri"])
    client.stage_block("MDA=", b"staged but never committed")
    refused = register(api, "pending", "1", pending["upload_id"])
    assert refused.status_code == 400
    assert refused.json()["error"]["code"] == "UploadNotCommitted"

    client.commit_block_list(["MDA="])
    wrong_size = register(api, "pending", "1", pending["upload_id"], size_bytes=1)
    assert wrong_size.json()["error"]["code"] == "SizeMismatch"
    assert register(api, "pending", "1", pending["upload_id"]).status_code == 201

    unknown = register(api, "pending", "2", "no-such-upload")
    assert unknown.status_code == 400
    assert unknown.json()["error"]["code"] == "UploadNotFound"
    invalid = api.post("/custom-models", json={"name": "x"})
    assert invalid.status_code == 400


def test_folder_upload_registers_every_file(api: httpx.Client) -> None:
    response = api.post("/datastore/upload/initialize",
                        json={"model_name": "phi", "file_size": 30, "format": "safetensors"})
    folder = response.json()
    assert folder["sas_uri"] == folder["container_sas_uri"]
    container = ContainerClient.from_container_url(folder["sas_uri"])
    for name in ("config.json", "model-1.safetensors", "model-2.safetensors"):
        container.upload_blob(folder["blob_prefix"] + name, b"0123456789")
    model = register(api, "phi", "1", folder["upload_id"]).json()
    assert model["file_count"] == 3
    assert model["size_bytes"] == 30
    assert model["path"] == f"uploads/{folder['blob_prefix']}"


def test_list_filters_by_name_and_pages_with_next_link(api: httpx.Client) -> None:
    for name, version in [("a", "1"), ("a", "2"), ("b", "1"), ("c", "1"), ("c", "2")]:
        assert register(api, name, version,
                        upload(api, name, b"w")["upload_id"]).status_code == 201
    seen, url = [], "/custom-models?$top=2"
    while url:
        page = api.get(url).json()
        assert len(page["value"]) <= 2
        seen += [(m["name"], m["version"]) for m in page["value"]]
        url = page.get("nextLink")
    assert seen == [("a", "1"), ("a", "2"), ("b", "1"), ("c", "1"), ("c", "2")]
    only_c = api.get("/custom-models", params={"name": "c"}).json()
    assert [m["version"] for m in only_c["value"]] == ["1", "2"]
    assert "nextLink" not in only_c


def test_delete_and_list_sas_show_orphaned_weights(api: httpx.Client) -> None:
    gone = upload(api, "gone", b"deleted with its model")
    kept = upload(api, "kept", b"kept after its model")
    assert register(api, "gone", "1", gone["upload_id"]).status_code == 201
    assert register(api, "kept", "1", kept["upload_id"]).status_code == 201

    deleted = api.delete("/custom-models/gone")
    assert deleted.json() == {"name": "gone", "deleted_versions": ["1"], "weights_deleted": True}
    assert api.delete("/custom-models/kept", params={"keep_weights": "true",
                                                     "version": "1"}).status_code == 200
    assert api.delete("/custom-models/kept").status_code == 404
    assert api.get("/custom-models").json()["value"] == []

    listing = api.get("/datastore/list-sas").json()
    assert parse_qs(urlsplit(listing["sas_uri"]).query)["sp"] == ["rl"]
    container = ContainerClient.from_container_url(listing["sas_uri"])
    assert [b.name for b in container.list_blobs()] == [kept["blob_prefix"] + "model.safetensors"]
    with pytest.raises(ResourceNotFoundError):
        BlobClient.from_blob_url(gone["sas_uri"]).get_blob_properties()
    with pytest.raises(HttpResponseError) as refused:
        container.upload_blob("x.bin", b"list SAS cannot write")
    assert refused.value.error_code == "AuthorizationPermissionMismatch"


def test_upload_sas_expires(api: httpx.Client, clock: Clock) -> None:
    upload = initialize(api, "slow", sas_lifetime_seconds=600)
    clock.now += 601
    with pytest.raises(HttpResponseError) as caught:
        BlobClient.from_blob_url(upload["sas_uri"]).upload_blob(b"too late")
    assert caught.value.error_code == "AuthenticationFailed"


def test_registry_and_weights_survive_a_restart_with_a_data_dir(tmp_path: Path) -> None:
    weights = os.urandom(150 * KIB)
    config = EmulatorConfig(data_dir=tmp_path / "data")
    headers = {"Authorization": "Bearer t"}
    with start_in_thread(config) as first, httpx.Client(base_url=first.url,
                                                       headers=headers) as api:
        done = upload(api, "durable", weights)
        assert register(api, "durable", "1", done["upload_id"]).status_code == 201
    with start_in_thread(config) as second, httpx.Client(base_url=second.url,
                                                        headers=headers) as api:
        assert api.get("/custom-models/durable").json()["size_bytes"] == len(weights)
        # The SAS minted by the first instance still verifies: the account key persisted.
        moved = done["sas_uri"].replace(first.url, second.url)
        assert BlobClient.from_blob_url(moved).download_blob().readall() == weights


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
