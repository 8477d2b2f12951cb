"""Apply when things go wrong: a resource changed since the plan is refused and not
overwritten while independent changes proceed; a failed change skips what depends on it,
reported once; a failed long-running operation names the provisioning error."""

from __future__ import annotations

import time

import httpx
from apply_support import (
    Harness,
    address,
    arm,
    deployment_path,
    foundry_deployment,
    foundry_path,
    model_deployment,
    model_source,
)

from aimodels.apply.events import Phase, Status
from aimodels.errors import ConflictError
from aimodels.plan.values import Action

COGNITIVE = "2025-09-01"


def wait_idle(session: httpx.Client, path: str, version: str) -> dict:
    for _ in range(200):
        body = arm(session, "GET", path, version=version).json()
        if body["properties"]["provisioningState"] in ("Succeeded", "Failed"):
            return body
        time.sleep(0.02)
    raise AssertionError(f"{path} is still busy")


def test_changed_since_the_plan_is_refused_and_not_overwritten(
        harness: Harness, outside: httpx.Client) -> None:
    harness.converge(harness.desired(model_deployment("chat")))
    desired = harness.desired(model_deployment("chat", scale={"replicas": 2}),
                              model_deployment("other"))
    plan = harness.plan(desired)
    assert [c.action for c in plan.changes] == [Action.UPDATE, Action.CREATE]
    patched = arm(outside, "PATCH", deployment_path("chat"),
                  {"properties": {"scale": {"manual": {"replicas": 3}}}})
    assert patched.status_code == 200, patched.text

    result = harness.apply(plan, desired)

    chat, other = result.get(address("ModelDeployment/chat")), \
        result.get(address("ModelDeployment/other"))
    assert chat.status is Status.FAILED and "changed since the plan" in chat.message
    assert isinstance(chat.error, ConflictError) and chat.error.status == 412
    assert other.status is Status.DONE
    live = arm(outside, "GET", deployment_path("chat")).json()
    assert live["properties"]["scale"] == {"manual": {"replicas": 3}}
    assert harness.state().get("ModelDeployment/chat").etag != live["eTag"]


def test_created_since_the_plan_is_refused(harness: Harness, outside: httpx.Client) -> None:
    desired = harness.desired(model_source("hf", description="ours"))
    plan = harness.plan(desired)
    made = arm(outside, "PUT", source_path_of("hf"),
               {"properties": {"sourceType": "HuggingFace", "description": "theirs"}})
    assert made.status_code == 201

    result = harness.apply(plan, desired)

    assert result.failed[0].error.status == 412
    assert arm(outside, "GET", source_path_of("hf")).json()["properties"]["description"] == \
        "theirs"
    assert harness.state().addresses == []


def test_foundry_changed_since_the_plan_is_refused_by_get_compare(
        harness: Harness, outside: httpx.Client) -> None:
    harness.converge(harness.desired(foundry_deployment("gpt")))
    desired = harness.desired(foundry_deployment("gpt", sku={"name": "GlobalStandard",
                                                             "capacity": 20}))
    plan = harness.plan(desired)
    assert [c.action for c in plan.changes] == [Action.UPDATE]
    patched = arm(outside, "PATCH", foundry_path("gpt"), {"sku": {"capacity": 30}},
                  version=COGNITIVE)
    assert patched.status_code == 202
    wait_idle(outside, foundry_path("gpt"), COGNITIVE)

    result = harness.apply(plan, desired)

    assert "changed since the plan" in result.failed[0].message
    assert arm(outside, "GET", foundry_path("gpt"), version=COGNITIVE).json()["sku"][
        "capacity"] == 30


def test_a_failed_change_skips_its_dependents_once(harness: Harness) -> None:
    desired = harness.desired(
        model_source("broken", sourceType="MicrosoftFoundry"),
        model_deployment("chat", modelSource="broken"),
        foundry_deployment("gpt"),
    )
    result = harness.apply(harness.plan(desired), desired)

    statuses = {str(c.address): c.status for c in result.changes}
    assert statuses == {"ModelSource/broken": Status.FAILED,
                        "ModelDeployment/chat": Status.SKIPPED,
                        "FoundryDeployment/gpt": Status.DONE}
    assert result.get(address("ModelDeployment/chat")).message == \
        "upstream ModelSource/broken failed"
    assert "InvalidParameter" in result.get(address("ModelSource/broken")).message
    failures = [e for e in harness.events if e.phase is Phase.FAILED]
    assert [str(e.address) for e in failures] == ["ModelSource/broken"]
    assert not [e for e in harness.events_of("ModelDeployment/chat")
                if e.phase is not Phase.SKIPPED]
    assert harness.state().addresses == ["FoundryDeployment/gpt"]
    assert result.summary() == "Apply incomplete: 1 done, 1 failed, 1 skipped."


def test_a_failed_operation_names_the_provisioning_error(harness: Harness) -> None:
    desired = harness.desired(
        model_source("public"),
        model_deployment("llama", model={"catalog": "meta-llama/Llama-3.1-8B-Instruct"},
                         modelSource="public"),
    )
    result = harness.apply(harness.plan(desired), desired)

    failed = result.get(address("ModelDeployment/llama"))
    assert failed.status is Status.FAILED
    assert "ModelAccessDenied" in failed.message and "gated" in failed.message
    recorded = harness.state().get("ModelDeployment/llama")
    assert recorded.extra["provisioningFailed"]["code"] == "ModelAccessDenied"
    assert recorded.etag


def test_replace_whose_delete_fails_reports_one_failure(harness: Harness,
                                                         outside: httpx.Client) -> None:
    harness.converge(harness.desired(model_deployment("chat")))
    desired = harness.desired(model_deployment("chat", vmSize="Standard_NC48ads_A100_v4"))
    plan = harness.plan(desired)
    patched = arm(outside, "PATCH", deployment_path("chat"),
                  {"properties": {"performanceMode": "Latency"}})
    assert patched.status_code == 200
    harness.events.clear()

    result = harness.apply(plan, desired)

    assert [c.status for c in result.changes] == [Status.FAILED]
    assert [(e.operation, e.phase) for e in harness.events if e.phase.is_final] == \
        [("delete", Phase.FAILED)]
    assert arm(outside, "GET", deployment_path("chat")).status_code == 200


def source_path_of(name: str) -> str:
    from apply_support import source_path

    return source_path(name)
