"""Custom models end to end over HTTP against the emulator: a CustomModel and the
ModelDeployment and FoundryDeployment that run it apply in one run and answer chat; new weights
under the same version replace the model, then redeploy both, in that order; a version bump
moves the deployments and retires the old version; destroy leaves no registered version; a
CustomModel still deployed cannot be destroyed; an unregistered model is refused by the service.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
from apply_support import (
    Harness,
    arm,
    custom_model,
    deployment_path,
    foundry_deployment,
    foundry_path,
    model_deployment,
)
from azure.storage.blob import ContainerClient

from aimodels.apply.events import ApplyEvent, Phase, Status
from aimodels.plan.values import Action, Reason

FOUNDRY_API = "2025-09-01"


def weights(folder: Path, filler: bytes = b"w") -> None:
    """A tiny safetensors file (an empty header, then bytes): new ``filler``, new content."""
    (folder / "tiny.safetensors").write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{}" + filler * 64)


def manifests(harness: Harness, version: str = "1.0", **model_spec: Any) -> Any:
    """CustomModel/tiny and the two deployments that run it."""
    return harness.desired(
        custom_model("tiny", "./tiny.safetensors", version=version, **model_spec),
        model_deployment("chat", model={"custom": "tiny"}),
        foundry_deployment("code", model={"custom": "tiny"},
                           sku={"name": "Standard", "capacity": 1}))


def actions(plan: Any) -> dict[str, Action]:
    return {str(c.address): c.action for c in plan.changes}


def finished(events: list[ApplyEvent], address: str, operation: str) -> int:
    """The index of the event that ended ``operation`` on ``address``."""
    return next(i for i, e in enumerate(events) if str(e.address) == address
                and e.operation == operation and e.phase is Phase.DONE)


def started(events: list[ApplyEvent], address: str, operation: str) -> int:
    return next(i for i, e in enumerate(events) if str(e.address) == address
                and e.operation == operation and e.phase is Phase.STARTED)


def chat(outside: httpx.Client, harness: Harness, prompt: str) -> tuple[str, str]:
    """The answers of ModelDeployment/chat (namespace gateway) and FoundryDeployment/code."""
    namespace = deployment_path("chat").rsplit("/modelDeployments/", 1)[0]
    access = arm(outside, "POST", f"{namespace}/listAccessInfo").json()
    body = {"model": "chat", "messages": [{"role": "user", "content": prompt}]}
    gateway = outside.post(f"{access['endpoint']}/chat/completions", json=body,
                           headers={"Authorization": f"Bearer {access['primaryKey']}"})
    foundry = outside.post("/openai/deployments/code/chat/completions",
                           params={"api-version": FOUNDRY_API},
                           json={"messages": body["messages"]})
    assert gateway.status_code == 200, gateway.text
    assert foundry.status_code == 200, foundry.text
    return (gateway.json()["choices"][0]["message"]["content"],
            foundry.json()["choices"][0]["message"]["content"])


def uploaded(outside: httpx.Client) -> list[str]:
    """Every blob in the registry's uploads container."""
    listing = outside.get("/datastore/list-sas").json()
    return sorted(b.name for b in ContainerClient.from_container_url(listing["sas_uri"])
                  .list_blobs())


def registered(outside: httpx.Client) -> list[str]:
    found = outside.get("/custom-models", params={"name": "tiny"}).json()["value"]
    return sorted(m["version"] for m in found)


def test_a_custom_model_and_both_deployments_apply_in_one_run_and_chat(
        harness: Harness, tmp_path: Path, outside: httpx.Client) -> None:
    weights(tmp_path)
    desired = manifests(harness)
    plan = harness.plan(desired)
    assert set(actions(plan).values()) == {Action.CREATE}

    harness.converge(desired)

    events = harness.events
    for deployment in ("ModelDeployment/chat", "FoundryDeployment/code"):
        assert finished(events, "CustomModel/tiny", "create") < \
            started(events, deployment, "create")
    assert chat(outside, harness, "hello") == ("[emulated chat] You said: hello",
                                               "[emulated tiny] You said: hello")
    md = arm(outside, "GET", deployment_path("chat")).json()
    assert md["properties"]["modelResourceId"] == "custom-models/tiny/versions/1.0"
    fd = arm(outside, "GET", foundry_path("code"), version=FOUNDRY_API).json()
    assert fd["properties"]["model"] == {"format": "safetensors", "name": "tiny",
                                         "version": "1.0", "source": "custom-models/tiny"}
    assert not harness.plan(desired).summary().has_changes


