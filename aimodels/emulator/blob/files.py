"""Blob content on disk: every staged block, and every Put Blob body, is one immutable file.

A file is named by a random token (``<root>/<token[:2]>/<token>``) and never changes once
written: a committed blob is the ordered list of the files of its blocks (its *parts*), so
Put Block List moves no bytes, whatever the size of the blob, and a commit that reuses only some
blocks just lists fewer files. Which files a blob or a staged block owns is metadata, kept in
the emulator's SQLite store by ``store``; this module only writes, reads and removes files.

Bodies arrive as async chunks (``receive``): they are written as they come, in batches of about
1 MiB handed to a worker thread, with their MD5 (and, when the request sent one to check, their
CRC64) computed on the way, so a 4000 MiB block costs one batch of memory, not the block.
Reads (``open_range``) stream the parts in 1 MiB chunks.

Without a data directory (``emulator serve`` without ``--data``, unit tests) the files go to a
temporary directory, created on the first write and removed when the store closes (or, at the
latest, when the process exits).
"""

from __future__ import annotations

import hashlib
import secrets
import shutil
import tempfile
import threading
import time
import weakref
from collections.abc import AsyncIterator, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from azure.storage.extensions.checksums import crc64
from starlette.concurrency import run_in_threadpool

from aimodels.emulator.blob.xml import StorageError

MIB = 1024 * 1024
#: Bytes gathered from a body before they are written (in a worker thread) and hashed.
WRITE_BATCH = MIB
#: Bytes read from disk per chunk of a download.
READ_CHUNK = MIB
#: A download opens at most this many part files before answering (the rest as it goes):
#: files opened before an overwrite or delete removes them stay readable (POSIX), so a read
#: of a range (the SDK reads 4 MiB ranges) is never cut short by a concurrent commit.
OPEN_AHEAD = 64


@dataclass(frozen=True, slots=True)
class Written:
    """A file just written: its token, size in bytes, MD5 digest, and Azure Storage's CRC64
    of it (8 bytes, little-endian, as ``x-ms-content-crc64`` carries it) when it was asked for."""

    token: str
    size: int
    md5: bytes
    crc64: bytes | None = None


class ContentFiles:
    """The content files of one emulator store, under ``root`` (None: a temporary directory)."""

    def __init__(self, root: Path | None) -> None:
        self._root = root
        self._lock = threading.Lock()
        self._cleanup: weakref.finalize[Any, Any] | None = None
        if root is not None:
            root.mkdir(parents=True, exist_ok=True)

    @property
    def root(self) -> Path:
        """The directory, created on first use when it is a temporary one."""
        with self._lock:
            if self._root is None:
                self._root = Path(tempfile.mkdtemp(prefix="aimodels-emulator-blobs-"))
                self._cleanup = weakref.finalize(self, shutil.rmtree, str(self._root), True)
            return self._root

    def path(self, token: str) -> Path:
        return self.root / token[:2] / token

    def create(self) -> FileWriter:
        """A new, empty content file under a fresh token."""
        while True:
            token = secrets.token_hex(8)
            path = self.path(token)
            path.parent.mkdir(exist_ok=True)
            try:
                return FileWriter(token, path, path.open("xb"))
            except FileExistsError:  # 64 random bits: only in theory
                continue

    def remove(self, tokens: Iterable[str]) -> None:
        """Delete these files; one already gone is not an error."""
        for token in set(tokens):
            self.path(token).unlink(missing_ok=True)

    def open_range(self, parts: Sequence[Sequence[Any]], start: int,
                   end: int) -> Iterator[bytes]:
        """Bytes ``start``..``end`` (inclusive) of the content made of ``parts`` (token, size),
        in chunks of at most READ_CHUNK; the first OPEN_AHEAD files are opened before this
        returns. A part file that is missing answers 500 InternalError."""
        pieces: list[tuple[str, int, int]] = []  # token, offset in the part, bytes from it
        offset = 0
        for token, size in parts:
            low, high = max(start, offset), min(end + 1, offset + size)
            if low < high:
                pieces.append((token, low - offset, high - low))
            offset += size
        opened = [self._open(token) for token, _, _ in pieces[:OPEN_AHEAD]]
        return self._stream(pieces, opened)

    def tokens(self) -> Iterator[tuple[str, float]]:
        """Every content file on disk, as (token, modification time)."""
        root = self._root
        if root is None or not root.is_dir():
            return
        for folder in root.iterdir():
            if folder.is_dir() and len(folder.name) == 2:
                for item in folder.iterdir():
                    try:
                        modified = item.stat().st_mtime
                    except FileNotFoundError:  # removed since the listing (a cancelled body)
                        continue
                    yield item.name, modified

    def close(self) -> None:
        """Remove the temporary directory (a data directory stays)."""
        if self._cleanup is not None:
            self._cleanup()

    # -- helpers ----------------------------------------------------------------------------

    def _open(self, token: str) -> IO[bytes]:
        try:
            return self.path(token).open("rb")
        except FileNotFoundError:
            raise StorageError(500, "InternalError", "The blob's content is missing from the "
                               "emulator's data directory.") from None

    def _stream(self, pieces: list[tuple[str, int, int]],
                opened: list[IO[bytes]]) -> Iterator[bytes]:
        try:
            for index, (token, skip, length) in enumerate(pieces):
                handle = opened[index] if index < len(opened) else self._open(token)
                with handle:
                    handle.seek(skip)
                    while length > 0:
                        chunk = handle.read(min(READ_CHUNK, length))
                        if not chunk:
                            raise StorageError(500, "InternalError", "A content file of the "
                                               "blob is shorter than recorded.")
                        length -= len(chunk)
                        yield chunk
        finally:
            for handle in opened:
                handle.close()


