"""`aimodels plan` end to end, per kind: create, apply, nothing to do, an edit planned as an update,
an immutable edit planned as a replacement naming the field, each applied and planned empty again;
`--target`, `--replace`, `--out` (schema-valid JSON) and the exit codes a CI job reads."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from e2e_support import PLAN_SCHEMA, PROVIDERS, QUICKSTART_ADDRESSES, Cli, edit, state_of
from jsonschema import Draft202012Validator

FOUNDRY_PROJECT = f"{PROVIDERS}/Microsoft.CognitiveServices/accounts/quickstart-foundry/projects/p"
MICROSOFT_FOUNDRY_SOURCE = f"""\
apiVersion: aimodels/v1
kind: ModelSource
metadata:
  name: hf-public
spec:
  sourceType: MicrosoftFoundry
  description: Public Hugging Face models
  credential:
    managedIdentityResourceId: {PROVIDERS}/Microsoft.ManagedIdentity/userAssignedIdentities/puller
  microsoftFoundry:
    projectResourceId: {FOUNDRY_PROJECT}
"""


def _regenerate_weights(stack: Path) -> None:
    """New bytes under the same version (make_weights.py with another seed)."""
    subprocess.run([sys.executable, str(stack / "make_weights.py"), "--seed", "7", "--out",
                    str(stack / "weights" / "tiny-llama.safetensors")], check=True,
                   capture_output=True)


@dataclass(frozen=True)
class Lifecycle:
    """One kind's resource in the quickstart, an in-place edit and an immutable edit."""

    address: str
    update: Callable[[Path], None]
    updated_line: str
    replace: Callable[[Path], None]
    replaced_line: str


LIFECYCLES = [
    pytest.param(Lifecycle(
        "ModelSource/hf-public",
        lambda s: edit(s / "model-source.yaml", "description: Public Hugging Face models",
                       "description: Public HF models"),
        '~ spec.description: "Public Hugging Face models" -> "Public HF models"',
        lambda s: (s / "model-source.yaml").write_text(MICROSOFT_FOUNDRY_SOURCE),
        '~ spec.sourceType: "HuggingFace" -> "MicrosoftFoundry" # forces replacement',
    ), id="ModelSource"),
    pytest.param(Lifecycle(
        "ModelDeployment/phi4-chat",
        lambda s: edit(s / "model-deployment.yaml", "replicas: 1 ", "replicas: 2 "),
        "~ spec.scale.replicas: 1 -> 2",
        lambda s: edit(s / "model-deployment.yaml", "Standard_NC24ads_A100_v4",
                       "Standard_NC48ads_A100_v4"),
        '~ spec.vmSize: "Standard_NC24ads_A100_v4" -> "Standard_NC48ads_A100_v4" '
        "# forces replacement",
    ), id="ModelDeployment"),
    pytest.param(Lifecycle(
        "FoundryDeployment/gpt4o-chat",
        lambda s: edit(s / "foundry-deployment.yaml", "capacity: 10 ", "capacity: 20 "),
        "~ spec.sku.capacity: 10 -> 20",
        lambda s: edit(s / "foundry-deployment.yaml", 'name: gpt-4o\n    version: "2024-11-20"',
                       'name: gpt-4o-mini\n    version: "2024-07-18"'),
        '~ spec.model.name: "gpt-4o" -> "gpt-4o-mini" # forces replacement',
    ), id="FoundryDeployment"),
    pytest.param(Lifecycle(
        "CustomModel/tiny-llama",
        lambda s: edit(s / "custom-model.yaml", "purpose: demo", "purpose: smoke-test"),
        '~ spec.tags.purpose: "demo" -> "smoke-test"',
        _regenerate_weights,
        "~ spec.weights.sha256: ",
    ), id="CustomModel"),
]


@pytest.mark.parametrize("case", LIFECYCLES)
def test_a_resource_is_planned_from_create_to_update_to_replace(cli: Cli, stack: Path,
                                                                case: Lifecycle) -> None:
    created = cli("plan", "--detailed-exitcode")
    assert created.code == 2, created.text
    assert f"  + {case.address} {{" in created.out
    assert "Plan: 4 to create, 0 to update, 0 to replace, 0 to destroy." in created.out
    cli.applied()
    cli.assert_no_changes()

    case.update(stack)
    updated = cli("plan", "--detailed-exitcode")
    assert updated.code == 2, updated.text
    assert f"  ~ {case.address} {{" in updated.out
    assert case.updated_line in updated.out
    assert "# forces replacement" not in updated.out
    assert "Plan: 0 to create, 1 to update, 0 to replace, 0 to destroy." in updated.out
    cli.applied()
    cli.assert_no_changes()

    case.replace(stack)
    replaced = cli("plan", "--detailed-exitcode")
    assert replaced.code == 2, replaced.text
    assert f"-/+ {case.address} {{" in replaced.out
    [line] = [line.strip() for line in replaced.out.splitlines() if case.replaced_line in line]
    assert line.endswith("# forces replacement")
    assert "Plan: 0 to create, 0 to update, 1 to replace, 0 to destroy." in replaced.out
    cli.applied()
    cli.assert_no_changes()
    assert [r["address"] for r in state_of(stack)["resources"]] == list(QUICKSTART_ADDRESSES)


