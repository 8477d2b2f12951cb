"""A deployment whose provisioning failed in Azure is planned as a fresh PUT (an UPDATE with
``update_because_provisioning_failed``), even with an unchanged manifest; once the cause is
fixed, apply converges. The failure is the emulator's ModelAccessDenied: a gated catalog model
pulled through a model source whose token has no access to it (an ``hf_noaccess`` token,
docs/emulator.md), which pre-flight cannot see (a source without any credential it does)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from aimodels.cli.main import main
from aimodels.emulator.server import RunningEmulator

STACK = """\
apiVersion: aimodels/v1
kind: Stack
metadata: {name: gated}
spec:
  target: local
  subscriptionId: 00000000-0000-0000-0000-000000000000
  resourceGroup: rg-quickstart
  location: eastus
  aiManager: quickstart
  foundryAccount: quickstart-foundry
"""

SOURCE = """\
apiVersion: aimodels/v1
kind: ModelSource
metadata: {name: hf-gated}
spec:
  sourceType: HuggingFace
  credential: {fromEnv: HF_TOKEN}
"""

DEPLOYMENT = """\
apiVersion: aimodels/v1
kind: ModelDeployment
metadata: {name: llama}
spec:
  namespace: default
  model: {catalog: meta-llama/Llama-3.1-8B-Instruct}
  modelSource: hf-gated
  vmSize: Standard_NC24ads_A100_v4
  scale: {replicas: 1}
"""


@pytest.fixture
def stack(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("HF_TOKEN", "hf_noaccess_the_account_never_accepted_the_license")
    folder = tmp_path / "gated"
    folder.mkdir()
    (folder / "stack.yaml").write_text(STACK)
    (folder / "source.yaml").write_text(SOURCE)
    (folder / "deployment.yaml").write_text(DEPLOYMENT)
    return folder


def run(capsys: pytest.CaptureFixture[str], emulator: RunningEmulator, stack: Path,
        *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exited:
        main(["--endpoint", emulator.url, *args, "-f", str(stack)])
    out, err = capsys.readouterr()
    return int(exited.value.code or 0), out, err


def planned(capsys: pytest.CaptureFixture[str], emulator: RunningEmulator,
            stack: Path) -> dict[str, dict[str, object]]:
    code, out, err = run(capsys, emulator, stack, "plan", "--format", "json")
    assert code == 0, err
    return {c["address"]: c for c in json.loads(out)["changes"]}


def test_failed_provisioning_is_planned_again_and_converges_once_fixed(
        capsys: pytest.CaptureFixture[str], emulator: RunningEmulator, stack: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    code, out, err = run(capsys, emulator, stack, "apply", "--yes")
    assert code == 7, out + err
    assert "ModelAccessDenied" in out + err

    changes = planned(capsys, emulator, stack)
    assert changes["ModelSource/hf-gated"]["action"] == "no-op"
    redo = changes["ModelDeployment/llama"]
    assert (redo["action"], redo["reasons"], redo["fieldChanges"]) == \
        ("update", ["update_because_provisioning_failed"], [])
    code, out, _ = run(capsys, emulator, stack, "plan")
    assert "provisioning failed in Azure" in out and "1 to update" in out

    monkeypatch.setenv("HF_TOKEN", "hf_token_for_the_gated_org")
    code, out, err = run(capsys, emulator, stack, "apply", "--yes")
    assert code == 0, out + err
    assert "Apply complete: 2 done." in out

    code, out, err = run(capsys, emulator, stack, "plan", "--detailed-exitcode")
    assert code == 0, out + err
    code, out, _ = run(capsys, emulator, stack, "state", "show", "ModelDeployment/llama",
                       "--output", "json")
    assert code == 0 and "provisioningFailed" not in out


def test_an_unchanged_failed_deployment_is_sent_again_and_fails_again(
        capsys: pytest.CaptureFixture[str], emulator: RunningEmulator, stack: Path) -> None:
    assert run(capsys, emulator, stack, "apply", "--yes")[0] == 7
    code, out, err = run(capsys, emulator, stack, "apply", "--yes")
    assert code == 7, out + err
    assert "ModelDeployment/llama: updating" in out
    assert "Apply incomplete: 0 done, 1 failed, 0 skipped." in err