def test_changed_weights_replace_the_model_then_redeploy_both_in_order(
        harness: Harness, tmp_path: Path, outside: httpx.Client) -> None:
    weights(tmp_path)
    harness.converge(manifests(harness))
    first = outside.get("/custom-models/tiny").json()
    created = arm(outside, "GET", deployment_path("chat")).json()["systemData"]["createdAt"]
    weights(tmp_path, b"v")
    desired = manifests(harness)

    plan = harness.plan(desired)

    assert actions(plan) == {"CustomModel/tiny": Action.REPLACE,
                             "FoundryDeployment/code": Action.UPDATE,
                             "ModelDeployment/chat": Action.REPLACE}
    chat_change = plan.change_for(harness_address("ModelDeployment/chat"))
    assert chat_change is not None
    assert chat_change.reasons == (Reason.REPLACE_BECAUSE_MODEL_REPLACED,)
    assert any("CustomModel/tiny is replaced" in n for n in chat_change.notes)
    harness.events.clear()
    result = harness.apply(plan, desired)

    assert result.complete, [(str(c.address), c.message) for c in result.changes]
    events = harness.events
    registered_at = finished(events, "CustomModel/tiny", "create")
    assert registered_at < started(events, "ModelDeployment/chat", "delete")
    assert registered_at < started(events, "FoundryDeployment/code", "update")
    swapped = outside.get("/custom-models/tiny").json()
    assert (swapped["version"], registered(outside)) == ("1.0", ["1.0"])
    assert swapped["upload_id"] != first["upload_id"]
    assert swapped["sha256"] != first["sha256"]
    recreated = arm(outside, "GET", deployment_path("chat")).json()
    assert recreated["systemData"]["createdAt"] != created
    assert chat(outside, harness, "again")[0] == "[emulated chat] You said: again"
    assert not harness.plan(desired).summary().has_changes


def test_a_version_bump_moves_the_deployments_then_retires_the_old_version(
        harness: Harness, tmp_path: Path, outside: httpx.Client) -> None:
    weights(tmp_path)
    harness.converge(manifests(harness))
    weights(tmp_path, b"2")
    bumped = manifests(harness, version="2.0")

    plan = harness.plan(bumped)

    assert actions(plan) == {"CustomModel/tiny": Action.UPDATE,
                             "FoundryDeployment/code": Action.UPDATE,
                             "ModelDeployment/chat": Action.REPLACE}
    model = plan.change_for(harness_address("CustomModel/tiny"))
    assert model is not None and model.retires == ("1.0",)
    assert any("version 1.0 is deleted after" in n for n in model.notes)
    harness.events.clear()
    result = harness.apply(plan, bumped)

    assert result.complete, [(str(c.address), c.message) for c in result.changes]
    events = harness.events
    retired = started(events, "CustomModel/tiny", "retire")
    assert finished(events, "ModelDeployment/chat", "create") < retired
    assert finished(events, "FoundryDeployment/code", "update") < retired
    assert registered(outside) == ["2.0"]
    md = arm(outside, "GET", deployment_path("chat")).json()
    assert md["properties"]["modelResourceId"] == "custom-models/tiny/versions/2.0"
    fd = arm(outside, "GET", foundry_path("code"), version=FOUNDRY_API).json()
    assert fd["properties"]["model"]["version"] == "2.0"
    assert harness.state().get("CustomModel/tiny").extra["registeredVersions"] == ["2.0"]
    assert not harness.plan(bumped).summary().has_changes


def test_destroy_removes_every_version_aimodels_registered(
        harness: Harness, tmp_path: Path, outside: httpx.Client) -> None:
    weights(tmp_path)
    harness.converge(manifests(harness, previousVersions="Keep"))
    weights(tmp_path, b"2")
    harness.converge(manifests(harness, version="2.0", previousVersions="Keep"))
    assert registered(outside) == ["1.0", "2.0"]
    assert harness.state().get("CustomModel/tiny").extra["registeredVersions"] == \
        ["1.0", "2.0"]

    empty = harness.desired()
    plan = harness.plan(empty)
    assert set(actions(plan).values()) == {Action.DELETE}
    result = harness.apply(plan, empty)

    assert [c.status for c in result.changes] == [Status.DONE] * 3
    assert registered(outside) == []
    assert uploaded(outside) == []  # deletePolicy Delete: the blobs went too
    assert harness.state().addresses == []


def test_destroy_keeps_the_blobs_of_every_version_with_keep_weights(
        harness: Harness, tmp_path: Path, outside: httpx.Client) -> None:
    weights(tmp_path)
    harness.converge(manifests(harness, previousVersions="Keep", deletePolicy="KeepWeights"))
    weights(tmp_path, b"2")
    harness.converge(manifests(harness, version="2.0", previousVersions="Keep",
                               deletePolicy="KeepWeights"))
    uploads = {v: outside.get("/custom-models/tiny", params={"version": v}).json()
               for v in ("1.0", "2.0")}

    harness.converge(harness.desired())

    assert registered(outside) == []
    kept = uploaded(outside)
    assert len(kept) == 2
    assert {name.rsplit("/", 1)[0] + "/" for name in kept} == \
        {u["blob_prefix"] for u in uploads.values()}


def test_destroying_a_custom_model_still_deployed_is_refused_at_plan_time(
        harness: Harness, tmp_path: Path) -> None:
    weights(tmp_path)
    harness.converge(manifests(harness))
    # The CustomModel leaves the manifests; the deployment now names the registered model.
    kept = harness.desired(model_deployment("chat", model={"custom": "tiny", "version": "1.0"}))

    plan = harness.plan(kept)

    assert plan.errored and not plan.applyable
    summaries = [d.summary for d in plan.diagnostics]
    assert "CustomModel/tiny cannot be destroyed: ModelDeployment/chat still uses it" in \
        summaries


def test_a_deployment_of_an_unregistered_model_fails_with_the_service_code(
        harness: Harness) -> None:
    desired = harness.desired(model_deployment("ghost", model={"custom": "nope",
                                                                "version": "1.0"}))
    result = harness.apply(harness.plan(desired), desired)

    [failed] = result.failed
    assert "CustomModelNotFound" in failed.message or "not registered" in failed.message
    assert harness.state().addresses == []


def harness_address(text: str) -> Any:
    from apply_support import address

    return address(text)
