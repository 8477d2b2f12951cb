"""The official azure-mgmt-cognitiveservices SDK against the emulator (azure-contracts.md §2.1):
its pollers must finish quickly thanks to Retry-After-Ms, and its errors must carry the code."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from azure.core.credentials import AccessToken
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
from azure.core.pipeline.policies import SansIOHTTPPolicy
from azure.mgmt.cognitiveservices import CognitiveServicesManagementClient
from azure.mgmt.cognitiveservices.models import (
    Deployment,
    DeploymentModel,
    DeploymentProperties,
    PatchResourceTagsAndSku,
    Sku,
)

from aimodels.emulator.config import EmulatorConfig
from aimodels.emulator.server import start_in_thread

SUB = "00000000-0000-0000-0000-000000000000"
RG, ACCOUNT = "rg-quickstart", "quickstart-foundry"


class FakeCredential:
    def get_token(self, *scopes: str, **kwargs: object) -> AccessToken:
        return AccessToken("t", int(time.time()) + 3600)


class BearerPolicy(SansIOHTTPPolicy):
    """Sets the bearer token itself, so the SDK accepts a plain-http endpoint."""

    def on_request(self, request) -> None:  # type: ignore[no-untyped-def]
        request.http_request.headers["Authorization"] = "Bearer t"


@pytest.fixture
def sdk() -> Iterator[CognitiveServicesManagementClient]:
    with start_in_thread(EmulatorConfig(lro_seconds=0.1)) as em:
        client = CognitiveServicesManagementClient(FakeCredential(), SUB, base_url=em.url,
                                                   authentication_policy=BearerPolicy())
        yield client
        client.close()


def gpt4o(capacity: int, sku: str = "GlobalStandard", version: str = "2024-11-20") -> Deployment:
    return Deployment(sku=Sku(name=sku, capacity=capacity), properties=DeploymentProperties(
        model=DeploymentModel(format="OpenAI", name="gpt-4o", version=version)))


def timed(action):  # type: ignore[no-untyped-def]
    started = time.monotonic()
    result = action()
    return result, time.monotonic() - started


def test_deployment_lifecycle_through_the_sdk_pollers(sdk):
    created, took = timed(lambda: sdk.deployments.begin_create_or_update(
        RG, ACCOUNT, "chat", gpt4o(150)).result())
    assert took < 1.0
    assert created.properties.provisioning_state == "Succeeded" and created.sku.capacity == 150
    assert created.properties.rai_policy_name == "Microsoft.Default"  # the service default
    updated, took = timed(lambda: sdk.deployments.begin_update(
        RG, ACCOUNT, "chat", PatchResourceTagsAndSku(sku=Sku(name="GlobalStandard", capacity=200),
                                                     tags={"team": "alpha"})).result())
    assert took < 1.0
    assert (updated.sku.capacity, updated.tags) == (200, {"team": "alpha"})
    assert updated.etag != created.etag
    fetched = sdk.deployments.get(RG, ACCOUNT, "chat")
    assert fetched.etag == updated.etag and fetched.properties.model.version == "2024-11-20"
    assert [d.name for d in sdk.deployments.list(RG, ACCOUNT)] == ["chat"]
    _, took = timed(lambda: sdk.deployments.begin_delete(RG, ACCOUNT, "chat").result())
    assert took < 1.0
    with pytest.raises(ResourceNotFoundError):
        sdk.deployments.get(RG, ACCOUNT, "chat")


def test_replacing_through_the_sdk_polls_to_the_new_state(sdk):
    sdk.deployments.begin_create_or_update(RG, ACCOUNT, "chat", gpt4o(10)).result()
    replaced, took = timed(lambda: sdk.deployments.begin_create_or_update(
        RG, ACCOUNT, "chat", gpt4o(20, version="2024-08-06")).result())
    assert took < 1.0
    assert replaced.properties.provisioning_state == "Succeeded"
    assert (replaced.sku.capacity, replaced.properties.model.version) == (20, "2024-08-06")


def test_sdk_errors_carry_the_arm_code(sdk):
    with pytest.raises(HttpResponseError) as quota:
        sdk.deployments.begin_create_or_update(RG, ACCOUNT, "big", gpt4o(400)).result()
    assert quota.value.error.code == "InsufficientQuota"
    assert "OpenAI.GlobalStandard.gpt-4o" in quota.value.error.message
    with pytest.raises(HttpResponseError) as sku:
        ptu = gpt4o(50, sku="ProvisionedManaged")
        sdk.deployments.begin_create_or_update(RG, ACCOUNT, "x", ptu).result()
    assert sku.value.error.code == "SpecialFeatureOrQuotaIdRequired"


def test_sdk_sees_the_409_while_another_write_runs():
    with start_in_thread(EmulatorConfig(lro_seconds=30)) as em:
        client = CognitiveServicesManagementClient(FakeCredential(), SUB, base_url=em.url,
                                                   authentication_policy=BearerPolicy())
        client.deployments.begin_create_or_update(RG, ACCOUNT, "a", gpt4o(1))  # not awaited
        with pytest.raises(HttpResponseError) as conflict:
            client.deployments.begin_create_or_update(RG, ACCOUNT, "b", gpt4o(1))
        assert conflict.value.status_code == 409
        assert conflict.value.error.code == "RequestConflict"
        client.close()


def test_catalog_and_quota_through_the_sdk(sdk):
    models, took = timed(lambda: list(sdk.models.list("eastus")))
    assert took < 1.0
    gpt = [m for m in models if m.model.name == "gpt-4o" and m.model.version == "2024-11-20"][0]
    assert gpt.kind == "OpenAI"
    assert {s.name for s in gpt.model.skus} >= {"GlobalStandard", "Standard"}
    standard = next(s for s in gpt.model.skus if s.name == "GlobalStandard")
    # as in Azure's catalog: no minimum or step on a standard SKU, a maximum always
    assert standard.capacity.minimum is None and standard.capacity.maximum > 0
    usages = {u.name.value: u for u in sdk.usages.list("eastus")}
    assert len(usages) > 20  # more than one page
    assert (usages["OpenAI.GlobalStandard.o4-mini"].current_value,
            usages["OpenAI.GlobalStandard.o4-mini"].limit) == (150, 150)
    everywhere = list(sdk.model_capacities.list("OpenAI", "gpt-4o", "2024-11-20"))
    assert {c.location for c in everywhere} == {"eastus", "eastus2", "westus3", "swedencentral",
                                                 "westeurope"}
    eastus = list(sdk.location_based_model_capacities.list("eastus", "OpenAI", "gpt-4o",
                                                           "2024-11-20"))
    standard = [c for c in eastus if c.properties.sku_name == "GlobalStandard"][0]
    assert standard.properties.available_capacity == 350


def test_accounts_through_the_sdk(sdk):
    account = sdk.accounts.get(RG, ACCOUNT)
    assert (account.kind, account.location) == ("AIServices", "eastus")
    assert account.properties.endpoint.endswith(f"/accounts/{ACCOUNT}/")
    names = {a.name for a in sdk.accounts.list_by_resource_group(RG)}
    assert names == {ACCOUNT, "alpha-foundry-we"}
    assert len(sdk.accounts.list_keys(RG, ACCOUNT).key1) == 32
    assert any(m.name == "gpt-4.1" for m in sdk.accounts.list_models(RG, ACCOUNT))


def test_the_sdk_finishes_on_the_recorded_shapes_too():
    # --fidelity recorded: PUT 201 Accepted with no LRO header (the SDK then polls the resource
    # itself), DELETE 200 at once. Without Retry-After azure-core waits its polling_interval.
    with start_in_thread(EmulatorConfig(lro_seconds=0.1, fidelity="recorded")) as em:
        client = CognitiveServicesManagementClient(FakeCredential(), SUB, base_url=em.url,
                                                   authentication_policy=BearerPolicy())
        created = client.deployments.begin_create_or_update(
            RG, ACCOUNT, "chat", gpt4o(10), polling_interval=0.05).result()
        assert created.properties.provisioning_state == "Succeeded"
        client.deployments.begin_delete(RG, ACCOUNT, "chat", polling_interval=0.05).result()
        with pytest.raises(ResourceNotFoundError):
            client.deployments.get(RG, ACCOUNT, "chat")
        client.close()
