"""``service/manifest_load.py``: the manifests loaded in a worker thread give what
``load_manifests`` gives (result, Stack, errors), and the collector is handed back as it was
(paused while loading, what was loaded frozen out of its passes until the command closes the
load: a test run plans again and again in one process)."""

from __future__ import annotations

import asyncio
import gc
from pathlib import Path
from typing import Any

import pytest

from aimodels.errors import ManifestError
from aimodels.manifest.load import load_manifests
from aimodels.service.manifest_load import ManifestLoad

STACK = """\
apiVersion: aimodels/v1
kind: Stack
metadata: {name: probe}
spec:
  target: azure
  subscriptionId: 00000000-0000-0000-0000-000000000000
  resourceGroup: rg-probe
  location: eastus
  aiManager: probe-manager
  foundryAccount: probe-foundry
  state: {backend: local}
"""
FOUNDRY = """\
apiVersion: aimodels/v1
kind: FoundryDeployment
metadata: {name: chat}
spec:
  model: {format: OpenAI, name: gpt-4o, version: "2024-11-20"}
  sku: {name: GlobalStandard, capacity: 1}
"""


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    (tmp_path / "stack.yaml").write_text(STACK)
    (tmp_path / "chat.yaml").write_text(FOUNDRY)
    return tmp_path


def loaded(folder: Path) -> tuple[Any, Any, int]:
    """The Stack handed over, the result (or the error raised), and the collector's frozen
    count while the load was open."""
    with ManifestLoad.start([str(folder)], env={}, strict_env=True) as manifests:
        async def wait() -> tuple[Any, Any]:
            stack = await manifests.stack()
            manifests.release()
            try:
                return stack, await manifests.result()
            except ManifestError as exc:
                return stack, exc

        stack, result = asyncio.run(wait())
        frozen = gc.get_freeze_count()
    return stack, result, frozen


def test_a_thread_load_gives_what_the_loader_gives_and_hands_the_collector_back(
        folder: Path) -> None:
    here = load_manifests([str(folder)], env={}, strict_env=True)
    stack, result, frozen = loaded(folder)
    assert stack is not None and stack.name == "probe"
    assert result == here
    assert frozen > 0, "the loaded manifests were not frozen out of the collector's passes"
    assert gc.isenabled() and gc.get_freeze_count() == 0


def test_invalid_manifests_raise_the_loaders_own_error(folder: Path) -> None:
    (folder / "chat.yaml").write_text(FOUNDRY.replace("capacity: 1", "capacity: many"))
    with pytest.raises(ManifestError) as here:
        load_manifests([str(folder)], env={}, strict_env=True)
    _, raised, _ = loaded(folder)
    assert isinstance(raised, ManifestError)
    assert str(raised) == str(here.value) and raised.diagnostics == here.value.diagnostics
    assert gc.isenabled() and gc.get_freeze_count() == 0
