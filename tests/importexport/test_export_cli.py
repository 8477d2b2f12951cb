"""`aimodels export` through the real entry point against an emulator over HTTP: every kind,
secrets, files, the Stack's scope, and the round trip export → validate → import → plan."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from importexport_support import (
    COG_VERSION,
    GROUP,
    IDS,
    MANAGER,
    QUICKSTART,
    SUBSCRIPTION,
    edit,
    put,
    run,
)

from aimodels.emulator.server import RunningEmulator
from aimodels.model.arm import catalog_model_name
from aimodels.providers.custommodel import weights_path

SECRET = "hf_exportCanary5Tg2Wq8Zr4"
EXPORTED_FILES = ["custommodel-tiny-llama.yaml", "foundrydeployment-gpt4o-chat.yaml",
                  "modeldeployment-phi4-chat.yaml", "modelsource-hf-public.yaml"]


def documents(text: str) -> dict[str, tuple[dict[str, Any], str]]:
    """The exported stream by address: (the parsed document, its text)."""
    found = {}
    for part in text.split("---\n"):
        doc = yaml.safe_load(part)
        found[f"{doc['kind']}/{doc['metadata']['name']}"] = (doc, part)
    return found


def quickstart_spec(file_name: str) -> dict[str, Any]:
    spec: dict[str, Any] = yaml.safe_load((QUICKSTART / file_name).read_text())["spec"]
    return spec


def test_export_writes_every_kind_as_the_quickstart_declares_it(
        capsys: pytest.CaptureFixture[str], emulator: RunningEmulator, stack: Path,
        applied: dict[str, dict[str, Any]]) -> None:
    code, out, err = run(capsys, emulator.url, stack, "export")

    assert code == 0, err
    exported = documents(out)
    assert sorted(exported) == sorted(IDS)
    assert out.count("---\n") == 3
    assert "Exported 4 resources." in err
    for name in ("model-source.yaml", "model-deployment.yaml", "foundry-deployment.yaml"):
        doc = yaml.safe_load((QUICKSTART / name).read_text())
        assert exported[f"{doc['kind']}/{doc['metadata']['name']}"][0]["spec"] == doc["spec"]
    custom = quickstart_spec("custom-model.yaml")
    del custom["deletePolicy"]  # ours only: Azure does not know it, the default is Delete
    assert exported["CustomModel/tiny-llama"][0]["spec"] == custom
    for address, (doc, text) in exported.items():
        first, second, *_ = text.splitlines()
        assert first.startswith("# yaml-language-server: $schema=")
        assert (Path.cwd() / first.split("=", 1)[1]).is_file()
        assert second == f"# Exported by `aimodels export` from {IDS[address]}"
        assert doc["apiVersion"] == "aimodels/v1"
        assert "managed by this state" not in text
    assert "weights are not downloaded" in exported["CustomModel/tiny-llama"][1]


def test_export_marks_what_the_state_manages(
        capsys: pytest.CaptureFixture[str], emulator: RunningEmulator, stack: Path,
        applied: dict[str, dict[str, Any]]) -> None:
    source = "ModelSource/hf-public"
    assert run(capsys, emulator.url, stack, "import", source, IDS[source], "--yes")[0] == 0

    code, out, err = run(capsys, emulator.url, stack, "export")

    assert code == 0, err
    marked = {address for address, (_, text) in documents(out).items()
              if "\n# managed by this state\n" in text}
    assert marked == {source}


def test_export_never_writes_a_secret(
        capsys: pytest.CaptureFixture[str], emulator: RunningEmulator, stack: Path,
        outside: httpx.Client) -> None:
    put(outside, f"{MANAGER}/modelSources/hf-private", {"properties": {
        "sourceType": "HuggingFace",
        "credential": {"inline": {"type": "Inline", "value": SECRET}}}})
    vault = "https://kv-team.vault.azure.net/secrets/hf-token"
    put(outside, f"{MANAGER}/modelSources/hf-vault", {"properties": {
        "sourceType": "HuggingFace",
        "credential": {"keyVault": {"type": "KeyVault", "secretUri": vault}}}})

    code, out, err = run(capsys, emulator.url, stack, "export", "--kind", "ModelSource")

    assert code == 0, err
    exported = documents(out)
    assert sorted(exported) == ["ModelSource/hf-private", "ModelSource/hf-vault"]
    private, text = exported["ModelSource/hf-private"]
    assert private["spec"] == {"sourceType": "HuggingFace",
                               "credential": {"fromEnv": "CHANGE_ME_HF_PRIVATE_TOKEN"}}
    assert "  # Azure never returns the secret, so it is not exported." in text
    assert exported["ModelSource/hf-vault"][0]["spec"]["credential"] == \
        {"keyVaultSecretUri": vault}
    assert SECRET not in out + err


def test_export_to_a_folder_writes_one_file_each_and_overwrites_only_with_force(
        capsys: pytest.CaptureFixture[str], emulator: RunningEmulator, stack: Path,
        applied: dict[str, dict[str, Any]], tmp_path: Path) -> None:
    folder = tmp_path / "exported"

    code, out, err = run(capsys, emulator.url, stack, "export", "--out-dir", str(folder))

    assert code == 0, err
    assert out == ""
    assert sorted(p.name for p in folder.iterdir()) == EXPORTED_FILES
    first = (folder / EXPORTED_FILES[2]).read_text().splitlines()[0]
    assert (folder / first.split("=", 1)[1]).resolve().is_file()
    kept = folder / EXPORTED_FILES[0]
    kept.write_text("# edited by hand\n")

    code, _, err = run(capsys, emulator.url, stack, "export", "--out-dir", str(folder))

    assert code == 1
    assert "Not overwriting 4 existing files" in err and "--force" in err
    assert kept.read_text() == "# edited by hand\n"
    code, _, err = run(capsys, emulator.url, stack, "export", "--out-dir", str(folder), "--force")
    assert code == 0, err
    assert kept.read_text().startswith("# yaml-language-server:")


def test_export_to_a_folder_that_cannot_be_made_is_a_clear_error(
        capsys: pytest.CaptureFixture[str], emulator: RunningEmulator, stack: Path,
        applied: dict[str, dict[str, Any]], tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("x")

    code, _, err = run(capsys, emulator.url, stack, "export", "--out-dir",
                       str(tmp_path / "a-file" / "exported"))

    assert code == 1, err
    assert f"error: Cannot write {tmp_path}/a-file/exported/" in err and "--out-dir" in err
    assert "internal error" not in err


def test_export_covers_the_parents_the_manifests_name_and_keeps_non_default_ones(
        capsys: pytest.CaptureFixture[str], emulator: RunningEmulator, stack: Path,
        outside: httpx.Client) -> None:
    other = f"{GROUP}/Microsoft.CognitiveServices/accounts/alpha-foundry-we/deployments/gpt-we"
    put(outside, other, {"sku": {"name": "GlobalStandard", "capacity": 1}, "properties": {
        "model": {"format": "OpenAI", "name": "gpt-4o", "version": "2024-11-20"}}}, COG_VERSION)
    code, out, _ = run(capsys, emulator.url, stack, "export", "--kind", "FoundryDeployment")
    assert (code, out) == (0, "")  # alpha-foundry-we is named by nothing yet
    (stack / "we.yaml").write_text(
        "apiVersion: aimodels/v1\nkind: FoundryDeployment\nmetadata: {name: gpt-we}\n"
        "spec:\n  account: alpha-foundry-we\n  model: {format: OpenAI, name: gpt-4o, "
        "version: '2024-11-20'}\n  sku: {name: GlobalStandard, capacity: 1}\n")

    code, out, err = run(capsys, emulator.url, stack, "export", "--kind", "FoundryDeployment")

    assert code == 0, err
    spec = documents(out)["FoundryDeployment/gpt-we"][0]["spec"]
    assert spec["account"] == "alpha-foundry-we"


def test_two_resources_with_one_address_are_reported_and_one_is_exported(
        capsys: pytest.CaptureFixture[str], emulator: RunningEmulator, stack: Path,
        applied: dict[str, dict[str, Any]], outside: httpx.Client) -> None:
    model = (f"/subscriptions/{SUBSCRIPTION}/providers/Microsoft.ContainerService/locations"
             f"/eastus/aiModels/{catalog_model_name('microsoft/Phi-4-mini-instruct')}")
    prod = IDS["ModelDeployment/phi4-chat"].replace("/default/", "/prod/")
    put(outside, prod, {"properties": {"modelResourceId": model,
                                       "vmSize": "Standard_NC24ads_A100_v4",
                                       "scale": {"manual": {"replicas": 1}}}})

    code, out, err = run(capsys, emulator.url, stack, "export", "--kind", "ModelDeployment")

    assert code == 0, err
    assert documents(out)["ModelDeployment/phi4-chat"][0]["spec"]["namespace"] == "default"
    assert "ModelDeployment/phi4-chat exists twice in scope; exported " \
        f"{IDS['ModelDeployment/phi4-chat']} only" in err
    assert f"Also at {prod}" in err


def test_round_trip_export_validate_import_then_plan_is_empty(
        capsys: pytest.CaptureFixture[str], emulator: RunningEmulator, stack: Path,
        applied: dict[str, dict[str, Any]], tmp_path: Path) -> None:
    fresh = tmp_path / "adopted"
    fresh.mkdir()
    shutil.copy(stack / "stack.yaml", fresh / "stack.yaml")
    manifests = fresh / "manifests"
    assert run(capsys, emulator.url, fresh, "export", "--out-dir", str(manifests))[0] == 0

    code, _, err = run(capsys, emulator.url, fresh, "validate")
    assert code == 3  # the weights were not downloaded: validate says where they go
    assert "weights not found: './weights/tiny-llama.safetensors'" in err
    (manifests / "weights").mkdir()
    shutil.copy(stack / "weights" / "tiny-llama.safetensors", manifests / "weights")
    code, out, err = run(capsys, emulator.url, fresh, "validate")
    assert code == 0, err
    assert "4 resources in 5 files are valid" in out

    for address, resource_id in IDS.items():
        code, out, err = run(capsys, emulator.url, fresh, "import", address, resource_id, "--yes")
        assert code == 0, err
        assert "The manifest matches the live resource" in out
    code, out, err = run(capsys, emulator.url, fresh, "plan", "--detailed-exitcode")
    assert code == 0, out + err


def test_round_trip_of_a_source_with_a_secret_asks_for_the_variable(
        capsys: pytest.CaptureFixture[str], emulator: RunningEmulator, stack: Path,
        outside: httpx.Client, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    put(outside, f"{MANAGER}/modelSources/hf-private", {"properties": {
        "sourceType": "HuggingFace",
        "credential": {"inline": {"type": "Inline", "value": SECRET}}}})
    fresh = tmp_path / "adopted"
    fresh.mkdir()
    shutil.copy(stack / "stack.yaml", fresh / "stack.yaml")
    assert run(capsys, emulator.url, fresh, "export", "--out-dir", str(fresh))[0] == 0

    code, out, err = run(capsys, emulator.url, fresh, "validate")
    assert code == 0, err
    assert "environment variable CHANGE_ME_HF_PRIVATE_TOKEN is not set" in err
    monkeypatch.setenv("CHANGE_ME_HF_PRIVATE_TOKEN", "hf_replacementToken8Kd3")
    code, out, err = run(capsys, emulator.url, fresh, "import", "ModelSource/hf-private",
                         f"{MANAGER}/modelSources/hf-private", "--yes")
    assert code == 0, err
    code, out, _ = run(capsys, emulator.url, fresh, "plan", "--detailed-exitcode")
    assert code == 2
    assert "~ spec.credential.secret: (sensitive value changed)" in out
    assert SECRET not in out


@pytest.mark.parametrize(("body", "path"), [
    pytest.param({"name": "m", "file_count": 1, "path": "uploads/m/abc/model.gguf"},
                 "./weights/model.gguf", id="one-file"),
    pytest.param({"name": "m", "file_count": 3, "path": "uploads/m/abc/"}, "./weights/m",
                 id="folder"),
    pytest.param({"name": "m"}, "./weights/m", id="registry-without-path"),
])
def test_weights_path_follows_how_the_model_was_uploaded(body: dict[str, Any],
                                                         path: str) -> None:
    assert weights_path(body) == path


def test_export_with_nothing_live_writes_nothing(
        capsys: pytest.CaptureFixture[str], emulator: RunningEmulator, stack: Path) -> None:
    code, out, err = run(capsys, emulator.url, stack, "export")

    assert (code, out) == (0, "")
    assert "Exported 0 resources." in err
    edit(stack / "stack.yaml", "aiManager: quickstart", "aiManager: nowhere")
    code, _, err = run(capsys, emulator.url, stack, "export", "--kind", "ModelSource")
    assert code == 0
    assert "AI manager nowhere not found in resource group rg-quickstart" in err
