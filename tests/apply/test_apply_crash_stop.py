"""The executor's stop (what Ctrl-C sets), in-process against the emulator: nothing starts once
it is set, writes in flight get the grace period to be answered, operations running in Azure
are left to the journal with their handles, and the next run settles them."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from apply_support import FAST_RETRY, Harness, foundry_deployment, model_deployment, model_source

from aimodels.apply.events import ApplyEvent, ApplyResult, Interruption, Phase, Status
from aimodels.apply.executor import ApplyOptions, apply_plan
from aimodels.apply.recovery import recover_pending
from aimodels.apply.state_store import StateStore
from aimodels.emulator.config import EmulatorConfig
from aimodels.emulator.server import RunningEmulator, start_in_thread
from aimodels.model.desired import DesiredState
from aimodels.providers.registry import default_registry
from aimodels.state.journal import Journal


def apply_stopping(harness: Harness, desired: DesiredState, when: str, phase: Phase,
                   grace: float = 10.0, delay: float = 0.0
                   ) -> tuple[ApplyResult, list[ApplyEvent], int, list[Interruption]]:
    """Apply, setting the stop ``delay`` seconds after the first ``phase`` event of ``when``;
    the result, every event, how many events there were at the stop, and what ``on_stop`` was
    told."""
    plan = harness.plan(desired)
    events: list[ApplyEvent] = []
    notices: list[Interruption] = []
    stopped_at: list[int] = []

    async def run() -> ApplyResult:
        stop = asyncio.Event()

        def stopping() -> None:
            stop.set()
            stopped_at.append(len(events))

        def sink(event: ApplyEvent) -> None:
            events.append(event)
            if str(event.address) == when and event.phase is phase and not stop.is_set():
                asyncio.get_running_loop().call_later(delay, stopping)

        store = StateStore(harness.state_path, harness.state())
        options = ApplyOptions(grace=grace, on_stop=notices.append, conflict_retry=FAST_RETRY)
        async with harness.client() as client:
            return await apply_plan(plan, desired, client, store, sink, options, stop,
                                    registry=default_registry())

    result = asyncio.run(run())
    assert stopped_at, f"{when} never reached {phase}"
    return result, events, stopped_at[0], notices


def settle(harness: Harness) -> list[str]:
    async def run() -> list[str]:
        store = StateStore(harness.state_path, harness.state())
        async with harness.client() as client:
            return await recover_pending(store, client)

    return asyncio.run(run())


def statuses(result: ApplyResult) -> dict[str, Status]:
    return {str(c.address): c.status for c in result.changes}


def test_nothing_starts_after_the_stop_and_running_operations_are_journaled(
        harness: Harness) -> None:
    desired = harness.desired(foundry_deployment("gpt-a"), foundry_deployment("gpt-b"),
                              foundry_deployment("gpt-c"), model_deployment("chat"))
    result, events, stopped, notices = apply_stopping(
        harness, desired, "FoundryDeployment/gpt-a", Phase.POLLING)

    assert not [e for e in events[stopped:] if e.phase is Phase.STARTED]
    assert result.interrupted and not result.complete
    found = statuses(result)
    assert found["FoundryDeployment/gpt-a"] is Status.IN_FLIGHT
    assert found["FoundryDeployment/gpt-b"] is found["FoundryDeployment/gpt-c"] is \
        Status.NOT_STARTED  # queued behind gpt-a on the account
    assert len(notices) == 1 and notices[0].grace == 10.0
    flying = sorted(a for a, s in found.items() if s is Status.IN_FLIGHT)
    pending = Journal(harness.state_path.parent).pending()
    assert sorted(e.address for e in pending) == flying
    assert all("lro" in e.details for e in pending)
    assert harness.state().addresses == sorted(a for a, s in found.items() if s is Status.DONE)
    assert result.summary().startswith("Apply interrupted: ")

    assert settle(harness) == [f"{a}: created by an interrupted run; now in the state"
                               for a in flying]
    assert harness.apply(harness.plan(desired), desired).complete
    assert not harness.plan(desired).summary().has_changes


@pytest.fixture
def slow_answers() -> Iterator[RunningEmulator]:
    running = start_in_thread(EmulatorConfig(lro_seconds=0.2, latency_ms=400))
    try:
        yield running
    finally:
        running.stop()


def test_the_stop_waits_for_a_write_in_flight_to_be_answered(
        slow_answers: RunningEmulator, tmp_path: Path) -> None:
    harness = Harness(slow_answers.url, tmp_path)
    desired = harness.desired(model_source("hf"), model_deployment("chat", modelSource="hf"))
    result, _, _, notices = apply_stopping(harness, desired, "ModelSource/hf", Phase.STARTED,
                                           delay=0.15)  # its PUT is on its way (0.4 s)

    assert notices[0].waiting_for == 1
    assert statuses(result) == {"ModelDeployment/chat": Status.NOT_STARTED,
                                "ModelSource/hf": Status.DONE}
    assert harness.state().addresses == ["ModelSource/hf"]
    assert not Journal(harness.state_path.parent).path.exists()


def test_a_write_not_answered_within_the_grace_is_left_to_the_next_run(
        slow_answers: RunningEmulator, tmp_path: Path) -> None:
    harness = Harness(slow_answers.url, tmp_path)
    desired = harness.desired(model_source("hf"))
    result, _, _, _ = apply_stopping(harness, desired, "ModelSource/hf", Phase.STARTED,
                                     grace=0.05, delay=0.15)

    [change] = result.changes
    assert change.status is Status.IN_FLIGHT
    assert change.message == "interrupted before Azure answered; the next apply re-reads it"
    assert [e.address for e in Journal(harness.state_path.parent).pending()] == \
        ["ModelSource/hf"]

    settle(harness)  # whether the write landed or not, the next plan and apply converge
    plan = harness.plan(desired)
    assert not plan.errored, plan.diagnostics
    assert harness.apply(plan, desired).complete
    assert not harness.plan(desired).summary().has_changes
