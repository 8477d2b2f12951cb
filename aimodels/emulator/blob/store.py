"""Block blobs kept by the emulator: containers, blobs, staged and committed blocks.

Metadata is in the Store's SQLite documents, content in files (``files``), one immutable
file per staged block or Put Blob body:

- a blob is a document in ``blob.blobs`` keyed ``{container}/{name}`` (blob names are
  case-sensitive in Azure, so unlike ARM keys they are not lower-cased). ``blocks`` lists its
  committed blocks (id, size) as Get Block List shows them, ``parts`` the files its content is
  made of (token, size), in order: one per committed block, or one for a Put Blob body.
- a staged block is a document in ``blob.staged`` keyed ``{container}/{name}\x1f{block id}``
  naming its file. A blob with only staged blocks has a document with ``committed: false``:
  invisible to Get Blob and List Blobs, visible to Get Block List.

Put Block List therefore moves no bytes: the listed blocks' files become the blob's parts, the
files nothing lists any more are deleted (after the transaction, so a failed commit loses
nothing). Uncommitted blocks go on commit, on Put Blob, on delete, and, as in Azure, a week after
a blob's last Put Block without a commit (``collect_garbage``).
"""

from __future__ import annotations

import base64
import binascii
import re
import secrets
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from aimodels.emulator.blob.files import MIB, ContentFiles, Written, modified_before
from aimodels.emulator.blob.xml import StorageError
from aimodels.emulator.store import Store

_BLOBS, _STAGED, _CONTAINERS = "blob.blobs", "blob.staged", "blob.containers"
_SEP = "\x1f"  # never in a blob name (control characters are refused), so prefixes stay exact
_CONTAINER_NAME = re.compile(r"^(?!.*--)[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$")
_METADATA_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")

#: Azure's largest block and largest Put Blob body (service version 2019-12-12 and later).
MAX_BLOCK_BYTES = 4000 * MIB
MAX_PUT_BLOB_BYTES = 5000 * MIB
#: Azure discards a blob's uncommitted blocks a week after its last Put Block without a commit.
UNCOMMITTED_SECONDS = 7 * 24 * 3600
#: How often (emulator time) staging looks for blocks past that week.
SWEEP_EVERY_SECONDS = 3600.0
#: At start, content files that no document names are deleted once this old (file time): a
#: crash can leave one behind, and a write in progress (maybe by another process sharing the
#: data directory) is younger.
ORPHAN_SECONDS = 3600.0


@dataclass(frozen=True, slots=True)
class BlobWrite:
    """The properties a write sets: content settings (``content_type``...) and metadata."""

    settings: dict[str, str]
    metadata: dict[str, str]


@dataclass(frozen=True, slots=True)
class BlobListing:
    """One page of List Blobs: committed blob documents, folder prefixes, the next marker."""

    blobs: list[dict[str, Any]]
    prefixes: list[str]
    next_marker: str


