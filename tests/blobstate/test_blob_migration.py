"""Moving a Stack's state between a local file and the azureblob backend (``state push`` /
``state pull``) with lineage and serial checks and a confirmation, and ``state history`` /
``state restore`` through the CLI."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from blobstate_support import STATE_BLOB, Team, runner, use_blob, use_local
from e2e_support import Cli, copy_quickstart

from aimodels.emulator.config import EmulatorConfig
from aimodels.emulator.server import RunningEmulator, start_in_thread
from aimodels.state.values import ResourceState


@pytest.fixture
def emulator() -> Iterator[RunningEmulator]:
    with start_in_thread(EmulatorConfig(lro_seconds=0)) as running:
        yield running


@pytest.fixture
def local_stack(tmp_path: Path, emulator: RunningEmulator,
                capsys: pytest.CaptureFixture[str]) -> Cli:
    """The quickstart applied with the local backend, as a team starts before sharing."""
    cli = Cli(capsys, emulator.url, copy_quickstart(tmp_path / "quickstart"))
    cli.applied()
    return cli


def test_push_moves_the_local_state_to_the_blob_and_pull_brings_it_back(
        team: Team, local_stack: Cli, tmp_path: Path, emulator: RunningEmulator,
        capsys: pytest.CaptureFixture[str]) -> None:
    stack = local_stack.stack
    local = json.loads((stack / ".aimodels" / "state.json").read_text())
    use_blob(stack / "stack.yaml", team)

    asked = local_stack("state push")
    assert asked.code == 64 and "--yes" in asked.err  # no terminal: it will not guess
    pushed = local_stack("state push", "--yes")
    assert pushed.code == 0, pushed
    assert f"lineage {local['lineage']}, serial {local['serial']}, 4 resources" in pushed.out
    blob = team.state()
    assert (blob["lineage"], blob["serial"]) == (local["lineage"], local["serial"] + 1)
    assert blob["resources"] == local["resources"]
    assert not (stack / ".aimodels" / "state.json").exists()
    assert (stack / ".aimodels" / "state.json.pushed").exists()
    local_stack.assert_no_changes()
    Cli(capsys, emulator.url, runner(tmp_path / "colleague", team)).assert_no_changes()

    again = local_stack("state push", "--yes")
    assert again.code == 1 and "nothing to move" in again.err

    pulled = local_stack("state pull", "--yes")
    assert pulled.code == 0, pulled
    use_local(stack / "stack.yaml", team)
    back = json.loads((stack / ".aimodels" / "state.json").read_text())
    assert (back["lineage"], back["serial"]) == (local["lineage"], local["serial"] + 2)
    local_stack.assert_no_changes()


def test_push_refuses_a_blob_of_another_lineage_or_a_newer_serial(
        team: Team, local_stack: Cli, tmp_path: Path, emulator: RunningEmulator,
        capsys: pytest.CaptureFixture[str]) -> None:
    other = team.backend()
    other.write(other.read().with_resource(ResourceState("ModelSource/theirs", "/ids/x")))
    use_blob(local_stack.stack / "stack.yaml", team)
    refused = local_stack("state push", "--yes")
    assert refused.code == 6, refused
    assert "holds another state" in refused.err
    assert team.backend().read().addresses == ["ModelSource/theirs"]
    assert (local_stack.stack / ".aimodels" / "state.json").exists()

    fresh = Team(team.account_url, team.container, team.connection_string)
    use_blob_named(local_stack.stack, fresh, "fresh.state.json")
    assert local_stack("state push", "--yes").code == 0
    stale = json.loads((local_stack.stack / ".aimodels" / "state.json.pushed").read_text())
    (local_stack.stack / ".aimodels" / "state.json").write_text(json.dumps(stale))
    newer = local_stack("state push", "--yes")
    assert newer.code == 6 and "as new as" in newer.err, newer


def use_blob_named(stack: Path, team: Team, blob: str) -> None:
    path = stack / "stack.yaml"
    path.write_text(path.read_text().replace(f"blob: {STATE_BLOB}", f"blob: {blob}"))


def test_pull_and_push_need_the_blob_backend(local_stack: Cli) -> None:
    done = local_stack("state pull", "--yes")
    assert done.code == 64 and "state backend is local" in done.err


def test_history_lists_each_earlier_state_and_restore_brings_one_back(
        team: Team, tmp_path: Path, emulator: RunningEmulator,
        capsys: pytest.CaptureFixture[str]) -> None:
    laptop = Cli(capsys, emulator.url, runner(tmp_path / "laptop", team))
    laptop.applied()
    (laptop.stack / "foundry-deployment.yaml").unlink()
    laptop.applied()  # one write more: the FoundryDeployment deleted
    current = team.state()["serial"]  # how many writes the applies took: group commits

    listed = laptop("state history", "--output", "json")
    assert listed.code == 0, listed
    versions = json.loads(listed.out)
    assert [v["serial"] for v in versions] == list(range(current - 1, 0, -1))
    assert versions[0]["resources"] == 4 and versions[0]["command"] == "aimodels apply"
    table = laptop("state history")
    assert f"Current: serial {current}, 3 resources" in table.out
    assert versions[0]["snapshot"] in table.out

    restored = laptop("state restore", versions[0]["snapshot"], "--yes")
    assert restored.code == 0, restored
    assert "It brings back: FoundryDeployment/gpt4o-chat" in restored.out
    state = team.state()
    assert state["serial"] == current + 1 and len(state["resources"]) == 4
    assert json.loads(laptop("state history", "--output", "json").out)[0]["serial"] == current
    unknown = laptop("state restore", "2001-01-01T00:00:00.0000000Z", "--yes")
    assert unknown.code == 1 and "has no snapshot" in unknown.err


def test_a_local_backend_keeps_no_history(local_stack: Cli) -> None:
    done = local_stack("state history")
    assert done.code == 1 and "keeps no history" in done.err and "state push" in done.err


