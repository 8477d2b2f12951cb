"""The availability report (docs/preflight.md, phase 4) from
hand-made catalog data, and its rendering."""

from __future__ import annotations

from preflight_data import catalog, cost_body

from aimodels.plan.availability import AvailabilityQuery, availability_report
from aimodels.plan.preflight_cost import parse_quote
from aimodels.render.availability import CostView, render_availability, render_cost


def report(name: str = "gpt-4o", **kw: str):
    return availability_report(AvailabilityQuery(name, "eastus", **kw), catalog())


def test_an_available_model_has_the_seed_004_response_shape():
    out = report().to_dict()
    assert out["available"] is True and out["reason"] is None
    assert out["modelFormat"] == "OpenAI" and out["deploymentCategory"] == "AOAI"
    assert out["deploymentLocation"] == "eastus" and out["skuSupported"] is True
    assert out["sku"]["defaultSelection"] == "GlobalStandard"
    assert {"name": "Standard", "isSupported": True, "hasQuota": True} in out["sku"]["options"]
    assert {"name": "ProvisionedManaged", "isSupported": True, "hasQuota": False} \
        in out["sku"]["options"]
    assert out["sku"]["selectedSkuSupportedRegions"] == ["eastus", "swedencentral", "westus3"]
    assert out["version"]["defaultSelection"] == "2024-11-20"
    assert [o["name"] for o in out["version"]["options"]] == ["2024-11-20", "2024-08-06"]
    assert out["version"]["options"][0]["isDefault"] is True
    assert out["capacity"] == {"defaultSelection": 50, "minimum": 1, "maximum": 10000, "step": 1}


def test_regions_list_free_units_and_blocked_pools():
    rows = {(r["location"], r["sku"]): r for r in report().to_dict()["regions"]}
    assert rows[("swedencentral", "GlobalStandard")]["availableCapacity"] == 450
    assert rows[("eastus", "ProvisionedManaged")]["blocked"] is True
    assert rows[("eastus", "ProvisionedManaged")]["hasQuota"] is False
    assert list(rows)[0][0] == "eastus"  # the deployment region comes first


def test_an_unavailable_model_carries_the_reason_code_and_what_to_do():
    out = report("o3-mini").to_dict()
    assert out["available"] is False and out["skuSupported"] is False
    assert out["reason"]["code"] == "ModelNotInRegion"
    assert out["reason"]["phrase"] == "model not in deployment region"
    assert "swedencentral (GlobalStandard, 450 units free)" in out["reason"]["detail"]
    assert out["sku"]["selectedSkuSupportedRegions"] == []
    assert [r["location"] for r in out["regions"]] == ["swedencentral"]


def test_a_selected_sku_without_quota_is_reported():
    out = report(sku_name="ProvisionedManaged").to_dict()
    assert out["reason"]["code"] == "DeploymentTypeConstraint"
    assert out["capacity"]["step"] == 50


def test_a_deprecating_version_is_a_warning_for_a_subscription_that_runs_it():
    out = availability_report(AvailabilityQuery("gpt-4o", "eastus", model_version="2024-08-06",
                                                version_deployed=True), catalog()).to_dict()
    assert out["available"] is True
    assert out["warnings"][0]["summary"].startswith("gpt-4o 2024-08-06 is deprecating")


def test_a_deprecating_version_is_unavailable_to_a_subscription_that_runs_none():
    out = report(model_version="2024-08-06").to_dict()
    assert out["available"] is False
    assert out["reason"]["summary"].startswith("gpt-4o 2024-08-06 is deprecating")
    assert "already run a deployment of it" in out["reason"]["detail"]


def test_the_rendered_table_names_regions_skus_and_the_reason():
    text = render_availability(report("gpt-4o", sku_name="Standard", model_version="2024-11-20"))
    assert text.splitlines()[0] == "gpt-4o 2024-11-20 (OpenAI) can be deployed in eastus as " \
                                   "Standard."
    row = next(line for line in text.splitlines() if line.split()[:2] == ["eastus", "Standard"])
    assert row.split() == ["eastus", "Standard", "yes", "yes", "300", "1-100,", "default", "10"]
    assert "ProvisionedManaged" in text and "blocked" in text
    assert "Versions in eastus: 2024-11-20 (default, GenerallyAvailable), 2024-08-06 " \
           "(Deprecating)" in text
    failed = render_availability(report("o3-mini"))
    assert "o3-mini is not available in eastus (model not in deployment region)" in failed
    assert "\x1b[" not in failed  # no colour unless asked
    assert "\x1b[" in render_availability(report("o3-mini"), color=True)


def test_the_cost_table_ranks_plans_with_totals_and_reasons():
    body = cost_body(2, {"Standard_NC48ads_A100_v4": ("RegionUnavailable", "not in eastus")})
    text = render_cost(CostView("microsoft/Phi-4", "eastus", parse_quote(body)))
    lines = text.splitlines()
    assert lines[0] == "microsoft/Phi-4 in eastus, 2 replicas (USD)"
    first = next(line for line in lines if line.lstrip().startswith("1 "))
    assert first.split() == ["1", "Standard_NC24ads_A100_v4", "-", "fp16", "1", "$3.67", "$7.35",
                             "$5,362.58", "yes"]
    assert any("no: RegionUnavailable" in line for line in lines)
    assert "Standard_NC48ads_A100_v4: not in eastus" in text
