"""The generic operation routes (operationStatuses / operationResults) for an operation that
fails and for ids that name nothing, the store's ranged reads, and the embedded emulator of
``target: local`` (its data beside the Stack, its parents seeded)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from aimodels.emulator.app import Emulator
from aimodels.emulator.config import EmulatorConfig
from aimodels.emulator.embedded import start_embedded
from aimodels.emulator.server import RunningEmulator, start_in_thread
from aimodels.errors import SourceLocation
from aimodels.model.desired import Stack

SUB = "00000000-0000-0000-0000-000000000000"
MANAGER = (f"/subscriptions/{SUB}/resourceGroups/rg-quickstart/providers/"
           "Microsoft.ContainerService/aiManagers/quickstart")
Q = {"api-version": "2026-08-02-preview"}
LLAMA = (f"/subscriptions/{SUB}/providers/Microsoft.ContainerService/locations/eastus/aiModels/"
         "meta-llama%2FLlama-3.1-8B-Instruct")
A100 = "Standard_NC24ads_A100_v4"
OPS = f"/subscriptions/{SUB}/providers/Microsoft.ContainerService/locations/eastus"


class Clock:
    def __init__(self) -> None:
        self.now = 1_900_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def api(clock: Clock) -> Iterator[httpx.Client]:
    emu = Emulator(EmulatorConfig(lro_seconds=10), clock=clock)
    with start_in_thread(emulator=emu) as running:
        with httpx.Client(base_url=running.url, headers={"Authorization": "Bearer t"}) as client:
            yield client


def gated_deployment_without_access(api: httpx.Client) -> httpx.Response:
    """A restricted model pulled through a source with no credential: ModelAccessDenied."""
    source = f"{MANAGER}/modelSources/no-token"
    assert api.put(source, params=Q, json={"properties": {"sourceType": "HuggingFace"}}
                   ).status_code == 201
    response = api.put(f"{MANAGER}/namespaces/dev/modelDeployments/gated", params=Q, json={
        "properties": {"modelResourceId": LLAMA, "vmSize": A100, "modelSourceResourceId": source}})
    assert response.status_code == 201, response.text
    return response


def test_a_failing_operation_reports_in_progress_then_failed(api: httpx.Client,
                                                             clock: Clock) -> None:
    created = gated_deployment_without_access(api)
    status_url = created.headers["Azure-AsyncOperation"]
    result_url = created.headers["Location"]
    running = api.get(status_url)
    assert running.status_code == 200
    assert running.json()["status"] == "InProgress"
    assert int(running.headers["Retry-After-Ms"]) > 0
    assert api.get(result_url).status_code == 202
    clock.now += 10
    failed = api.get(status_url)
    assert failed.status_code == 200  # reading the status worked; the operation did not
    body = failed.json()
    assert body["status"] == "Failed"
    assert body["error"]["code"] == "ModelAccessDenied"
    assert body["endTime"] and body["percentComplete"] == 100.0
    assert "retry-after-ms" not in failed.headers
    result = api.get(result_url)
    assert result.status_code == 400
    assert result.json()["error"]["code"] == "ModelAccessDenied"
    assert "retry-after" not in result.headers
    resource = api.get(f"{MANAGER}/namespaces/dev/modelDeployments/gated", params=Q).json()
    assert resource["properties"]["provisioningState"] == "Failed"


def test_unknown_operation_ids_are_404(api: httpx.Client) -> None:
    op_id = gated_deployment_without_access(api).headers["Azure-AsyncOperation"] \
        .split("/operationStatuses/")[1].split("?")[0]
    other_sub = OPS.replace(SUB, "99999999-9999-9999-9999-999999999999")
    for url in (f"{OPS}/operationStatuses/{uuid.uuid4()}",
                f"{OPS}/operationResults/{uuid.uuid4()}",
                f"{OPS}/operationStatuses/not-even-a-guid",
                f"{other_sub}/operationStatuses/{op_id}",
                f"{OPS.replace('eastus', 'westus3')}/operationResults/{op_id}",
                f"{OPS.replace('Container', 'Cognitive')}/operationStatuses/{op_id}"):
        response = api.get(url, params=Q)
        assert response.status_code == 404, url
        assert response.json()["error"]["code"] == "OperationNotFound"
    assert api.get(f"{OPS}/operationStatuses/{op_id.upper()}", params=Q).status_code == 200


# -- the embedded emulator of target: local ----------------------------------------------------


def stack_in(folder: Path) -> Stack:
    return Stack(name="mine", target="local",
                 subscription_id="12345678-0000-0000-0000-000000000001", resource_group="rg-mine",
                 location="westus3",
                 source=SourceLocation(str(folder / "stack.yaml")), base_dir=folder,
                 ai_manager="my-manager", foundry_account="my-foundry")


def get(running: RunningEmulator, path: str, api_version: str) -> httpx.Response:
    return httpx.get(running.url + path, params={"api-version": api_version},
                     headers={"Authorization": "Bearer t"})


def test_embedded_emulator_seeds_the_stacks_parents_and_keeps_data_beside_it(
        tmp_path: Path) -> None:
    stack = stack_in(tmp_path)
    scope = f"/subscriptions/{stack.subscription_id}/resourceGroups/rg-mine/providers"
    source = f"{scope}/Microsoft.ContainerService/aiManagers/my-manager/modelSources/hf"
    with start_embedded(stack, ai_managers=["second-manager"], lro_seconds=0.5) as running:
        names = [n["name"] for n in get(running, f"{scope}/Microsoft.ContainerService/aiManagers"
                                        "/my-manager/namespaces", Q["api-version"]).json()["value"]]
        account = get(running, f"{scope}/Microsoft.CognitiveServices/accounts/my-foundry",
                      "2025-09-01")
        second = get(running, f"{scope}/Microsoft.ContainerService/aiManagers/second-manager",
                     Q["api-version"])
        created = httpx.put(running.url + source, params=Q, headers={"Authorization": "Bearer t"},
                            json={"properties": {"sourceType": "HuggingFace"}})
    assert sorted(names) == ["default", "dev", "prod", "staging"]
    assert account.status_code == 200 and account.json()["location"] == "westus3"
    assert second.status_code == 200
    assert created.status_code == 201
    assert (tmp_path / ".aimodels" / "emulator" / "emulator.sqlite3").is_file()
    with start_embedded(stack) as running:
        assert get(running, source, Q["api-version"]).status_code == 200
