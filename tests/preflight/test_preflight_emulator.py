"""run_preflight end to end over HTTP against the emulator: each of the six reasons of
docs/preflight.md from
the fixture table of docs/emulator.md, quota summed across a plan and the delta on update, and
ModelDeployment feasibility and prices from calculateCost."""

from __future__ import annotations

import time

import httpx
import pytest
from preflight_support import RG, SUB, change, foundry, model_deployment, only_errors, preflight

from aimodels.errors import Severity
from aimodels.live.preflight import plan_cost
from aimodels.plan.values import Action, CostEstimate

A100 = "Standard_NC24ads_A100_v4"


@pytest.mark.parametrize(("deployment", "summary", "detail"), [
    pytest.param(foundry("d", "gpt-5", "2025-08-07", "GlobalStandard", 10),
                 "gpt-5 2025-08-07 is not available in eastus (model not in subscription)",
                 "No region of this subscription offers gpt-5", id="1-not-in-subscription"),
    pytest.param(foundry("d", "o3-mini", "2025-01-31", "GlobalStandard", 10),
                 "o3-mini 2025-01-31 is not available in eastus (model not in deployment region)",
                 "Available in eastus2 (GlobalStandard, 450 units free)",
                 id="2-not-in-region"),
    pytest.param(foundry("d", "gpt-4.1", "2025-04-14", "Standard", 10),
                 "SKU Standard is not supported in eastus for gpt-4.1 2025-04-14 "
                 "(SKU not supported in region)",
                 "Standard is offered for this version in eastus2 (Standard, 300 units free)",
                 id="3-sku-not-supported"),
    pytest.param(foundry("d", "o4-mini", "2025-04-16", "GlobalStandard", 10),
                 "o4-mini 2025-04-16 GlobalStandard in eastus: not enough quota "
                 "(no available quota)",
                 "OpenAI.GlobalStandard.o4-mini in eastus: limit 150, used 150, this plan "
                 "needs 10 (requested 10, already counted 0)", id="4-no-quota"),
    pytest.param(foundry("d", "Phi-4", "3", "GlobalStandard", 1, fmt="Microsoft"),
                 "Phi-4 3 is not available in eastus (version not available)",
                 "Versions of Phi-4 available in eastus: 7 (default). Version 3 is offered in "
                 "eastus2 (GlobalStandard", id="5-version-not-available"),
    pytest.param(foundry("d", "gpt-4o", "2024-11-20", "ProvisionedManaged", 50),
                 "gpt-4o 2024-11-20 cannot be deployed as ProvisionedManaged in eastus "
                 "(deployment type constraint)",
                 "The quota pool OpenAI.Provisioned.gpt-4o is blocked", id="6-type-constraint"),
])
def test_each_unavailability_reason_is_an_error_on_the_plan(emulator, deployment, summary,
                                                           detail):
    plan = preflight(emulator.url, deployment)
    [diag] = only_errors(plan)
    assert diag.summary == summary
    assert detail in diag.detail
    assert diag.address == "FoundryDeployment/d"
    assert plan.errored and not plan.applyable


def test_a_deployment_that_fits_passes_with_nothing_to_say(emulator):
    plan = preflight(emulator.url, foundry("d", "gpt-4o", "2024-11-20", "GlobalStandard", 10))
    assert plan.diagnostics == () and plan.applyable


def test_version_not_available_in_the_account_region_of_another_account(emulator):
    from aimodels.emulator.cognitiveservices import seed_account

    seed_account(emulator.emulator, SUB, RG, "tokyo-foundry", "japaneast")
    plan = preflight(emulator.url, foundry("d", "gpt-4o", "2024-11-20", "GlobalStandard", 10,
                                           account="tokyo-foundry"))
    [diag] = only_errors(plan)
    assert diag.summary.endswith("(version not available)")
    assert "available in japaneast: 2024-08-06. Version 2024-11-20 is offered in" in diag.detail


