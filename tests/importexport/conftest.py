"""Fixtures for import/export tests: an emulator over HTTP, and the quickstart applied there
with its state then thrown away, so that everything is live and nothing is managed."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from importexport_support import copy_quickstart, run, state_entries, state_file

from aimodels.emulator.config import EmulatorConfig
from aimodels.emulator.server import RunningEmulator, start_in_thread


@pytest.fixture
def emulator() -> Iterator[RunningEmulator]:
    running = start_in_thread(EmulatorConfig(lro_seconds=0.1))
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture
def stack(tmp_path: Path) -> Path:
    return copy_quickstart(tmp_path / "quickstart")


@pytest.fixture
def applied(capsys: pytest.CaptureFixture[str], emulator: RunningEmulator,
            stack: Path) -> dict[str, dict[str, Any]]:
    """The quickstart applied, then its state deleted; returns the entries apply wrote."""
    code, _, err = run(capsys, emulator.url, stack, "apply", "--yes")
    assert code == 0, err
    entries = state_entries(stack)
    state_file(stack).unlink()
    return entries


@pytest.fixture
def outside(emulator: RunningEmulator) -> Iterator[httpx.Client]:
    """A plain HTTP session to the emulator: changes made outside aimodels."""
    with httpx.Client(base_url=emulator.url, headers={"Authorization": "Bearer t"}) as session:
        yield session
