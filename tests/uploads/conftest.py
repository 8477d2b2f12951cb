"""Fixtures for upload tests: the emulator (with a clock tests can move) behind a counting
proxy, and Azurite (``tests/emulator/azurite.py``) for the same flows against a real blob
service."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from aimodels.emulator.app import Emulator
from aimodels.emulator.config import EmulatorConfig
from aimodels.emulator.server import start_in_thread

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "emulator"))

from upload_support import CountingProxy, MovableClock, Store, serve  # noqa: E402


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
