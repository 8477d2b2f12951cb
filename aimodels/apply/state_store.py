"""``StateStore``: the state and its journal as apply writes them, one writer at a time.

Apply records an intent in the journal before each remote write and closes it after, and
writes the state (through its backend: atomically, serial bumped, conditional on what was
read) as soon as a change completes, so a crash loses at most the changes in flight, and
those are named by the journal. Writes are serialized by one asyncio lock and run in a worker
thread, so fsyncs and storage requests never stall the event loop while other resources are
being polled. The caller holds the state lock for the whole run.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from aimodels.state.backend import RecordFolder, StateBackend, backend_of
from aimodels.state.journal import Journal
from aimodels.state.values import ResourceState, State


class StateStore:
    """The state of one apply run: starts from what was read under the lock, and writes every
    change through the backend (a path: the local state file there). ``upload_records`` is
    where resumable-upload records go, beside the state. Not for use without the state
    lock."""

    def __init__(self, backend: StateBackend | str | Path, state: State,
                 journal: Journal | None = None) -> None:
        self.backend = backend_of(backend)
        self._state = state
        self.journal = journal or self.backend.journal()
        self.upload_records: RecordFolder = self.backend.upload_records()
        self._lock = asyncio.Lock()

    @property
    def state(self) -> State:
        """The state as last written (or as read, before the first write)."""
        return self._state

    def secret_digest(self, value: str) -> str:
        """The keyed digest of a secret under this state's key (what the next plan compares)."""
        return self._state.secret_digest(value)

    async def intent(self, address: str, operation: str,
                     details: Mapping[str, Any] | None = None) -> str:
        """Note durably that ``operation`` on ``address`` is about to be sent; returns its id."""
        async with self._lock:
            return await asyncio.to_thread(self.journal.record_intent, address, operation,
                                           details)

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
        """Close an intent: the write finished (``ok``) or certainly failed (``failed``)."""
        async with self._lock:
            await asyncio.to_thread(self.journal.record_done, intent_id, outcome)

    async def put(self, resource: ResourceState) -> None:
        """Record a created or updated resource (replacing what state held at its address)."""
        await self._write(lambda state: state.with_resource(resource))

    async def remove(self, address: str) -> None:
        """Forget the resource at ``address`` (deleted, or gone outside aimodels)."""
        await self._write(lambda state: state.without(address)
                          if state.get(address) is not None else None)

    def finish(self) -> None:
        """Clear the journal when every intent in it is closed: the state has it all."""
        if not self.journal.pending():
            self.journal.clear()

    async def _write(self, change: Callable[[State], State | None]) -> None:
        """Apply ``change`` to the latest state under the lock (two changes may finish at
        once, and each must see the other's entry); ``None`` means nothing to write."""
        async with self._lock:
            new = change(self._state)
            if new is not None:
                self._state = await asyncio.to_thread(self.backend.write, new)
