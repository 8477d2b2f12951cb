"""Apply against the emulator converges: after apply, a new plan is empty, for every kind and
for creates, in-place updates, replacements and deletes; state records what was applied."""

from __future__ import annotations

from pathlib import Path

import httpx
from apply_support import (
    Harness,
    address,
    arm,
    custom_model,
    deployment_path,
    foundry_deployment,
    model_deployment,
    model_source,
)
from azure.storage.blob import ContainerClient

from aimodels.apply.events import Phase, Status
from aimodels.plan.values import Action


def write_weights(folder: Path) -> None:
    (folder / "tiny.safetensors").write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{}" + b"w" * 300)
    shards = folder / "shards"
    (shards / "sub").mkdir(parents=True)
    (shards / "config.json").write_text('{"layers": 1}')
    (shards / "sub" / "model-00001.safetensors").write_bytes(b"a" * 5000)


def test_apply_then_plan_is_empty_for_every_kind(harness: Harness, tmp_path: Path) -> None:
    write_weights(tmp_path)
    harness.env["HF_TOKEN"] = "hf_secret_token_value"
    desired = harness.desired(
        model_source("hf", credential={"fromEnv": "HF_TOKEN"}, description="private org"),
        custom_model("tiny", "./tiny.safetensors", tags={"team": "a"}),
        custom_model("sharded", "./shards", version="2"),
        model_deployment("chat", modelSource="hf"),
        foundry_deployment("gpt"),
    )
    plan = harness.plan(desired)
    assert not plan.errored, plan.diagnostics
    assert plan.summary().create == 5

    result = harness.apply(plan, desired)

    assert result.complete, [(str(c.address), c.message) for c in result.failed]
    assert len(result.done) == 5
    again = harness.plan(desired)
    assert not again.summary().has_changes, [c.to_dict() for c in again.changes
                                              if c.action is not Action.NOOP]
    state = harness.state()
    assert state.addresses == ["CustomModel/sharded", "CustomModel/tiny",
                               "FoundryDeployment/gpt", "ModelDeployment/chat", "ModelSource/hf"]
    assert state.get("ModelDeployment/chat").etag
    assert state.get("CustomModel/tiny").desired["weights"]["size"] == 310
    digests = state.get("ModelSource/hf").extra["secretDigests"]
    assert list(digests.values()) == [state.secret_digest("hf_secret_token_value")]
    assert "hf_secret_token_value" not in harness.state_path.read_text()


def test_deployment_waits_for_the_source_it_references(harness: Harness) -> None:
    desired = harness.desired(model_source("hf"), model_deployment("chat", modelSource="hf"))
    harness.converge(desired)
    source_done = next(e.at for e in harness.events_of("ModelSource/hf") if e.phase is Phase.DONE)
    chat_started = next(e.at for e in harness.events_of("ModelDeployment/chat")
                        if e.phase is Phase.STARTED)
    assert source_done <= chat_started


def test_update_in_place_keeps_the_resource(harness: Harness, outside: httpx.Client) -> None:
    harness.converge(harness.desired(model_deployment("chat")))
    created = arm(outside, "GET", deployment_path("chat")).json()["systemData"]["createdAt"]
    desired = harness.desired(model_deployment("chat", scale={"replicas": 2}))
    plan = harness.plan(desired)
    assert [c.action for c in plan.changes] == [Action.UPDATE]

    harness.converge(desired)

    live = arm(outside, "GET", deployment_path("chat")).json()
    assert live["properties"]["scale"] == {"manual": {"replicas": 2}}
    assert live["systemData"]["createdAt"] == created
    assert harness.state().get("ModelDeployment/chat").etag == live["eTag"]
    assert not harness.plan(desired).summary().has_changes


def test_vm_size_change_replaces_the_deployment_delete_first(harness: Harness,
                                                             outside: httpx.Client) -> None:
    harness.converge(harness.desired(model_deployment("chat")))
    desired = harness.desired(model_deployment("chat", vmSize="Standard_NC48ads_A100_v4"))
    plan = harness.plan(desired)
    assert [c.action for c in plan.changes] == [Action.REPLACE]
    harness.events.clear()

    harness.converge(desired)

    steps = [(e.operation, e.phase) for e in harness.events if e.phase.is_final]
    assert steps == [("delete", Phase.DONE), ("create", Phase.DONE)]
    live = arm(outside, "GET", deployment_path("chat")).json()
    assert live["properties"]["vmSize"] == "Standard_NC48ads_A100_v4"
    assert not harness.plan(desired).summary().has_changes


