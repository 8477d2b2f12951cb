"""The pure FoundryDeployment checks: each of docs/preflight.md's six reasons, quota summed per pool
across the plan, the delta rule on update, lifecycle and capacity range."""

from __future__ import annotations

import pytest
from preflight_data import capacity, catalog, usage

from aimodels.errors import Severity
from aimodels.plan.preflight_foundry import FoundryRequest, Unavailability, check_foundry


def request(name: str = "gpt-4o", version: str | None = "2024-11-20", sku: str | None = None,
            capacity: int | None = None, address: str = "FoundryDeployment/chat",
            **kw: object) -> FoundryRequest:
    return FoundryRequest(address=address, model_name=name, location="eastus",
                          model_format="OpenAI", model_version=version, sku_name=sku,
                          capacity=capacity, **kw)  # type: ignore[arg-type]


def errors(findings):
    return [f for f in findings if f.severity is Severity.ERROR]


def test_a_model_in_no_region_is_not_in_the_subscription():
    [found] = check_foundry([request("gpt-5", "2025-08-07", "GlobalStandard", 10)], catalog())
    assert found.reason is Unavailability.MODEL_NOT_IN_SUBSCRIPTION
    assert found.summary == ("gpt-5 2025-08-07 is not available in eastus "
                             "(model not in subscription)")
    assert "request access" in found.detail and found.path == "spec.model.name"
    assert found.address == "FoundryDeployment/chat"


def test_without_every_region_read_we_do_not_claim_the_subscription_lacks_the_model():
    [found] = check_foundry([request("gpt-5", "2025-08-07")], catalog(complete=False))
    assert found.reason is Unavailability.MODEL_NOT_IN_REGION
    assert "Other regions were not checked" in found.detail


def test_a_model_offered_elsewhere_names_the_regions_with_free_units():
    [found] = check_foundry([request("o3-mini", "2025-01-31", "GlobalStandard", 100)], catalog())
    assert found.reason is Unavailability.MODEL_NOT_IN_REGION
    assert found.summary == ("o3-mini 2025-01-31 is not available in eastus "
                             "(model not in deployment region)")
    assert "Available in swedencentral (GlobalStandard, 450 units free)" in found.detail


def test_a_sku_not_offered_here_lists_the_skus_that_are_with_their_ranges():
    [found] = check_foundry([request(sku="DataZoneStandard", capacity=10)], catalog())
    assert found.reason is Unavailability.SKU_NOT_SUPPORTED
    assert found.summary == ("SKU DataZoneStandard is not supported in eastus for gpt-4o "
                             "2024-11-20 (SKU not supported in region)")
    assert "Supported here: GlobalStandard (capacity 1-10000, 50 units free), " \
           "Standard (capacity 1-100, 300 units free)" in found.detail
    assert found.path == "spec.sku.name"


def test_no_quota_gives_the_pool_numbers_and_alternatives():
    [found] = check_foundry([request(sku="GlobalStandard", capacity=150)], catalog())
    assert found.reason is Unavailability.NO_QUOTA
    assert found.summary == ("gpt-4o 2024-11-20 GlobalStandard in eastus: not enough quota "
                             "(no available quota)")
    assert ("Quota pool OpenAI.GlobalStandard.gpt-4o in eastus: limit 450, used 400, this plan "
            "needs 150 (requested 150, already counted 0)") in found.detail
    assert "deploy in swedencentral (GlobalStandard, 450 units free)" in found.detail
    assert "westus3" not in found.detail  # 120 free cannot hold 150
    assert "use another SKU here: Standard (capacity 1-100, 300 units free)" in found.detail


def test_a_version_not_offered_here_lists_the_versions_that_are():
    [found] = check_foundry([request(version="2023-01-01", sku="GlobalStandard")], catalog())
    assert found.reason is Unavailability.VERSION_NOT_AVAILABLE
    assert found.summary == ("gpt-4o 2023-01-01 is not available in eastus "
                             "(version not available)")
    assert "available in eastus: 2024-11-20 (default), 2024-08-06" in found.detail
    assert found.path == "spec.model.version"