def test_quota_is_summed_across_the_deployments_of_the_plan(emulator):
    # eastus OpenAI.GlobalStandard.gpt-4o: limit 450, 100 used -> 350 free; 200 + 200 do not fit
    plan = preflight(emulator.url,
                     foundry("a", "gpt-4o", "2024-11-20", "GlobalStandard", 200),
                     foundry("b", "gpt-4o", "2024-11-20", "GlobalStandard", 200))
    quota = [d for d in only_errors(plan) if "(no available quota)" in d.summary]
    assert [d.address for d in quota] == ["FoundryDeployment/a", "FoundryDeployment/b"]
    assert "limit 450, used 100, this plan needs 400" in quota[0].detail


def test_catalog_reads_are_made_once_per_region_and_model(emulator):
    calls: list[str] = []
    plan = preflight(emulator.url,
                     foundry("a", "gpt-4o", "2024-11-20", "GlobalStandard", 10),
                     foundry("b", "gpt-4o", "2024-11-20", "GlobalStandard", 10),
                     foundry("c", "gpt-4o", "2024-11-20", "Standard", 10),
                     on_http=lambda event: calls.append(event.url))
    assert plan.diagnostics == ()
    first_pages = [url.split("?")[0] for url in calls if "skipToken" not in url]
    paths = sorted(u.split("/providers/Microsoft.CognitiveServices/")[1] for u in first_pages)
    assert paths == ["accounts/quickstart-foundry", "locations/eastus/models",
                     "locations/eastus/usages", "modelCapacities"]


def test_a_missing_account_is_an_error(emulator):
    plan = preflight(emulator.url, foundry("d", "gpt-4o", "2024-11-20", "GlobalStandard", 10,
                                           account="nowhere"))
    [diag] = only_errors(plan)
    assert diag.summary == "Foundry account nowhere not found in resource group rg-quickstart"


def _put_deployment(url: str, name: str, sku: str, capacity: int) -> None:
    path = (f"{url}/subscriptions/{SUB}/resourceGroups/{RG}/providers/"
            f"Microsoft.CognitiveServices/accounts/quickstart-foundry/deployments/{name}")
    body = {"sku": {"name": sku, "capacity": capacity},
            "properties": {"model": {"format": "OpenAI", "name": "gpt-4o",
                                     "version": "2024-11-20"}}}
    response = httpx.put(path, params={"api-version": "2025-09-01"}, json=body,
                         headers={"Authorization": "Bearer t"})
    assert response.status_code == 201, response.text


@pytest.mark.parametrize(("planned", "flagged"), [(110, False), (150, True)])
def test_an_update_needs_quota_only_for_what_it_adds(fresh_emulator, planned, flagged):
    # eastus OpenAI.Standard.gpt-4o: limit 240, 120 used; the live deployment adds 100 -> 20 free
    _put_deployment(fresh_emulator.url, "live", "Standard", 100)
    live = {"account": "quickstart-foundry",
            "model": {"format": "OpenAI", "name": "gpt-4o", "version": "2024-11-20"},
            "sku": {"name": "Standard", "capacity": 100}}
    update = foundry("live", "gpt-4o", "2024-11-20", "Standard", planned, action=Action.UPDATE,
                     before=live)
    plan = preflight(fresh_emulator.url, update)
    assert bool(only_errors(plan)) is flagged
    if flagged:
        assert f"limit 240, used 220, this plan needs 50 (requested {planned}, already " \
               "counted 100)" in only_errors(plan)[0].detail


def test_a_feasible_model_deployment_is_priced(emulator):
    plan = preflight(emulator.url,
                     change("ModelDeployment/chat", after=model_deployment("chat", A100, 2)))
    assert plan.diagnostics == ()
    [priced] = plan.changes
    assert priced.cost == CostEstimate("USD", None, 2 * 3.673)
    total = plan_cost(plan)
    assert total.hourly_delta == pytest.approx(7.346)
    assert total.monthly_delta == pytest.approx(7.346 * 730)