def test_removed_from_manifests_is_deleted(harness: Harness, outside: httpx.Client) -> None:
    harness.converge(harness.desired(model_source("hf"), model_deployment("chat",
                                                                          modelSource="hf")))
    desired = harness.desired()
    plan = harness.plan(desired)
    assert {c.action for c in plan.changes} == {Action.DELETE}

    harness.converge(desired)

    assert arm(outside, "GET", deployment_path("chat")).status_code == 404
    assert harness.state().addresses == []
    deletes = [str(e.address) for e in harness.events if e.phase is Phase.DONE
               and e.operation == "delete"]
    assert deletes == ["ModelDeployment/chat", "ModelSource/hf"]


def test_forget_drops_what_was_deleted_outside(harness: Harness, outside: httpx.Client) -> None:
    harness.converge(harness.desired(foundry_deployment("gpt")))
    deleted = arm(outside, "DELETE", foundry_path_of("gpt"), version="2025-09-01")
    assert deleted.status_code == 202
    wait_gone(outside, foundry_path_of("gpt"))
    desired = harness.desired()
    plan = harness.plan(desired)
    assert [c.is_forget for c in plan.changes] == [True]

    result = harness.apply(plan, desired)

    assert [c.status for c in result.changes] == [Status.DONE]
    assert harness.state().addresses == []


def test_custom_model_new_version_and_metadata_updates(harness: Harness, tmp_path: Path,
                                                       outside: httpx.Client) -> None:
    write_weights(tmp_path)
    harness.converge(harness.desired(custom_model("tiny", "./tiny.safetensors")))
    tagged = harness.desired(custom_model("tiny", "./tiny.safetensors", tags={"tier": "gold"}))
    assert [c.action for c in harness.plan(tagged).changes] == [Action.UPDATE]
    harness.converge(tagged)
    assert outside.get("/custom-models/tiny").json()["tags"] == {"tier": "gold"}

    (tmp_path / "tiny.safetensors").write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{}" + b"v" * 9)
    bumped = harness.desired(custom_model("tiny", "./tiny.safetensors", version="1.1",
                                          tags={"tier": "gold"}))
    assert [c.action for c in harness.plan(bumped).changes] == [Action.UPDATE]
    harness.converge(bumped)

    # Version 1.0 is no longer used by any deployment: the bump retires it (not orphaned).
    versions = outside.get("/custom-models", params={"name": "tiny"}).json()["value"]
    assert sorted(v["version"] for v in versions) == ["1.1"]
    assert harness.state().get("CustomModel/tiny").extra["registeredVersions"] == ["1.1"]
    assert not harness.plan(bumped).summary().has_changes


def test_custom_model_delete_keeps_weights_when_asked(harness: Harness, tmp_path: Path,
                                                      outside: httpx.Client) -> None:
    write_weights(tmp_path)
    harness.converge(harness.desired(custom_model("tiny", "./tiny.safetensors",
                                                  deletePolicy="KeepWeights")))
    upload = outside.get("/custom-models/tiny").json()
    harness.converge(harness.desired())
    assert outside.get("/custom-models/tiny").status_code == 404
    listing = outside.get("/datastore/list-sas").json()
    blobs = ContainerClient.from_container_url(listing["sas_uri"]).list_blobs()
    assert [b.name for b in blobs] == [upload["blob_prefix"] + "tiny.safetensors"]


def foundry_path_of(name: str) -> str:
    from apply_support import foundry_path

    return foundry_path(name)


def wait_gone(session: httpx.Client, path: str) -> None:
    import time

    for _ in range(100):
        if arm(session, "GET", path, version="2025-09-01").status_code == 404:
            return
        time.sleep(0.05)
    raise AssertionError(f"{path} still exists")


_ = address
