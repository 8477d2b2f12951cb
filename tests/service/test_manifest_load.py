"""The manifests load beside the command (``service/manifest_load.py``): in a forked child
when the process runs one thread, else in a thread. Either way the command gets what
``load_manifests`` gives here: the same result, the same errors, and the same secrets known
to the output's scrubber.

The fork only happens in a process with a single thread, which pytest's process is not
guaranteed to be; ``load_probe.py`` runs each case in a fresh interpreter.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from aimodels.errors import ManifestError
from aimodels.manifest.load import load_manifests

PROBE = Path(__file__).with_name("load_probe.py")
CANARY = "hf_canary-7f3a9c1e5b2d4a68"

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
SOURCE = """\
apiVersion: aimodels/v1
kind: ModelSource
metadata: {name: hf-private}
spec:
  sourceType: HuggingFace
  credential: {fromEnv: HF_TOKEN}
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
    for name, text in (("stack.yaml", STACK), ("source.yaml", SOURCE), ("chat.yaml", FOUNDRY)):
        (tmp_path / name).write_text(text)
    return tmp_path


def probe(mode: str, folder: Path, **env: str) -> dict[str, Any]:
    import os

    ran = subprocess.run([sys.executable, str(PROBE), mode, str(folder)], capture_output=True,
                         text=True, env={**os.environ, **env}, timeout=120, check=False)
    assert ran.returncode == 0, ran.stdout + ran.stderr
    report: dict[str, Any] = json.loads(ran.stdout)
    return report


@pytest.mark.parametrize("mode", ["plain", "child-dies"])
def test_a_child_gives_what_the_loader_gives_here(mode: str, folder: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_TOKEN", CANARY)
    here = load_manifests([str(folder)], env={"HF_TOKEN": CANARY}, strict_env=True)
    report = probe(mode, folder, HF_TOKEN=CANARY)
    assert report["in_child"] is True
    assert report["addresses"] == sorted(str(a) for a in here.desired.resources)
    assert report["warnings"] == [w.summary for w in here.warnings]
    if mode == "plain":
        assert report["stack"] == "probe"  # handed over before the result


def test_the_secrets_the_child_learned_are_scrubbed_in_the_parent(
        folder: Path) -> None:
    # The credential's value is read from the environment by the child's checks: the parent,
    # which prints everything, must know it too (else a service quoting it back would leak it).
    report = probe("plain", folder, HF_TOKEN=CANARY)
    assert report["in_child"] is True
    assert CANARY in report["secrets"]
    assert report["scrubbed"] == "REDACTED"


@pytest.mark.parametrize("mode", ["plain", "child-dies"])
def test_invalid_manifests_raise_the_loaders_own_errors(mode: str, folder: Path) -> None:
    (folder / "chat.yaml").write_text(FOUNDRY.replace("capacity: 1", "capacity: many"))
    with pytest.raises(ManifestError) as here:
        load_manifests([str(folder)], env={"HF_TOKEN": CANARY}, strict_env=True)
    report = probe(mode, folder, HF_TOKEN=CANARY)
    assert report["error"] == [str(here.value), *(f"{d.source}: {d.summary}: {d.detail}"
                                                  for d in here.value.diagnostics)]
    assert "capacity" in " ".join(report["error"]).lower()
