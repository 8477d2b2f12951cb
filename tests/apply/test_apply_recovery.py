"""A run that dies mid-write leaves intents open in the journal; the next apply re-reads those
resources and records what landed, so nothing is orphaned and nothing is created twice."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from apply_support import Harness, arm, deployment_path, model_deployment, model_source

from aimodels.apply.events import ApplyEvent, Phase
from aimodels.apply.recovery import recover_pending
from aimodels.apply.state_store import StateStore
from aimodels.cli.main import main
from aimodels.emulator.config import EmulatorConfig
from aimodels.emulator.server import RunningEmulator, start_in_thread
from aimodels.plan.values import Action
from aimodels.state.journal import Journal

ROOT = Path(__file__).resolve().parents[2]


class Crash(Exception):
    """Stands in for the process dying at one instant."""


def apply_crashing(harness: Harness, desired: object, address: str) -> None:
    """Apply until ``address``'s write has reached Azure, then 'die'."""
    async def run() -> None:
        from aimodels.apply.executor import ApplyOptions, apply_plan
        from aimodels.providers.registry import default_registry

        def sink(event: ApplyEvent) -> None:
            if str(event.address) == address and event.phase is Phase.POLLING:
                raise Crash(address)

        store = StateStore(harness.state_path, harness.state())
        async with harness.client() as client:
            await apply_plan(plan, desired, client, store, sink,  # type: ignore[arg-type]
                             ApplyOptions(), registry=default_registry())

    plan = harness.plan(desired)  # type: ignore[arg-type]
    with pytest.raises(Crash):
        asyncio.run(run())


def recover(harness: Harness) -> list[str]:
    async def run() -> list[str]:
        store = StateStore(harness.state_path, harness.state())
        async with harness.client() as client:
            return await recover_pending(store, client)

    return asyncio.run(run())


def test_a_create_that_landed_is_adopted_not_repeated(harness: Harness) -> None:
    desired = harness.desired(model_source("hf"), model_deployment("chat", modelSource="hf"))
    apply_crashing(harness, desired, "ModelDeployment/chat")
    assert "ModelDeployment/chat" not in harness.state().addresses
    # One intent, or two while its amendment with the LRO handle was being written.
    assert {e.address for e in Journal(harness.state_path.parent).pending()} == \
        {"ModelDeployment/chat"}

    settled = recover(harness)

    assert settled == ["ModelDeployment/chat: created by an interrupted run; now in the state"]
    assert not Journal(harness.state_path.parent).path.exists()
    entry = harness.state().get("ModelDeployment/chat")
    assert entry is not None and entry.etag and entry.desired["vmSize"]
    plan = harness.plan(desired)
    assert not plan.errored, plan.diagnostics
    assert all(c.action is Action.NOOP for c in plan.changes)


def test_a_delete_that_landed_drops_the_entry(harness: Harness, outside: httpx.Client) -> None:
    harness.converge(harness.desired(model_deployment("chat")))
    desired = harness.desired()
    apply_crashing(harness, desired, "ModelDeployment/chat")
    assert "ModelDeployment/chat" in harness.state().addresses

    for _ in range(100):  # the delete finishes in Azure without us
        if arm(outside, "GET", deployment_path("chat")).status_code == 404:
            break
        time.sleep(0.02)
    assert recover(harness) == [
        "ModelDeployment/chat: deleted by an interrupted run; dropped from the state"]
    assert harness.state().addresses == []


def test_an_intent_that_never_reached_azure_changes_nothing(harness: Harness) -> None:
    journal = Journal(harness.state_path.parent)
    journal.record_intent("ModelSource/hf", "create", {
        "url": "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/"
               "rg-quickstart/providers/Microsoft.ContainerService/aiManagers/quickstart/"
               "modelSources/hf", "api": "arm",
        "entry": {"address": "ModelSource/hf", "resourceId": "/x"}})

    assert recover(harness) == []
    assert harness.state().addresses == [] and not journal.pending()


@pytest.fixture
def slow_emulator() -> Iterator[RunningEmulator]:
    running = start_in_thread(EmulatorConfig(lro_seconds=1.5))
    try:
        yield running
    finally:
        running.stop()


def test_apply_killed_mid_operation_converges_on_the_next_apply(
        slow_emulator: RunningEmulator, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    stack = tmp_path / "quickstart"
    shutil.copytree(ROOT / "examples" / "quickstart", stack,
                    ignore=shutil.ignore_patterns(".aimodels"))
    argv = ["--endpoint", slow_emulator.url, "apply", "--yes", "-f", str(stack)]
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIMODELS_")}
    child = subprocess.Popen([sys.executable, "-m", "aimodels", *argv], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, env=env, cwd=ROOT)
    assert child.stdout is not None
    for line in child.stdout:
        if "ModelDeployment/phi4-chat: creating" in line and "waiting for Azure" in line:
            break
    child.send_signal(signal.SIGKILL)
    child.communicate(timeout=30)

    lock = json.loads((stack / ".aimodels" / "state.lock").read_text())
    assert run(argv, capsys)[0] == 6  # the dead run's lock: reported stale, never broken
    assert run(["force-unlock", lock["id"], "-f", str(stack)], capsys)[0] == 0
    code, out, err = run(argv, capsys)

    assert code == 0, err
    assert "ModelDeployment/phi4-chat: created by an interrupted run" in err
    plan = run(["--endpoint", slow_emulator.url, "plan", "--detailed-exitcode", "-f",
                str(stack)], capsys)
    assert plan[0] == 0, plan
    with httpx.Client(base_url=slow_emulator.url, headers={"Authorization": "Bearer t"}) as s:
        versions = s.get("/custom-models", params={"name": "tiny-llama"}).json()["value"]
    assert [v["version"] for v in versions] == ["1.0"]


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exited:
        main(argv)
    out, err = capsys.readouterr()
    return int(exited.value.code or 0), out, err
