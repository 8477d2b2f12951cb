"""Catalog and quota of the emulated Microsoft.CognitiveServices API, over real HTTP: location and
account models, modelCapacities, usages, and the fixture items behind
the six reasons of docs/preflight.md."""

from __future__ import annotations

import json
from collections.abc import Iterator
from importlib import resources

import httpx
import pytest

from aimodels.emulator.app import Emulator
from aimodels.emulator.cognitiveservices import seed_account
from aimodels.emulator.config import EmulatorConfig
from aimodels.emulator.server import RunningEmulator, start_in_thread

SUB = "00000000-0000-0000-0000-000000000000"
PROV = f"/subscriptions/{SUB}/providers/Microsoft.CognitiveServices"
GROUP = f"/subscriptions/{SUB}/resourceGroups/rg-quickstart/providers/Microsoft.CognitiveServices"
EASTUS = f"{GROUP}/accounts/quickstart-foundry"
Q = {"api-version": "2025-09-01"}
REGIONS = ("eastus", "eastus2", "westus3", "swedencentral", "westeurope", "japaneast")


class Clock:
    def __init__(self) -> None:
        self.t = 1_800_000_000.0

    def __call__(self) -> float:
        return self.t


def builtin_section() -> dict:
    path = resources.files("aimodels.emulator") / "fixtures" / "cognitiveservices.json"
    return json.loads(path.read_text(encoding="utf-8"))["cognitiveServices"]


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def emulator(clock: Clock) -> Iterator[RunningEmulator]:
    with start_in_thread(emulator=Emulator(EmulatorConfig(lro_seconds=1), clock=clock)) as em:
        yield em


@pytest.fixture
def client(emulator: RunningEmulator) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=emulator.url, headers={"Authorization": "Bearer t"}) as c:
        yield c


def all_items(client: httpx.Client, path: str, **params: str) -> list[dict]:
    """Every item of a list, following nextLink."""
    page = client.get(path, params={**Q, **params}).json()
    items = page["value"]
    while page.get("nextLink"):
        page = client.get(page["nextLink"]).json()
        items += page["value"]
    return items


def models_in(client: httpx.Client, region: str) -> dict[tuple[str, str], dict]:
    items = all_items(client, f"{PROV}/locations/{region}/models")
    return {(i["model"]["name"], i["model"]["version"]): i for i in items}


def capacities(client: httpx.Client, name: str, version: str, fmt: str = "OpenAI",
               region: str | None = None) -> dict[tuple[str, str], float]:
    path = f"{PROV}/locations/{region}/modelCapacities" if region else f"{PROV}/modelCapacities"
    items = all_items(client, path, modelFormat=fmt, modelName=name, modelVersion=version)
    return {(i["location"], i["name"]): i["properties"]["availableCapacity"] for i in items}


def usages(client: httpx.Client, region: str) -> dict[str, dict]:
    return {u["name"]["value"]: u for u in all_items(client, f"{PROV}/locations/{region}/usages")}


def test_fixtures_cover_the_catalog_the_task_asks_for():
    section = builtin_section()
    models = section["models"]
    assert len({m["name"] for m in models}) >= 15
    regions = {r for m in models for s in m["skus"].values() for r in s["regions"]}
    assert set(REGIONS) <= regions
    skus = {s for m in models for s in m["skus"]}
    assert {"Standard", "GlobalStandard", "DataZoneStandard", "ProvisionedManaged",
            "GlobalBatch"} <= skus
    states = {m["lifecycleStatus"] for m in models}
    assert {"Deprecating", "Deprecated", "GenerallyAvailable"} <= states
    assert {"Meta", "Microsoft", "DeepSeek", "Mistral AI"} <= {m["format"] for m in models}
    versions = {(m["name"], m["version"]) for m in models}
    assert {("gpt-4o", "2024-08-06"), ("gpt-4o", "2024-11-20")} <= versions


def test_location_models_wrap_each_version_in_model(client):
    item = models_in(client, "eastus")[("gpt-4o", "2024-08-06")]
    assert item["kind"] == "OpenAI" and item["skuName"] == "S0"
    model = item["model"]
    assert model["format"] == "OpenAI" and model["isDefaultVersion"] is False
    assert model["lifecycleStatus"] == "Deprecating"
    assert model["deprecation"]["inference"].startswith("2027-")
    assert model["capabilities"]["chatCompletion"] == "true"
    skus = {s["name"]: s for s in model["skus"]}
    # As Azure's catalog: the regional PTU SKU is "Provisioned" here (ProvisionedManaged in a
    # deployment), and standard SKUs carry no minimum or step (tests/fixtures/azure).
    assert set(skus) == {"Standard", "GlobalStandard", "Provisioned", "GlobalBatch"}
    assert skus["GlobalStandard"]["usageName"] == "OpenAI.GlobalStandard.gpt-4o"
    assert skus["GlobalStandard"]["capacity"] == {"maximum": 10000, "default": 50}
    assert skus["Provisioned"]["usageName"] == "OpenAI.Provisioned.gpt-4o"
    assert skus["Provisioned"]["capacity"] == {"minimum": 50, "maximum": 1000, "step": 50,
                                               "default": 50}
    assert model["maxCapacity"] >= skus["GlobalStandard"]["capacity"]["maximum"]
    assert models_in(client, "eastus")[("Llama-3.3-70B-Instruct", "4")]["kind"] == "AIServices"


