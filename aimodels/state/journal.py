"""The write-ahead journal: what apply was about to do to Azure, kept until state records it.

``apply`` writes an *intent* line (fsynced) before each remote write and a *done* line after
it, and clears the journal once the state file holds the results. If the process dies in
between, ``pending()`` lists the writes that may or may not have reached Azure, so the next run
can re-read those resources (or re-attach to their LROs via ``details``) instead of guessing.

The file is JSON lines, append-only, beside the state: ``.aimodels/journal.jsonl``. A crash
can tear only the last line, which is ignored (and cut before the next append); a damaged line
anywhere else is an error.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aimodels.errors import AimodelsError
from aimodels.state.local import fsync_dir

JOURNAL_FILE = "journal.jsonl"


@dataclass(frozen=True, slots=True)
class JournalEntry:
    """One line of the journal: an ``intent`` to act on ``address``, or the ``done`` that
    closes the intent with the same ``id`` (``outcome`` ok or failed)."""

    id: str
    kind: str
    address: str
    action: str
    at: float
    details: Mapping[str, Any] = field(default_factory=dict)
    outcome: str = ""

    def to_dict(self) -> dict[str, Any]:
        """The JSON form of the line."""
        return {
            "id": self.id,
            "kind": self.kind,
            "address": self.address,
            "action": self.action,
            "at": self.at,
            "details": dict(self.details),
            "outcome": self.outcome,
        }


class Journal:
    """The journal file in a state folder. Not safe across processes without the state lock."""

    def __init__(self, folder: str | os.PathLike[str], clock: Callable[[], float] = time.time):
        self.path = Path(folder) / JOURNAL_FILE
        self._clock = clock

    def record_intent(
        self, address: str, action: str, details: Mapping[str, Any] | None = None
    ) -> str:
        """Note, durably, that ``action`` on ``address`` is about to be sent; returns its id."""
        entry = JournalEntry(
            str(uuid.uuid4()), "intent", address, action, self._clock(), details or {}
        )
        self._append(entry)
        return entry.id

    def record_done(
        self, intent_id: str, outcome: str = "ok", details: Mapping[str, Any] | None = None
    ) -> None:
        """Close the intent ``intent_id``: the write finished (``ok``) or failed for sure."""
        intent = next((e for e in self._entries() if e.id == intent_id), None)
        if intent is None:
            raise ValueError(f"no intent {intent_id} in {self.path}")
        done = JournalEntry(
            intent_id, "done", intent.address, intent.action, self._clock(), details or {}, outcome
        )
        self._append(done)

    def pending(self) -> list[JournalEntry]:
        """Intents with no matching done, oldest first: writes whose outcome is unknown."""
        entries = self._entries()
        closed = {e.id for e in entries if e.kind == "done"}
        return [e for e in entries if e.kind == "intent" and e.id not in closed]

    def clear(self) -> None:
        """Forget every entry; call after the state file holds their results."""
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.path)
            fsync_dir(self.path.parent)

    def _append(self, entry: JournalEntry) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        line = (json.dumps(entry.to_dict(), sort_keys=True) + "\n").encode("utf-8")
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            _drop_torn_tail(fd)
            os.write(fd, line)
            os.fsync(fd)
        finally:
            os.close(fd)

    def _entries(self) -> list[JournalEntry]:
        """The entries in file order; a torn last line (a crash mid-append) is left out."""
        try:
            lines = self.path.read_text(encoding="utf-8").splitlines()
        except FileNotFoundError:
            return []
        except (OSError, UnicodeDecodeError) as exc:
            raise AimodelsError(
                f"Cannot read the journal {self.path}: {getattr(exc, 'strerror', None) or exc}",
                hint="Check the resources it names with `aimodels plan`, then delete it.",
            ) from exc
        entries = []
        for number, line in enumerate(lines, start=1):
            try:
                entries.append(_entry(json.loads(line)))
            except (ValueError, TypeError, RecursionError) as exc:
                if number == len(lines):
                    break  # the last line torn by a crash mid-append: it never happened
                raise AimodelsError(
                    f"The journal {self.path} is damaged at line {number}",
                    hint="Check the resources it names with `aimodels plan`, then delete it.",
                ) from exc
        return entries


def _entry(data: Any) -> JournalEntry:
    """The entry of one parsed line; TypeError when a field is missing or of the wrong type."""
    entry = JournalEntry(**data)
    texts = (entry.id, entry.kind, entry.address, entry.action, entry.outcome)
    if not all(isinstance(t, str) for t in texts) or not isinstance(entry.details, Mapping) \
            or type(entry.at) not in (int, float):
        raise TypeError("a field of the entry has the wrong type")
    return entry


def _drop_torn_tail(fd: int) -> None:
    """Cut a last line without its newline (left by a crash), so the next line stays whole."""
    size = os.fstat(fd).st_size
    if size == 0 or os.pread(fd, 1, size - 1) == b"\n":
        return
    content = os.pread(fd, size, 0)
    os.ftruncate(fd, content.rfind(b"\n") + 1)
