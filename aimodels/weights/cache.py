"""A cache of weight-file digests, so that planning unchanged weights reads no content.

An entry maps an absolute path to the sha256 (and detected format) it had when its stat said
(size, mtime_ns, inode, device); a lookup trusts it only while ``stat`` still says exactly
that. Like git's index, an entry whose file was modified within ``RACY_NS`` of being hashed is
not trusted ("racily clean": a write landing in the same timestamp tick as our read would not
move the mtime), so such a file is hashed again next time.

The cache lives in ``.aimodels/weights-cache.json`` beside the Stack. It is only a cache:
unreadable or unwritable, it is ignored, and two processes saving at once lose an entry, not
correctness. It holds paths and digests, nothing secret.
"""

from __future__ import annotations

import json
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

CACHE_FILE = "weights-cache.json"
_VERSION = 1
#: How close to its hashing a file's mtime may be before the entry is not trusted.
RACY_NS = 2_000_000_000


@dataclass(frozen=True, slots=True)
class FileHash:
    """One file's content digest, size and detected format (None: no format)."""

    sha256: str
    size: int
    format: str | None = None


def stat_key(st: os.stat_result) -> dict[str, int]:
    """What must not change for a cached digest to stand."""
    return {"size": st.st_size, "mtime_ns": st.st_mtime_ns, "inode": st.st_ino,
            "device": st.st_dev}


class HashCache:
    """Digests keyed by path and stat; thread-safe (folders are hashed file by file in
    threads). ``path`` None keeps the cache in memory only."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._entries: dict[str, dict[str, Any]] = _load(path)
        self._lock = threading.Lock()
        self._dirty = False

    @classmethod
    def for_stack(cls, data_dir: Path) -> HashCache:
        """The cache of the Stack whose data folder (``.aimodels``) is ``data_dir``."""
        return cls(data_dir / CACHE_FILE)

    def lookup(self, file: Path, st: os.stat_result) -> FileHash | None:
        """The cached digest of ``file`` if ``st`` matches its entry and the entry is trusted."""
        with self._lock:
            entry = self._entries.get(str(file))
        if entry is None or entry.get("stat") != stat_key(st):
            return None
        if st.st_mtime_ns >= int(entry.get("hashedAtNs", 0)) - RACY_NS:
            return None
        return FileHash(str(entry["sha256"]), st.st_size, entry.get("format"))

    def store(self, file: Path, st: os.stat_result, digest: FileHash, hashed_at_ns: int) -> None:
        """Remember ``digest`` for ``file`` as it was at ``st``; ``hashed_at_ns`` is when the
        read that produced it began (wall clock, as mtimes are)."""
        entry = {"stat": stat_key(st), "sha256": digest.sha256, "format": digest.format,
                 "hashedAtNs": hashed_at_ns}
        with self._lock:
            if self._entries.get(str(file)) != entry:
                self._entries[str(file)] = entry
                self._dirty = True

    def save(self) -> None:
        """Write the cache if anything changed, dropping entries of files that are gone.
        Atomic (a temporary file renamed over the old one); failures are ignored."""
        if self.path is None or not self._dirty:
            return
        with self._lock:
            kept = {p: e for p, e in self._entries.items() if os.path.exists(p)}
            self._dirty = False
        body = json.dumps({"version": _VERSION, "entries": kept}, sort_keys=True)
        partial = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            partial.write_text(body, encoding="utf-8")
            os.replace(partial, self.path)
        except OSError:
            partial.unlink(missing_ok=True)


def _load(path: Path | None) -> dict[str, dict[str, Any]]:
    if path is None:
        return {}
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(doc, dict) or doc.get("version") != _VERSION:
        return {}
    entries = doc.get("entries")
    return {str(k): v for k, v in entries.items() if isinstance(v, dict)} \
        if isinstance(entries, dict) else {}
