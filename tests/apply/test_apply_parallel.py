"""Scheduling: parallelism is bounded, one write at a time per Cognitive Services account while
other accounts proceed, and the account's 409 RequestConflict is waited out without user action."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from apply_support import (
    OTHER_ACCOUNT,
    Harness,
    arm,
    foundry_deployment,
    foundry_path,
    model_deployment,
)

from aimodels.apply.events import ApplyEvent, Phase
from aimodels.emulator.config import EmulatorConfig
from aimodels.emulator.server import RunningEmulator, start_in_thread


def intervals(events: list[ApplyEvent]) -> dict[str, tuple[float, float]]:
    """When each step ran, from its STARTED to its final event."""
    start = {str(e.address): e.at for e in events if e.phase is Phase.STARTED}
    end = {str(e.address): e.at for e in events if e.phase.is_final}
    return {a: (start[a], end[a]) for a in start}


def overlaps(a: tuple[float, float], b: tuple[float, float]) -> bool:
    return a[0] < b[1] and b[0] < a[1]


def most_at_once(spans: list[tuple[float, float]]) -> int:
    points = sorted([(s, 1) for s, _ in spans] + [(e, -1) for _, e in spans])
    running = peak = 0
    for _, delta in points:
        running += delta
        peak = max(peak, running)
    return peak


def test_one_write_at_a_time_per_account_while_other_accounts_proceed(
        harness: Harness) -> None:
    desired = harness.desired(
        *(foundry_deployment(f"gpt-{i}") for i in range(4)),
        *(foundry_deployment(f"we-{i}", account=OTHER_ACCOUNT) for i in range(2)),
    )
    result = harness.apply(harness.plan(desired), desired)

    assert result.complete, [c.message for c in result.failed]
    spans = intervals(harness.events)
    same = [spans[f"FoundryDeployment/gpt-{i}"] for i in range(4)]
    assert most_at_once(same) == 1
    other = spans["FoundryDeployment/we-0"]
    assert any(overlaps(other, span) for span in same)
    assert not [e for e in harness.events if e.phase is Phase.WAITING]
    assert not harness.plan(desired).summary().has_changes


def test_parallelism_bounds_the_steps_in_flight(harness: Harness) -> None:
    desired = harness.desired(*(model_deployment(f"chat-{i}") for i in range(5)))
    result = harness.apply(harness.plan(desired), desired, parallelism=2)

    assert result.complete
    assert most_at_once(list(intervals(harness.events).values())) == 2


@pytest.fixture
def slow_emulator() -> Iterator[RunningEmulator]:
    running = start_in_thread(EmulatorConfig(lro_seconds=1.0))
    try:
        yield running
    finally:
        running.stop()


def test_account_busy_with_another_client_is_waited_out(slow_emulator: RunningEmulator,
                                                       tmp_path: Path) -> None:
    harness = Harness(slow_emulator.url, tmp_path)
    desired = harness.desired(foundry_deployment("gpt"))
    plan = harness.plan(desired)
    with httpx.Client(base_url=slow_emulator.url, headers={"Authorization": "Bearer t"}) as s:
        body = {"sku": {"name": "GlobalStandard", "capacity": 5},
                "properties": {"model": {"format": "OpenAI", "name": "gpt-4o-mini"}}}
        theirs = arm(s, "PUT", foundry_path("theirs"), body, version="2025-09-01")
        assert theirs.status_code == 201

    result = harness.apply(plan, desired)

    assert result.complete, [c.message for c in result.failed]
    waits = [e for e in harness.events if e.phase is Phase.WAITING]
    assert waits and "another operation" in waits[0].message
