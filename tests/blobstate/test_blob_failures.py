"""The azureblob backend never fails silently: a missing container, a refused credential or an
unreachable account stop the command (exit 5 or 4) with what to do, and nothing falls back to
a local state file. Bad ``state`` blocks are manifest errors (exit 3). ``plan`` and ``drift``
never take the lock."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from blobstate_support import Team, local_files, runner
from e2e_support import Cli, edit

from aimodels.emulator.config import EmulatorConfig
from aimodels.emulator.server import RunningEmulator, start_in_thread


@pytest.fixture
def emulator() -> Iterator[RunningEmulator]:
    with start_in_thread(EmulatorConfig(lro_seconds=0)) as running:
        yield running


@pytest.fixture
def laptop(team: Team, tmp_path: Path, emulator: RunningEmulator,
           capsys: pytest.CaptureFixture[str]) -> Cli:
    return Cli(capsys, emulator.url, runner(tmp_path / "laptop", team))


def assert_no_local_state(cli: Cli) -> None:
    assert not [f for f in local_files(cli.stack) if f != "weights-cache.json"]


def test_a_missing_container_says_how_to_create_it(team: Team, laptop: Cli) -> None:
    edit(laptop.stack / "stack.yaml", f"container: {team.container}", "container: nosuch")
    for command in ("plan", "apply --yes", "state list"):
        done = laptop(command)
        assert done.code == 5, done
        assert "The container nosuch does not exist in the storage account " \
               f"{team.account_url}" in done.err
        assert "az storage container create --account-name devstoreaccount1 --name nosuch" \
            in done.err
    assert_no_local_state(laptop)


def test_a_refused_key_exits_4_without_showing_it(team: Team, laptop: Cli,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    key = team.connection_string.split("AccountKey=")[1].split(";")[0]
    wrong = "A" * 8 + key[8:]
    monkeypatch.setenv("AZURE_STORAGE_CONNECTION_STRING",
                       team.connection_string.replace(key, wrong))
    for command in ("plan", "apply --yes", "drift"):
        done = laptop(command)
        assert done.code == 4, done
        assert "Azure Storage refused access to the blob" in done.err and "403" in done.err
        assert key[8:20] not in done.text and wrong[:20] not in done.text
    assert_no_local_state(laptop)


def test_an_unreachable_account_exits_5_in_seconds_and_nothing_falls_back(
        team: Team, laptop: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    closed = f"http://127.0.0.1:{port}/devstoreaccount1"
    edit(laptop.stack / "stack.yaml", f"accountUrl: {team.account_url}",
         f"accountUrl: {closed}")
    monkeypatch.setenv("AZURE_STORAGE_CONNECTION_STRING",
                       team.connection_string.replace(team.account_url, closed))
    started = time.monotonic()
    for command in ("plan", "apply --yes"):
        done = laptop(command)
        assert done.code == 5, done
        assert f"Cannot reach the storage account {closed}" in done.err
        assert "never falls back" in done.err
    assert time.monotonic() - started < 20
    assert_no_local_state(laptop)


def test_the_connection_string_must_be_for_the_account(team: Team, laptop: Cli,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    other = team.connection_string.replace("AccountName=devstoreaccount1",
                                           "AccountName=someoneelse")
    monkeypatch.setenv("AZURE_STORAGE_CONNECTION_STRING", other)
    done = laptop("plan")
    assert done.code == 4, done
    assert "AZURE_STORAGE_CONNECTION_STRING is for" in done.err
    assert "AccountKey" not in done.text

    monkeypatch.delenv("AZURE_STORAGE_CONNECTION_STRING")
    done = laptop("plan")
    assert done.code == 4 and "reached over http" in done.err, done
    assert_no_local_state(laptop)


@pytest.mark.parametrize(("line", "fixed"), [
    pytest.param("accountUrl: {url}", "accountUrl: http://10.0.0.4:10000/devstoreaccount1",
                 id="http-off-loopback"),
    pytest.param("accountUrl: {url}", "accountUrl: https://acct.blob.example.com",
                 id="not-a-blob-endpoint"),
    pytest.param("backend: azureblob", "backend: s3", id="unknown-backend"),
    pytest.param("leaseSeconds: 15", "leaseSeconds: 300", id="lease-too-long"),
    pytest.param("leaseSeconds: 15", "leaseSeconds: -1", id="infinite-lease"),
])
def test_a_bad_state_block_is_a_manifest_error(team: Team, laptop: Cli, line: str,
                                               fixed: str) -> None:
    edit(laptop.stack / "stack.yaml", line.format(url=team.account_url), fixed)
    for command in ("validate", "plan"):
        done = laptop(command, endpoint=command != "validate")
        assert done.code == 3, done
        assert "stack.yaml:" in done.err


def test_plan_and_drift_never_take_the_lock(team: Team, laptop: Cli) -> None:
    laptop.applied()
    held = team.backend().lock("aimodels apply")
    try:
        assert laptop("plan", "--detailed-exitcode").code == 0
        assert laptop("drift").code == 0
        assert laptop("state list").code == 0
        refused = laptop("apply", "--yes")
        assert refused.code == 6 and held.info.id in refused.err
        assert team.backend().read_lock() == held.info
    finally:
        held.release()


def test_a_blob_of_another_stack_is_refused(team: Team, laptop: Cli) -> None:
    laptop.applied()
    edit(laptop.stack / "stack.yaml", "name: quickstart", "name: other-team")
    for command in ("plan", "apply --yes", "drift", "state rm ModelSource/hf-public"):
        done = laptop(command)
        assert done.code == 1, done
        assert f"state blob {team.account_url}/{team.container}/team.state.json belongs to " \
               "another Stack" in done.err
        assert "Stack 'quickstart'" in done.err and "Stack 'other-team'" in done.err
    assert laptop("state list").code == 0  # inspecting it is fine
