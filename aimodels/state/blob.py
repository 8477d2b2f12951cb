"""The azureblob state backend: the state as one blob, shared by every machine of a team.

Blobs in the configured container, all named from ``state.blob``:

- ``<blob>``: the state document (the same JSON as the local file). Every write is
  conditional on the ETag that was read (``If-Match``; ``If-None-Match: *`` for the first),
  so a run that lost its lock, or any other writer, can never overwrite a newer state: it gets
  exit 6 and nothing is written. Before each write the current content is snapshotted, so
  every earlier state stays recoverable (``state history`` / ``state restore``); the blob's
  metadata records lineage, serial, resource count, writer and command, which the snapshots
  keep, so the history is listed in one request;
- ``<blob>.lock``: an empty blob whose lease is the state lock (``state.lease``);
- ``<blob>.journal``: the apply journal, an append blob (one atomic block per line);
- ``<blob>.uploads/<model>.json``: resumable-upload records.

So a runner killed mid-apply leaves nothing on its own disk that the next run needs: the next
run, on any machine, takes the lock once the lease has run out (or after ``force-unlock``),
settles the journal and resumes uploads from the blobs.
"""

from __future__ import annotations

import getpass
import socket
from collections.abc import Callable, Mapping
from dataclasses import replace

from aimodels.blob.client import container_client
from aimodels.blob.store import BlobStore
from aimodels.errors import AimodelsError, ConflictError, PreconditionError
from aimodels.model.desired import StateBackendConfig
from aimodels.state.backend import StateVersion
from aimodels.state.document import encode_state, parse_state
from aimodels.state.journal import DAMAGED_HINT, Journal
from aimodels.state.lease import DEFAULT_LEASE_SECONDS, BlobLock, held_error, holder
from aimodels.state.lock import LockInfo
from aimodels.state.values import State

_BLOB_HINT = ("Restore an earlier version with `aimodels state history` and `aimodels state "
              "restore`; aimodels never writes half a blob.")


