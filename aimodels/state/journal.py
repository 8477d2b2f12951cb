"""The write-ahead journal: what apply was about to do to Azure, kept until state records it.

``apply`` writes an *intent* line (fsynced) before each remote write and a *done* line after
it, and clears the journal once the state file holds the results. If the process dies in
between, ``pending()`` lists the writes that may or may not have reached Azure, so the next run
can re-read those resources (or re-attach to their LROs via ``details``) instead of guessing.

The journal is JSON lines, append-only, beside the state: ``.aimodels/journal.jsonl`` for
the local backend (a crash can tear only the last line, which is ignored and cut before the
next append; a damaged line anywhere else is an error), an append blob beside the state blob
for the azureblob backend (each line one atomic block), so the next run on another machine
finds it. Where the lines live is a ``JournalLog``; what they mean is here.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from aimodels.errors import AimodelsError
from aimodels.state.local import fsync_dir

JOURNAL_FILE = "journal.jsonl"
DAMAGED_HINT = "Check the resources it names with `aimodels plan`, then delete it."


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


class JournalLog(Protocol):
    """Where the journal's lines are kept. ``where`` names it in messages (``journal PATH``)."""

    where: str

    def read_text(self) -> str | None:
        """Every line written so far, or None when there is no journal."""
        ...

    def append(self, line: bytes) -> None:
        """Add one line (ending in a newline) durably, whole or not at all."""
        ...

    def clear(self) -> None:
        """Remove the journal (already gone is fine)."""
        ...


class FileJournalLog:
    """The journal file of the local backend: appends are fsynced, a torn tail is cut."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.where = f"journal {path}"

    def read_text(self) -> str | None:
        try:
            return self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        except (OSError, UnicodeDecodeError) as exc:
            raise AimodelsError(
                f"Cannot read the journal {self.path}: "
                f"{getattr(exc, 'strerror', None) or exc}", hint=DAMAGED_HINT) from exc

    def append(self, line: bytes) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            _drop_torn_tail(fd)
            os.write(fd, line)
            os.fsync(fd)
        finally:
            os.close(fd)

    def clear(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.path)
            fsync_dir(self.path.parent)


class Journal:
    """The journal of one state: ``Journal(folder)`` for the file in a local state folder, or
    ``Journal(log=...)`` for another ``JournalLog`` (the azureblob backend's). Not safe
    across processes without the state lock. ``path`` is the file (None for other logs)."""

    def __init__(self, folder: str | os.PathLike[str] | None = None,
                 clock: Callable[[], float] = time.time, *, log: JournalLog | None = None):
        self.path: Path | None = None
        if log is None:
            if folder is None:
                raise TypeError("Journal needs a folder or a log")
            self.path = Path(folder) / JOURNAL_FILE
            log = FileJournalLog(self.path)
        self.log = log
        self._clock = clock
        # The intents this object wrote and has not closed: closing one then costs O(1),
        # not a re-read of the whole journal (apply closes thousands in one run).
        self._open: dict[str, JournalEntry] = {}

    @property
    def where(self) -> str:
        """The journal as messages name it: ``journal /path`` or ``journal blob URL``."""
        return self.log.where

    def record_intent(
        self, address: str, action: str, details: Mapping[str, Any] | None = None
    ) -> str:
        """Note, durably, that ``action`` on ``address`` is about to be sent; returns its id."""
        return self.record_intents([(address, action, details)])[0]

    def record_intents(
        self, intents: Sequence[tuple[str, str, Mapping[str, Any] | None]]
    ) -> list[str]:
        """``record_intent`` for several ``(address, action, details)`` in one durable append
        (one fsync; each line is whole or absent on its own); returns their ids in order."""
        now = self._clock()
        entries = [JournalEntry(str(uuid.uuid4()), "intent", address, action, now, details or {})
                   for address, action, details in intents]
        self.log.append(b"".join(_line(entry) for entry in entries))
        for entry in entries:
            self._open[entry.id] = entry
        return [entry.id for entry in entries]

    def record_done(
        self, intent_id: str, outcome: str = "ok", details: Mapping[str, Any] | None = None
    ) -> None:
        """Close the intent ``intent_id``: the write finished (``ok``) or failed for sure."""
        self.record_dones([(intent_id, outcome)], details)

    def record_dones(self, closing: Sequence[tuple[str, str]],
                     details: Mapping[str, Any] | None = None) -> None:
        """Close several intents, ``(intent id, outcome)`` each, in one durable append (each
        line is whole or absent, and each closes its intent on its own)."""
        if not closing:
            return
        known = self._open if all(i in self._open for i, _ in closing) else \
            {e.id: e for e in self._entries() if e.kind == "intent"}
        lines = []
        for intent_id, outcome in closing:
            intent = known.get(intent_id)
            if intent is None:
                raise ValueError(f"no intent {intent_id} in the {self.where}")
            lines.append(JournalEntry(intent_id, "done", intent.address, intent.action,
                                      self._clock(), details or {}, outcome))
        self.log.append(b"".join(_line(entry) for entry in lines))
        for intent_id, _ in closing:
            self._open.pop(intent_id, None)

    def pending(self) -> list[JournalEntry]:
        """Intents with no matching done, oldest first: writes whose outcome is unknown."""
        entries = self._entries()
        closed = {e.id for e in entries if e.kind == "done"}
        return [e for e in entries if e.kind == "intent" and e.id not in closed]

    def clear(self) -> None:
        """Forget every entry; call after the state holds their results."""
        self.log.clear()
        self._open.clear()

    def _entries(self) -> list[JournalEntry]:
        """The entries in order; a torn last line (a crash mid-append) is left out."""
        text = self.log.read_text()
        if text is None:
            return []
        lines = text.splitlines()
        entries = []
        for number, line in enumerate(lines, start=1):
            try:
                entries.append(_entry(json.loads(line)))
            except (ValueError, TypeError, RecursionError) as exc:
                if number == len(lines):
                    break  # the last line torn by a crash mid-append: it never happened
                raise AimodelsError(
                    f"The {self.where} is damaged at line {number}", hint=DAMAGED_HINT,
                ) from exc
        return entries


def _line(entry: JournalEntry) -> bytes:
    """The entry as one journal line, newline included."""
    return (json.dumps(entry.to_dict(), sort_keys=True) + "\n").encode("utf-8")


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
