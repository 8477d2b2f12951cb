"""Block blobs kept in the emulator's Store: containers, blobs, staged and committed blocks.

A blob is a document in ``blob.blobs`` keyed ``{container}/{name}`` (blob names are
case-sensitive in Azure, so unlike ARM keys they are not lower-cased). Its committed content is
one entry of ``blob.content``, assembled when a block list is committed; staged blocks wait in
``blob.blocks`` under ``{container}/{name}\\x1f{block id}`` until a commit uses or discards them.
The document records the committed blocks (id, size) in order, so a later Put Block List can
re-commit a subset by slicing the content. A blob with only staged blocks has a document with
``committed: false``: invisible to Get Blob and List Blobs, visible to Get Block List.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from aimodels.emulator.blob_xml import StorageError
from aimodels.emulator.store import Store

_BLOBS, _CONTENT = "blob.blobs", "blob.content"
_BLOCKS, _CONTAINERS = "blob.blocks", "blob.containers"
_SEP = "\x1f"  # never in a blob name (control characters are refused), so prefixes stay exact
_CONTAINER_NAME = re.compile(r"^(?!.*--)[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$")
_METADATA_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


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
    """Container and blob operations over a Store, raising StorageError as Azure answers."""

    def __init__(self, store: Store, clock: Callable[[], float]) -> None:
        self.store = store
        self.clock = clock

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

    def content(self, container: str, name: str) -> bytes:
        return self.store.get_bytes(_CONTENT, _key(container, name)) or b""

    def content_range(self, container: str, name: str, start: int, end: int) -> bytes:
        """Bytes ``start``..``end`` (inclusive) of the committed content, read without loading
        the rest: the SDK downloads large blobs in 4 MiB ranges."""
        key = _key(container, name)
        return self.store.read_bytes(_CONTENT, key, start, end - start + 1) or b""

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

    def put_blob(self, container: str, name: str, data: bytes, write: BlobWrite) -> dict[str, Any]:
        """Put Blob: replace the blob with ``data``; staged blocks are discarded."""
        settings = dict(write.settings)
        settings.setdefault("content_md5", base64.b64encode(hashlib.md5(data).digest()).decode())
        with self.store.transaction():
            doc = self._fresh(container, name)
            doc.update(size=len(data), blocks=[], uncommitted=[], committed=True,
                       settings=settings, metadata=write.metadata)
            self._save(doc, data)
        return doc

    def stage_block(self, container: str, name: str, block_id: str, data: bytes) -> None:
        """Put Block: keep ``data`` as an uncommitted block of the blob."""
        _check_block_id(block_id)
        with self.store.transaction():
            doc = self.find(container, name) or self._fresh(container, name, committed=False)
            _check_same_length(block_id, doc)
            doc["uncommitted"] = [b for b in doc["uncommitted"] if b[0] != block_id]
            doc["uncommitted"].append([block_id, len(data)])
            self.store.put_bytes(_BLOCKS, _key(container, name) + _SEP + block_id, data)
            self.store.put(_BLOBS, _key(container, name), doc)

    def commit_blocks(self, container: str, name: str, entries: Sequence[tuple[str, str]],
                      write: BlobWrite) -> dict[str, Any]:
        """Put Block List: the blob becomes ``entries`` in order; other staged blocks go."""
        with self.store.transaction():
            doc = self.find(container, name) or self._fresh(container, name, committed=False)
            old_content = self.content(container, name) if doc["committed"] else b""
            parts, blocks = self._resolve(doc, entries, old_content)
            data = b"".join(parts)
            doc.update(size=len(data), blocks=blocks, uncommitted=[], committed=True,
                       settings=dict(write.settings), metadata=write.metadata,
                       modified=self.clock(), etag=new_blob_etag())
            self._save(doc, data)
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
        """Delete Blob (and its staged blocks); 404 BlobNotFound if there is no committed blob."""
        with self.store.transaction():
            self.committed(container, name)
            self._drop(container, name)

    def delete_prefix(self, container: str, prefix: str) -> int:
        """Delete every blob (committed or staged) whose name starts with ``prefix``."""
        with self.store.transaction():
            docs = self.store.list(_BLOBS, _key(container, prefix))
            for doc in docs:
                self._drop(container, doc["name"])
        return len(docs)

    # -- helpers ----------------------------------------------------------------------------

    def _fresh(self, container: str, name: str, committed: bool = True) -> dict[str, Any]:
        _check_blob_name(name)
        now = self.clock()
        old = self.find(container, name)
        return {"container": container, "name": name, "created": old["created"] if old else now,
                "modified": now, "etag": new_blob_etag(), "size": 0, "committed": committed,
                "blocks": [], "uncommitted": [], "settings": {}, "metadata": {}}

    def _save(self, doc: dict[str, Any], data: bytes) -> None:
        key = _key(doc["container"], doc["name"])
        self.store.delete_bytes(_BLOCKS, key + _SEP)
        self.store.put_bytes(_CONTENT, key, data)
        self.store.put(_BLOBS, key, doc)

    def _drop(self, container: str, name: str) -> None:
        key = _key(container, name)
        self.store.delete_bytes(_BLOCKS, key + _SEP)
        self.store.delete_bytes(_CONTENT, key)
        self.store.delete(_BLOBS, key)

    def _resolve(self, doc: dict[str, Any], entries: Sequence[tuple[str, str]],
                 old_content: bytes) -> tuple[list[bytes], list[list[Any]]]:
        """The bytes and (id, size) of each listed block, from staged or committed blocks."""
        staged = {block_id for block_id, _ in doc["uncommitted"]}
        offsets, offset = {}, 0
        for block_id, size in doc["blocks"]:
            offsets[block_id] = (offset, size)
            offset += size
        parts, blocks = [], []
        key = _key(doc["container"], doc["name"]) + _SEP
        for kind, block_id in entries:
            if kind != "Committed" and block_id in staged:
                data = self.store.get_bytes(_BLOCKS, key + block_id) or b""
            elif kind != "Uncommitted" and block_id in offsets:
                start, size = offsets[block_id]
                data = old_content[start:start + size]
            else:
                raise StorageError(400, "InvalidBlockList", "The specified block list is invalid.")
            parts.append(data)
            blocks.append([block_id, len(data)])
        return parts, blocks


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


def _check_same_length(block_id: str, doc: dict[str, Any]) -> None:
    known = [b[0] for b in doc["blocks"] + doc["uncommitted"]]
    if any(len(other) != len(block_id) for other in known):
        raise StorageError(400, "InvalidBlobOrBlock",
                           "The specified blob or block content is invalid.")