def test_without_detailed_exitcode_a_plan_with_changes_exits_0(cli: Cli) -> None:
    planned = cli("plan")
    assert planned.code == 0, planned.text
    assert "Plan: 4 to create" in planned.out


def test_target_narrows_the_plan_and_warns_about_an_address_that_matches_nothing(
        cli: Cli, stack: Path) -> None:
    cli.applied()
    edit(stack / "model-deployment.yaml", "replicas: 1 ", "replicas: 2 ")
    edit(stack / "foundry-deployment.yaml", "capacity: 10 ", "capacity: 20 ")
    targeted = cli("plan", "--detailed-exitcode", "--target", "ModelDeployment/phi4-chat",
                   "--target", "ModelDeployment/nope")
    assert targeted.code == 2, targeted.text
    assert "~ ModelDeployment/phi4-chat {" in targeted.out
    assert "FoundryDeployment/gpt4o-chat" not in targeted.out
    assert "Plan: 0 to create, 1 to update, 0 to replace, 0 to destroy." in targeted.out
    assert "--target ModelDeployment/nope matches nothing planned" in targeted.text

    untouched = cli("plan", "--detailed-exitcode", "--target", "ModelSource/hf-public")
    assert untouched.code == 0, untouched.text

    malformed = cli("plan", "--target", "phi4-chat")
    assert malformed.code == 64, malformed.text
    assert "--target" in malformed.err


def test_replace_forces_a_replacement_that_a_saved_plan_then_carries_out(
        cli: Cli, stack: Path, tmp_path: Path) -> None:
    cli.applied()
    before = {r["address"]: r["etag"] for r in state_of(stack)["resources"]}
    saved = tmp_path / "replace.plan.json"
    planned = cli("plan", "--detailed-exitcode", "--replace", "FoundryDeployment/gpt4o-chat",
                  "--out", str(saved))
    assert planned.code == 2, planned.text
    assert "-/+ FoundryDeployment/gpt4o-chat {" in planned.out
    assert "replace" in planned.out.lower() and "requested" in planned.out
    assert "Plan: 0 to create, 0 to update, 1 to replace, 0 to destroy." in planned.out

    applied = cli("apply", str(saved))
    assert applied.code == 0, applied.text
    after = {r["address"]: r["etag"] for r in state_of(stack)["resources"]}
    assert after["FoundryDeployment/gpt4o-chat"] != before["FoundryDeployment/gpt4o-chat"]
    assert {a: e for a, e in after.items() if a != "FoundryDeployment/gpt4o-chat"} == {
        a: e for a, e in before.items() if a != "FoundryDeployment/gpt4o-chat"}
    cli.assert_no_changes()


def test_a_saved_plan_validates_against_the_published_schema(cli: Cli, stack: Path,
                                                             tmp_path: Path) -> None:
    validator = Draft202012Validator(json.loads(PLAN_SCHEMA.read_text()))
    first = tmp_path / "create.json"
    assert cli("plan", "--out", str(first)).code == 0
    cli.applied()
    edit(stack / "model-deployment.yaml", "Standard_NC24ads_A100_v4", "Standard_NC48ads_A100_v4")
    edit(stack / "foundry-deployment.yaml", "capacity: 10 ", "capacity: 20 ")
    second = tmp_path / "replace.json"
    assert cli("plan", "--out", str(second)).code == 0
    for saved in (first, second):
        document = json.loads(saved.read_text())
        errors = [e.message for e in validator.iter_errors(document)]
        assert errors == [], (saved.name, errors)
    actions = {c["address"]: c["action"] for c in json.loads(second.read_text())["changes"]}
    assert actions["ModelDeployment/phi4-chat"] == "replace"
    assert actions["FoundryDeployment/gpt4o-chat"] == "update"


def test_json_format_validates_and_says_what_the_text_says(cli: Cli, stack: Path) -> None:
    validator = Draft202012Validator(json.loads(PLAN_SCHEMA.read_text()))
    planned = cli("plan", "--format", "json")
    document = json.loads(planned.out)
    assert [e.message for e in validator.iter_errors(document)] == []
    assert document["summary"]["create"] == 4
    assert sorted(c["address"] for c in document["changes"]) == list(QUICKSTART_ADDRESSES)