class BlobStore:
    """Container and blob operations over a Store, raising StorageError as Azure answers.

    A write takes a content file already received (``Written``) and owns it from then on: if
    the write is refused, the file is deleted."""

    def __init__(self, store: Store, clock: Callable[[], float]) -> None:
        self.store = store
        self.files: ContentFiles = store.files
        self.clock = clock
        self._next_sweep: float | None = None

    # -- containers -------------------------------------------------------------------------

    def ensure_container(self, name: str) -> dict[str, Any]:
        """The container ``name``, created if missing (the registry owns the containers)."""
        if not _CONTAINER_NAME.match(name):
            raise StorageError(400, "InvalidResourceName",
                               "The specified resource name contains invalid characters.")
        with self.store.transaction():
            doc = self.store.get(_CONTAINERS, name)
            if doc is None:
                doc = {"name": name, "created": self.clock(), "etag": new_blob_etag()}
                self.store.put(_CONTAINERS, name, doc)
        return doc

    def require_container(self, name: str) -> dict[str, Any]:
        """The container's document, or 404 ContainerNotFound."""
        doc = self.store.get(_CONTAINERS, name)
        if doc is None:
            raise StorageError(404, "ContainerNotFound", "The specified container does not exist.")
        return doc

    # -- reads ------------------------------------------------------------------------------

    def find(self, container: str, name: str) -> dict[str, Any] | None:
        """The blob's document, committed or only staged; None if unknown."""
        return self.store.get(_BLOBS, _key(container, name))

    def committed(self, container: str, name: str) -> dict[str, Any]:
        """The committed blob's document, or 404 BlobNotFound."""
        doc = self.find(container, name)
        if doc is None or not doc["committed"]:
            raise StorageError(404, "BlobNotFound", "The specified blob does not exist.")
        return doc

    def uncommitted(self, container: str, name: str) -> list[list[Any]]:
        """The blob's staged blocks as (id, size), in the order they were staged."""
        rows = self._staged(_key(container, name))
        return [[row["id"], row["size"]] for row in sorted(rows, key=lambda r: r["staged"])]

    def read(self, doc: dict[str, Any], start: int, end: int) -> Iterator[bytes]:
        """Bytes ``start``..``end`` (inclusive) of a committed blob, in chunks, from its files:
        a ranged read costs the range, whatever the size of the blob."""
        return self.files.open_range(doc["parts"], start, end)

    def listing(self, container: str, prefix: str, marker: str, limit: int,
                delimiter: str = "") -> BlobListing:
        """Committed blobs under ``prefix`` from ``marker`` on, at most ``limit`` entries."""
        docs = [d for d in self.store.list(_BLOBS, _key(container, prefix)) if d["committed"]]
        blobs: list[dict[str, Any]] = []
        prefixes: list[str] = []
        for doc in docs:
            name = doc["name"]
            folder = _folder_of(name, prefix, delimiter)
            entry = folder or name
            if entry < marker or (folder and folder in prefixes):
                continue
            if len(blobs) + len(prefixes) == limit:
                return BlobListing(blobs, prefixes, entry)
            if folder:
                prefixes.append(folder)
            else:
                blobs.append(doc)
        return BlobListing(blobs, prefixes, "")

    # -- writes -----------------------------------------------------------------------------

    def put_blob(self, container: str, name: str, content: Written,
                 write: BlobWrite) -> dict[str, Any]:
        """Put Blob: the blob becomes ``content``; its staged blocks are discarded."""
        settings = dict(write.settings)
        settings.setdefault("content_md5", base64.b64encode(content.md5).decode())
        with self._owning(content), self.store.transaction():
            old = self.find(container, name)
            doc = self._fresh(container, name, old)
            doc.update(size=content.size, blocks=[], parts=[[content.token, content.size]],
                       settings=settings, metadata=write.metadata)
            dropped = self._replace(doc, old)
        self.files.remove(dropped)
        return doc

    def check_block(self, container: str, name: str, block_id: str) -> None:
        """400 if Put Block would refuse ``block_id`` for this blob: asked before the body is
        received, so a bad request does not cost its upload."""
        _check_blob_name(name)
        _check_block_id(block_id)
        key = _key(container, name)
        doc = self.store.get(_BLOBS, key)
        known = [b[0] for b in (doc or {}).get("blocks", [])[:1]]
        known += [row["id"] for row in self.store.list(_STAGED, key + _SEP, limit=1)]
        if any(len(other) != len(block_id) for other in known):
            raise StorageError(400, "InvalidBlobOrBlock",
                               "The specified blob or block content is invalid.")

    def stage_block(self, container: str, name: str, block_id: str, content: Written) -> None:
        """Put Block: keep ``content`` as an uncommitted block of the blob (replacing a block
        staged before under the same id)."""
        key = _key(container, name)
        with self._owning(content), self.store.transaction():
            self.check_block(container, name, block_id)
            if self.find(container, name) is None:
                self.store.put(_BLOBS, key, self._fresh(container, name, None, committed=False))
            old = self.store.get(_STAGED, key + _SEP + block_id)
            self.store.put(_STAGED, key + _SEP + block_id, {
                "blob": key, "id": block_id, "size": content.size, "token": content.token,
                "staged": self.clock()})
        if old is not None and old["token"] != content.token:
            self.files.remove([old["token"]])
        self._sweep_now_and_then()

    def commit_blocks(self, container: str, name: str, entries: Sequence[tuple[str, str]],
                      write: BlobWrite) -> dict[str, Any]:
        """Put Block List: the blob becomes ``entries`` in order; other staged blocks go."""
        with self.store.transaction():
            old = self.find(container, name)
            blocks, parts = self._resolve(_key(container, name), old, entries)
            doc = self._fresh(container, name, old)
            doc.update(size=sum(size for _, size in parts), blocks=blocks, parts=parts,
                       settings=dict(write.settings), metadata=write.metadata)
            dropped = self._replace(doc, old)
        self.files.remove(dropped)
        return doc

    def set_metadata(self, container: str, name: str, metadata: dict[str, str]) -> dict[str, Any]:
        with self.store.transaction():
            doc = self.committed(container, name)
            doc.update(metadata=metadata, modified=self.clock(), etag=new_blob_etag())
            self.store.put(_BLOBS, _key(container, name), doc)
        return doc

    def record_copy(self, container: str, name: str, copy: dict[str, str]) -> dict[str, Any]:
        """Attach the copy status (``x-ms-copy-*`` properties) to a blob a copy wrote."""
        with self.store.transaction():
            doc = self.committed(container, name)
            doc["copy"] = copy
            self.store.put(_BLOBS, _key(container, name), doc)
        return doc

    def delete(self, container: str, name: str) -> None:
        """Delete Blob (its files and staged blocks); 404 BlobNotFound if it is not committed."""
        with self.store.transaction():
            dropped = self._drop(self.committed(container, name))
        self.files.remove(dropped)

    def delete_prefix(self, container: str, prefix: str) -> int:
        """Delete every blob (committed or staged) whose name starts with ``prefix``."""
        with self.store.transaction():
            docs = self.store.list(_BLOBS, _key(container, prefix))
            dropped = [token for doc in docs for token in self._drop(doc)]
        self.files.remove(dropped)
        return len(docs)

    # -- housekeeping -----------------------------------------------------------------------

    def prepare(self) -> None:
        """What an emulator does once when it opens its store: move content an older emulator
        kept in SQLite to files, drop staged blocks past their week, delete orphaned files."""
        self._migrate_legacy()
        self.collect_garbage(orphans=True)

    def collect_garbage(self, orphans: bool = False) -> int:
        """Drop the staged blocks of blobs whose last Put Block is more than a week old (and
        such a blob's document if it has no committed content); with ``orphans``, also delete
        content files no document names that are older than ORPHAN_SECONDS. Returns how many
        files were deleted."""
        cutoff = self.clock() - UNCOMMITTED_SECONDS
        with self.store.transaction():
            latest: dict[str, float] = {}
            rows = self.store.list(_STAGED)
            for row in rows:
                latest[row["blob"]] = max(latest.get(row["blob"], row["staged"]), row["staged"])
            expired = {blob for blob, staged in latest.items() if staged < cutoff}
            dropped = [row["token"] for row in rows if row["blob"] in expired]
            for row in rows:
                if row["blob"] in expired:
                    self.store.delete(_STAGED, row["blob"] + _SEP + row["id"])
            for blob in expired:
                doc = self.store.get(_BLOBS, blob)
                if doc is not None and not doc["committed"]:
                    self.store.delete(_BLOBS, blob)
        stale = list(modified_before(self.files, ORPHAN_SECONDS)) if orphans else []
        if stale:
            named = self._named_tokens()
            dropped += [token for token in stale if token not in named]
        self.files.remove(dropped)
        return len(set(dropped))

    def _sweep_now_and_then(self) -> None:
        now = self.clock()
        if self._next_sweep is None:
            self._next_sweep = now + SWEEP_EVERY_SECONDS  # the store was swept when it opened
        elif now >= self._next_sweep:
            self._next_sweep = now + SWEEP_EVERY_SECONDS
            self.collect_garbage()

    def _named_tokens(self) -> set[str]:
        with self.store.transaction():
            named = {row["token"] for row in self.store.list(_STAGED)}
            for doc in self.store.list(_BLOBS):
                named.update(token for token, _ in doc.get("parts", []))
        return named

    def _migrate_legacy(self) -> None:
        """Content an older emulator kept in SQLite rows (``blob.content`` per blob,
        ``blob.blocks`` per staged block) becomes files; documents gain ``parts`` and lose
        their ``uncommitted`` list, which staged-block documents replace."""
        for collection, key, rowid, length in self.store.legacy_bytes():
            with self.store.transaction():
                if collection == "blob.content":
                    self._migrate_content(key, rowid, length)
                elif collection == "blob.blocks":
                    self._migrate_block(key, rowid, length)
                self.store.drop_legacy(rowid)
        with self.store.transaction():
            for doc in self.store.list(_BLOBS):
                if "parts" not in doc or "uncommitted" in doc:
                    doc.pop("uncommitted", None)
                    doc.setdefault("parts", [])
                    self.store.put(_BLOBS, _key(doc["container"], doc["name"]), doc)

    def _migrate_content(self, key: str, rowid: int, length: int) -> None:
        doc = self.store.get(_BLOBS, key)
        if doc is None:
            return
        sizes = [size for _, size in doc["blocks"]] or [length]
        parts, offset = [], 0
        for size in sizes:
            written = self._copy_legacy(rowid, offset, size)
            parts.append([written.token, written.size])
            offset += size
        doc["parts"] = parts
        self.store.put(_BLOBS, key, doc)

    def _migrate_block(self, key: str, rowid: int, length: int) -> None:
        blob, _, block_id = key.partition(_SEP)
        doc = self.store.get(_BLOBS, blob)
        if doc is None:
            return
        written = self._copy_legacy(rowid, 0, length)
        self.store.put(_STAGED, key, {"blob": blob, "id": block_id, "size": written.size,
                                      "token": written.token, "staged": doc["modified"]})

    def _copy_legacy(self, rowid: int, start: int, size: int) -> Written:
        writer = self.files.create()
        for offset in range(start, start + size, MIB):
            writer.write([self.store.legacy_read(rowid, offset, min(MIB, start + size - offset))])
        return writer.finish()

    # -- helpers ----------------------------------------------------------------------------

    @contextmanager
    def _owning(self, content: Written) -> Iterator[None]:
        """Delete ``content``'s file if the write that was to keep it fails."""
        try:
            yield
        except BaseException:
            self.files.remove([content.token])
            raise

    def _fresh(self, container: str, name: str, old: dict[str, Any] | None,
               committed: bool = True) -> dict[str, Any]:
        _check_blob_name(name)
        now = self.clock()
        return {"container": container, "name": name, "created": old["created"] if old else now,
                "modified": now, "etag": new_blob_etag(), "size": 0, "committed": committed,
                "blocks": [], "parts": [], "settings": {}, "metadata": {}}

    def _staged(self, key: str) -> list[dict[str, Any]]:
        return self.store.list(_STAGED, key + _SEP)

    def _replace(self, doc: dict[str, Any], old: dict[str, Any] | None) -> list[str]:
        """Save ``doc`` over ``old`` and discard the blob's staged blocks; returns the tokens
        of the files nothing uses any more."""
        key = _key(doc["container"], doc["name"])
        dropped = self._drop(old) if old is not None else []
        self.store.put(_BLOBS, key, doc)
        kept = {token for token, _ in doc["parts"]}
        return [token for token in dropped if token not in kept]

    def _drop(self, doc: dict[str, Any]) -> list[str]:
        """Delete a blob's document and staged blocks; returns the tokens of their files."""
        key = _key(doc["container"], doc["name"])
        staged = self._staged(key)
        for row in staged:
            self.store.delete(_STAGED, key + _SEP + row["id"])
        self.store.delete(_BLOBS, key)
        return [token for token, _ in doc["parts"]] + [row["token"] for row in staged]

    def _resolve(self, key: str, old: dict[str, Any] | None,
                 entries: Sequence[tuple[str, str]]) -> tuple[list[list[Any]], list[list[Any]]]:
        """The (id, size) and (token, size) of each listed block, staged or committed."""
        staged = {row["id"]: (row["token"], row["size"]) for row in self._staged(key)}
        committed: dict[str, tuple[str, int]] = {}
        if old is not None and old["committed"]:
            for (block_id, _), (token, size) in zip(old["blocks"], old["parts"], strict=False):
                committed[block_id] = (token, size)
        blocks, parts = [], []
        for kind, block_id in entries:
            if kind != "Committed" and block_id in staged:
                token, size = staged[block_id]
            elif kind != "Uncommitted" and block_id in committed:
                token, size = committed[block_id]
            else:
                raise StorageError(400, "InvalidBlockList", "The specified block list is invalid.")
            blocks.append([block_id, size])
            parts.append([token, size])
        return blocks, parts


