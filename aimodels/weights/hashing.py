"""Content digests of CustomModel weights for the plan: sha256 per file (from the cache when the
file's stat has not moved), the folder digest over them, the total size and the formats found.

Files of a folder are hashed in a few threads (hashlib releases the GIL on large buffers), so
a sharded model hashes at disk speed rather than one core's sha256 speed.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from aimodels.model.desired import DesiredResource
from aimodels.plan.values import Weights
from aimodels.weights.cache import FileHash, HashCache, stat_key
from aimodels.weights.formats import detect_format
from aimodels.weights.source import WeightsFile, folder_digest, local_root, weights_files

#: Read size while hashing: large enough that hashlib runs without the GIL most of the time.
READ_CHUNK = 4 * 1024 * 1024
HASH_THREADS = 4


@dataclass(frozen=True, slots=True)
class HashedWeights:
    """What the plan knows of local weights: the digest, total size, each file's entry
    (relative path, size, sha256) and the formats detected among them."""

    sha256: str
    size: int
    files: tuple[tuple[str, int, str], ...]
    formats: frozenset[str]

    @property
    def format(self) -> str | None:
        """The one format the files share, or None (none found, or several)."""
        return next(iter(self.formats)) if len(self.formats) == 1 else None

    def weights(self) -> Weights:
        return Weights(self.sha256, self.size, self.format)


def hash_weights(resource: DesiredResource, cache: HashCache | None = None) -> Weights | None:
    """sha256 and size of a CustomModel's local file or folder (None for a URL source)."""
    root = local_root(resource)
    return hash_local(root, cache).weights() if root is not None else None


def hash_local(root: Path, cache: HashCache | None = None,
               roots: Sequence[Path] | None = None) -> HashedWeights:
    """Hash the file or folder ``root`` (through ``cache`` when given); every file must lie
    under ``roots`` (``weights_files``: by default ``root`` itself)."""
    files = weights_files(root, roots)
    hashes = _hash_all(files, cache)
    entries = tuple((f.relative, h.size, h.sha256) for f, h in zip(files, hashes, strict=True))
    single = root.is_file()
    digest = hashes[0].sha256 if single else folder_digest(entries)
    formats = frozenset(h.format for h in hashes if h.format)
    return HashedWeights(digest, sum(h.size for h in hashes), entries, formats)


def hash_file(path: Path, cache: HashCache | None = None) -> FileHash:
    """One file's digest: the cached one if its stat has not moved, else read and remember."""
    before = path.stat()
    if cache is not None and (hit := cache.lookup(path, before)) is not None:
        return hit
    started = time.time_ns()
    digest = hashlib.sha256()
    size = 0
    buffer = bytearray(READ_CHUNK)
    view = memoryview(buffer)
    with path.open("rb", buffering=0) as handle:
        while count := handle.readinto(buffer):
            digest.update(view[:count])
            size += count
    found = FileHash(digest.hexdigest(), size, detect_format(path))
    if cache is not None and stat_key(path.stat()) == stat_key(before):
        cache.store(path, before, found, started)
    return found


def remember(cache: HashCache, path: Path, before: os.stat_result, digest: FileHash,
             started_ns: int) -> None:
    """Record a digest computed elsewhere (the uploader hashes while it sends) if the file
    did not move while it was read."""
    if stat_key(path.stat()) == stat_key(before):
        cache.store(path, before, digest, started_ns)


def _hash_all(files: Sequence[WeightsFile], cache: HashCache | None) -> list[FileHash]:
    if len(files) == 1:
        return [hash_file(files[0].path, cache)]
    with ThreadPoolExecutor(max_workers=min(HASH_THREADS, os.cpu_count() or 1)) as pool:
        return list(pool.map(lambda f: hash_file(f.path, cache), files))
