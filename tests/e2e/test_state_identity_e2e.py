"""The state records the Stack it belongs to: another Stack's state is refused by every command
that acts on it, `state rehome` is the explicit way to move one, and a state written before
the Stack was recorded is adopted with a warning. Through the real entry point, against an
emulator both Stacks share (as two Stacks share one Azure subscription)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import httpx
import pytest
from e2e_support import Cli, arm, deployment_path, edit, source_path, state_of

from aimodels.emulator.server import RunningEmulator


@pytest.fixture
def other(tmp_path: Path, stack: Path) -> Path:
    """Another Stack of the same subscription and resource group, holding a copy of the
    quickstart's state: the Stack file and one ModelSource, the Stack named `other`."""
    folder = tmp_path / "other"
    folder.mkdir()
    (folder / "stack.yaml").write_text((stack / "stack.yaml").read_text()
                                       .replace("name: quickstart", "name: other"))
    shutil.copy(stack / "model-source.yaml", folder)
    return folder


def copy_state(source: Path, target: Path) -> bytes:
    (target / ".aimodels").mkdir(exist_ok=True)
    shutil.copy(source / ".aimodels" / "state.json", target / ".aimodels" / "state.json")
    return (target / ".aimodels" / "state.json").read_bytes()


@pytest.mark.parametrize("command", [
    pytest.param(("plan",), id="plan"),
    pytest.param(("apply", "--yes"), id="apply"),
    pytest.param(("destroy", "--yes"), id="destroy"),
    pytest.param(("drift",), id="drift"),
    pytest.param(("import", "ModelSource/hf-public", source_path("hf-public"), "--yes"),
                 id="import"),
    pytest.param(("state rm", "ModelSource/hf-public"), id="state-rm"),
])
def test_another_stacks_state_is_refused_and_nothing_is_deleted(
        capsys: pytest.CaptureFixture[str], emulator: RunningEmulator, cli: Cli, stack: Path,
        other: Path, outside: httpx.Client, command: tuple[str, ...]) -> None:
    cli.applied()
    copied = copy_state(stack, other)

    refused = Cli(capsys, emulator.url, other)(*command)

    assert refused.code == 1, refused.text
    assert "belongs to another Stack" in refused.err
    assert "the state records     Stack 'quickstart' (target local" in refused.err
    assert "the manifests declare Stack 'other' (target local" in refused.err
    assert "aimodels state rehome" in refused.err
    assert "Traceback" not in refused.text
    assert (other / ".aimodels" / "state.json").read_bytes() == copied
    assert arm(outside, "GET", deployment_path("phi4-chat")).status_code == 200


def test_rehome_makes_the_state_this_stacks_after_confirmation(
        capsys: pytest.CaptureFixture[str], emulator: RunningEmulator, cli: Cli, stack: Path,
        other: Path) -> None:
    cli.applied()
    copied = copy_state(stack, other)
    on_other = Cli(capsys, emulator.url, other)

    unconfirmed = on_other("state rehome")
    assert unconfirmed.code == 64, unconfirmed.text
    assert "Stack 'quickstart'" in unconfirmed.out and "Stack 'other'" in unconfirmed.out
    assert "It holds 4 resource(s)" in unconfirmed.out
    assert (other / ".aimodels" / "state.json").read_bytes() == copied

    done = on_other("state rehome", "--yes")
    assert done.code == 0, done.text
    assert "now belongs to Stack 'other'" in done.out
    assert state_of(other)["stack"] == {
        "name": "other", "target": "local", "resourceGroup": "rg-quickstart",
        "subscriptionId": "00000000-0000-0000-0000-000000000000"}
    assert state_of(other)["lineage"] == state_of(stack)["lineage"]
    assert "already belongs to Stack 'other'" in on_other("state rehome", "--yes").out

    planned = on_other("plan")
    assert planned.code == 0, planned.text
    assert "Plan: 0 to create, 0 to update, 0 to replace, 3 to destroy." in planned.out


def test_rehome_names_resources_outside_the_new_resource_group(
        capsys: pytest.CaptureFixture[str], emulator: RunningEmulator, cli: Cli, stack: Path,
        other: Path) -> None:
    cli.applied()
    edit(other / "stack.yaml", "resourceGroup: rg-quickstart", "resourceGroup: rg-elsewhere")
    copy_state(stack, other)

    shown = Cli(capsys, emulator.url, other)("state rehome")

    assert "3 of them are outside resource group rg-elsewhere" in shown.out
    assert "FoundryDeployment/gpt4o-chat, ModelDeployment/phi4-chat, ModelSource/hf-public" \
        in shown.out


def test_a_state_that_records_no_stack_is_adopted_with_a_warning(cli: Cli,
                                                                stack: Path) -> None:
    cli.applied()
    path = stack / ".aimodels" / "state.json"
    legacy = json.loads(path.read_text())
    del legacy["stack"]
    path.write_text(json.dumps(legacy))

    planned = cli("plan", "--detailed-exitcode")
    assert planned.code == 0, planned.text
    assert "does not record which Stack it belongs to" in planned.err
    assert "It is taken as the state of Stack 'quickstart'" in planned.err
    assert "stack" not in state_of(stack)  # plan writes nothing

    edit(stack / "custom-model.yaml", "purpose: demo", "purpose: smoke-test")
    cli.applied()
    assert state_of(stack)["stack"]["name"] == "quickstart"
    assert "does not record" not in cli("plan").err
