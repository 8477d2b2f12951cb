"""End-to-end fixtures: an emulator on loopback with instant long-running operations, a copy of
the quickstart to work in, the CLI pointed at both, and a plain HTTP session for changes made
outside aimodels."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from e2e_support import Cli, copy_quickstart

from aimodels.emulator.config import EmulatorConfig
from aimodels.emulator.server import RunningEmulator, start_in_thread


@pytest.fixture
def emulator() -> Iterator[RunningEmulator]:
    with start_in_thread(EmulatorConfig(lro_seconds=0)) as running:
        yield running


@pytest.fixture
def stack(tmp_path: Path) -> Path:
    return copy_quickstart(tmp_path / "quickstart")


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str], emulator: RunningEmulator, stack: Path) -> Cli:
    return Cli(capsys, emulator.url, stack)


@pytest.fixture
def outside(emulator: RunningEmulator) -> Iterator[httpx.Client]:
    """An HTTP session to the emulator that bypasses aimodels, as a colleague's script would."""
    with httpx.Client(base_url=emulator.url, headers={"Authorization": "Bearer colleague"},
                      timeout=30) as session:
        yield session
