"""Two "runners" (two folders, as two CI machines or two laptops) working on one Stack through
the azureblob backend in Azurite, against one emulator served over HTTP: what one applies the
other plans as no change; a second apply is refused naming the first; a first one killed with
SIGKILL is recovered from the journal blob by the other folder, with no duplicate; nothing
secret reaches the container, and nothing the next run needs stays on the runner's disk."""

from __future__ import annotations

import json
import signal
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from apply_crash_support import (
    by_address,
    cli,
    declared,
    live_names,
    start,
    write_stack,
)
from blobstate_support import STATE_BLOB, Team, local_files, runner, use_blob
from e2e_support import Cli, edit

from aimodels.emulator.config import EmulatorConfig
from aimodels.emulator.server import RunningEmulator, start_in_thread


@pytest.fixture
def emulator() -> Iterator[RunningEmulator]:
    with start_in_thread(EmulatorConfig(lro_seconds=0.5)) as running:
        yield running


def test_what_one_runner_applies_the_other_plans_as_no_change(
        team: Team, tmp_path: Path, emulator: RunningEmulator,
        capsys: pytest.CaptureFixture[str]) -> None:
    first = Cli(capsys, emulator.url, runner(tmp_path / "laptop", team))
    second = Cli(capsys, emulator.url, runner(tmp_path / "ci-runner", team))

    first.applied()
    applied_serial = team.state()["serial"]
    second.assert_no_changes()
    listed = second("state list")
    assert listed.code == 0 and "ModelDeployment/phi4-chat" in listed.out

    edit(second.stack / "model-deployment.yaml", "replicas: 1", "replicas: 2")
    edit(first.stack / "model-deployment.yaml", "replicas: 1", "replicas: 2")
    second.applied()
    first.assert_no_changes()  # the first runner sees the second one's apply
    assert team.state()["serial"] == applied_serial + 1  # one change, one write
    for folder in (first.stack, second.stack):
        assert local_files(folder) == ["weights-cache.json"]  # this machine's digest cache


def test_no_secret_reaches_the_container(
        team: Team, tmp_path: Path, emulator: RunningEmulator,
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    canary = f"hf_{uuid.uuid4().hex}{uuid.uuid4().hex[:8]}"
    monkeypatch.setenv("HF_TOKEN", canary)
    laptop = Cli(capsys, emulator.url, runner(tmp_path / "laptop", team))
    edit(laptop.stack / "model-source.yaml", "description: Public Hugging Face models",
         "description: Private Hugging Face org\n  credential:\n    fromEnv: HF_TOKEN")
    laptop.applied()
    canary_rotated = canary[::-1]
    monkeypatch.setenv("HF_TOKEN", canary_rotated)
    laptop.applied()  # a second write: the first state is now a snapshot

    stored = team.blobs()
    assert STATE_BLOB in stored and any("@" in name for name in stored)
    key = team.connection_string.split("AccountKey=")[1].split(";")[0]
    for name, data in stored.items():
        text = data.decode("utf-8", "replace")
        for secret in (canary, canary_rotated, key):
            assert secret not in text and secret[-20:] not in text, f"a secret is in {name}"
    assert json.loads(stored[STATE_BLOB])["resources"][-1]["extra"]["secretDigests"]


def test_a_killed_apply_is_refused_to_others_then_recovered_from_another_folder(
        team: Team, tmp_path: Path) -> None:
    with start_in_thread(EmulatorConfig(lro_seconds=3)) as emulator:  # slow: killed mid-way
        _kill_and_recover(team, tmp_path, emulator)


def _kill_and_recover(team: Team, tmp_path: Path, emulator: RunningEmulator) -> None:
    first = write_stack(tmp_path / "first")
    second = write_stack(tmp_path / "second")
    for folder in (first, second):
        use_blob(folder / "stack.yaml", team)

    with start(emulator, first, "apply", "--yes") as holder:
        seen = _progress_lines(holder, 3)
        refused = cli(emulator, second, "apply", "--yes")
        assert refused.code == 6, refused
        assert f"pid {holder.pid} (`aimodels apply`)" in refused.err, refused
        holder.send_signal(signal.SIGKILL)
        holder.wait(timeout=30)
        seen.join(timeout=30)

    preview = cli(emulator, second, "plan")
    assert preview.code == 0, preview
    assert "aimodels import" not in preview.out + preview.err
    assert "an earlier apply was interrupted" in preview.out, preview
    assert f"journal blob {team.account_url}/{team.container}/{STATE_BLOB}.journal" in \
        preview.out.replace("\n", " ")
    assert "No changes" not in preview.out  # what the killed run had not begun is planned

    stale = cli(emulator, second, "apply", "--yes")
    assert stale.code == 6 and "the lock is stale" in stale.err, stale
    lock_id = stale.err.split("force-unlock ")[1].split("`")[0]
    unlocked = cli(emulator, second, "force-unlock", lock_id)
    assert unlocked.code == 0 and f"pid {holder.pid}" in unlocked.out, unlocked

    applied = cli(emulator, second, "apply", "--yes")
    assert applied.code == 0, applied
    assert "An earlier apply was interrupted: reconciling" in applied.err
    assert f"pid {holder.pid}" in applied.err  # the lock it took over is named
    assert live_names(emulator) == declared()  # nothing created twice, nothing missing
    state = team.state()
    assert sorted(r["address"] for r in state["resources"]) == by_address(declared())
    assert f"{STATE_BLOB}.journal" not in team.blobs()
    assert cli(emulator, first, "plan", "--detailed-exitcode").code == 0
    assert team.backend().read_lock() is None


def _progress_lines(child: object, wanted: int) -> threading.Thread:
    """Read the child's output in a thread; return once ``wanted`` progress lines came."""
    reached = threading.Event()

    def read() -> None:
        count = 0
        for line in child.stdout:  # type: ignore[attr-defined]
            count += ": creating" in line or ": created" in line
            if count >= wanted:
                reached.set()
        reached.set()

    thread = threading.Thread(target=read, daemon=True)
    thread.start()
    assert reached.wait(60), "the apply made no progress"
    return thread


