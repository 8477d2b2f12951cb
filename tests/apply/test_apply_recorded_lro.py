"""Apply against the emulator in ``--fidelity recorded`` mode: Foundry deployment writes answer
as the live recordings do (PUT 201/200 with no LRO header and ``Accepted``, DELETE 200 at
once), so the headerless LRO path of ``aimodels.transport.lro`` is exercised end to end, next to
the header path every other apply test takes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from apply_support import Harness, address, foundry_deployment

from aimodels.emulator.config import EmulatorConfig
from aimodels.emulator.server import start_in_thread
from aimodels.plan.values import Action


@pytest.fixture
def recorded(tmp_path: Path) -> Iterator[Harness]:
    with start_in_thread(EmulatorConfig(lro_seconds=0.2, fidelity="recorded")) as running:
        yield Harness(running.url, tmp_path)


def test_create_update_and_delete_converge_without_lro_headers(recorded: Harness) -> None:
    desired = recorded.desired(foundry_deployment("gpt"))
    result = recorded.converge(desired)
    [created] = result.changes
    assert created.action is Action.CREATE
    assert recorded.plan(desired).changes[0].action is Action.NOOP  # Succeeded, not Accepted

    bigger = recorded.desired(foundry_deployment("gpt", sku={"name": "GlobalStandard",
                                                             "capacity": 20}))
    recorded.converge(bigger)
    assert recorded.plan(bigger).changes[0].action is Action.NOOP

    gone = recorded.desired()
    [deleted] = recorded.converge(gone).changes
    assert deleted.address == address("FoundryDeployment/gpt")
    assert deleted.action is Action.DELETE
    assert recorded.plan(gone).changes == ()