class BlobBackend:
    """The state blob ``blob`` in ``store``, its lock, journal and upload records."""

    kind = "azureblob"

    def __init__(self, store: BlobStore, blob: str,
                 lease_seconds: int = DEFAULT_LEASE_SECONDS) -> None:
        self.store = store
        self.blob = blob
        self.lease_seconds = lease_seconds
        self.where = f"state blob {store.url(blob)}"
        self.lock_blob = f"{blob}.lock"
        self.journal_blob = f"{blob}.journal"
        self.uploads_prefix = f"{blob}.uploads/"
        # The ETag each state we read or wrote was stored at, by (lineage, serial): a write
        # is conditional on the one its base was read at. None: read as absent.
        self._etags: dict[tuple[str, int], str | None] = {}
        self._exists: bool | None = None
        self._held: BlobLock | None = None

    @classmethod
    def open(cls, config: StateBackendConfig, env: Mapping[str, str]) -> BlobBackend:
        """The backend of a schema-valid ``state`` block (no request is sent yet)."""
        account_url = str(config.account_url).rstrip("/")
        store = BlobStore(container_client(account_url, str(config.container), env),
                          account_url)
        return cls(store, str(config.blob), config.lease_seconds or DEFAULT_LEASE_SECONDS)

    # -- the state ----------------------------------------------------------------------

    def read(self) -> State:
        found = self.store.read(self.blob)
        if found is None:
            state = State.new()
            self._etags[(state.lineage, state.serial)] = None
            self._exists = False
            return state
        state = parse_state(self.where, found.data, _BLOB_HINT)
        self._etags[(state.lineage, state.serial)] = found.etag
        self._exists = True
        return state

    def exists(self) -> bool:
        if self._exists is None:
            self.read()
        return bool(self._exists)

    def write(self, state: State, *, replacing: State | None = None) -> State:
        base = replacing or state
        if self._held is not None and not self._held.released:
            self._held.confirm()  # renewed now: we hold the lock for this write
        etag = self._etag_of(base)
        written = replace(state, serial=max(state.serial, base.serial) + 1)
        try:
            if etag is not None:
                self.store.snapshot(self.blob, etag)  # the previous state, kept
            new_etag = self.store.write(self.blob, encode_state(written), etag=etag,
                                        metadata=self._metadata(written))
        except ConflictError as exc:
            raise self._moved(base) from exc
        self._etags[(written.lineage, written.serial)] = new_etag
        self._exists = True
        return written

    def _etag_of(self, base: State) -> str | None:
        """The ETag ``base`` was read at; a state this backend did not read is compared with
        the blob as it is now (as the local backend compares with the file)."""
        key = (base.lineage, base.serial)
        if key in self._etags:
            return self._etags[key]
        if base.serial == 0:
            return None
        self.read()
        if key not in self._etags:
            raise self._moved(base)
        return self._etags[key]

    def _moved(self, base: State) -> PreconditionError:
        now = self.read()
        found = (f"lineage {now.lineage}, serial {now.serial}" if self._exists
                 else "it does not exist any more")
        return PreconditionError(
            f"The {self.where} changed since it was read ({found}; expected lineage "
            f"{base.lineage}, serial {base.serial}): nothing was written",
            hint="Another aimodels run wrote it: run the command again to start from it.")

    def _metadata(self, state: State) -> dict[str, str]:
        """What the history lists of a version without reading it (snapshots keep it)."""
        command = self._held.info.command if self._held is not None else ""
        return {"lineage": state.lineage, "serial": str(state.serial),
                "resources": str(len(state.resources)), "writtenby": _writer(),
                "command": command.encode("ascii", "replace").decode()}

    # -- the lock -----------------------------------------------------------------------

    def lock(self, command: str) -> BlobLock:
        self._held = BlobLock.acquire(self.store, self.lock_blob, command, self.lease_seconds,
                                      self.where)
        return self._held

    def read_lock(self) -> LockInfo | None:
        view = self.store.lease_view(self.lock_blob)
        if view is None or not view.leased:
            return None
        found = holder(view.metadata)
        return found.info if found is not None else None

    def force_unlock(self, lock_id: str) -> LockInfo:
        view = self.store.lease_view(self.lock_blob)
        if view is None or not view.leased:
            raise AimodelsError(f"The {self.where} is not locked: nothing to unlock")
        found = holder(view.metadata)
        if (found is not None and found.info.id != lock_id) or \
                not self.store.release_lease(self.lock_blob, lock_id):
            refused = held_error(self.where, found, 0).message
            raise PreconditionError(
                f"Lock id {lock_id} is not the lock held on the {self.where}. {refused}",
                hint="Copy the id from the message that reported the lock.")
        if found is None:  # held by a run that had not recorded itself yet
            return LockInfo(lock_id, "unknown", "unknown", 0, "unknown",
                            "1970-01-01T00:00:00+00:00")
        return found.info

    # -- beside the state ---------------------------------------------------------------

    def journal(self) -> Journal:
        return Journal(log=BlobJournalLog(self.store, self.journal_blob, self._guard))

    def upload_records(self) -> BlobRecordFolder:
        return BlobRecordFolder(self.store, self.uploads_prefix)

    def _guard(self) -> None:
        """Before a journal line: refuse when the background renewal lost the lock."""
        if self._held is not None and not self._held.released:
            self._held.check()

    # -- history ------------------------------------------------------------------------

    def history(self) -> list[StateVersion]:
        return [StateVersion(
            id=snap.snapshot, written=snap.modified.strftime("%Y-%m-%d %H:%M:%S UTC")
            if snap.modified else "", lineage=snap.metadata.get("lineage", ""),
            serial=_int(snap.metadata.get("serial")),
            resources=_int(snap.metadata.get("resources")),
            written_by=snap.metadata.get("writtenby", ""),
            command=snap.metadata.get("command", ""))
            for snap in self.store.snapshots(self.blob)]

    def read_version(self, version_id: str) -> State:
        found = self.store.read(self.blob, snapshot=version_id)
        if found is None:
            raise AimodelsError(f"The {self.where} has no snapshot {version_id}",
                                hint="`aimodels state history` lists the snapshots it has.")
        return parse_state(f"snapshot {version_id} of the {self.where}", found.data,
                           _BLOB_HINT)

    def close(self) -> None:
        self.store.close()


class BlobJournalLog:
    """The journal as an append blob: each line one Append Block, atomic by itself."""

    def __init__(self, store: BlobStore, name: str, guard: Callable[[], None]) -> None:
        self.store, self.name, self._guard = store, name, guard
        self.where = f"journal blob {store.url(name)}"

    def read_text(self) -> str | None:
        found = self.store.read(self.name)
        if found is None:
            return None
        try:
            return found.data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise AimodelsError(f"The {self.where} is not UTF-8 text",
                                hint=DAMAGED_HINT) from exc

    def append(self, line: bytes) -> None:
        self._guard()
        self.store.append(self.name, line)

    def clear(self) -> None:
        self.store.delete(self.name)


class BlobRecordFolder:
    """Documents as blobs under ``prefix`` (``<blob>.uploads/``)."""

    def __init__(self, store: BlobStore, prefix: str) -> None:
        self.store, self.prefix = store, prefix
        self.where = f"blobs {store.url(prefix)}"

    def read(self, name: str) -> bytes | None:
        found = self.store.read(self.prefix + name)
        return found.data if found is not None else None

    def write(self, name: str, data: bytes) -> None:
        self.store.put(self.prefix + name, data)

    def remove(self, name: str) -> None:
        self.store.delete(self.prefix + name)

    def names(self) -> list[str]:
        return [name[len(self.prefix):] for name in self.store.names(self.prefix)]


def _writer() -> str:
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "unknown"
    return f"{user}@{socket.gethostname()}".encode("ascii", "replace").decode()


def _int(text: str | None) -> int:
    try:
        return int(text or 0)
    except ValueError:
        return 0
