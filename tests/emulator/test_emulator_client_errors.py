"""No client error but 429 carries ``Retry-After``: azure-core retries any error response that has
one (azure-contracts.md §2.3), so a 400, 404, 409 or 412 with it would be sent again and again.
Each API family is driven into the 4xx answers it has, over real HTTP."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import httpx
import pytest
from azure.storage.blob import BlobClient

from aimodels.emulator.app import Emulator
from aimodels.emulator.config import EmulatorConfig
from aimodels.emulator.server import start_in_thread

SUB = "00000000-0000-0000-0000-000000000000"
CS = f"/subscriptions/{SUB}/resourceGroups/rg-quickstart/providers/Microsoft.ContainerService"
MANAGER = f"{CS}/aiManagers/quickstart"
CS_Q = {"api-version": "2026-08-02-preview"}
MODEL = (f"/subscriptions/{SUB}/providers/Microsoft.ContainerService/locations/eastus"
         "/aiModels/9806f0c862fdd920")
COG = (f"/subscriptions/{SUB}/resourceGroups/rg-quickstart/providers/"
       "Microsoft.CognitiveServices/accounts/quickstart-foundry")
COG_Q = {"api-version": "2025-09-01"}
GPT4O = {"sku": {"name": "GlobalStandard", "capacity": 10},
         "properties": {"model": {"format": "OpenAI", "name": "gpt-4o", "version": "2024-11-20"}}}
CHAT_Q = {"api-version": "2024-10-21"}
HELLO = {"messages": [{"role": "user", "content": "hi"}]}


class Clock:
    """Moves only when a test says so: LROs started here run until then."""

    def __init__(self) -> None:
        self.now = 1_900_000_000.0

    def __call__(self) -> float:
        return self.now


CLOCK = Clock()


@pytest.fixture(scope="module")
def api() -> Iterator[httpx.Client]:
    emu = Emulator(EmulatorConfig(lro_seconds=60), clock=CLOCK)
    with start_in_thread(emulator=emu) as running:
        with httpx.Client(base_url=running.url, headers={"Authorization": "Bearer t"}) as client:
            yield client


def answers(api: httpx.Client, *calls: Callable[[httpx.Client], httpx.Response]) -> list[int]:
    """Make the calls; check that none answers a Retry-After; return their statuses."""
    statuses = []
    for call in calls:
        response = call(api)
        assert "retry-after" not in response.headers, (response.request.url, response.text)
        statuses.append(response.status_code)
    return statuses


def test_container_service_400_404_409_412(api: httpx.Client) -> None:
    source = f"{MANAGER}/modelSources/hf"
    deployment = f"{MANAGER}/namespaces/dev/modelDeployments/busy"
    body = {"properties": {"modelResourceId": MODEL, "vmSize": "Standard_NC24ads_A100_v4"}}
    assert api.put(source, params=CS_Q, json={"properties": {"sourceType": "HuggingFace"}}
                   ).status_code == 201
    assert api.put(deployment, params=CS_Q, json=body).status_code == 201
    assert answers(
        api,
        lambda c: c.put(f"{MANAGER}/namespaces/dev/modelDeployments/bad", params=CS_Q,
                        json={"properties": {**body["properties"], "scale": {}}}),
        lambda c: c.get(f"{MANAGER}/modelSources/nope", params=CS_Q),
        lambda c: c.get(source),  # no api-version
        lambda c: c.put(deployment, params=CS_Q, json=body),  # its create still runs
        lambda c: c.delete(source, params=CS_Q, headers={"If-Match": '"stale"'}),
        lambda c: c.put(source, params=CS_Q, headers={"If-None-Match": "*"},
                        json={"properties": {"sourceType": "HuggingFace"}}),
    ) == [400, 404, 400, 409, 412, 412]


def test_cognitive_services_400_404_409(api: httpx.Client) -> None:
    assert api.put(f"{COG}/deployments/first", params=COG_Q, json=GPT4O).status_code == 201
    assert answers(
        api,
        lambda c: c.put(f"{COG}/deployments/bad", params=COG_Q,
                        json={**GPT4O, "sku": {"name": "GlobalStandard", "capacity": 0}}),
        lambda c: c.get(f"{COG}/deployments/nope", params=COG_Q),
        lambda c: c.get(f"{COG}/deployments/nope", params={"api-version": "2020-01-01"}),
        lambda c: c.put(f"{COG}/deployments/second", params=COG_Q, json=GPT4O),  # account busy
    ) == [400, 404, 400, 409]


def test_registry_400_404_409(api: httpx.Client) -> None:
    upload = api.post("/datastore/upload/initialize", json={
        "model_name": "tiny", "file_size": 3, "format": "gguf", "file_name": "m.gguf"}).json()
    BlobClient.from_blob_url(upload["sas_uri"]).upload_blob(b"abc")
    model = {"name": "tiny", "version": "1", "upload_id": upload["upload_id"]}
    assert api.post("/custom-models", json=model).status_code == 201
    assert answers(
        api,
        lambda c: c.post("/datastore/upload/initialize", json={"model_name": "tiny"}),
        lambda c: c.get("/custom-models/nope"),
        lambda c: c.delete("/custom-models/nope"),
        lambda c: c.post("/custom-models", json=model),
    ) == [400, 404, 404, 409]


def test_blob_400_401_403_404_412(api: httpx.Client) -> None:
    upload = api.post("/datastore/upload/initialize", json={
        "model_name": "blobby", "file_size": 3, "format": "gguf", "file_name": "m.gguf"}).json()
    url = upload["sas_uri"]
    bare = url.partition("?")[0]
    reader = api.get("/datastore/list-sas").json()["sas_uri"]
    BlobClient.from_blob_url(url).upload_blob(b"abc")
    assert answers(
        api,
        lambda c: c.put(url + "&comp=block&blockid=!!", content=b"x"),
        lambda c: c.get(bare),
        lambda c: c.put(reader.replace("?", "/blobby/x?", 1), content=b"x",
                        headers={"x-ms-blob-type": "BlockBlob"}),
        lambda c: c.get(url.replace("m.gguf", "missing.gguf")),
        lambda c: c.put(url, content=b"x", headers={"x-ms-blob-type": "BlockBlob",
                                                    "If-None-Match": "*"}),
    ) == [400, 401, 403, 404, 412]


def test_inference_400_401_404(api: httpx.Client) -> None:
    chat = "/openai/deployments/{}/chat/completions"
    account = COG.replace("quickstart-foundry", "alpha-foundry-we")
    assert api.put(f"{account}/deployments/talk", params=COG_Q, json=GPT4O).status_code == 201
    CLOCK.now += 120  # the deployment is ready (and every other operation of this module done)
    assert answers(
        api,
        lambda c: c.post(chat.format("talk"), params=CHAT_Q, json={"messages": []}),
        lambda c: httpx.post(f"{c.base_url}{chat.format('talk')}", params=CHAT_Q, json=HELLO),
        lambda c: c.post(chat.format("nope"), params=CHAT_Q, json=HELLO),
        lambda c: c.post("/inference/quickstart/dev/v1/chat/completions",
                         json={"model": "x", **HELLO}),
    ) == [400, 401, 404, 401]