def test_a_blocked_pool_is_a_deployment_type_constraint():
    [found] = check_foundry([request(sku="ProvisionedManaged", capacity=100)], catalog())
    assert found.reason is Unavailability.DEPLOYMENT_TYPE_CONSTRAINT
    assert found.summary == ("gpt-4o 2024-11-20 cannot be deployed as ProvisionedManaged in "
                             "eastus (deployment type constraint)")
    assert "OpenAI.ProvisionedManaged is blocked" in found.detail


def test_a_gated_sku_at_limit_zero_is_a_constraint_even_without_a_blocked_status():
    pools = [usage("OpenAI.ProvisionedManaged", 0, 0, status="Included")]
    [found] = check_foundry([request(sku="ProvisionedManaged", capacity=100)],
                            catalog(eastus_usages=pools))
    assert found.reason is Unavailability.DEPLOYMENT_TYPE_CONSTRAINT


def test_zero_available_capacity_is_no_quota_even_when_the_pool_has_room():
    cap = {"OpenAI|gpt-4o|2024-11-20": [capacity("eastus", "Standard", 0)]}
    [found] = check_foundry([request(sku="Standard", capacity=10)], catalog(**cap))
    assert found.reason is Unavailability.NO_QUOTA
    assert "capacity available 0" in found.detail


def test_quota_is_summed_per_pool_across_the_plan():
    first = request(sku="GlobalStandard", capacity=30, address="FoundryDeployment/a")
    second = request(sku="GlobalStandard", capacity=30, address="FoundryDeployment/b")
    found = check_foundry([first, second], catalog())
    assert [f.address for f in found] == ["FoundryDeployment/a", "FoundryDeployment/b"]
    assert all(f.reason is Unavailability.NO_QUOTA for f in found)
    assert "this plan needs 60 (FoundryDeployment/a: requested 30, already counted 0; " \
           "FoundryDeployment/b: requested 30, already counted 0)" in found[0].detail


def test_one_of_the_two_alone_fits():
    assert check_foundry([request(sku="GlobalStandard", capacity=30)], catalog()) == []


def test_different_pools_do_not_add_up():
    found = check_foundry([request(sku="GlobalStandard", capacity=50, address="a"),
                           request(sku="Standard", capacity=50, address="b")], catalog())
    assert found == []


@pytest.mark.parametrize(("planned", "flagged"), [
    pytest.param(140, False, id="adds-40-of-50-free"),
    pytest.param(160, True, id="adds-60-of-50-free"),
    pytest.param(20, False, id="shrinks"),
])
def test_an_update_counts_only_what_it_adds_to_the_live_capacity(planned, flagged):
    update = request(sku="GlobalStandard", capacity=planned, creating=False,
                     live_model_name="gpt-4o", live_sku_name="GlobalStandard", live_capacity=100)
    found = check_foundry([update], catalog())
    assert bool(errors(found)) is flagged
    if flagged:
        assert f"requested {planned}, already counted 100" in found[0].detail


def test_an_update_to_another_sku_draws_its_whole_capacity_from_the_new_pool():
    update = request(sku="GlobalStandard", capacity=100, creating=False,
                     live_model_name="gpt-4o", live_sku_name="Standard", live_capacity=100)
    [found] = check_foundry([update], catalog())
    assert "requested 100, already counted 0" in found.detail


def test_a_deprecating_version_is_a_warning_with_date_and_replacement():
    # ... for a subscription that runs a deployment of it already
    [found] = check_foundry([request(version="2024-08-06", sku="GlobalStandard", capacity=10,
                                     version_deployed=True)], catalog())
    assert found.severity is Severity.WARNING and found.reason is None
    assert found.summary == "gpt-4o 2024-08-06 is deprecating (inference retires 2027-03-31)"
    assert "Replacement: gpt-4.1 2025-04-14." in found.detail


