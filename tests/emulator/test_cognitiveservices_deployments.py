"""Foundry deployments of the emulated Microsoft.CognitiveServices API, over real HTTP.

LROs are moved forward with an injected clock, never by sleeping (except the concurrency test,
which needs two real requests in flight at once).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator

import httpx
import pytest

from aimodels.emulator.app import Emulator
from aimodels.emulator.cognitiveservices import seed_account
from aimodels.emulator.config import EmulatorConfig
from aimodels.emulator.server import RunningEmulator, start_in_thread

SUB = "00000000-0000-0000-0000-000000000000"
RG = f"/subscriptions/{SUB}/resourceGroups/rg-quickstart/providers/Microsoft.CognitiveServices"
EASTUS = f"{RG}/accounts/quickstart-foundry"
WESTEUROPE = f"{RG}/accounts/alpha-foundry-we"
Q = {"api-version": "2025-09-01"}
LRO = 5.0
OTHER_SUB = "22222222-0000-0000-0000-000000000000"


class Clock:
    """A clock tests move by hand."""

    def __init__(self) -> None:
        self.t = 1_800_000_000.0

    def __call__(self) -> float:
        return self.t

    def advance(self, seconds: float = LRO + 1) -> None:
        self.t += seconds


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def emulator(clock: Clock) -> Iterator[RunningEmulator]:
    with start_in_thread(emulator=Emulator(EmulatorConfig(lro_seconds=LRO), clock=clock)) as em:
        yield em


@pytest.fixture
def client(emulator: RunningEmulator) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=emulator.url, headers={"Authorization": "Bearer t"}) as c:
        yield c


def body(name: str = "gpt-4o", version: str | None = "2024-11-20", sku: str = "GlobalStandard",
         capacity: int | None = 10, fmt: str = "OpenAI", **props: object) -> dict:
    model = {"format": fmt, "name": name} | ({"version": version} if version else {})
    return {"sku": {"name": sku} | ({"capacity": capacity} if capacity is not None else {}),
            "properties": {"model": model, **props}}


def put(client: httpx.Client, account: str, name: str, payload: dict,
        **kw: object) -> httpx.Response:
    return client.put(f"{account}/deployments/{name}", params=Q, json=payload, **kw)


def created(client: httpx.Client, clock: Clock, account: str, name: str, payload: dict) -> dict:
    """Create a deployment and let its operation finish."""
    response = put(client, account, name, payload)
    assert response.status_code == 201, response.text
    clock.advance()
    return client.get(f"{account}/deployments/{name}", params=Q).json()


def test_put_creates_with_201_and_an_absolute_async_operation(client, clock, emulator):
    response = put(client, EASTUS, "chat", body(capacity=150))
    assert response.status_code == 201
    doc = response.json()
    assert doc["id"] == f"{EASTUS}/deployments/chat"
    assert doc["type"] == "Microsoft.CognitiveServices/accounts/deployments"
    assert doc["sku"] == {"name": "GlobalStandard", "capacity": 150}
    assert doc["properties"]["model"] == {"format": "OpenAI", "name": "gpt-4o",
                                          "version": "2024-11-20"}
    assert doc["properties"]["raiPolicyName"] == "Microsoft.Default"  # the service's, not ours
    assert doc["properties"]["versionUpgradeOption"] == "OnceNewDefaultVersionAvailable"
    assert doc["properties"]["provisioningState"] == "Creating"
    assert doc["properties"]["capabilities"]["chatCompletion"] == "true"
    assert {r["key"] for r in doc["properties"]["rateLimits"]} == {"request", "token"}
    assert doc["properties"]["callRateLimit"]["count"] == 150
    assert doc["etag"].startswith('"') and not any(k.startswith("_") for k in doc)
    assert response.headers["ETag"] == doc["etag"]  # body key and header, as recorded
    operation = response.headers["Azure-AsyncOperation"]
    # Cognitive Services' own URL and statuses (the Azure CLI recordings)
    assert operation.startswith(emulator.url + f"/subscriptions/{SUB}/providers/"
                                "Microsoft.CognitiveServices/locations/eastus/operationResults/")
    assert "api-version=2025-09-01" in operation and "Location" not in response.headers
    assert int(response.headers["Retry-After-Ms"]) > 0
    running = client.get(operation).json()
    assert running["status"] == "Creating" and "/operationResults/" in running["id"]
    clock.advance()
    assert client.get(operation).json()["status"] == "Succeeded"
    assert client.get(f"{EASTUS}/deployments/chat", params=Q).json()["properties"][
        "provisioningState"] == "Succeeded"


def test_put_on_an_existing_deployment_replaces_with_200_and_a_new_etag(client, clock):
    first = created(client, clock, EASTUS, "chat", body(capacity=10))
    response = put(client, EASTUS, "chat", body(capacity=20, raiPolicyName="Microsoft.Default",
                                                versionUpgradeOption="NoAutoUpgrade"))
    assert response.status_code == 200
    assert "Azure-AsyncOperation" in response.headers
    clock.advance()
    second = client.get(f"{EASTUS}/deployments/chat", params=Q).json()
    assert second["etag"] != first["etag"]
    assert second["sku"]["capacity"] == 20
    assert second["properties"]["raiPolicyName"] == "Microsoft.Default"
    assert second["properties"]["versionUpgradeOption"] == "NoAutoUpgrade"
    assert second["systemData"]["createdAt"] == first["systemData"]["createdAt"]


def test_omitted_version_and_capacity_take_the_region_defaults(client, clock):
    doc = created(client, clock, EASTUS, "chat", body(version=None, capacity=None))
    assert doc["properties"]["model"]["version"] == "2024-11-20"
    assert doc["sku"]["capacity"] == 50


def test_if_match_is_ignored_like_the_real_service(client, clock):
    created(client, clock, EASTUS, "chat", body())
    response = put(client, EASTUS, "chat", body(capacity=11), headers={"If-Match": '"stale"'})
    assert response.status_code == 200


def test_patch_answers_202_with_an_async_operation_only(client, clock):
    # UpdateDeployment.json: 202 with azure-asyncoperation and nothing else
    before = created(client, clock, EASTUS, "chat", body(capacity=10))
    response = client.patch(f"{EASTUS}/deployments/chat", params=Q,
                            json={"sku": {"name": "GlobalStandard", "capacity": 30},
                                  "tags": {"team": "a"}})
    assert response.status_code == 202 and "Location" not in response.headers
    operation = response.headers["Azure-AsyncOperation"]
    assert client.get(operation).json()["status"] == "Accepted"
    assert client.get(f"{EASTUS}/deployments/chat", params=Q).json()["properties"][
        "provisioningState"] == "Accepted"  # DeploymentProvisioningState has no Updating
    clock.advance()
    assert client.get(operation).json()["status"] == "Succeeded"
    final = client.get(f"{EASTUS}/deployments/chat", params=Q)
    assert final.status_code == 200
    assert final.json()["sku"]["capacity"] == 30 and final.json()["tags"] == {"team": "a"}
    assert final.json()["etag"] != before["etag"]
    assert final.json()["properties"]["model"] == before["properties"]["model"]


def test_patch_of_a_missing_deployment_is_404(client):
    response = client.patch(f"{EASTUS}/deployments/nope", params=Q, json={"sku": {"capacity": 3}})
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "NotFound"


def test_delete_answers_202_then_the_deployment_is_gone(client, clock):
    created(client, clock, EASTUS, "chat", body())
    response = client.delete(f"{EASTUS}/deployments/chat", params=Q)
    assert response.status_code == 202
    assert response.headers["Azure-AsyncOperation"] and "Location" not in response.headers
    assert client.get(f"{EASTUS}/deployments/chat", params=Q).json()["properties"][
        "provisioningState"] == "Deleting"
    clock.advance()
    assert client.get(response.headers["Azure-AsyncOperation"]).json()["status"] == "Succeeded"
    missing = client.get(f"{EASTUS}/deployments/chat", params=Q)
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "NotFound"
    assert client.delete(f"{EASTUS}/deployments/chat", params=Q).status_code == 204


def test_list_follows_next_link(client, clock):
    for i in range(23):
        created(client, clock, EASTUS, f"d{i:02d}", body(name="gpt-4.1-nano", version="2025-04-14",
                                                         capacity=1))
    first = client.get(f"{EASTUS}/deployments", params=Q).json()
    assert len(first["value"]) == 20 and first["nextLink"].startswith("http://")
    second = client.get(first["nextLink"]).json()
    assert "nextLink" not in second  # Azure leaves the key out on the last page
    names = [d["name"] for d in first["value"] + second["value"]]
    assert names == [f"d{i:02d}" for i in range(23)]


@pytest.mark.parametrize(("path", "code"), [
    (f"{EASTUS}/deployments/nope", "NotFound"),
    (f"{RG}/accounts/nope/deployments/x", "ResourceNotFound"),
    (EASTUS.replace("rg-quickstart", "rg-nope") + "/deployments/x", "ResourceGroupNotFound"),
    (EASTUS.replace(SUB, "99999999-0000-0000-0000-000000000000") + "/deployments/x",
     "ResourceGroupNotFound"),
])
def test_missing_resources_answer_arm_404s(client, path, code):
    response = client.get(path, params=Q)
    assert response.status_code == 404
    assert response.json()["error"]["code"] == code


@pytest.mark.parametrize(("query", "code"), [
    ({}, "MissingApiVersionParameter"),
    ({"api-version": "2019-01-01"}, "NoRegisteredProviderFound"),
])
def test_a_served_api_version_is_required(client, query, code):
    response = client.get(f"{EASTUS}/deployments", params=query)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == code


@pytest.mark.parametrize(("payload", "code", "words"), [
    (body(name="gpt-5", version="2025-08-07"), "DeploymentModelNotSupported", "Name:gpt-5"),
    (body(name="o3-mini", version="2025-01-31"), "DeploymentModelNotSupported", "o3-mini"),
    (body(name="gpt-4o", version="2099-01-01"), "DeploymentModelNotSupported", "2099-01-01"),
    (body(name="gpt-35-turbo", version="0125", sku="Standard"), "DeploymentModelNotSupported",
     "Creating account deployment is not supported"),
    (body(name="gpt-4.1", version="2025-04-14", sku="Standard"), "InvalidResourceProperties",
     "SKU 'Standard'"),
    (body(capacity=0), "InvalidCapacity", "at least 1 and no more than 10000"),
    (body(capacity=10001), "InvalidCapacity", "'10001'"),
    (body(capacity="ten"), "InvalidCapacity", "'ten'"),
    (body(sku="ProvisionedManaged", capacity=60), "InvalidCapacity", "multiple of 50"),
    (body(sku="ProvisionedManaged", capacity=50), "SpecialFeatureOrQuotaIdRequired",
     "OpenAI.ProvisionedManaged"),
    (body(name="o4-mini", version="2025-04-16", capacity=1), "InsufficientQuota",
     "OpenAI.GlobalStandard.o4-mini"),
    ({"properties": {"model": {"format": "OpenAI", "name": "gpt-4o"}}}, "InvalidResourceProperties",
     "sku"),
    ({"sku": {"name": "GlobalStandard"}, "properties": {}}, "InvalidResourceProperties", "model"),
    (body(versionUpgradeOption="Sometimes"), "InvalidResourceProperties", "Sometimes"),
])
def test_invalid_writes_get_azure_error_codes(client, payload, code, words):
    response = put(client, EASTUS, "bad", payload)
    assert response.status_code == 400, response.text
    assert response.json()["error"]["code"] == code
    assert words in response.json()["error"]["message"]
    assert "Retry-After" not in response.headers
    assert client.get(f"{EASTUS}/deployments/bad", params=Q).status_code == 404


def test_malformed_json_and_bad_names_are_400(client):
    raw = client.put(f"{EASTUS}/deployments/x", params=Q, content=b"{nope",
                     headers={"Content-Type": "application/json"})
    assert raw.status_code == 400 and raw.json()["error"]["code"] == "InvalidRequestContent"
    bad = put(client, EASTUS, "-bad name", body())
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "InvalidResourceName"


def test_changing_the_model_name_of_a_deployment_is_refused(client, clock):
    created(client, clock, EASTUS, "chat", body())
    response = put(client, EASTUS, "chat", body(name="gpt-4o-mini", version="2024-07-18"))
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "InvalidResourceProperties"


def test_a_version_offered_in_one_region_and_not_another(client, clock, emulator):
    seed_account(emulator.emulator, SUB, "rg-quickstart", "tokyo-foundry", "japaneast")
    tokyo = f"{RG}/accounts/tokyo-foundry"
    refused = put(client, tokyo, "chat", body(version="2024-11-20"))
    assert refused.json()["error"]["code"] == "DeploymentModelNotSupported"
    assert "not supported" in refused.json()["error"]["message"]


def test_a_deprecating_version_is_deployed_only_where_the_subscription_runs_it(client, clock,
                                                                              emulator):
    # japaneast offers gpt-4o 2024-08-06 only, and it is Deprecating: Azure deploys it only
    # for subscriptions that already have deployments of it.
    seed_account(emulator.emulator, SUB, "rg-quickstart", "tokyo-foundry", "japaneast")
    tokyo = f"{RG}/accounts/tokyo-foundry"
    refused = put(client, tokyo, "chat", body(version="2024-08-06"))
    assert refused.status_code == 400
    assert refused.json()["error"]["code"] == "DeploymentModelNotSupported"
    assert "deprecating" in refused.json()["error"]["message"]
    created(client, clock, EASTUS, "old", body(version="2024-11-20"))
    clock.advance()
    assert put(client, EASTUS, "old", body(version="2024-08-06")).status_code == 200  # in place
    clock.advance()
    assert put(client, tokyo, "chat", body(version="2024-08-06")).status_code == 201


def test_quota_is_summed_over_deployments_of_the_region_and_subscription(client, clock, emulator):
    # eastus OpenAI.GlobalStandard.gpt-4o: limit 450, 100 used outside the emulator (fixtures).
    seed_account(emulator.emulator, SUB, "rg-other", "second-eastus", "eastus")
    second = f"/subscriptions/{SUB}/resourceGroups/rg-other/providers/Microsoft.CognitiveServices" \
             "/accounts/second-eastus"
    created(client, clock, EASTUS, "a", body(capacity=200))
    created(client, clock, second, "b", body(version="2024-11-20", capacity=140))
    created(client, clock, WESTEUROPE, "far", body(capacity=400))  # another region's pool
    assert put(client, second, "c", body(capacity=10)).status_code == 201
    clock.advance()
    refused = put(client, EASTUS, "d", body(capacity=1))
    assert refused.status_code == 400
    error = refused.json()["error"]
    assert error["code"] == "InsufficientQuota"
    for words in ("OpenAI.GlobalStandard.gpt-4o", "require 1 new capacity", "available capacity 0",
                  "usage is 450", "limit is 450"):
        assert words in error["message"]


def test_updates_count_only_the_extra_capacity_and_deletes_free_it(client, clock):
    created(client, clock, EASTUS, "a", body(capacity=300))  # 100 + 300 of 450
    assert put(client, EASTUS, "a", body(capacity=350)).status_code == 200
    clock.advance()
    grow = client.patch(f"{EASTUS}/deployments/a", params=Q, json={"sku": {"capacity": 351}})
    assert grow.status_code == 400 and grow.json()["error"]["code"] == "InsufficientQuota"
    assert client.delete(f"{EASTUS}/deployments/a", params=Q).status_code == 202
    clock.advance()
    assert put(client, EASTUS, "b", body(capacity=350)).status_code == 201


def test_a_second_write_on_a_busy_account_is_409_request_conflict(client, clock):
    assert put(client, EASTUS, "a", body()).status_code == 201
    for response in (put(client, EASTUS, "b", body()),
                     client.patch(f"{EASTUS}/deployments/a", params=Q,
                                  json={"sku": {"capacity": 2}}),
                     client.delete(f"{EASTUS}/deployments/a", params=Q)):
        assert response.status_code == 409
        error = response.json()["error"]
        assert error["code"] == "RequestConflict"
        assert error["message"] == ("Another operation is being performed on the parent resource "
                                    f"'{EASTUS}'. Please try again later.")
        assert "Retry-After" not in response.headers
    assert put(client, WESTEUROPE, "b", body()).status_code == 201
    clock.advance()
    assert put(client, EASTUS, "b", body()).status_code == 201


def _race(url: str, requests: list[tuple[str, dict]]) -> list[int]:
    """Send the requests at the same moment from threads; their status codes, sorted."""
    barrier = threading.Barrier(len(requests))
    statuses: list[int] = []

    def send(path: str, payload: dict) -> None:
        with httpx.Client(base_url=url, headers={"Authorization": "Bearer t"}) as c:
            barrier.wait()
            statuses.append(c.put(path, params=Q, json=payload).status_code)

    threads = [threading.Thread(target=send, args=r) for r in requests]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    return sorted(statuses)


def test_two_writes_at_once_on_one_account_one_gets_409_on_two_accounts_both_proceed():
    with start_in_thread(EmulatorConfig(lro_seconds=60)) as em:
        same = _race(em.url, [(f"{EASTUS}/deployments/a", body()),
                              (f"{EASTUS}/deployments/b", body())])
        assert same == [201, 409]
        alpha = "/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/rg-team-alpha" \
                "/providers/Microsoft.CognitiveServices/accounts/alpha-foundry"
        apart = _race(em.url, [(f"{WESTEUROPE}/deployments/a", body()),
                               (f"{alpha}/deployments/a", body())])
        assert apart == [201, 201]


def test_deployments_and_operations_persist_across_emulators_sharing_a_data_dir(tmp_path, clock):
    config = EmulatorConfig(lro_seconds=LRO, data_dir=tmp_path)
    with start_in_thread(emulator=Emulator(config, clock=clock)) as first:
        with httpx.Client(base_url=first.url, headers={"Authorization": "Bearer t"}) as c:
            response = put(c, EASTUS, "chat", body(capacity=40))
            etag = response.json()["etag"]
            operation_path = httpx.URL(response.headers["Azure-AsyncOperation"]).raw_path.decode()
            seed_account(first.emulator, OTHER_SUB, "rg-mine", "mine", "eastus2")
    clock.advance()
    with start_in_thread(emulator=Emulator(config, clock=clock)) as second:
        with httpx.Client(base_url=second.url, headers={"Authorization": "Bearer t"}) as c:
            doc = c.get(f"{EASTUS}/deployments/chat", params=Q).json()
            assert doc["properties"]["provisioningState"] == "Succeeded" and doc["etag"] == etag
            assert c.get(operation_path).json()["status"] == "Succeeded"
            mine = c.get(f"/subscriptions/{OTHER_SUB}/resourceGroups/rg-mine/providers"
                         "/Microsoft.CognitiveServices/accounts/mine", params=Q)
            assert mine.json()["location"] == "eastus2"


def test_the_account_lock_holds_across_two_processes_on_one_data_dir(tmp_path, clock):
    config = EmulatorConfig(lro_seconds=LRO, data_dir=tmp_path)
    with start_in_thread(emulator=Emulator(config, clock=clock)) as one, \
            start_in_thread(emulator=Emulator(config, clock=clock)) as two:
        with httpx.Client(base_url=one.url, headers={"Authorization": "Bearer t"}) as a, \
                httpx.Client(base_url=two.url, headers={"Authorization": "Bearer t"}) as b:
            assert put(a, EASTUS, "x", body()).status_code == 201
            assert put(b, EASTUS, "y", body()).json()["error"]["code"] == "RequestConflict"
            clock.advance()
            assert put(b, EASTUS, "y", body()).status_code == 201


def test_older_api_versions_are_served_with_the_same_shapes(client, clock):
    created(client, clock, EASTUS, "chat", body())
    for version in ("2023-05-01", "2024-10-01", "2026-05-15-preview"):
        got = client.get(f"{EASTUS}/deployments/chat", params={"api-version": version})
        assert got.status_code == 200 and got.json()["etag"]


@pytest.fixture
def recorded(clock):
    """An emulator answering deployment writes as the live recordings do (--fidelity recorded)."""
    emulator = Emulator(EmulatorConfig(lro_seconds=1, fidelity="recorded"), clock=clock)
    with start_in_thread(emulator=emulator) as running, httpx.Client(
            base_url=running.url, headers={"Authorization": "Bearer t"}) as session:
        yield session


def test_recorded_put_answers_201_accepted_with_no_lro_header(recorded, clock):
    response = put(recorded, EASTUS, "chat", body())
    assert response.status_code == 201 and response.headers["ETag"] == response.json()["etag"]
    assert not {"Azure-AsyncOperation", "Location", "Retry-After", "Retry-After-Ms"} & set(
        response.headers)
    assert response.json()["properties"]["provisioningState"] == "Accepted"
    got = recorded.get(f"{EASTUS}/deployments/chat", params=Q).json()
    assert got["properties"]["provisioningState"] == "Creating"
    clock.advance()
    got = recorded.get(f"{EASTUS}/deployments/chat", params=Q).json()
    assert got["properties"]["provisioningState"] == "Succeeded"
    replaced = put(recorded, EASTUS, "chat", body(capacity=20))
    assert replaced.status_code == 200 and "Azure-AsyncOperation" not in replaced.headers


def test_recorded_delete_is_synchronous(recorded, clock):
    put(recorded, EASTUS, "chat", body())
    clock.advance()
    response = recorded.delete(f"{EASTUS}/deployments/chat", params=Q)
    assert (response.status_code, response.content) == (200, b"")
    assert "Azure-AsyncOperation" not in response.headers
    assert recorded.get(f"{EASTUS}/deployments/chat", params=Q).status_code == 404
