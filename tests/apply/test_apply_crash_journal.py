"""The journal across a crash: an operation's LRO handle is journaled as soon as Azure accepts
the write, and recovery re-attaches to it; an intent written by an older aimodels (no details)
is located through the manifests, so a resource it created is never left out of the state;
and a read-only plan run in between says an apply was interrupted instead of asking for
``aimodels import``."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
from pathlib import Path

import httpx
import pytest
from apply_support import (
    Harness,
    arm,
    deployment_path,
    foundry_deployment,
    foundry_path,
    model_deployment,
    model_source,
    source_path,
)

from aimodels.apply.events import ApplyEvent
from aimodels.apply.executor import ApplyOptions, apply_plan
from aimodels.apply.recovery import recover_pending
from aimodels.apply.state_store import StateStore
from aimodels.cli.main import main
from aimodels.emulator.server import RunningEmulator
from aimodels.model.desired import DesiredState
from aimodels.providers.registry import default_registry
from aimodels.state.journal import Journal

ROOT = Path(__file__).resolve().parents[2]


def apply_until_journaled(harness: Harness, desired: DesiredState, address: str) -> None:
    """Apply until ``address``'s operation runs in Azure with its handle in the journal, then
    stop dead: the run is cancelled as a whole, closing nothing (as a kill would)."""
    journal = Journal(harness.state_path.parent)
    plan = harness.plan(desired)

    async def run() -> None:
        reached = asyncio.Event()

        def sink(event: ApplyEvent) -> None:
            pending = [e for e in journal.pending() if e.address == address]
            if len(pending) == 1 and "lro" in pending[0].details:
                reached.set()

        store = StateStore(harness.state_path, harness.state())
        async with harness.client() as client:
            running = asyncio.create_task(apply_plan(plan, desired, client, store, sink,
                                                     ApplyOptions(progress_every=0.02),
                                                     registry=default_registry()))
            await asyncio.wait([running, asyncio.create_task(reached.wait())],
                               return_when=asyncio.FIRST_COMPLETED)
            assert not running.done(), "the apply ended before its handle was journaled"
            running.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await running

    asyncio.run(run())


def recover(harness: Harness) -> list[str]:
    async def run() -> list[str]:
        store = StateStore(harness.state_path, harness.state())
        async with harness.client() as client:
            return await recover_pending(store, client)

    return asyncio.run(run())


@pytest.mark.parametrize("kind, path", [("ModelDeployment", deployment_path),
                                        ("FoundryDeployment", foundry_path)])
def test_recovery_reattaches_to_the_journaled_operation(
        harness: Harness, outside: httpx.Client, kind: str, path: object) -> None:
    doc = model_deployment("chat") if kind == "ModelDeployment" else foundry_deployment("chat")
    desired = harness.desired(doc)
    apply_until_journaled(harness, desired, f"{kind}/chat")
    [intent] = Journal(harness.state_path.parent).pending()
    assert intent.details["lro"]["kind"] == "async-operation"
    assert intent.details["lro"]["method"] == "PUT"

    assert recover(harness) == [f"{kind}/chat: created by an interrupted run; now in the state"]

    live = arm(outside, "GET", path("chat"),  # type: ignore[operator]
               version="2025-09-01" if kind == "FoundryDeployment" else "2026-08-02-preview")
    assert live.json()["properties"]["provisioningState"] == "Succeeded"  # followed to its end
    entry = harness.state().get(f"{kind}/chat")
    assert entry is not None and entry.etag == live.json().get("eTag", live.json().get("etag"))
    assert not harness.plan(desired).summary().has_changes


def test_recovery_follows_a_delete_to_its_end(harness: Harness, outside: httpx.Client) -> None:
    harness.converge(harness.desired(model_deployment("chat")))
    apply_until_journaled(harness, harness.desired(), "ModelDeployment/chat")
    [intent] = Journal(harness.state_path.parent).pending()
    assert intent.action == "delete" and intent.details["lro"]["method"] == "DELETE"

    assert recover(harness) == [
        "ModelDeployment/chat: deleted by an interrupted run; dropped from the state"]
    assert arm(outside, "GET", deployment_path("chat")).status_code == 404
    assert harness.state().addresses == []


def test_of_two_intents_left_by_a_crash_mid_amendment_the_newer_is_settled(
        harness: Harness) -> None:
    desired = harness.desired(model_source("hf"))
    harness.converge(desired)
    entry = harness.state().get("ModelSource/hf")
    assert entry is not None
    harness.converge(harness.desired())  # deleted: now re-create it behind the journal's back
    journal = Journal(harness.state_path.parent)
    older = {**entry.to_dict(), "desired": {"description": "older"}}
    newer = {**entry.to_dict(), "desired": {"description": "newer"}}
    journal.record_intent("ModelSource/hf", "create",
                          {"url": entry.resource_id, "api": "arm", "entry": older})
    journal.record_intent("ModelSource/hf", "create",
                          {"url": entry.resource_id, "api": "arm", "entry": newer})
    harness.converge(desired)  # stands in for the write that landed
    harness.state_path.unlink()

    assert recover(harness) == ["ModelSource/hf: created by an interrupted run; now in the state"]
    recorded = harness.state().get("ModelSource/hf")
    assert recorded is not None and recorded.desired == {"description": "newer"}
    assert not journal.path.exists()


@pytest.fixture
def stack(tmp_path: Path) -> Path:
    folder = tmp_path / "quickstart"
    shutil.copytree(ROOT / "examples" / "quickstart", folder,
                    ignore=shutil.ignore_patterns(".aimodels"))
    return folder


def run(capsys: pytest.CaptureFixture[str], emulator: RunningEmulator, stack: Path,
        *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exited:
        main(["--endpoint", emulator.url, *args, "-f", str(stack)])
    out, err = capsys.readouterr()
    return int(exited.value.code or 0), out, err


def test_an_older_journal_without_details_loses_no_resource(
        capsys: pytest.CaptureFixture[str], emulator: RunningEmulator, stack: Path,
        outside: httpx.Client) -> None:
    """An older aimodels journaled only the address, the operation and the resource id (or
    less), created resources and died before writing the state: plan says so, and apply
    adopts them; one no longer in the manifests is named, not silently dropped."""
    source_body = {"properties": {"sourceType": "HuggingFace",
                                  "description": "Public Hugging Face models"}}
    for name in ("hf-public", "gone"):
        created = arm(outside, "PUT", source_path(name), source_body)
        assert created.status_code in (200, 201), created.text
    foundry = arm(outside, "PUT", foundry_path("gpt4o-chat"), {
        "sku": {"name": "GlobalStandard", "capacity": 10},
        "properties": {"model": {"format": "OpenAI", "name": "gpt-4o", "version": "2024-11-20"},
                       "raiPolicyName": "Microsoft.DefaultV2",
                       "versionUpgradeOption": "OnceNewDefaultVersionAvailable"}},
        version="2025-09-01")
    assert foundry.status_code in (200, 201), foundry.text
    journal = Journal(stack / ".aimodels")
    for address, path in (("ModelSource/hf-public", source_path("hf-public")),
                          ("ModelSource/gone", source_path("gone")),
                          ("FoundryDeployment/gpt4o-chat", foundry_path("gpt4o-chat"))):
        journal.record_intent(address, "create", {"resourceId": path})
    journal.record_intent("ModelDeployment/phi4-chat", "create")

    code, out, err = run(capsys, emulator, stack, "plan")
    assert code == 0, out + err
    assert "an earlier apply was interrupted: 4 operation(s) are being reconciled on the next " \
           "apply" in out + err
    assert "aimodels import" not in out + err
    assert "ModelSource/hf-public will be created" not in out

    code, out, err = run(capsys, emulator, stack, "apply", "--yes")
    assert code == 0, out + err
    assert "ModelSource/hf-public: created by an interrupted run; now in the state" in err
    assert "FoundryDeployment/gpt4o-chat: created by an interrupted run" in err
    assert "ModelSource/gone: created by an interrupted run, and no longer in the manifests" \
        in err
    assert "Apply complete: 2 done." in out  # the CustomModel and the ModelDeployment
    assert run(capsys, emulator, stack, "plan", "--detailed-exitcode")[0] == 0
    code, out, _ = run(capsys, emulator, stack, "state", "list")
    assert sorted(out.split()).count("ModelSource/hf-public") == 1
    assert not journal.path.exists()
