"""Fixtures for upload tests: the emulator (with a clock tests can move) behind a counting
proxy, and Azurite (``tests/emulator/azurite.py``) for the same flows against a real blob
service."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from aimodels.emulator.app import Emulator
from aimodels.emulator.config import EmulatorConfig
from aimodels.emulator.server import RunningEmulator, start_in_thread

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "emulator"))

from upload_support import CountingProxy, serve  # noqa: E402


class MovableClock:
    """Wall-clock time plus an offset the test moves (SAS expiry without waiting)."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset


@dataclass
class Store:
    """An emulator and the counting proxy every client goes through (``url``)."""

    emulator: Emulator
    running: RunningEmulator
    proxy: CountingProxy
    url: str
    clock: MovableClock


@pytest.fixture
def store() -> Iterator[Store]:
    clock = MovableClock()
    emulator = Emulator(EmulatorConfig(), clock=clock)
    running = start_in_thread(emulator=emulator)
    proxy = CountingProxy(running.url)
    served = serve(proxy)
    try:
        yield Store(emulator, running, proxy, served.url, clock)
    finally:
        served.stop()
        running.stop()
