"""`aimodels import` through the real entry point, on a copy of examples/quickstart, against an
emulator over HTTP: adoption of each kind, the diff it shows, and every refusal."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import httpx
import pytest
from importexport_support import IDS, edit, put, run, state_entries, state_file

from aimodels.apply.recovery import intent_details
from aimodels.emulator.server import RunningEmulator
from aimodels.state.journal import Journal
from aimodels.state.lock import acquire_lock
from aimodels.state.values import ResourceState

SOURCE, DEPLOYMENT = "ModelSource/hf-public", "ModelDeployment/phi4-chat"
FOUNDRY, CUSTOM = "FoundryDeployment/gpt4o-chat", "CustomModel/tiny-llama"
LIVE_SECRET = "hf_liveCanary7Qm2Xr9Tz4Kp"
MANIFEST_SECRET = "hf_manifestCanary3Vb8Ln5Jw1"


def test_import_of_every_kind_records_what_apply_recorded_and_plan_is_empty(
        capsys: pytest.CaptureFixture[str], emulator: RunningEmulator, stack: Path,
        applied: dict[str, dict[str, Any]]) -> None:
    for address, resource_id in IDS.items():
        code, out, err = run(capsys, emulator.url, stack, "import", address, resource_id, "--yes")

        assert code == 0, err
        assert f"Import {address} from {resource_id}" in out
        assert "The manifest matches the live resource" in out
        assert f"Imported {address} into the state" in out

    imported = state_entries(stack)
    assert sorted(imported) == sorted(applied)
    for address, entry in applied.items():
        assert {k: imported[address][k] for k in ("resourceId", "etag", "desired")} == \
            {k: entry[k] for k in ("resourceId", "etag", "desired")}, address
    code, out, err = run(capsys, emulator.url, stack, "plan", "--detailed-exitcode")
    assert code == 0, out + err
    assert "No changes." in out


def test_resource_ids_compare_case_insensitively(
        capsys: pytest.CaptureFixture[str], emulator: RunningEmulator, stack: Path,
        applied: dict[str, dict[str, Any]]) -> None:
    code, _, err = run(capsys, emulator.url, stack, "import", FOUNDRY, IDS[FOUNDRY].upper(),
                       "--yes")

    assert code == 0, err
    assert state_entries(stack)[FOUNDRY]["resourceId"] == IDS[FOUNDRY]


def test_import_shows_the_differing_fields_and_the_next_plan_shows_the_same(
        capsys: pytest.CaptureFixture[str], emulator: RunningEmulator, stack: Path,
        applied: dict[str, dict[str, Any]]) -> None:
    edit(stack / "model-deployment.yaml", "replicas: 1 ", "replicas: 2 ")
    edit(stack / "foundry-deployment.yaml", "capacity: 10 ", "capacity: 20 ")

    code, out, err = run(capsys, emulator.url, stack, "import", DEPLOYMENT, IDS[DEPLOYMENT],
                         "--yes")

    assert code == 0, err
    assert "~ ModelDeployment/phi4-chat {" in out
    assert "~ spec.scale.replicas: 1 -> 2" in out
    assert "Plan: 0 to create, 1 to update, 0 to replace, 0 to destroy." in out
    for address in (SOURCE, CUSTOM, FOUNDRY):
        assert run(capsys, emulator.url, stack, "import", address, IDS[address], "--yes")[0] == 0
    code, out, _ = run(capsys, emulator.url, stack, "plan", "--detailed-exitcode")
    assert code == 2
    changed = [line.strip() for line in out.splitlines() if line.strip().startswith("~ spec.")]
    assert changed == ["~ spec.sku.capacity: 10 -> 20", "~ spec.scale.replicas: 1 -> 2"]
    assert "Plan: 0 to create, 2 to update, 0 to replace, 0 to destroy." in out


def test_an_immutable_difference_shows_a_replacement_and_the_guard_is_recorded(
        capsys: pytest.CaptureFixture[str], emulator: RunningEmulator, stack: Path,
        applied: dict[str, dict[str, Any]]) -> None:
    manifest = stack / "model-deployment.yaml"
    edit(manifest, "vmSize: Standard_NC24ads_A100_v4", "vmSize: Standard_NC48ads_A100_v4")
    manifest.write_text(manifest.read_text() + "  lifecycle:\n    preventDestroy: true\n")

    code, out, err = run(capsys, emulator.url, stack, "import", DEPLOYMENT, IDS[DEPLOYMENT],
                         "--yes")

    assert code == 0, err
    assert '~ spec.vmSize: "Standard_NC24ads_A100_v4" -> "Standard_NC48ads_A100_v4" ' \
        "# forces replacement" in out
    assert "has lifecycle.preventDestroy, and this plan would replace it" in out
    entry = state_entries(stack)[DEPLOYMENT]
    assert entry["preventDestroy"] is True
    assert entry["desired"]["vmSize"] == "Standard_NC24ads_A100_v4"


def test_an_address_not_in_the_manifests_is_refused_with_a_hint_to_export(
        capsys: pytest.CaptureFixture[str], emulator: RunningEmulator, stack: Path,
        applied: dict[str, dict[str, Any]]) -> None:
    code, out, err = run(capsys, emulator.url, stack, "import", "ModelSource/other",
                         IDS[SOURCE].replace("hf-public", "other"), "--yes")

    assert code == 64
    assert "ModelSource/other is not declared in the manifests" in err
    assert "The ModelSources declared are: hf-public." in err
    assert "aimodels export --kind ModelSource" in err
    assert out == ""
    assert not state_file(stack).exists()


@pytest.mark.parametrize(("args", "code"), [
    pytest.param(("Deployment/x", "/x"), 64, id="unknown-kind"),
    pytest.param(("phi4-chat", "/x"), 64, id="no-kind"),
])
def test_a_malformed_address_is_a_usage_error(
        capsys: pytest.CaptureFixture[str], emulator: RunningEmulator, stack: Path,
        args: tuple[str, str], code: int) -> None:
    exit_code, _, err = run(capsys, emulator.url, stack, "import", *args, "--yes")

    assert exit_code == code
    assert err.startswith("error: ADDR:")


def test_a_resource_of_another_kind_is_refused(
        capsys: pytest.CaptureFixture[str], emulator: RunningEmulator, stack: Path,
        applied: dict[str, dict[str, Any]]) -> None:
    code, _, err = run(capsys, emulator.url, stack, "import", DEPLOYMENT, IDS[FOUNDRY], "--yes")

    assert code == 64
    assert (f"RESOURCE_ID {IDS[FOUNDRY]} is a Microsoft.CognitiveServices/accounts/deployments "
            "resource, not a ModelDeployment") in err
    assert f"`aimodels import FoundryDeployment/gpt4o-chat {IDS[FOUNDRY]}`" in err
    assert not state_file(stack).exists()


@pytest.mark.parametrize(("address", "elsewhere", "difference"), [
    pytest.param(DEPLOYMENT, IDS[DEPLOYMENT].replace("/default/", "/prod/"),
                 "namespace (spec.namespace): the manifest says 'default', RESOURCE_ID says "
                 "'prod'", id="namespace"),
    pytest.param(FOUNDRY, IDS[FOUNDRY].replace("quickstart-foundry", "alpha-foundry-we"),
                 "Foundry account (spec.account, default the Stack's foundryAccount): the "
                 "manifest says 'quickstart-foundry', RESOURCE_ID says 'alpha-foundry-we'",
                 id="account"),
    pytest.param(SOURCE, IDS[SOURCE].replace("rg-quickstart", "rg-other"),
                 "resource group (the Stack's resourceGroup): the manifest says "
                 "'rg-quickstart', RESOURCE_ID says 'rg-other'", id="resource-group"),
    pytest.param(CUSTOM, "/custom-models/other",
                 "name (metadata.name): the manifest says 'tiny-llama', RESOURCE_ID says "
                 "'other'", id="name"),
])
def test_a_resource_at_another_place_is_refused_naming_what_differs(
        capsys: pytest.CaptureFixture[str], emulator: RunningEmulator, stack: Path,
        address: str, elsewhere: str, difference: str) -> None:
    code, _, err = run(capsys, emulator.url, stack, "import", address, elsewhere, "--yes")

    assert code == 64
    assert f"RESOURCE_ID is not where the manifest of {address}" in err
    assert difference in err
    assert f"the manifest's resource id: {IDS[address]}" in err


def test_a_resource_that_does_not_exist_exits_5(
        capsys: pytest.CaptureFixture[str], emulator: RunningEmulator, stack: Path) -> None:
    for address in (SOURCE, CUSTOM):
        code, out, err = run(capsys, emulator.url, stack, "import", address, IDS[address],
                             "--yes")

        assert code == 5
        assert f"error: {IDS[address]} does not exist, so there is nothing to import as " \
            f"{address}" in err
        assert "`aimodels apply` creates it" in err
        assert out == ""
    assert not state_file(stack).exists()


def test_a_custom_model_version_the_registry_lacks_exits_5_naming_the_newest(
        capsys: pytest.CaptureFixture[str], emulator: RunningEmulator, stack: Path,
        applied: dict[str, dict[str, Any]]) -> None:
    edit(stack / "custom-model.yaml", 'version: "1.0"', 'version: "2.0"')

    code, _, err = run(capsys, emulator.url, stack, "import", CUSTOM, IDS[CUSTOM], "--yes")

    assert code == 5
    assert "/custom-models/tiny-llama has no version '2.0' in the registry (the newest is " \
        "'1.0')" in err
    assert not state_file(stack).exists()


def test_what_the_state_already_manages_is_refused(
        capsys: pytest.CaptureFixture[str], emulator: RunningEmulator, stack: Path,
        applied: dict[str, dict[str, Any]]) -> None:
    assert run(capsys, emulator.url, stack, "import", SOURCE, IDS[SOURCE], "--yes")[0] == 0
    before = state_file(stack).read_text()

    code, out, err = run(capsys, emulator.url, stack, "import", SOURCE, IDS[SOURCE], "--yes")

    assert code == 6
    assert f"error: {SOURCE} is already managed by this state ({IDS[SOURCE]})" in err
    assert f"`aimodels state rm {SOURCE}`" in err
    assert out == ""
    assert state_file(stack).read_text() == before


def test_a_locked_state_is_refused_naming_the_holder(
        capsys: pytest.CaptureFixture[str], emulator: RunningEmulator, stack: Path,
        applied: dict[str, dict[str, Any]]) -> None:
    with acquire_lock(stack / ".aimodels", "aimodels apply") as held:
        code, out, err = run(capsys, emulator.url, stack, "import", SOURCE, IDS[SOURCE], "--yes")

        assert code == 6
        assert "State is locked by" in err and f"pid {held.info.pid}" in err
        assert out == ""
    assert not state_file(stack).exists()


def test_import_without_a_terminal_needs_yes_and_changes_nothing(
        capsys: pytest.CaptureFixture[str], emulator: RunningEmulator, stack: Path,
        applied: dict[str, dict[str, Any]]) -> None:
    code, out, err = run(capsys, emulator.url, stack, "import", SOURCE, IDS[SOURCE])

    assert code == 64
    assert f"Import {SOURCE} from {IDS[SOURCE]}" in out
    assert "--yes" in err
    assert not state_file(stack).exists()
    assert not (stack / ".aimodels" / "state.lock").exists()


def test_an_inline_secret_is_never_recorded_and_the_next_apply_sends_the_manifests(
        capsys: pytest.CaptureFixture[str], emulator: RunningEmulator, stack: Path,
        outside: httpx.Client, monkeypatch: pytest.MonkeyPatch) -> None:
    put(outside, IDS[SOURCE], {"properties": {
        "sourceType": "HuggingFace", "description": "Public Hugging Face models",
        "credential": {"inline": {"type": "Inline", "value": LIVE_SECRET}}}})
    edit(stack / "model-source.yaml", "  description: Public Hugging Face models",
         "  description: Public Hugging Face models\n  credential: {fromEnv: HF_TOKEN}")
    monkeypatch.setenv("HF_TOKEN", MANIFEST_SECRET)

    code, out, err = run(capsys, emulator.url, stack, "import", SOURCE, IDS[SOURCE], "--yes")

    assert code == 0, err
    assert "~ spec.credential.secret: (sensitive value changed)" in out
    assert "note: ModelSource/hf-public: Azure never returns spec.credential.secret" in out
    entry = state_entries(stack)[SOURCE]
    assert entry["desired"]["credential"] == {"secret": "(sensitive value)"}
    assert "secretDigests" not in entry["extra"]
    code, plan_out, plan_err = run(capsys, emulator.url, stack, "plan", "--detailed-exitcode")
    assert code == 2
    assert "~ spec.credential.secret: (sensitive value changed)" in plan_out
    code, apply_out, apply_err = run(capsys, emulator.url, stack, "apply", "--yes")
    assert code == 0, apply_err
    assert _live_secret_digest(emulator) == hashlib.sha256(MANIFEST_SECRET.encode()).hexdigest()
    assert run(capsys, emulator.url, stack, "plan", "--detailed-exitcode")[0] == 0
    written = [out, err, plan_out, plan_err, apply_out, apply_err,
               *(p.read_text() for p in (stack / ".aimodels").rglob("*") if p.is_file()
                 and p.suffix in (".json", ".jsonl"))]
    for secret in (LIVE_SECRET, MANIFEST_SECRET):
        assert not any(secret in text for text in written)


def _live_secret_digest(emulator: RunningEmulator) -> str:
    """What the emulator keeps of the inline credential it was sent (its sha256)."""
    docs = emulator.emulator.store.list("cs.modelSources")
    return next(d["_credentialSha256"] for d in docs if d["name"] == "hf-public")


def test_import_first_settles_what_an_interrupted_apply_left_in_the_journal(
        capsys: pytest.CaptureFixture[str], emulator: RunningEmulator, stack: Path,
        applied: dict[str, dict[str, Any]]) -> None:
    # An apply killed after sending the create of the source and before writing the state.
    entry = ResourceState.from_dict(applied[SOURCE])
    Journal(stack / ".aimodels").record_intent(
        SOURCE, "create", intent_details(emulator.url + IDS[SOURCE], "arm", entry))

    code, out, err = run(capsys, emulator.url, stack, "import", FOUNDRY, IDS[FOUNDRY], "--yes")

    assert code == 0, err
    assert f"note: {SOURCE}: created by an interrupted run; now in the state" in out
    assert sorted(state_entries(stack)) == [FOUNDRY, SOURCE]
    assert not Journal(stack / ".aimodels").pending()
    code, _, err = run(capsys, emulator.url, stack, "import", SOURCE, IDS[SOURCE], "--yes")
    assert code == 6
    assert "already managed" in err
