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
    """The journal file, counting whole reads and keeping each append (the bytes of one
    durable write) in order; ``fail`` makes the appends raise, as a full disk would."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.reads = 0
        self.appends: list[bytes] = []
        self.fail = False

    def read_text(self) -> str | None:
        self.reads += 1
        return super().read_text()

    def append(self, line: bytes) -> None:
        if self.fail:
            raise OSError(28, "No space left on device")
        super().append(line)
        self.appends.append(line)


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


def test_intents_asked_together_share_one_durable_append(tmp_path: Path) -> None:
    """Ten steps asking for their intents at once (apply at ``--parallelism 10``) cost the
    first one append and the nine others one more between them, not nine (an append is an
    fsync and a worker-thread hop); each gets its own id only once its line is durable."""
    log = CountingLog(tmp_path / "journal.jsonl")
    store = StateStore(tmp_path / "state.json", State.new(), Journal(log=log))

    async def ask(i: int) -> str:
        intent_id = await store.intent(f"ModelSource/s{i}", "create")
        durable = b"".join(log.appends)
        assert intent_id.encode() in durable and f"ModelSource/s{i}".encode() in durable
        return intent_id

    async def run() -> list[str]:
        return list(await asyncio.gather(*(ask(i) for i in range(10))))

    ids = asyncio.run(run())

    assert len(log.appends) == 2, [a.count(b"\n") for a in log.appends]  # was 10
    assert len(set(ids)) == 10
    pending = Journal(tmp_path).pending()
    assert [(e.id, e.address) for e in pending] == [(ids[i], f"ModelSource/s{i}")
                                                   for i in range(10)]


def test_an_append_that_fails_fails_every_intent_it_held(tmp_path: Path) -> None:
    log = CountingLog(tmp_path / "journal.jsonl")
    store = StateStore(tmp_path / "state.json", State.new(), Journal(log=log))
    log.fail = True

    async def run() -> list[BaseException | str]:
        return list(await asyncio.gather(*(store.intent(f"ModelSource/s{i}", "create")
                                           for i in range(5)), return_exceptions=True))

    outcomes = asyncio.run(run())

    assert all(isinstance(o, OSError) for o in outcomes), outcomes
    assert Journal(tmp_path).pending() == []


def test_a_step_cancelled_while_its_intent_waits_leaves_no_intent(tmp_path: Path) -> None:
    """A step cancelled (Ctrl-C, a failure elsewhere) before its line was taken for an
    append never has an intent: nothing for the next apply to settle."""
    log = CountingLog(tmp_path / "journal.jsonl")
    store = StateStore(tmp_path / "state.json", State.new(), Journal(log=log))

    async def run() -> list[str]:
        first = asyncio.ensure_future(store.intent("ModelSource/s0", "create"))
        await asyncio.sleep(0)  # s0 holds the lock, its append in a worker thread
        waiting = [asyncio.ensure_future(store.intent(f"ModelSource/s{i}", "create"))
                   for i in (1, 2)]
        await asyncio.sleep(0)
        waiting[0].cancel()
        return [await first, await waiting[1]]

    asyncio.run(run())

    assert sorted(e.address for e in Journal(tmp_path).pending()) == ["ModelSource/s0",
                                                                        "ModelSource/s2"]