def test_a_model_format_with_a_space_plans_and_applies(cli: Cli, stack: Path) -> None:
    # Azure's format for Mistral models is "Mistral AI": the manifest must take it.
    edit(stack / "foundry-deployment.yaml", "format: OpenAI\n    name: gpt-4o\n"
         '    version: "2024-11-20"',
         'format: Mistral AI\n    name: Mistral-Large-2411\n    version: "2"')
    edit(stack / "foundry-deployment.yaml", "capacity: 10 ", "capacity: 1 ")
    planned = cli("plan", "--detailed-exitcode", "--target", "FoundryDeployment/gpt4o-chat")
    assert planned.code == 2, planned.text
    assert '+ spec.model.format: "Mistral AI"' in planned.out
    cli.applied("--target", "FoundryDeployment/gpt4o-chat")


UNWANTED_ON_PLAN = ("azure.storage.blob", "requests", "azure.identity", "jsonschema", "pygments",
                    "deepdiff", "aimodels.emulator.app")


def test_plan_and_drift_do_not_import_what_only_apply_or_azure_needs() -> None:
    # Every plan pays for its imports: azure-storage-blob and requests (uploads) and
    # azure-identity (real Azure only) cost 0.1-0.3 s, a third of a 1,000-resource plan;
    # jsonschema (only to explain an invalid manifest or state: the compiled check passes
    # valid ones) 0.05-0.1 s; httpx's own command-line tool (pygments) 15-20 ms; deepdiff (only
    # when two specs differ) and the emulator (target: local only) more.
    probe = ("import sys; import aimodels.cli.main, aimodels.cli.change_cmds, "
             "aimodels.service.planning, aimodels.service.drifting, aimodels.render.plan, "
             "aimodels.render.drift; "
             f"print(sorted(m for m in {UNWANTED_ON_PLAN!r} if m in sys.modules))")
    loaded = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                            check=True)
    assert loaded.stdout.strip() == "[]"


@pytest.mark.parametrize("command", ["plan", "drift"])
def test_a_plan_or_drift_run_imports_none_of_it(command: str, cli: Cli, stack: Path) -> None:
    # The whole command, as run: the imports inside command functions count too.
    cli.applied()
    probe = ("import atexit, sys; atexit.register(lambda: print('imported:', sorted(m for m in "
             f"{UNWANTED_ON_PLAN!r} if m in sys.modules), file=sys.stderr)); "
             "from aimodels.cli.main import main; main()")
    ran = subprocess.run([sys.executable, "-c", probe, "--endpoint", cli.url, command, "-f",
                          str(stack)], capture_output=True, text=True, check=False)
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert "imported: []" in ran.stderr, ran.stderr


def test_an_apply_without_a_custom_model_imports_no_upload_machinery(cli: Cli,
                                                                   stack: Path) -> None:
    # The registry's writer (uploads: azure-storage-blob, requests, ~0.3 s of CPU) is made
    # only when the plan has a CustomModel change; here it has none (the quickstart's
    # CustomModel is left out), and the whole apply, as run, never imports it.
    (stack / "custom-model.yaml").unlink()
    probe = ("import atexit, sys; atexit.register(lambda: print('imported:', sorted(m for m in "
             "('azure.storage.blob', 'requests') if m in sys.modules), file=sys.stderr)); "
             "from aimodels.cli.main import main; main()")
    ran = subprocess.run([sys.executable, "-c", probe, "--endpoint", cli.url, "apply", "--yes",
                          "-f", str(stack)], capture_output=True, text=True, check=False)
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert "Apply complete" in ran.stdout, ran.stdout
    assert "imported: []" in ran.stderr, ran.stderr


def test_aimodels_endpoint_in_the_environment_reaches_the_same_emulator(
        cli: Cli, stack: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cli.applied()
    monkeypatch.setenv("AIMODELS_ENDPOINT", cli.url)
    unchanged = cli("plan", "--detailed-exitcode", endpoint=False)
    assert unchanged.code == 0, unchanged.text
    assert "No changes." in unchanged.out


def test_the_embedded_target_plans_without_any_endpoint(cli: Cli, stack: Path) -> None:
    # target: local starts its own emulator under .aimodels/: nothing exists there yet.
    embedded = cli("plan", "--detailed-exitcode", endpoint=False)
    assert embedded.code == 2, embedded.text
    assert "Plan: 4 to create, 0 to update, 0 to replace, 0 to destroy." in embedded.out
    assert (stack / ".aimodels" / "emulator").is_dir()