class FileWriter:
    """One content file being written: size and MD5 (and the CRC64, once ``crc64`` is set
    to 0) are kept as the bytes go by."""

    def __init__(self, token: str, path: Path, handle: IO[bytes]) -> None:
        self.token, self.path, self._handle = token, path, handle
        self.size = 0
        self._md5 = hashlib.md5()
        self.crc64: int | None = None

    def write(self, chunks: Sequence[bytes]) -> None:
        for chunk in chunks:
            self._md5.update(chunk)
            if self.crc64 is not None:
                self.crc64 = crc64.compute(chunk, self.crc64)
            self._handle.write(chunk)
            self.size += len(chunk)

    def finish(self) -> Written:
        self._handle.close()
        checked = None if self.crc64 is None else self.crc64.to_bytes(8, "little")
        return Written(self.token, self.size, self._md5.digest(), checked)

    def discard(self) -> None:
        self._handle.close()
        self.path.unlink(missing_ok=True)


async def receive(files: ContentFiles, chunks: AsyncIterator[bytes], limit: int,
                  what: str, with_crc64: bool = False) -> Written:
    """Write ``chunks`` to a new content file as they arrive (with their CRC64 too when
    ``with_crc64``); 413 RequestBodyTooLarge past ``limit`` bytes (``what`` names the limit in
    the message). On any failure (a client that went away mid-body included) the partial file
    is deleted."""
    writer = await run_in_threadpool(files.create)
    if with_crc64:
        writer.crc64 = 0
    try:
        batch: list[bytes] = []
        held = 0
        async for chunk in chunks:
            if not chunk:
                continue
            batch.append(chunk)
            held += len(chunk)
            if writer.size + held > limit:
                raise StorageError(413, "RequestBodyTooLarge", f"The request body is too "
                                   f"large and exceeds the maximum permissible limit ({what}).")
            if held >= WRITE_BATCH:
                await run_in_threadpool(writer.write, batch)
                batch, held = [], 0
        if batch:
            await run_in_threadpool(writer.write, batch)
        return await run_in_threadpool(writer.finish)
    except BaseException:
        writer.discard()
        raise


def modified_before(files: ContentFiles, seconds: float) -> Iterator[str]:
    """Tokens of the files not written for ``seconds`` (wall clock: file times are real)."""
    horizon = time.time() - seconds
    for token, mtime in files.tokens():
        if mtime < horizon:
            yield token