def test_account_models_are_flat_and_limited_to_the_account_region(client):
    items = all_items(client, f"{EASTUS}/models")
    assert items and all("model" not in i and "format" in i for i in items)
    by_name = {(i["name"], i["version"]): i for i in items}
    assert ("o3-mini", "2025-01-31") not in by_name
    assert {s["name"] for s in by_name[("gpt-4.1", "2025-04-14")]["skus"]} == {
        "GlobalStandard", "DataZoneStandard", "GlobalBatch"}


def test_reason_1_model_in_no_region_of_the_subscription(client):
    for region in REGIONS:
        assert not [k for k in models_in(client, region) if k[0] == "gpt-5"]
    assert capacities(client, "gpt-5", "2025-08-07") == {}


def test_reason_2_model_in_other_regions_but_not_eastus(client):
    assert ("o3-mini", "2025-01-31") not in models_in(client, "eastus")
    assert ("o3-mini", "2025-01-31") in models_in(client, "eastus2")
    assert {loc for loc, _ in capacities(client, "o3-mini", "2025-01-31")} == {
        "eastus2", "westus3", "swedencentral", "japaneast"}


def test_reason_3_sku_not_supported_in_region(client):
    def skus(region: str) -> set[str]:
        item = models_in(client, region)[("gpt-4.1", "2025-04-14")]
        return {s["name"] for s in item["model"]["skus"]}

    eastus, eastus2 = skus("eastus"), skus("eastus2")
    assert "Standard" not in eastus and "Standard" in eastus2


def test_reason_4_pool_without_quota_left(client):
    found = capacities(client, "o4-mini", "2025-04-16", region="eastus")
    assert found[("eastus", "GlobalStandard")] == 0
    assert found[("eastus", "DataZoneStandard")] > 0
    pool = usages(client, "eastus")["OpenAI.GlobalStandard.o4-mini"]
    assert pool["currentValue"] == pool["limit"] == 150
    assert capacities(client, "o4-mini", "2025-04-16")[("eastus2", "GlobalStandard")] == 450


def test_reason_5_version_available_in_one_region_not_another(client):
    japan = models_in(client, "japaneast")
    assert ("gpt-4o", "2024-08-06") in japan and ("gpt-4o", "2024-11-20") not in japan
    assert ("gpt-4o", "2024-11-20") in models_in(client, "eastus")


def test_reason_6_provisioned_managed_needs_a_feature_the_subscription_lacks(client):
    found = capacities(client, "gpt-4o", "2024-11-20")
    assert {v for (_, sku), v in found.items() if sku == "ProvisionedManaged"} == {0}
    assert found[("eastus", "Standard")] > 0
    pool = usages(client, "eastus")["OpenAI.Provisioned.gpt-4o"]
    assert "status" not in pool and pool["limit"] == 0  # Azure's usages carry no status
    assert pool["name"]["localizedValue"] == "Provisioned Throughput Unit - gpt-4o"


def test_granting_the_features_through_fixtures_unblocks_them(tmp_path):
    section = builtin_section()
    section["subscriptionFeatures"] = ["OpenAI.ProvisionedManaged.Offer",
                                       "OpenAI.LimitedAccess.gpt-5"]
    override = tmp_path / "fixtures.json"
    override.write_text(json.dumps({"cognitiveServices": section}))
    with start_in_thread(EmulatorConfig(fixtures_path=override)) as em, \
            httpx.Client(base_url=em.url, headers={"Authorization": "Bearer t"}) as c:
        found = capacities(c, "gpt-4o", "2024-11-20", region="eastus")
        assert found[("eastus", "ProvisionedManaged")] == 300
        assert ("gpt-5", "2025-08-07") in models_in(c, "eastus")
        assert usages(c, "eastus")["OpenAI.Provisioned.gpt-4o"]["limit"] == 300


