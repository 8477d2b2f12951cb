"""The AIModel catalog and calculateCost over HTTP, and the sizing rules behind the plans."""

# ruff: noqa: F811  (pytest fixtures imported from containerservice_harness are used as arguments)
from __future__ import annotations

import hashlib
from urllib.parse import quote

import pytest
from containerservice_harness import LLAMA_8B, PHI_MINI, cs, error_code, served  # noqa: F401

from aimodels.emulator.containerservice import sizing
from aimodels.emulator.fixtures import load

FIXTURES = load()


def cost(cs, model=PHI_MINI, replicas=None, scope=None):
    body = {} if replicas is None else {"replicas": replicas}
    url = f"{scope or cs.location}/aiModels/{sizing.model_name(model)}/calculateCost"
    response = cs.client.post(url, json=body)
    assert response.status_code == 200, response.text
    return response.json()


def plan_for(body, vm_size):
    return next(p for p in body["plans"] if p["vmSize"] == vm_size)


def test_catalog_lists_twenty_plus_models_named_by_hash(cs):
    models = cs.client.get(f"{cs.location}/aiModels").json()["value"]
    ids = {m["properties"]["modelId"] for m in models}
    assert len(models) >= 20
    assert {PHI_MINI, "microsoft/Phi-4", LLAMA_8B, "meta-llama/Llama-3.3-70B-Instruct"} <= ids
    for model in models:
        expected = hashlib.sha256(model["properties"]["modelId"].encode()).hexdigest()[:16]
        assert model["name"] == expected
        assert model["id"] == f"{cs.location}/aiModels/{expected}"
        assert set(model["properties"]["spec"]) == {"license", "isRestricted", "maxContextLength"}


def test_get_a_model_by_name_matches_the_typespec_example(cs):
    response = cs.client.get(f"{cs.location}/aiModels/9806f0c862fdd920")
    props = response.json()["properties"]
    assert response.status_code == 200
    assert props["modelId"] == PHI_MINI
    assert props["spec"] == {"license": "mit", "isRestricted": False, "maxContextLength": 131072}
    assert props["parameterCount"] > 3_000_000_000


def test_get_a_model_by_its_url_encoded_model_id(cs):
    response = cs.client.get(f"{cs.location}/aiModels/{quote(LLAMA_8B, safe='')}")
    assert response.json()["properties"]["spec"]["isRestricted"] is True


def test_unknown_model_and_location(cs):
    model = cs.client.get(f"{cs.location}/aiModels/0000000000000000")
    location = cs.client.get(cs.location.replace("eastus", "marsnorth") + "/aiModels")
    assert (model.status_code, error_code(model)) == (404, "ResourceNotFound")
    assert (location.status_code, error_code(location)) == (
        400,
        "LocationNotAvailableForResourceType",
    )


def test_resource_group_scoped_paths_of_seed_003(cs):
    name = sizing.model_name(PHI_MINI)
    got = cs.client.get(f"{cs.group}/aiModels/{name}")
    listed = cs.client.get(f"{cs.group}/aiModels").json()["value"]
    body = cost(cs, scope=cs.group)
    assert got.json()["id"] == f"{cs.group}/aiModels/{name}"
    assert len(listed) >= 20
    assert body["location"] == "eastus" and body["plans"]


def test_plans_are_ranked_feasible_first_by_total_price(cs):
    body = cost(cs, replicas=2)
    flags = [p["feasible"] for p in body["plans"]]
    feasible = [p for p in body["plans"] if p["feasible"]]
    assert body["currency"] == "USD" and body["replicas"] == 2
    assert flags == sorted(flags, reverse=True)
    assert [p["totalHourlyPrice"] for p in feasible] == sorted(
        p["totalHourlyPrice"] for p in feasible
    )
    for plan in feasible:
        assert plan["totalHourlyPrice"] == pytest.approx(
            2 * plan["vmsPerReplica"] * plan["vmHourlyPrice"]
        )
        assert "infeasibleCode" not in plan
    assert len(body["plans"]) == len(FIXTURES["containerService.vmSizes"])


def test_a_size_not_offered_in_the_region_is_region_unavailable(cs):
    plan = plan_for(cost(cs), "Standard_ND96asr_v4")
    assert plan["feasible"] is False
    assert plan["infeasibleCode"] == "RegionUnavailable"
    assert plan["infeasibilityReason"]["code"] == "RegionUnavailable"
    assert "totalHourlyPrice" not in plan and plan["maxAvailableReplicas"] == 0


def test_a_big_vm_for_a_tiny_model_is_inefficient(cs):
    plan = plan_for(cost(cs), "Standard_NC96ads_A100_v4")
    assert plan["infeasibleCode"] == "InefficientDeployment"
    assert "idle GPUs" in plan["infeasibleMessage"]


def test_quota_bounds_replicas(cs):
    # eastus grants 0 NDisrH100_v5 GPUs and 8 NCadsA100_v4 GPUs (fixtures).
    h100 = plan_for(
        cost(cs, model="meta-llama/Llama-3.1-405B-Instruct-FP8"), "Standard_ND96isr_H100_v5"
    )
    a100 = plan_for(cost(cs, replicas=9), "Standard_NC24ads_A100_v4")
    assert (h100["infeasibleCode"], h100["quantization"]) == ("InsufficientQuota", "fp8")
    assert a100["infeasibleCode"] == "InsufficientQuota"
    assert a100["maxAvailableReplicas"] == 8
    assert plan_for(cost(cs, replicas=8), "Standard_NC24ads_A100_v4")["feasible"] is True


def test_deployments_use_up_quota(cs):
    cs.create_deployment("first", scale={"manual": {"replicas": 3}})
    plan = plan_for(cost(cs, replicas=6), "Standard_NC24ads_A100_v4")
    assert plan["maxAvailableReplicas"] == 5
    assert plan["infeasibleCode"] == "InsufficientQuota"


def test_performance_scores_are_relative_to_the_best_size(cs):
    plans = cost(cs)["plans"]
    scores = [p["servingPerformanceEstimation"] for p in plans]
    assert max(s["relativeThroughputScore"] for s in scores) == 1.0
    assert all(0 < s["relativeLatencyScore"] <= 1 for s in scores)


@pytest.mark.parametrize("replicas", [0, -1, "2", 1.5, True])
def test_replicas_must_be_a_positive_integer(cs, replicas):
    url = f"{cs.location}/aiModels/{sizing.model_name(PHI_MINI)}/calculateCost"
    response = cs.client.post(url, json={"replicas": replicas})
    assert (response.status_code, error_code(response)) == (400, "InvalidParameter")


def test_fit_prefers_fp16_then_fp8_then_int4_on_one_vm():
    def placement(model_id, vm_size):
        model = sizing.find_model(FIXTURES, model_id)
        return sizing.fit(model, sizing.find_vm_size(FIXTURES, vm_size))

    llama70 = "meta-llama/Llama-3.3-70B-Instruct"
    assert placement(llama70, "Standard_NC48ads_A100_v4").quantization == "fp16"
    assert placement(llama70, "Standard_NC40ads_H100_v5").quantization == "fp8"
    assert placement(llama70, "Standard_NC24ads_A100_v4").quantization == "awq-int4"
    too_big = placement(llama70, "Standard_NC4as_T4_v3")
    assert (too_big.vms_per_replica, too_big.inefficiency is not None) == (3, True)
