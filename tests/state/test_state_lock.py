"""The state lock: exclusive, says who holds it, spots stale locks on this host, refuses a
wrong force-unlock id, and lets exactly one of several racing processes in."""

from __future__ import annotations

import dataclasses
import json
import multiprocessing
import os
import socket
import subprocess
import sys

import pytest

from aimodels.errors import EXIT_CONFLICT, AimodelsError, PreconditionError
from aimodels.state.lock import LockInfo, acquire_lock, force_unlock, read_lock

NOW = 1_800_000_000.0  # 2027-01-15 08:00:00 UTC


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def _plant(folder, **fields) -> LockInfo:
    info = LockInfo(
        **{
            "id": "11111111-2222-3333-4444-555555555555",
            "owner": "root",
            "host": socket.gethostname(),
            "pid": os.getpid(),
            "command": "aimodels apply",
            "created": "2027-01-15T07:02:11+00:00",
            **fields,
        }
    )
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "state.lock").write_text(json.dumps(dataclasses.asdict(info)))
    return info


def test_acquire_writes_who_holds_the_lock(tmp_path):
    handle = acquire_lock(tmp_path / ".aimodels", "aimodels apply", clock=lambda: NOW)
    data = json.loads((tmp_path / ".aimodels" / "state.lock").read_text())
    assert data == {
        "id": handle.info.id,
        "owner": handle.info.owner,
        "host": socket.gethostname(),
        "pid": os.getpid(),
        "command": "aimodels apply",
        "created": "2027-01-15T08:00:00+00:00",
    }
    assert read_lock(tmp_path / ".aimodels") == handle.info
    handle.release()
    assert read_lock(tmp_path / ".aimodels") is None
    assert list((tmp_path / ".aimodels").iterdir()) == []


def test_second_acquirer_fails_fast_saying_who_holds_it(tmp_path):
    _plant(tmp_path, owner="alice", host="build-7", pid=1234)
    with pytest.raises(PreconditionError) as info:
        acquire_lock(tmp_path, "aimodels destroy", clock=lambda: NOW)
    assert info.value.exit_code == EXIT_CONFLICT
    assert info.value.message == (
        "State is locked by alice@build-7 pid 1234 (`aimodels apply`) since 07:02:11 UTC"
    )
    assert "aimodels force-unlock 11111111-2222-3333-4444-555555555555" in info.value.hint
    assert "stale" not in info.value.message  # another host: we cannot tell


def test_lock_held_by_a_live_process_here_is_not_stale(tmp_path):
    with acquire_lock(tmp_path, "aimodels apply"):
        with pytest.raises(PreconditionError) as info:
            acquire_lock(tmp_path, "aimodels apply")
    assert "stale" not in info.value.message
    assert f"pid {os.getpid()}" in info.value.message
    assert read_lock(tmp_path) is None  # the context manager released it


def test_lock_of_a_gone_process_on_this_host_is_called_stale(tmp_path):
    planted = _plant(tmp_path, pid=_dead_pid())
    with pytest.raises(PreconditionError) as info:
        acquire_lock(tmp_path, "aimodels apply", clock=lambda: NOW)
    assert "the lock is stale" in info.value.message
    assert info.value.hint == f"Run `aimodels force-unlock {planted.id}`, then try again."


def test_an_old_lock_shows_its_date():
    info = LockInfo("i", "bob", "h", 1, "aimodels apply", "2027-01-13T23:59:00+00:00")
    assert info.describe(now=NOW).endswith("since 2027-01-13 23:59:00 UTC")


def test_force_unlock_refuses_a_wrong_id_and_takes_the_right_one(tmp_path):
    planted = _plant(tmp_path, pid=_dead_pid())
    with pytest.raises(PreconditionError, match="does not match"):
        force_unlock(tmp_path, "00000000-0000-0000-0000-000000000000")
    assert read_lock(tmp_path) == planted
    assert force_unlock(tmp_path, planted.id) == planted
    assert read_lock(tmp_path) is None
    acquire_lock(tmp_path, "aimodels apply").release()


def test_force_unlock_of_a_free_state_says_so(tmp_path):
    with pytest.raises(AimodelsError, match="not locked"):
        force_unlock(tmp_path, "any")


def test_release_after_a_force_unlock_leaves_the_new_holder_alone(tmp_path):
    mine = acquire_lock(tmp_path, "aimodels apply")
    force_unlock(tmp_path, mine.info.id)
    theirs = acquire_lock(tmp_path, "aimodels apply")
    mine.release()
    assert read_lock(tmp_path) == theirs.info


@pytest.mark.parametrize(
    "content",
    [
        pytest.param("{", id="torn"),
        pytest.param('{"id": "x"}', id="fields-missing"),
        pytest.param(
            '{"id": "x", "owner": "o", "host": "h", "pid": 1, "command": "c", "created": "soon"}',
            id="bad-time",
        ),
        pytest.param(
            '{"id": "x", "owner": "o", "host": "h", "pid": "1", "command": "c", '
            '"created": "2026-01-01T00:00:00+00:00"}',
            id="pid-not-a-number",
        ),
        pytest.param(b"\xff\xfe{", id="not-utf-8"),
        pytest.param(b"[" * 100_000 + b"]" * 100_000, id="nested-too-deep"),
    ],
)
def test_an_unreadable_lock_file_is_reported_not_ignored(tmp_path, content):
    data = content if isinstance(content, bytes) else content.encode()
    (tmp_path / "state.lock").write_bytes(data)
    with pytest.raises(PreconditionError, match="unreadable") as info:
        acquire_lock(tmp_path, "aimodels apply")
    assert str(tmp_path / "state.lock") in info.value.hint


def _race(folder: str, start, finish, results) -> None:
    start.wait()
    try:
        handle = acquire_lock(folder, "aimodels apply")
    except PreconditionError as exc:
        results.put(("refused", exc.message))
        finish.wait()
        return
    results.put(("won", handle.info.id))
    finish.wait()  # hold the lock until every other racer has tried
    handle.release()


def test_racing_processes_get_exactly_one_lock(tmp_path):
    racers = 6
    context = multiprocessing.get_context("fork")
    start, finish = context.Barrier(racers), context.Barrier(racers)
    results = context.Queue()
    processes = [
        context.Process(target=_race, args=(str(tmp_path), start, finish, results))
        for _ in range(racers)
    ]
    for process in processes:
        process.start()
    outcomes = [results.get(timeout=10) for _ in range(racers)]
    for process in processes:
        process.join(timeout=10)
    assert [p.exitcode for p in processes] == [0] * racers
    assert sorted(kind for kind, _ in outcomes) == ["refused"] * (racers - 1) + ["won"]
    assert all("State is locked by" in text for kind, text in outcomes if kind == "refused")
    assert read_lock(tmp_path) is None


def test_a_file_where_the_state_folder_goes_is_a_clear_error(tmp_path):
    (tmp_path / ".aimodels").write_text("not a folder")
    with pytest.raises(AimodelsError) as info:
        acquire_lock(tmp_path / ".aimodels", "aimodels apply")
    assert f"{tmp_path / '.aimodels'} is a file" in info.value.message
    assert "Move" in info.value.hint
