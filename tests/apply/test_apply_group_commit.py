"""Group commits of the state (``StateStore``): apply writes the whole state at most once per
interval instead of once per change (O(N) writes of O(N) bytes made apply O(N²)), and a done
line never closes an intent before a state write holds its change, so a crash in between
leaves that change to recovery instead of losing it."""

from __future__ import annotations

import asyncio
from pathlib import Path

from aimodels.apply.state_store import StateStore
from aimodels.state.backend import LocalBackend
from aimodels.state.journal import FileJournalLog, Journal
from aimodels.state.local import read_state
from aimodels.state.values import ResourceState, State


class CountingBackend(LocalBackend):
    """The local backend, counting whole-state writes."""

    writes = 0

    def write(self, state: State, *, replacing: State | None = None) -> State:
        self.writes += 1
        return super().write(state, replacing=replacing)


def _entry(i: int) -> ResourceState:
    return ResourceState(f"ModelSource/s{i}", f"/id/{i}")


def test_many_changes_make_few_state_writes_and_all_land(tmp_path: Path) -> None:
    backend = CountingBackend(tmp_path / "state.json")
    store = StateStore(backend, State.new())

    async def run() -> None:
        for i in range(200):
            intent = await store.intent(f"ModelSource/s{i}", "create")
            await store.put(_entry(i))
            await store.done(intent)
        await store.finish()

    asyncio.run(run())

    assert backend.writes <= 3, backend.writes  # was 200: one per change
    assert len(read_state(tmp_path / "state.json").resources) == 200
    assert store.journal.pending() == [] and not (tmp_path / "journal.jsonl").exists()


def test_a_change_not_yet_written_keeps_its_intent_open(tmp_path: Path) -> None:
    """What a kill -9 would find between a change and the state write that holds it: the
    state without the change, and its intent still open for recovery to settle."""
    path = tmp_path / "state.json"
    store = StateStore(path, State.new(), interval=60.0)

    async def run() -> None:
        first = await store.intent("ModelSource/s0", "create")
        await store.put(_entry(0))  # the first write happens at once
        await store.done(first)
        second = await store.intent("ModelSource/s1", "create")
        await store.put(_entry(1))  # waits for the next group commit
        await store.done(second)

        on_disk = read_state(path).addresses
        assert "ModelSource/s0" in on_disk and "ModelSource/s1" not in on_disk
        as_recovery_sees_it = Journal(tmp_path).pending()
        assert [e.address for e in as_recovery_sees_it] == ["ModelSource/s1"]
        assert store.state.get("ModelSource/s1") is not None  # later steps see it

        await store.finish()

    asyncio.run(run())
    assert {"ModelSource/s0", "ModelSource/s1"} <= set(read_state(path).addresses)
    assert Journal(tmp_path).pending() == []


def test_pending_changes_are_written_within_the_interval(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    store = StateStore(path, State.new(), interval=0.05)

    async def run() -> None:
        await store.put(_entry(0))
        await store.put(_entry(1))
        assert "ModelSource/s1" not in read_state(path).addresses
        await asyncio.sleep(0.3)  # no further change: the timer writes it
        assert "ModelSource/s1" in read_state(path).addresses
        await store.finish()

    asyncio.run(run())


class CountingLog(FileJournalLog):
    """The journal file, counting whole reads."""

    reads = 0

    def read_text(self) -> str | None:
        self.reads += 1
        return super().read_text()


def test_closing_an_intent_does_not_reread_the_journal(tmp_path: Path) -> None:
    log = CountingLog(tmp_path / "journal.jsonl")
    journal = Journal(log=log)
    ids = [journal.record_intent(f"ModelSource/s{i}", "create") for i in range(50)]
    for intent in ids:
        journal.record_done(intent)
    assert log.reads == 0  # was one whole read per closed intent: O(N²) over a run
    assert Journal(tmp_path).pending() == []


def test_an_intent_written_by_another_run_can_still_be_closed(tmp_path: Path) -> None:
    earlier = Journal(tmp_path).record_intent("ModelSource/s0", "create")
    later = Journal(tmp_path)
    later.record_dones([(earlier, "recovered")])
    assert later.pending() == []
