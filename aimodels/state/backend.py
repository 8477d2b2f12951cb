"""Where a Stack's state lives: one interface, ``StateBackend``, two backends.

- ``local`` (``LocalBackend``): ``.aimodels/state.json`` beside the Stack (or ``state.path``),
  an atomic file write, a lock file, the journal and upload records in the same folder.
- ``azureblob`` (``state.blob.BlobBackend``): a blob, a lease as the lock, every write
  conditional on the ETag read and snapshotted first, the journal and upload records as
  blobs beside it (so a run on another machine finds them).

Everything that reads or writes state (plan, apply, import, drift, the ``state`` commands)
goes through a backend from ``open_backend``; none of them knows which one it has. A backend
that cannot be reached fails the command (exit 4 or 5): nothing ever falls back to local.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Protocol

from aimodels.errors import AimodelsError, Diagnostic, warning
from aimodels.model.desired import Stack
from aimodels.state.journal import Journal
from aimodels.state.local import STATE_FILE, fsync_dir, read_state, write_state
from aimodels.state.lock import LockInfo, acquire_lock, force_unlock, read_lock
from aimodels.state.values import State

UPLOADS_DIR = "uploads"
#: This machine's measured upload speed, kept among the local upload records: never moved.
UPLOAD_SPEED_FILE = "measured-speed.json"


class StateLock(Protocol):
    """A held state lock: who holds it (``info``), and ``release()`` (also on ``with`` exit).
    ``previous`` is a holder before us that never released the lock (it died, and its lease
    ran out or was force-unlocked); None for the local lock, which is never taken over."""

    info: LockInfo
    previous: LockInfo | None

    def release(self) -> None:
        """Give the lock up (a no-op when it was already released or taken away)."""
        ...

    def __enter__(self) -> StateLock:
        ...

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        ...


class RecordFolder(Protocol):
    """Small named documents kept beside the state (resumable-upload records). Writes are
    whole and durable; ``where`` names the folder in messages."""

    where: str

    def read(self, name: str) -> bytes | None:
        """The document, or None when there is none."""
        ...

    def write(self, name: str, data: bytes) -> None:
        """Replace the document, whole."""
        ...

    def remove(self, name: str) -> None:
        """Delete the document (already gone is fine)."""
        ...

    def names(self) -> list[str]:
        """Every document's name, sorted."""
        ...


@dataclass(frozen=True, slots=True)
class StateVersion:
    """An earlier state kept by a backend's history: its id (what ``state restore`` takes),
    when it was written, and what the write recorded of it."""

    id: str
    written: str
    lineage: str
    serial: int
    resources: int
    written_by: str = ""
    command: str = ""


class StateBackend(Protocol):
    """What plan, apply and the state commands need of a state store. ``where`` names the
    state in messages (``state file /path``, ``state blob URL``); ``kind`` is the backend."""

    kind: str
    where: str

    def read(self) -> State:
        """The state as stored (not claimed for a Stack); a new State when there is none."""
        ...

    def exists(self) -> bool:
        """Whether a state is stored (a plan made without one records no lineage)."""
        ...

    def write(self, state: State, *, replacing: State | None = None) -> State:
        """Store ``state`` with its serial bumped, only if the stored state is still
        ``replacing`` (default ``state``: what was read); PreconditionError otherwise."""
        ...

    def lock(self, command: str) -> StateLock:
        """Take the state lock for ``command``; PreconditionError (exit 6) naming the holder."""
        ...

    def read_lock(self) -> LockInfo | None:
        """Who holds the lock, or None."""
        ...

    def force_unlock(self, lock_id: str) -> LockInfo:
        """End the lock ``lock_id`` (left by a run that is gone); returns who held it."""
        ...

    def journal(self) -> Journal:
        """The apply journal kept beside the state."""
        ...

    def upload_records(self) -> RecordFolder:
        """Where resumable-upload records live, beside the state."""
        ...

    def history(self) -> list[StateVersion]:
        """Earlier states kept, oldest first; AimodelsError when the backend keeps none."""
        ...

    def read_version(self, version_id: str) -> State:
        """One earlier state of ``history``."""
        ...

    def close(self) -> None:
        """Release connections (not the lock)."""
        ...


