"""Fixtures of the read-command tests: a served emulator per module, and per test a fresh
subscription on it (its own AI manager ``aim``, namespaces, Foundry account ``acct`` and quota).
The custom-model registry and data store are global, so tests of custom models and uploads take
``registry``: a fresh emulator of their own.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from read_harness import Azure, new_azure

from aimodels.emulator.config import EmulatorConfig
from aimodels.emulator.server import RunningEmulator, start_in_thread


@pytest.fixture(scope="module")
def emulator() -> Iterator[RunningEmulator]:
    with start_in_thread(EmulatorConfig(lro_seconds=0.05)) as running:
        yield running


@pytest.fixture
def azure(emulator: RunningEmulator) -> Iterator[Azure]:
    """A fresh subscription on the module's emulator."""
    yield from new_azure(emulator)


@pytest.fixture
def registry() -> Iterator[Azure]:
    """A fresh emulator of its own: the custom-model registry and data store are global."""
    with start_in_thread(EmulatorConfig(lro_seconds=0.05)) as running:
        yield from new_azure(running)


