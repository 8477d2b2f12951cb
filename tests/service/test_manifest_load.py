"""``service/manifest_load.py``: the manifests loaded in a worker thread give what
``load_manifests`` gives: the Stack handed over first, then the result, or the loader's own
error."""

from __future__ import annotations

import asyncio
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


def loaded(folder: Path) -> tuple[Any, Any]:
    """The Stack handed over, and the result (or the error raised)."""
    with ManifestLoad.start([str(folder)], env={}, strict_env=True) as manifests:
        async def wait() -> tuple[Any, Any]:
            stack = await manifests.stack()
            manifests.release()
            try:
                return stack, await manifests.result()
            except ManifestError as exc:
                return stack, exc

        return asyncio.run(wait())


def test_a_thread_load_hands_over_the_stack_then_gives_what_the_loader_gives(
        folder: Path) -> None:
    here = load_manifests([str(folder)], env={}, strict_env=True)
    stack, result = loaded(folder)
    assert stack is not None and stack.name == "probe"
    assert result == here


def test_invalid_manifests_raise_the_loaders_own_error(folder: Path) -> None:
    (folder / "chat.yaml").write_text(FOUNDRY.replace("capacity: 1", "capacity: many"))
    with pytest.raises(ManifestError) as here:
        load_manifests([str(folder)], env={}, strict_env=True)
    _, raised = loaded(folder)
    assert isinstance(raised, ManifestError)
    assert str(raised) == str(here.value) and raised.diagnostics == here.value.diagnostics