class LocalBackend:
    """The state file ``path``, with its lock file and journal in the same folder, and the
    upload records in ``records`` (default ``uploads/`` there; the Stack's ``.aimodels``)."""

    kind = "local"

    def __init__(self, path: str | os.PathLike[str], records: Path | None = None) -> None:
        self.path = Path(path)
        self.where = f"state file {self.path}"
        self.records = records or self.path.parent / UPLOADS_DIR

    def read(self) -> State:
        return read_state(self.path)

    def exists(self) -> bool:
        return self.path.exists()

    def write(self, state: State, *, replacing: State | None = None) -> State:
        return write_state(self.path, state, replacing=replacing)

    def lock(self, command: str) -> StateLock:
        return acquire_lock(self.path.parent, command)

    def read_lock(self) -> LockInfo | None:
        return read_lock(self.path.parent)

    def force_unlock(self, lock_id: str) -> LockInfo:
        return force_unlock(self.path.parent, lock_id)

    def journal(self) -> Journal:
        return Journal(self.path.parent)

    def upload_records(self) -> RecordFolder:
        return FileRecordFolder(self.records)

    def history(self) -> list[StateVersion]:
        raise _no_history(self.path)

    def read_version(self, version_id: str) -> State:
        raise _no_history(self.path)

    def close(self) -> None:
        return None


def _no_history(path: Path) -> AimodelsError:
    return AimodelsError(
        f"The local backend keeps no history of the state file {path}",
        hint="Keep it in a backup or version control, or move the state to the azureblob "
             "backend (`aimodels state push`), which keeps every earlier version as a blob "
             "snapshot.")


class FileRecordFolder:
    """A folder of small files, each written atomically (temporary file, fsync, rename)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.where = f"folder {folder}"

    def read(self, name: str) -> bytes | None:
        try:
            return (self.folder / name).read_bytes()
        except (FileNotFoundError, NotADirectoryError):
            return None

    def write(self, name: str, data: bytes) -> None:
        target = self.folder / name
        self.folder.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        with partial.open("wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(partial, target)
        fsync_dir(self.folder)

    def remove(self, name: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            (self.folder / name).unlink()

    def names(self) -> list[str]:
        if not self.folder.is_dir():
            return []
        return sorted(p.name for p in self.folder.iterdir()
                      if p.is_file() and not p.name.startswith("."))


def local_state_path(stack: Stack) -> Path:
    """The local state file of the Stack: ``state.path`` if set, else ``.aimodels/state.json``
    beside the Stack file (also where ``state push`` reads and ``state pull`` writes)."""
    configured = stack.state.path
    if configured:
        return (stack.base_dir / configured).resolve()
    return stack.data_dir / STATE_FILE


def open_backend(stack: Stack, env: Mapping[str, str]) -> StateBackend:
    """The backend the Stack's ``state`` block names (no request is sent yet)."""
    config = stack.state
    if config.backend == "local":
        return LocalBackend(local_state_path(stack), stack.data_dir / UPLOADS_DIR)
    if config.backend == "azureblob":
        from aimodels.state.blob import BlobBackend  # imports azure-storage-blob

        return BlobBackend.open(config, env)
    # The schema allows only the two; a value reaching here is a bug, not bad input.
    raise ValueError(f"unknown state backend {config.backend!r}")


def took_over(lock: StateLock) -> tuple[Diagnostic, ...]:
    """A warning when ``lock`` was taken over from a run that died holding it."""
    if lock.previous is None:
        return ()
    return (warning(
        f"The state lock was last held by {lock.previous.describe()} (lock id "
        f"{lock.previous.id}), which ended without releasing it; its lease ran out (or was "
        "force-unlocked), so this run took the lock",
        "If that run was interrupted mid-apply, what it left in flight is settled from the "
        "journal before anything is planned."),)


def backend_of(target: StateBackend | str | os.PathLike[str]) -> StateBackend:
    """``target`` itself, or the local backend of the state file at the path ``target``."""
    if isinstance(target, str | os.PathLike):
        return LocalBackend(target)
    return target