def test_creating_a_deprecating_version_nobody_runs_is_an_error():
    # Azure deploys a Deprecating version only for customers that already have deployments
    # of it; we used to warn, the plan passed, and apply failed.
    [found] = check_foundry([request(version="2024-08-06", sku="GlobalStandard", capacity=10)],
                            catalog())
    assert found.severity is Severity.ERROR and found.path == "spec.model.version"
    assert found.summary == "gpt-4o 2024-08-06 is deprecating (inference retires 2027-03-31)"
    assert "only for subscriptions that already run a deployment of it" in found.detail
    kept = request(version="2024-08-06", sku="GlobalStandard", capacity=10, creating=False)
    assert [f.severity for f in check_foundry([kept], catalog())] == [Severity.WARNING]


def test_creating_a_deprecated_version_is_an_error_updating_one_a_warning():
    [created] = check_foundry([request("gpt-35-turbo", "0125", "Standard", 10)], catalog())
    assert created.severity is Severity.ERROR
    assert created.summary == "gpt-35-turbo 0125 is deprecated (inference retires 2025-11-14)"
    assert "gpt-4o-mini 2024-07-18" in created.detail
    kept = request("gpt-35-turbo", "0125", "Standard", 10, creating=False,
                   live_model_name="gpt-35-turbo", live_sku_name="Standard", live_capacity=10,
                   keeps_live_model=True)
    [updated] = check_foundry([kept], catalog())
    assert updated.severity is Severity.WARNING


@pytest.mark.parametrize(("sku", "capacity", "shape"), [
    pytest.param("ProvisionedManaged", 75, "50-1000 in steps of 50", id="off-step"),
    pytest.param("ProvisionedManaged", 0, "50-1000 in steps of 50", id="below-minimum"),
    pytest.param("Standard", 101, "1-100", id="above-maximum"),
])
def test_capacity_outside_the_sku_range_is_an_error(sku, capacity, shape):
    [found] = check_foundry([request(sku=sku, capacity=capacity)], catalog())
    assert found.severity is Severity.ERROR and found.path == "spec.sku.capacity"
    assert f"capacity {capacity} is out of range" in found.summary
    assert shape in found.detail


def test_defaults_come_from_the_region_version_and_sku():
    # no version (2024-11-20 is the default), no SKU (GlobalStandard), no capacity (50 of 50)
    assert check_foundry([request(version=None)], catalog()) == []
    [found] = check_foundry([request(version=None, address="a"),
                             request(version=None, address="b")], catalog())[:1]
    assert "this plan needs 100" in found.detail


def test_an_update_keeping_a_live_model_the_region_dropped_is_not_flagged():
    kept = request(version="2023-01-01", sku="GlobalStandard", capacity=10, creating=False,
                   live_model_name="gpt-4o", live_sku_name="GlobalStandard", live_capacity=10,
                   keeps_live_model=True)
    assert check_foundry([kept], catalog()) == []


def test_findings_become_diagnostics_with_address_and_path():
    [found] = check_foundry([request(sku="GlobalStandard", capacity=150)], catalog())
    diag = found.to_diagnostic()
    assert diag.address == "FoundryDeployment/chat" and diag.path == "spec.sku.capacity"
    assert diag.severity is Severity.ERROR and "(no available quota)" in diag.summary


def test_a_pool_shared_by_many_deployments_names_five_and_counts_the_rest():
    many = [request(sku="GlobalStandard", capacity=30, address=f"FoundryDeployment/d{i}")
            for i in range(8)]
    found = check_foundry(many, catalog())
    assert len(found) == 8
    assert "this plan needs 240 (FoundryDeployment/d0: requested 30" in found[0].detail
    assert "FoundryDeployment/d4: requested 30, already counted 0; and 3 more deployments)" \
        in found[0].detail
    assert "FoundryDeployment/d5" not in found[0].detail