@pytest.mark.parametrize(("vm", "replicas", "code", "severity"), [
    pytest.param("Standard_ND96asr_v4", 1, "RegionUnavailable", Severity.ERROR, id="region"),
    pytest.param(A100, 9, "InsufficientQuota", Severity.ERROR, id="quota"),
    pytest.param("Standard_NC96ads_A100_v4", 1, "InefficientDeployment", Severity.WARNING,
                 id="inefficient"),
])
def test_an_infeasible_size_is_reported_with_the_cheapest_feasible(emulator, vm, replicas, code,
                                                                  severity):
    plan = preflight(emulator.url,
                     change("ModelDeployment/chat", after=model_deployment("chat", vm, replicas)))
    [diag] = plan.diagnostics
    assert diag.severity is severity
    assert f"({code}, {replicas} replica(s))" in diag.summary
    assert "Cheapest feasible: Standard_NC4as_T4_v3" in diag.detail
    assert plan.errored is (severity is Severity.ERROR)


def test_a_replace_is_priced_before_and_after(emulator):
    before = model_deployment("chat", "Standard_NC48ads_A100_v4", 1)
    after = model_deployment("chat", A100, 1)
    plan = preflight(emulator.url, change("ModelDeployment/chat", Action.REPLACE, after, before))
    [priced] = plan.changes
    assert priced.cost == CostEstimate("USD", 7.346, 3.673)
    assert plan_cost(plan).hourly_delta == pytest.approx(-3.673)


def test_autoscale_is_priced_at_the_floor_and_noted(emulator):
    after = model_deployment("chat", A100, autoscale={"minReplicas": 1, "maxReplicas": 3})
    plan = preflight(emulator.url, change("ModelDeployment/chat", after=after))
    [priced] = plan.changes
    assert priced.cost.hourly_after == 3.673
    assert priced.notes == ("autoscale: priced at minReplicas 1 ($3.67/h); up to maxReplicas 3 "
                            "($11.02/h)",)


def test_an_unknown_catalog_model_is_an_error(emulator):
    after = model_deployment("chat", A100, catalog="nobody/none")
    plan = preflight(emulator.url, change("ModelDeployment/chat", after=after))
    [diag] = plan.diagnostics
    assert diag.summary == "nobody/none is not in the model catalog of eastus"


def test_the_ai_manager_region_is_used_for_the_price(emulator):
    # quickstart-eu (rg-quickstart-eu) is in swedencentral, where the ND96asr_v4 is not offered
    after = model_deployment("chat", "Standard_NV72ads_A10_v5", 1) | {"aiManager": "quickstart"}
    plan = preflight(emulator.url, change("ModelDeployment/chat", after=after))
    assert plan.changes[0].cost.hourly_after == 6.52


def test_a_deprecating_version_is_an_error_until_the_subscription_runs_it(fresh_emulator):
    # gpt-4o 2024-08-06 is Deprecating in the fixtures: Azure (and the emulator) deploy it only
    # for subscriptions that already have deployments of it; pre-flight reads every account's
    # deployments to know.
    new = foundry("new", "gpt-4o", "2024-08-06", "GlobalStandard", 10)
    [diag] = only_errors(preflight(fresh_emulator.url, new))
    assert diag.summary.startswith("gpt-4o 2024-08-06 is deprecating")
    assert diag.path == "spec.model.version"
    _put_deployment(fresh_emulator.url, "old", "GlobalStandard", 10)
    path = (f"{fresh_emulator.url}/subscriptions/{SUB}/resourceGroups/{RG}/providers/"
            "Microsoft.CognitiveServices/accounts/quickstart-foundry/deployments/old")
    body = {"sku": {"name": "GlobalStandard", "capacity": 10},
            "properties": {"model": {"format": "OpenAI", "name": "gpt-4o",
                                     "version": "2024-08-06"}}}
    for _ in range(50):  # 409 while the create (0.1 s) still runs; then moved in place
        moved = httpx.put(path, params={"api-version": "2025-09-01"}, json=body,
                          headers={"Authorization": "Bearer t"})
        if moved.status_code != 409:
            break
        time.sleep(0.02)
    assert moved.status_code == 200, moved.text
    plan = preflight(fresh_emulator.url, new)
    assert only_errors(plan) == []
    assert [d.summary for d in plan.diagnostics] == [
        "gpt-4o 2024-08-06 is deprecating (inference retires 2027-03-31)"]
