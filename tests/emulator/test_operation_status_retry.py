"""An operation status that is not terminal always tells the client when to poll again: without
Retry-After-Ms, azure-core's ARMPolling waits its 30 s default (and aimodels its 5 s)."""

from __future__ import annotations

import httpx

from aimodels.emulator.app import Emulator
from aimodels.emulator.config import EmulatorConfig
from aimodels.emulator.server import start_in_thread

SUB = "00000000-0000-0000-0000-000000000000"
ACCOUNT = (f"/subscriptions/{SUB}/resourceGroups/rg-quickstart/providers/"
           "Microsoft.CognitiveServices/accounts/quickstart-foundry")
BODY = {"sku": {"name": "GlobalStandard", "capacity": 1},
        "properties": {"model": {"format": "OpenAI", "name": "gpt-4o", "version": "2024-11-20"}}}


class SteppingClock:
    """Stands still until ``step_each_read`` is set, then moves that far on every reading: an
    operation can end between two readings made while one answer is built."""

    def __init__(self) -> None:
        self.now = 1_900_000_000.0
        self.step_each_read = 0.0

    def __call__(self) -> float:
        now = self.now
        self.now += self.step_each_read
        return now


def test_in_progress_always_comes_with_retry_after_ms() -> None:
    clock = SteppingClock()
    emulator = Emulator(EmulatorConfig(lro_seconds=10), clock=clock)
    with start_in_thread(emulator=emulator) as running, httpx.Client(
            base_url=running.url, headers={"Authorization": "Bearer t"}) as api:
        created = api.put(f"{ACCOUNT}/deployments/gpt", params={"api-version": "2025-09-01"},
                          json=BODY)
        assert created.status_code == 201, created.text
        clock.now += 10 - 0.5  # half a step before the end
        clock.step_each_read = 1.0
        status = api.get(created.headers["Azure-AsyncOperation"])

    assert status.json()["status"] == "Creating"  # not terminal: Cognitive Services' own word
    assert int(status.headers["Retry-After-Ms"]) > 0
