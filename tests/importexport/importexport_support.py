"""Shared by the import and export tests: a copy of examples/quickstart, the real CLI entry
point run in-process against an emulator served over HTTP (``--endpoint``), and the ids of the
quickstart's resources. Nothing of ours is patched; the emulator is the only Azure."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import httpx
import pytest

from aimodels.cli.main import main

ROOT = Path(__file__).resolve().parents[2]
QUICKSTART = ROOT / "examples" / "quickstart"
SUBSCRIPTION = "00000000-0000-0000-0000-000000000000"
GROUP = f"/subscriptions/{SUBSCRIPTION}/resourceGroups/rg-quickstart/providers"
MANAGER = f"{GROUP}/Microsoft.ContainerService/aiManagers/quickstart"
ACCOUNT = f"{GROUP}/Microsoft.CognitiveServices/accounts/quickstart-foundry"

#: The quickstart's resources and where they live.
IDS = {
    "ModelSource/hf-public": f"{MANAGER}/modelSources/hf-public",
    "CustomModel/tiny-llama": "/custom-models/tiny-llama",
    "ModelDeployment/phi4-chat": f"{MANAGER}/namespaces/default/modelDeployments/phi4-chat",
    "FoundryDeployment/gpt4o-chat": f"{ACCOUNT}/deployments/gpt4o-chat",
}

CS_VERSION = "2026-08-02-preview"
COG_VERSION = "2025-09-01"


def copy_quickstart(folder: Path) -> Path:
    shutil.copytree(QUICKSTART, folder, ignore=shutil.ignore_patterns(".aimodels"))
    return folder


def run(capsys: pytest.CaptureFixture[str], url: str, stack: Path,
        *args: str) -> tuple[int, str, str]:
    """``aimodels --endpoint URL <args> -f STACK`` in-process, exit handling included."""
    argv = ["--endpoint", url, *args, "-f", str(stack)]
    with pytest.raises(SystemExit) as exited:
        main(argv)
    out, err = capsys.readouterr()
    return int(exited.value.code or 0), out, err


def state_file(stack: Path) -> Path:
    return stack / ".aimodels" / "state.json"


def state_entries(stack: Path) -> dict[str, dict[str, Any]]:
    path = state_file(stack)
    if not path.exists():
        return {}
    return {r["address"]: r for r in json.loads(path.read_text())["resources"]}


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new))


def put(session: httpx.Client, resource_id: str, body: Any, version: str = CS_VERSION
        ) -> httpx.Response:
    """A PUT made outside aimodels."""
    response = session.put(resource_id, params={"api-version": version}, json=body)
    assert response.status_code < 300, response.text
    return response
