"""Fixtures of the read-command tests: a served emulator per module, and per test a fresh
subscription on it (its own AI manager ``aim``, namespaces, Foundry account ``acct`` and quota).
The custom-model registry and data store are global, so tests of custom models and uploads take
``registry``: a fresh emulator of their own.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import httpx
import pytest
from read_harness import ACCOUNT, MANAGER, RG, Azure

from aimodels.emulator.cognitiveservices_common import seed_account
from aimodels.emulator.config import EmulatorConfig
from aimodels.emulator.containerservice_parents import seed_parents
from aimodels.emulator.server import RunningEmulator, start_in_thread


def new_azure(running: RunningEmulator) -> Iterator[Azure]:
    sub = str(uuid.uuid4())
    seed_parents(running.emulator, sub, RG, "eastus", MANAGER)
    seed_account(running.emulator, sub, RG, ACCOUNT, "eastus")
    with httpx.Client(base_url=running.url, headers={"Authorization": "Bearer test"},
                      timeout=10) as http:
        yield Azure(running, sub, http)


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


