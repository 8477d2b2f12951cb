"""Pre-flight tests over real HTTP: an emulator on loopback (its built-in fixtures are the
catalog, quota and GPU sizes of docs/emulator.md). Helpers live in preflight_support.py."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from aimodels.emulator.config import EmulatorConfig
from aimodels.emulator.server import RunningEmulator, start_in_thread


@pytest.fixture(scope="module")
def emulator() -> Iterator[RunningEmulator]:
    """One emulator for the read-only checks of a module (tests that write start their own)."""
    with start_in_thread(EmulatorConfig(lro_seconds=0.1)) as running:
        yield running


@pytest.fixture
def fresh_emulator() -> Iterator[RunningEmulator]:
    with start_in_thread(EmulatorConfig(lro_seconds=0.1)) as running:
        yield running
