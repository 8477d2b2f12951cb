"""Deploying registered custom models on the emulator, over real HTTP: a ModelDeployment names
``custom-models/{name}/versions/{version}`` as its modelResourceId, a FoundryDeployment
``{format, name, version, source: custom-models/{name}}``; both check the registration exists
and is Ready, and both then answer chat completions. The registry's ``overwrite`` swaps a
version for a new upload. Time moves with a hand clock."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from azure.storage.blob import BlobClient, ContainerClient
from hand_clock import Clock

from aimodels.emulator.app import Emulator
from aimodels.emulator.config import EmulatorConfig
from aimodels.emulator.server import RunningEmulator, start_in_thread

LRO = 5.0
SUB = "00000000-0000-0000-0000-000000000000"
GROUP = f"/subscriptions/{SUB}/resourceGroups/rg-quickstart/providers"
NAMESPACE = f"{GROUP}/Microsoft.ContainerService/aiManagers/quickstart/namespaces/default"
ACCOUNT = f"{GROUP}/Microsoft.CognitiveServices/accounts/quickstart-foundry"
CS = {"api-version": "2026-08-02-preview"}
COG = {"api-version": "2025-09-01"}
A100 = "Standard_NC24ads_A100_v4"


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def emulator(clock: Clock) -> Iterator[RunningEmulator]:
    with start_in_thread(emulator=Emulator(EmulatorConfig(lro_seconds=LRO),
                                           clock=clock)) as running:
        yield running


@pytest.fixture
def api(emulator: RunningEmulator) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=emulator.url, headers={"Authorization": "Bearer t"}) as client:
        yield client


def register(api: httpx.Client, name: str, version: str, data: bytes,
             **extra: Any) -> httpx.Response:
    """Upload ``data`` through a fresh SAS, then register it as ``name`` ``version``."""
    upload = api.post("/datastore/upload/initialize", json={
        "model_name": name, "file_size": len(data), "format": "safetensors",
        "file_name": "model.safetensors"}).json()
    BlobClient.from_blob_url(upload["sas_uri"]).upload_blob(data)
    return api.post("/custom-models", json={"name": name, "version": version,
                                            "upload_id": upload["upload_id"],
                                            "format": "safetensors", **extra})


def model_deployment(api: httpx.Client, name: str, model_id: str) -> httpx.Response:
    body = {"properties": {"modelResourceId": model_id, "vmSize": A100}}
    return api.put(f"{NAMESPACE}/modelDeployments/{name}", params=CS, json=body)


def foundry_deployment(api: httpx.Client, name: str, model: dict[str, Any]) -> httpx.Response:
    body = {"sku": {"name": "Standard", "capacity": 1}, "properties": {"model": model}}
    return api.put(f"{ACCOUNT}/deployments/{name}", params=COG, json=body)


def code(response: httpx.Response) -> tuple[int, str]:
    return response.status_code, response.json()["error"]["code"]


def test_a_model_deployment_of_a_registered_version_serves_chat(
        api: httpx.Client, clock: Clock) -> None:
    assert register(api, "tiny", "1.0", b"weights").status_code == 201
    created = model_deployment(api, "tiny-chat", "custom-models/tiny/versions/1.0")
    assert created.status_code == 201, created.text
    assert created.json()["properties"]["modelResourceId"] == "custom-models/tiny/versions/1.0"
    clock.now += LRO + 1
    got = api.get(f"{NAMESPACE}/modelDeployments/tiny-chat", params=CS).json()
    assert got["properties"]["provisioningState"] == "Succeeded"
    assert got["properties"]["status"]["maxModelLen"] == 32768
    keys = api.post(f"{NAMESPACE}/listAccessInfo", params=CS).json()
    answer = api.post(f"{got['properties']['status']['endpoint']}/chat/completions",
                      headers={"Authorization": f"Bearer {keys['primaryKey']}"},
                      json={"model": "tiny-chat",
                            "messages": [{"role": "user", "content": "hello"}]})
    assert answer.status_code == 200, answer.text
    assert answer.json()["choices"][0]["message"]["content"] == \
        "[emulated tiny-chat] You said: hello"


def test_a_registry_path_without_a_version_deploys_the_newest(api: httpx.Client) -> None:
    register(api, "tiny", "1.0", b"one")
    register(api, "tiny", "2.0", b"two")
    response = model_deployment(api, "newest", "/custom-models/tiny")
    assert response.status_code == 201, response.text


@pytest.mark.parametrize(("model_id", "expected"), [
    pytest.param("custom-models/nope/versions/1.0", "CustomModelNotFound", id="no-model"),
    pytest.param("custom-models/tiny/versions/9.9", "CustomModelNotFound", id="no-version"),
    pytest.param("custom-models/tiny/versions/1.0/extra", "InvalidModelResourceId",
                 id="malformed"),
])
def test_a_model_deployment_of_an_unregistered_model_is_refused(
        api: httpx.Client, model_id: str, expected: str) -> None:
    register(api, "tiny", "1.0", b"weights")
    response = model_deployment(api, "bad", model_id)
    assert code(response) == (400, expected)
    assert model_id in response.json()["error"]["message"] or "is not registered" in \
        response.json()["error"]["message"]


def test_a_registration_that_is_not_ready_is_refused_by_both_kinds(
        api: httpx.Client, emulator: RunningEmulator) -> None:
    register(api, "tiny", "1.0", b"weights")
    store = emulator.emulator.store
    doc = store.get("reg.models", "tiny/1.0")
    store.put("reg.models", "tiny/1.0", {**doc, "status": "Validating"})
    assert code(model_deployment(api, "md", "custom-models/tiny/versions/1.0")) == \
        (400, "CustomModelNotReady")
    model = {"format": "safetensors", "name": "tiny", "version": "1.0",
             "source": "custom-models/tiny"}
    assert code(foundry_deployment(api, "fd", model)) == (400, "CustomModelNotReady")


def test_a_foundry_deployment_of_a_registered_version_serves_chat(
        api: httpx.Client, clock: Clock) -> None:
    register(api, "tiny", "1.0", b"weights")
    model = {"format": "safetensors", "name": "tiny", "version": "1.0",
             "source": "custom-models/tiny"}
    created = foundry_deployment(api, "tiny-fd", model)
    assert created.status_code == 201, created.text
    assert created.json()["properties"]["model"] == model
    clock.now += LRO + 1
    answer = api.post("/openai/deployments/tiny-fd/chat/completions", params=COG,
                      json={"messages": [{"role": "user", "content": "hi"}]})
    assert answer.status_code == 200, answer.text
    assert answer.json()["choices"][0]["message"]["content"] == "[emulated tiny] You said: hi"


@pytest.mark.parametrize(("model", "expected"), [
    pytest.param({"version": "2.0"}, "CustomModelNotFound", id="no-version"),
    pytest.param({"name": "other", "source": "custom-models/other"}, "CustomModelNotFound",
                 id="no-model"),
    pytest.param({"format": "gguf"}, "InvalidResourceProperties", id="wrong-format"),
    pytest.param({"name": "other"}, "InvalidResourceProperties", id="name-not-the-source"),
])
def test_a_foundry_deployment_of_an_unregistered_model_is_refused(
        api: httpx.Client, model: dict[str, str], expected: str) -> None:
    register(api, "tiny", "1.0", b"weights")
    wanted = {"format": "safetensors", "name": "tiny", "version": "1.0",
              "source": "custom-models/tiny", **model}
    assert code(foundry_deployment(api, "bad", wanted)) == (400, expected)


def test_overwrite_swaps_a_version_for_a_new_upload_and_deletes_the_old_blobs(
        api: httpx.Client) -> None:
    first = register(api, "tiny", "1.0", b"old weights").json()
    assert code(register(api, "tiny", "1.0", b"new")) == (409, "ModelAlreadyExists")
    swapped = register(api, "tiny", "1.0", b"new weights", overwrite=True)
    assert swapped.status_code == 200, swapped.text
    assert swapped.json()["upload_id"] != first["upload_id"]
    assert api.get("/custom-models/tiny").json()["size_bytes"] == len(b"new weights")
    listing = api.get("/datastore/list-sas").json()
    names = [b.name for b in _blobs(listing)]
    assert not any(n.startswith(first["blob_prefix"]) for n in names)
    assert any(n.startswith(swapped.json()["blob_prefix"]) for n in names)


def test_overwrite_with_keep_weights_keeps_the_old_blobs(api: httpx.Client) -> None:
    first = register(api, "tiny", "1.0", b"old weights").json()
    swapped = register(api, "tiny", "1.0", b"new weights", overwrite=True, keep_weights=True)
    assert swapped.status_code == 200, swapped.text
    names = [b.name for b in _blobs(api.get("/datastore/list-sas").json())]
    assert any(n.startswith(first["blob_prefix"]) for n in names)
    assert any(n.startswith(swapped.json()["blob_prefix"]) for n in names)


def _blobs(listing: dict[str, str]) -> list[Any]:
    return list(ContainerClient.from_container_url(listing["sas_uri"]).list_blobs())