def test_capacity_and_usage_follow_the_deployments_that_exist(client, clock):
    found = capacities(client, "gpt-4o", "2024-08-06", region="eastus")
    before = found[("eastus", "GlobalStandard")]
    assert before == 450 - 100
    response = client.put(f"{EASTUS}/deployments/chat", params=Q, json={
        "sku": {"name": "GlobalStandard", "capacity": 120},
        "properties": {"model": {"format": "OpenAI", "name": "gpt-4o", "version": "2024-11-20"}}})
    assert response.status_code == 201
    after = capacities(client, "gpt-4o", "2024-08-06", region="eastus")
    assert after[("eastus", "GlobalStandard")] == before - 120  # versions share the pool
    assert set(after) == {k for k in after if k[0] == "eastus"}
    pool = usages(client, "eastus")["OpenAI.GlobalStandard.gpt-4o"]
    assert (pool["currentValue"], pool["limit"], pool["unit"]) == (220, 450, "Count")
    label = "Tokens Per Minute (thousands) - gpt-4o - GlobalStandard"
    assert pool["name"]["localizedValue"] == label
    assert usages(client, "eastus2")["OpenAI.GlobalStandard.gpt-4o"]["currentValue"] == 0
    assert usages(client, "eastus")["AccountCount"]["currentValue"] == 1


def test_lists_page_with_absolute_next_links(client):
    first = client.get(f"{PROV}/locations/eastus/usages", params=Q).json()
    assert len(first["value"]) == 20
    assert first["nextLink"].startswith("http://") and "api-version=2025-09-01" in first["nextLink"]
    names = [u["name"]["value"] for u in all_items(client, f"{PROV}/locations/eastus/usages")]
    assert len(names) > 20 and len(names) == len(set(names))


def test_next_links_keep_the_query(tmp_path):
    section = builtin_section()
    section["pageSize"] = 2
    override = tmp_path / "fixtures.json"
    override.write_text(json.dumps({"cognitiveServices": section}))
    with start_in_thread(EmulatorConfig(fixtures_path=override)) as em, \
            httpx.Client(base_url=em.url, headers={"Authorization": "Bearer t"}) as c:
        first = c.get(f"{PROV}/modelCapacities", params={**Q, "modelFormat": "OpenAI",
                                                         "modelName": "gpt-4o-mini"}).json()
        assert "modelName=gpt-4o-mini" in first["nextLink"]
        assert len(capacities(c, "gpt-4o-mini", "2024-07-18")) == 6 + 4 + 4 + 2


def test_usages_filter_by_name(client):
    items = all_items(client, f"{PROV}/locations/eastus/usages",
                      **{"$filter": "name.value eq 'OpenAI.Standard.gpt-4o'"})
    assert [(u["name"]["value"], u["currentValue"], u["limit"]) for u in items] == [
        ("OpenAI.Standard.gpt-4o", 120, 240)]


def test_model_capacities_need_format_and_name(client):
    response = client.get(f"{PROV}/modelCapacities", params={**Q, "modelName": "gpt-4o"})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "BadRequest"


def test_catalog_needs_the_api_version_and_a_bearer_token(emulator):
    with httpx.Client(base_url=emulator.url) as anonymous:
        assert anonymous.get(f"{PROV}/locations/eastus/models", params=Q).status_code == 401
    with httpx.Client(base_url=emulator.url, headers={"Authorization": "Bearer t"}) as c:
        response = c.get(f"{PROV}/locations/eastus/models", params={"api-version": "2019-01-01"})
        assert response.status_code == 400
        older = c.get(f"{PROV}/locations/eastus/models", params={"api-version": "2023-05-01"})
        assert older.status_code == 200  # a version clients still send (Microsoft Learn)


def test_accounts_get_list_and_keys(client, emulator):
    account = client.get(EASTUS, params=Q).json()
    assert (account["kind"], account["location"]) == ("AIServices", "eastus")
    assert account["sku"] == {"name": "S0"}
    assert account["properties"]["endpoint"] == f"{emulator.url}/accounts/quickstart-foundry/"
    group = client.get(f"{GROUP}/accounts", params=Q).json()["value"]
    assert {(a["name"], a["location"]) for a in group} == {
        ("quickstart-foundry", "eastus"), ("alpha-foundry-we", "westeurope")}
    keys = client.post(f"{EASTUS}/listKeys", params=Q).json()
    assert set(keys) == {"key1", "key2"} and keys["key1"] != keys["key2"]
    missing = client.get(GROUP.replace("rg-quickstart", "rg-nope") + "/accounts", params=Q)
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "ResourceGroupNotFound"


def test_display_location_names_are_normalized(client, emulator):
    seed_account(emulator.emulator, SUB, "rg-display", "display-foundry", "East US 2")
    path = f"/subscriptions/{SUB}/resourceGroups/rg-display/providers/Microsoft.CognitiveServices" \
           "/accounts/display-foundry"
    assert client.get(path, params=Q).json()["location"] == "eastus2"
    assert ("o3-mini", "2025-01-31") in models_in(client, "EastUS2")
