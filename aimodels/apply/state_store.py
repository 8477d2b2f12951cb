"""``StateStore``: the state and its journal as apply writes them, one writer at a time.

Apply records an intent in the journal before each remote write, and closes it once the state
holds the result. The state is written in *group commits*: a completed change goes into the
state in memory at once, and the state (the whole document, through its backend: atomically,
serial bumped, conditional on what was read) is written at most every ``interval`` seconds,
and never more often than keeps those writes under ``1 / (1 + spacing)`` of the run (at
thousands of resources one write costs tens of milliseconds), then at the end of the run.
Writing the whole state after each change made apply O(N²).

A change's intent is closed (its *done* line) only after a state write that holds it, so a
crash loses nothing: what completed but is not in the state yet still has an open intent, and
the next apply settles it (``apply.recovery``) as it settles the writes in flight. Writes are
serialized by one asyncio lock and run in a worker thread, so fsyncs and storage requests
never stall the event loop while other resources are being polled. The caller holds the state
lock for the whole run.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aimodels.state.backend import RecordFolder, StateBackend, backend_of
from aimodels.state.journal import Journal
from aimodels.state.values import ResourceState, State


@dataclass(frozen=True, eq=False, slots=True)
class _Intent:
    """An intent asked for and not written yet: its ``(address, operation, details)`` and
    the future that gets its id once its journal line is durable."""

    intent: tuple[str, str, Mapping[str, Any] | None]
    waiter: asyncio.Future[str]


#: The longest a completed change waits before a state write holds it (seconds).
GROUP_INTERVAL = 1.0
#: The least time between two state writes, as a multiple of the last write's duration, so
#: writing the state takes at most a fixed share of the run however large the state grows.
GROUP_SPACING = 9.0


class StateStore:
    """The state of one apply run: starts from what was read under the lock, and writes every
    change through the backend (a path: the local state file there). ``upload_records`` is
    where resumable-upload records go, beside the state. Not for use without the state
    lock. ``interval`` bounds how long a completed change waits for a state write (0: a
    write per change)."""

    def __init__(self, backend: StateBackend | str | Path, state: State,
                 journal: Journal | None = None, *, interval: float = GROUP_INTERVAL) -> None:
        self.backend = backend_of(backend)
        self._state = state  # as last read or written
        # The changes since, by address (None: removed): a put costs O(1), not a copy of the
        # whole state; they are merged into a State only for a write (or ``state``).
        self._changes: dict[str, ResourceState | None] = {}
        self._merged: State | None = state
        self.journal = journal or self.backend.journal()
        self.upload_records: RecordFolder = self.backend.upload_records()
        self.interval = interval
        self._lock = asyncio.Lock()
        self._dirty = False  # the state in memory holds changes not written yet
        self._closing: list[tuple[str, str]] = []  # intents to close after the next write
        self._last_write = 0.0  # time.monotonic() when the last write ended
        self._write_cost = 0.0  # how long the last write took
        self._timer: asyncio.TimerHandle | None = None
        self._flusher: asyncio.Task[None] | None = None
        self._failure: BaseException | None = None  # a background write that failed
        self._asked: list[_Intent] = []  # intents waiting for the next journal append

    @property
    def state(self) -> State:
        """The state with every change recorded so far (written or about to be). Merged
        from the changes since the last write when asked: use ``get`` for one address."""
        if self._merged is None:
            self._merged = self._state.with_changes(self._changes)
        return self._merged

    def get(self, address: str) -> ResourceState | None:
        """The entry at ``address`` with every change recorded so far, or None."""
        if address in self._changes:
            return self._changes[address]
        return self._state.get(address)

    def secret_digest(self, value: str) -> str:
        """The keyed digest of a secret under this state's key (what the next plan compares)."""
        return self._state.secret_digest(value)

    async def intent(self, address: str, operation: str,
                     details: Mapping[str, Any] | None = None) -> str:
        """Note durably that ``operation`` on ``address`` is about to be sent; returns its id
        once its journal line is durable.

        Intents asked for while the lock is held (another append or a state write under way)
        are written together by the first of them to get the lock: one append, one fsync and
        one worker-thread hop for the lot, rather than one each (at ``--parallelism 10``
        that was a large share of apply's own CPU per change)."""
        waiter: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        asked = _Intent((address, operation, details), waiter)
        self._asked.append(asked)
        try:
            async with self._lock:
                if not waiter.done():
                    await self._record_asked(asked)
        except asyncio.CancelledError:
            if asked in self._asked:
                self._asked.remove(asked)  # never written: nothing for recovery to settle
            raise
        return waiter.result()

    async def _record_asked(self, mine: _Intent) -> None:
        """Write every intent asked for so far, ``mine`` among them, in one append and hand
        each its id. The caller holds the lock. If the append fails, the others fail with
        its error (``mine`` raises it); if the caller is cancelled, the others go back in the
        queue for the next to get the lock (the append may have happened all the same: an
        intent written without its caller knowing is an open intent, which the next apply
        settles, as before)."""
        batch, self._asked = self._asked, []
        try:
            ids = await asyncio.to_thread(self.journal.record_intents,
                                          [asked.intent for asked in batch])
        except asyncio.CancelledError:
            self._asked[:0] = [a for a in batch if a is not mine and not a.waiter.done()]
            raise
        except Exception as exc:
            for asked in batch:
                if asked is not mine and not asked.waiter.done():
                    asked.waiter.set_exception(exc)
            raise
        for asked, intent_id in zip(batch, ids, strict=True):
            if not asked.waiter.done():
                asked.waiter.set_result(intent_id)

    async def amend(self, intent_id: str, address: str, operation: str,
                    details: Mapping[str, Any]) -> str:
        """Replace an open intent by one with more ``details`` (an LRO handle); returns the new
        id. The new intent is written before the old one is closed, so a crash in between
        leaves both open, and recovery keeps the newer one of an address."""
        async with self._lock:
            new = await asyncio.to_thread(self.journal.record_intent, address, operation,
                                          details)
            await asyncio.to_thread(self.journal.record_done, intent_id, "superseded")
            return new

    async def done(self, intent_id: str, outcome: str = "ok") -> None:
        """Close an intent: the write finished (``ok``) or certainly failed (``failed``). While
        the state in memory holds changes not written yet, the done line waits for the write
        that holds them (its change may be among them)."""
        self._raise_failure()
        async with self._lock:
            if self._dirty:
                self._closing.append((intent_id, outcome))
                return
            await asyncio.to_thread(self.journal.record_done, intent_id, outcome)

    async def put(self, resource: ResourceState) -> None:
        """Record a created or updated resource (replacing what state held at its address)."""
        await self._write(resource.address, resource)

    async def remove(self, address: str) -> None:
        """Forget the resource at ``address`` (deleted, or gone outside aimodels)."""
        await self._write(address, None)

    async def flush(self) -> None:
        """Write the state now if it holds changes not written yet, then close the intents
        that waited for it. Raises what a background write raised."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._flusher is not None:
            await self._flusher  # a background write under way: let it end, never cut it
        self._raise_failure()
        async with self._lock:
            await self._commit()

    async def finish(self) -> None:
        """Write what is pending, then clear the journal when every intent in it is closed:
        the state has it all."""
        await self.flush()
        if not self.journal.pending():
            self.journal.clear()

    async def abandon(self) -> None:
        """End a run that failed: write what is pending if that still works (less for the
        next run to settle), else leave it to the journal's open intents."""
        with contextlib.suppress(Exception):
            await self.flush()

    async def _write(self, address: str, entry: ResourceState | None) -> None:
        """Record ``entry`` (None: no entry) at ``address`` under the lock, so that a write
        under way holds either all of a change or none of it; removing what is not there
        changes nothing. The state is written now if the last write is old enough, else soon
        (``_schedule``)."""
        self._raise_failure()
        async with self._lock:
            if entry is None and self.get(address) is None:
                return
            self._changes[address] = entry
            self._merged, self._dirty = None, True
            if self._due() <= 0:
                await self._commit()
                return
        self._schedule()

    def _due(self) -> float:
        """Seconds until the next state write may happen (0 or less: now)."""
        wait = max(self.interval, GROUP_SPACING * self._write_cost) if self.interval else 0.0
        return self._last_write + wait - time.monotonic()

    def _schedule(self) -> None:
        """Have the pending changes written when they are due, unless that is arranged."""
        if self._timer is None and self._flusher is None:
            self._timer = asyncio.get_running_loop().call_later(
                max(0.0, self._due()), self._start_flusher)

    def _start_flusher(self) -> None:
        self._timer = None
        self._flusher = asyncio.get_running_loop().create_task(self._flush_in_background())

    async def _flush_in_background(self) -> None:
        """The scheduled write; what it raises is raised by the next call (``put``,
        ``done``, ``finish``), the way a write per change failed the step that made it."""
        try:
            async with self._lock:
                await self._commit()
        except Exception as exc:  # re-raised by _raise_failure
            self._failure = exc
        finally:
            self._flusher = None
            if self._dirty and self._failure is None:
                self._schedule()  # changes that came in while this write ran

    async def _commit(self) -> None:
        """Write the state if it holds unwritten changes, then close the intents waiting for
        that write. The caller holds the lock."""
        if self._dirty:
            started = time.monotonic()
            written = await asyncio.to_thread(self.backend.write, self.state)
            self._state, self._changes, self._merged = written, {}, written
            self._dirty = False
            self._last_write = time.monotonic()
            self._write_cost = self._last_write - started
        if self._closing:
            closing, self._closing = self._closing, []
            await asyncio.to_thread(self.journal.record_dones, closing)

    def _raise_failure(self) -> None:
        if self._failure is not None:
            raise self._failure
