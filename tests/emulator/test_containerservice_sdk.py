"""The official azure-core stack against the emulator: ARMPolling completes modelDeployment PUT and
DELETE, ARM errors parse into HttpResponseError; and LROs survive an emulator restart."""

# ruff: noqa: F811  (pytest fixtures imported from containerservice_harness are used as arguments)
from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
import pytest
from azure.core.configuration import Configuration
from azure.core.exceptions import HttpResponseError
from azure.core.pipeline.policies import RetryPolicy, SansIOHTTPPolicy
from azure.core.polling import LROPoller
from azure.core.rest import HttpRequest
from azure.mgmt.core import ARMPipelineClient
from azure.mgmt.core.exceptions import ARMErrorFormat
from azure.mgmt.core.polling.arm_polling import ARMPolling
from containerservice_harness import A100, FakeClock

from aimodels.emulator.app import Emulator
from aimodels.emulator.config import EmulatorConfig
from aimodels.emulator.containerservice import API_VERSION, seed_parents
from aimodels.emulator.server import RunningEmulator, start_in_thread

SUB = "00000000-0000-0000-0000-000000000000"
GROUP = f"/subscriptions/{SUB}/resourceGroups/rg-quickstart/providers/Microsoft.ContainerService"
MODEL = (f"/subscriptions/{SUB}/providers/Microsoft.ContainerService/locations/eastus"
         "/aiModels/9806f0c862fdd920")
BODY = {"properties": {"modelResourceId": MODEL, "vmSize": A100}}


class FakeBearer(SansIOHTTPPolicy):
    """azure-contracts.md §2.1: our own authentication policy, so plain http is allowed."""

    def on_request(self, request: Any) -> None:
        request.http_request.headers["Authorization"] = "Bearer emulator"


@pytest.fixture(scope="module")
def real_time() -> Iterator[RunningEmulator]:
    with start_in_thread(EmulatorConfig(lro_seconds=0.2)) as running:
        yield running


def arm_client(url: str) -> ARMPipelineClient:
    config = Configuration()
    config.retry_policy = RetryPolicy(retry_total=0)
    config.authentication_policy = FakeBearer()
    return ARMPipelineClient(base_url=url, config=config)


def deployment_url(base: str, name: str) -> str:
    path = f"{GROUP}/aiManagers/quickstart/namespaces/prod/modelDeployments/{name}"
    return f"{base}{path}?api-version={API_VERSION}"


def send(client: ARMPipelineClient, method: str, url: str, **kw: Any) -> Any:
    return client.send_request(HttpRequest(method, url, **kw), _return_pipeline_response=True)


def arm_error(client: ARMPipelineClient, method: str, url: str, **kw: Any) -> HttpResponseError:
    response = client.send_request(HttpRequest(method, url, **kw))
    assert response.status_code >= 400
    return HttpResponseError(response=response, error_format=ARMErrorFormat)


def test_arm_polling_completes_put_and_delete_quickly(real_time):
    client = arm_client(real_time.url)
    url = deployment_url(real_time.url, "sdk-lro")
    started = time.monotonic()
    initial = send(client, "PUT", url, json=BODY)
    created = LROPoller(client, initial, lambda r: r.http_response.json(), ARMPolling()).result()
    assert initial.http_response.status_code == 201
    assert created["properties"]["provisioningState"] == "Succeeded"
    assert created["properties"]["status"]["endpoint"].startswith(real_time.url)
    initial = send(client, "DELETE", url)
    poller = LROPoller(client, initial, lambda r: None, ARMPolling())
    poller.result()
    assert initial.http_response.status_code == 202
    assert poller.status() == "Succeeded"
    assert time.monotonic() - started < 3
    assert client.send_request(HttpRequest("GET", url)).status_code == 404


def test_a_failed_lro_raises_with_the_error_code(real_time):
    client = arm_client(real_time.url)
    group = f"{GROUP}/aiManagers/quickstart"
    source = f"{group}/modelSources/public-hf"
    client.send_request(
        HttpRequest(
            "PUT",
            f"{real_time.url}{source}?api-version={API_VERSION}",
            json={"properties": {"sourceType": "HuggingFace"}},
        )
    )
    llama = MODEL.replace("9806f0c862fdd920", "meta-llama%2FLlama-3.1-8B-Instruct")
    body = {
        "properties": {"modelResourceId": llama, "vmSize": A100, "modelSourceResourceId": source}
    }
    initial = send(client, "PUT", deployment_url(real_time.url, "gated"), json=body)
    with pytest.raises(HttpResponseError) as failure:
        LROPoller(client, initial, lambda r: r.http_response.json(), ARMPolling()).result()
    assert failure.value.error.code == "ModelAccessDenied"


def test_error_codes_parse_into_http_response_error(real_time):
    client = arm_client(real_time.url)
    url = deployment_url(real_time.url, "sdk-errors")
    bad = arm_error(client, "PUT", url, json={"properties": {**BODY["properties"], "scale": {}}})
    send(client, "PUT", url, json=BODY)
    busy = arm_error(client, "PUT", url, json=BODY)
    stale = arm_error(client, "DELETE", url, headers={"If-Match": '"stale"'})
    assert (bad.status_code, bad.error.code) == (400, "InvalidScalingProfile")
    assert (busy.status_code, busy.error.code) == (409, "Conflict")
    assert (stale.status_code, stale.error.code) == (412, "PreconditionFailed")


def test_an_lro_started_before_a_restart_finishes_after_it(tmp_path):
    clock = FakeClock()
    config = EmulatorConfig(lro_seconds=30, data_dir=tmp_path, seed=3)
    first = Emulator(config, clock=clock)
    with start_in_thread(emulator=first) as running:
        seed_parents(first, "11111111-1111-1111-1111-111111111111", "rg-mine", "eastus", "mine")
        response = httpx.put(
            deployment_url(running.url, "survivor"),
            json=BODY,
            headers={"Authorization": "Bearer t"},
        )
        key = httpx.post(
            f"{running.url}{GROUP}/aiManagers/quickstart/namespaces/prod/listAccessInfo",
            params={"api-version": API_VERSION},
            headers={"Authorization": "Bearer t"},
        )
    assert response.status_code == 201
    clock.advance(30)
    second = Emulator(config, clock=clock)
    with start_in_thread(emulator=second) as running:
        again = httpx.get(
            deployment_url(running.url, "survivor"), headers={"Authorization": "Bearer t"}
        )
        moved = urlsplit(response.headers["Azure-AsyncOperation"])._replace(
            netloc=urlsplit(running.url).netloc
        )
        operation = httpx.get(urlunsplit(moved), headers={"Authorization": "Bearer t"})
        mine = httpx.get(
            f"{running.url}/subscriptions/11111111-1111-1111-1111-111111111111/resourceGroups/"
            "rg-mine/providers/Microsoft.ContainerService/aiManagers/mine",
            params={"api-version": API_VERSION},
            headers={"Authorization": "Bearer t"},
        )
        key_again = httpx.post(
            f"{running.url}{GROUP}/aiManagers/quickstart/namespaces/prod/listAccessInfo",
            params={"api-version": API_VERSION},
            headers={"Authorization": "Bearer t"},
        )
    assert again.json()["properties"]["provisioningState"] == "Succeeded"
    assert again.json()["eTag"] == response.json()["eTag"]
    assert operation.json()["status"] == "Succeeded"
    assert mine.status_code == 200
    assert key_again.json()["primaryKey"] == key.json()["primaryKey"]
