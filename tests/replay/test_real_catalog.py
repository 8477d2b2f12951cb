"""Pre-flight and ``availability`` over real catalog bodies (pure: no HTTP).

The westeurope location models and usages are the Azure CLI's live recordings; the westus ones
are the 2025-09-01 spec examples. Each test names the divergence between those bodies and what
the emulator used to serve that it guards against.
"""

from __future__ import annotations

from real_azure import example, recorded_body

from aimodels.errors import Severity
from aimodels.plan.availability import AvailabilityQuery, availability_report
from aimodels.plan.preflight_catalog import (
    CapacityBounds,
    FoundryCatalog,
    catalog_from_wire,
    deployable_skus,
    sku_of,
)
from aimodels.plan.preflight_foundry import FoundryRequest, Unavailability, check_foundry
from aimodels.render.availability import render_availability


def westeurope() -> FoundryCatalog:
    models = recorded_body("cli_location_models_westeurope_2025-09-01")["value"]
    usages = recorded_body("cli_usages_westeurope_2025-09-01")["value"]
    return catalog_from_wire({"westeurope": models}, {}, {"westeurope": usages})


def westus() -> FoundryCatalog:
    models = example("2025-09-01/ListLocationModels.json")["value"]
    usages = example("2025-09-01/ListUsages.json")["value"]
    return catalog_from_wire({"westus": models}, {}, {"westus": usages})


def check(catalog: FoundryCatalog, location: str, name: str, version: str, sku: str,
          capacity: int | None = None) -> list:
    return check_foundry([FoundryRequest("FoundryDeployment/d", name, location, "OpenAI",
                                         version, sku, capacity)], catalog)


def test_a_regional_ptu_deployment_finds_the_catalogs_provisioned_sku():
    # The catalog says "provisioned" (spec) or "Provisioned" (recording); a deployment says
    # ProvisionedManaged. We used to answer "SKU ProvisionedManaged is not supported".
    assert check(westus(), "westus", "gpt-4o", "2024-08-06", "ProvisionedManaged", 100) == []
    [found] = check(westeurope(), "westeurope", "gpt-35-turbo", "0125", "ProvisionedManaged",
                    300)
    # The recorded subscription has no PTU quota (OpenAI.Provisioned.gpt-35-turbo, limit 0):
    # that is the true finding, about the pool the catalog names.
    assert found.reason is Unavailability.DEPLOYMENT_TYPE_CONSTRAINT
    assert "OpenAI.Provisioned.gpt-35-turbo" in found.detail


def test_a_regional_ptu_below_the_catalog_minimum_is_out_of_range():
    [found] = check(westus(), "westus", "gpt-4o", "2024-08-06", "ProvisionedManaged", 60)
    assert found.severity is Severity.ERROR and found.path == "spec.sku.capacity"
    assert "50-2000 in steps of 50 (default 100)" in found.detail


def test_global_ptu_without_a_default_deploys_its_minimum_not_one():
    # GlobalProvisionedManaged: capacity {minimum 15, maximum 30000, step 5}, no default.
    [found] = check(westeurope(), "westeurope", "gpt-4o", "2024-11-20",
                    "GlobalProvisionedManaged")
    assert found.reason is Unavailability.DEPLOYMENT_TYPE_CONSTRAINT  # limit 0 here
    assert "OpenAI.GlobalProvisionedManaged" in found.detail
    assert check(westus(), "westus", "gpt-4o", "2024-08-06", "ProvisionedManaged") == []


def test_standard_skus_without_minimum_or_step_take_any_capacity_up_to_the_maximum():
    assert check(westeurope(), "westeurope", "gpt-4o", "2024-11-20", "GlobalStandard", 10) == []
    assert check(westeurope(), "westeurope", "gpt-35-turbo", "0125", "Standard", 1) == []
    [found] = check(westeurope(), "westeurope", "gpt-4o", "2024-11-20", "GlobalStandard", 500)
    assert found.reason is Unavailability.NO_QUOTA  # 20 of 450 used: 430 free
    assert "limit 450, used 20" in found.detail


def test_capacity_bounds_fill_azures_gaps():
    entry = westeurope().entry("westeurope", "OpenAI", "gpt-4o", "2024-11-20")
    assert entry is not None
    global_ptu = CapacityBounds.of(sku_of(entry, "GlobalProvisionedManaged") or {})
    assert (global_ptu.minimum, global_ptu.step, global_ptu.default) == (15, 5, 15)
    standard = CapacityBounds.of(sku_of(entry, "GlobalStandard") or {})
    assert (standard.minimum, standard.maximum, standard.step) == (1, 1000000, 1)
    assert standard.text() == "1-1000000"


def test_a_version_listing_both_spellings_offers_one_provisioned_managed_sku():
    entry = westeurope().entry("westeurope", "OpenAI", "gpt-4o", "2024-11-20")
    assert entry is not None
    names = [s["name"] for s in deployable_skus(entry)]
    assert names.count("ProvisionedManaged") == 1 and "Provisioned" not in names
    assert not [n for n in names if n.startswith("Provisioned_")]  # catalog-only variants
    # the version's own ProvisionedManaged wins over the regional Provisioned
    assert (sku_of(entry, "ProvisionedManaged") or {})["usageName"] == \
        "OpenAI.ProvisionedManaged.gpt-4o-2024-11-20"


def test_availability_of_a_global_ptu_reports_quota_not_range_and_prints_no_none():
    query = AvailabilityQuery("gpt-4o", "westeurope", "OpenAI", "2024-11-20",
                              "GlobalProvisionedManaged")
    report = availability_report(query, westeurope())
    assert report.reason is not None
    assert report.reason.reason is Unavailability.DEPLOYMENT_TYPE_CONSTRAINT
    assert report.to_dict()["capacity"] == {"defaultSelection": 15, "minimum": 15,
                                            "maximum": 30000, "step": 5}
    text = render_availability(report)
    assert "None" not in text and "15-30000 in steps of 5, default 15" in text


def test_availability_names_skus_as_deployments_do():
    report = availability_report(AvailabilityQuery("gpt-35-turbo", "westeurope", "OpenAI",
                                                   "0125"), westeurope())
    skus = {o["name"] for o in report.to_dict()["sku"]["options"]}
    assert "ProvisionedManaged" in skus and "Provisioned" not in skus
    assert "None" not in render_availability(report)
