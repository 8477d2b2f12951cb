"""Fixtures for apply tests: an emulator with fast long-running operations, and a harness."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from apply_support import Harness

from aimodels.emulator.config import EmulatorConfig
from aimodels.emulator.server import RunningEmulator, start_in_thread


@pytest.fixture
def emulator() -> Iterator[RunningEmulator]:
    running = start_in_thread(EmulatorConfig(lro_seconds=0.2))
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture
def harness(emulator: RunningEmulator, tmp_path: Path) -> Harness:
    return Harness(emulator.url, tmp_path)


@pytest.fixture
def outside(emulator: RunningEmulator) -> Iterator[httpx.Client]:
    """A plain HTTP session to the emulator: changes made outside aimodels."""
    with httpx.Client(base_url=emulator.url, headers={"Authorization": "Bearer t"}) as session:
        yield session