def new_blob_etag() -> str:
    """A Storage-style ETag (``"0x8DD...``"), quoted."""
    return f'"0x8DD{secrets.token_hex(6).upper()}"'


def parse_metadata(headers: dict[str, str]) -> dict[str, str]:
    """The ``x-ms-meta-*`` request headers as metadata; 400 InvalidMetadata on a bad name."""
    metadata = {}
    for header, value in headers.items():
        if header.lower().startswith("x-ms-meta-"):
            name = header[len("x-ms-meta-"):]
            if not _METADATA_NAME.match(name):
                raise StorageError(400, "InvalidMetadata",
                                   "The metadata specified is invalid. It has characters that "
                                   "are not permitted.")
            metadata[name] = value
    return metadata


def _key(container: str, name: str) -> str:
    return f"{container}/{name}"


def _folder_of(name: str, prefix: str, delimiter: str) -> str:
    if not delimiter:
        return ""
    cut = name.find(delimiter, len(prefix))
    return name[:cut + len(delimiter)] if cut >= 0 else ""


def _check_blob_name(name: str) -> None:
    if not name or len(name) > 1024 or any(ord(c) < 0x20 for c in name):
        raise StorageError(400, "InvalidResourceName",
                           "The specified resource name contains invalid characters.")


def _check_block_id(block_id: str) -> None:
    try:
        raw = base64.b64decode(block_id, validate=True)
    except (binascii.Error, ValueError):
        raw = b""
    if not raw or len(raw) > 64:
        raise StorageError(400, "InvalidQueryParameterValue",
                           "Value for one of the query parameters specified in the request URI "
                           "is invalid.", headers={"x-ms-invalid-query-parameter": "blockid"})

