"""The emulator's storage: JSON documents in SQLite (in memory or in a file) and blob content in
files beside it (``blob.files``).

State is keyed by (collection, key). Everything time-dependent (LRO progress) is derived from
timestamps stored here, so an operation started by one process finishes in a later one. With a
database file ``DIR/emulator.sqlite3``, content files live under ``DIR/blobs/``; an in-memory
store keeps them in a temporary directory removed on ``close``.
"""

from __future__ import annotations

import builtins
import json
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from aimodels.emulator.blob.files import ContentFiles
from aimodels.errors import AimodelsError

_SCHEMA = """
CREATE TABLE IF NOT EXISTS docs (
  collection TEXT NOT NULL, key TEXT NOT NULL, body TEXT NOT NULL,
  PRIMARY KEY (collection, key));
-- Blob content an older emulator kept here (SQLite caps a value at 1 GB); moved to files.
CREATE TABLE IF NOT EXISTS data (
  collection TEXT NOT NULL, key TEXT NOT NULL, bytes BLOB NOT NULL,
  PRIMARY KEY (collection, key));
"""


class StoreError(AimodelsError):
    """The store's SQLite file cannot be created or opened (not writable, not a database)."""


def _open(path: Path | None) -> sqlite3.Connection:
    target = ":memory:"
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        target = str(path)
    conn = sqlite3.connect(target, check_same_thread=False, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode=WAL" if path else "PRAGMA journal_mode=MEMORY")
        conn.executescript(_SCHEMA)
    except sqlite3.Error:
        conn.close()
        raise
    return conn


class Store:
    """A small document store; thread-safe (one connection behind a lock).

    Keys are compared case-insensitively the way ARM compares names: callers pass lower-cased keys
    and keep the original casing inside the document.
    """

    def __init__(self, path: Path | None = None) -> None:
        try:
            self._conn = _open(path)
            self.files = ContentFiles(path.parent / "blobs" if path else None)
        except (OSError, sqlite3.Error) as exc:
            raise StoreError(f"cannot open the emulator's database {path}: {exc}",
                             hint="Use a directory you can write to; move a file that is not "
                             "the emulator's database out of the way.") from None
        self._lock = threading.RLock()

    @contextmanager
    def transaction(self) -> Iterator[Store]:
        """Hold the store for a read-modify-write (e.g. an ETag check followed by a write)."""
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    def get(self, collection: str, key: str) -> dict[str, Any] | None:
        with self._lock:
            row = self._conn.execute(
                "SELECT body FROM docs WHERE collection=? AND key=?", (collection, key)
            ).fetchone()
        return json.loads(row[0]) if row else None

    def put(self, collection: str, key: str, body: dict[str, Any]) -> None:
        with self._lock:
            self._conn.execute(
                "INSERT OR REPLACE INTO docs(collection, key, body) VALUES (?, ?, ?)",
                (collection, key, json.dumps(body)),
            )

    def delete(self, collection: str, key: str) -> bool:
        with self._lock:
            cur = self._conn.execute(
                "DELETE FROM docs WHERE collection=? AND key=?", (collection, key)
            )
        return cur.rowcount > 0

    def list(self, collection: str, prefix: str = "", limit: int = -1,
             after: str = "") -> list[dict[str, Any]]:
        """Documents of a collection whose key starts with ``prefix``, in key order (at most
        ``limit`` of them; -1: all), only those whose key sorts after ``after`` when given."""
        with self._lock:
            rows = self._conn.execute(
                "SELECT body FROM docs WHERE collection=? AND key >= ? AND key > ? AND key < ? "
                "ORDER BY key LIMIT ?", (collection, prefix, after, prefix + "\uffff", limit),
            ).fetchall()
        return [json.loads(r[0]) for r in rows]

    def legacy_bytes(self) -> builtins.list[tuple[str, str, int, int]]:  # not Store.list
        """(collection, key, rowid, length) of the byte entries an older emulator kept in
        SQLite (blob content now lives in ``files``); ``blob.store`` moves them out once."""
        with self._lock:
            rows = self._conn.execute(
                "SELECT collection, key, rowid, length(bytes) FROM data").fetchall()
        return [(str(c), str(k), int(r), int(n)) for c, k, r, n in rows]

    def legacy_read(self, rowid: int, start: int, length: int) -> bytes:
        """``length`` bytes of a legacy entry from ``start``, through SQLite's incremental blob
        I/O (an entry can be close to 1 GB)."""
        with self._lock, self._conn.blobopen("data", "bytes", rowid, readonly=True) as blob:
            blob.seek(start)
            return blob.read(length)

    def drop_legacy(self, rowid: int) -> None:
        with self._lock:
            self._conn.execute("DELETE FROM data WHERE rowid=?", (rowid,))

    def close(self) -> None:
        with self._lock:
            self._conn.close()
        self.files.close()
