"""CustomModel weights: upload through the registry's SAS URI with azure-storage-blob.

``POST /datastore/upload/initialize`` hands out a SAS for a per-upload folder; each file (one,
or every file of a folder with its relative path kept) goes up as fixed-size blocks with
deterministic ids (block ``i`` is ``f"{i:08d}"``, base64 on the wire) and one commit, so a
later resumable upload can ask the service which blocks it already has (seed notes in
azure-contracts.md §4.1; the resume itself is issue 6). The content is hashed while it is read,
and the result must match the digest the plan was made with: a file edited between plan and
apply is refused before it is registered.

The blob SDK is synchronous; each file is uploaded in a worker thread. Its errors are turned
into ``RemoteError`` here, with the SAS never named (only the blob path).
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

from azure.core.exceptions import AzureError
from azure.storage.blob import BlobBlock, BlobClient

from aimodels.errors import AimodelsError, RemoteError
from aimodels.transport.client import AzureClient
from aimodels.transport.endpoints import rewrite_url

#: Block size for staged uploads: 8 MiB keeps a 400 GB file under the 50,000-block limit.
BLOCK_SIZE = 8 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class WeightsFile:
    """One file to upload: its path inside the upload folder (posix) and on this machine."""

    relative: str
    path: Path
    size: int


@dataclass(frozen=True, slots=True)
class Upload:
    """A finished upload: the registry's ``upload_id`` and the content digest and size, computed
    the way ``aimodels.service.inputs.hash_weights`` computes them for the plan."""

    upload_id: str
    sha256: str
    size: int


def weights_files(root: Path) -> list[WeightsFile]:
    """The file ``root``, or every file under the folder ``root`` sorted by relative path."""
    if root.is_file():
        return [WeightsFile(root.name, root, root.stat().st_size)]
    if not root.is_dir():
        raise AimodelsError(f"The weights path {root} does not exist",
                            hint="Fix spec.path (relative to the manifest), then plan again.")
    files = sorted(p for p in root.rglob("*") if p.is_file())
    if not files:
        raise AimodelsError(f"The weights folder {root} holds no file")
    return [WeightsFile(p.relative_to(root).as_posix(), p, p.stat().st_size) for p in files]


def folder_digest(entries: Sequence[tuple[str, int, str]]) -> str:
    """The digest of a folder from its (relative path, size, sha256) entries, sorted by path.

    Must stay equal to ``hash_weights`` in ``aimodels.service.inputs`` (a test checks it): a
    rename or an edit of any file changes it.
    """
    listing = hashlib.sha256()
    for relative, size, digest in entries:
        listing.update(f"{relative}\0{size}\0{digest}\n".encode())
    return listing.hexdigest()


async def upload_weights(client: AzureClient, name: str, root: Path, fmt: str,
                         report: Callable[[str], None]) -> Upload:
    """Initialize an upload for model ``name``, send every file of ``root``, return the result."""
    files = weights_files(root)
    total = sum(f.size for f in files)
    single = root.is_file()
    body: dict[str, Any] = {"model_name": name, "file_size": total, "format": fmt}
    if single:
        body["file_name"] = files[0].relative
    started = await client.request("POST", "/datastore/upload/initialize", api="registry",
                                   json=body)
    grant = started.body or {}
    entries = []
    for number, file in enumerate(files, start=1):
        report(f"uploading {_what(number, len(files), file, total)}")
        url = rewrite_url(client.config, _blob_url(grant, file, single))
        digest = await asyncio.to_thread(_upload_file, url, file)
        entries.append((file.relative, file.size, digest))
    sha256 = entries[0][2] if single else folder_digest(entries)
    return Upload(str(grant["upload_id"]), sha256, total)


def _what(number: int, count: int, file: WeightsFile, total: int) -> str:
    if count == 1:
        return f"{file.relative} ({_size(total)})"
    return f"file {number} of {count}, {file.relative} ({_size(total)} in all)"


def _size(count: int) -> str:
    size = float(count)
    for unit in ("bytes", "KB", "MB", "GB"):
        if size < 1000 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "bytes" else f"{size:.1f} {unit}"
        size /= 1000
    return f"{size:.1f} TB"


def _blob_url(grant: dict[str, Any], file: WeightsFile, single: bool) -> str:
    """The SAS URL of one file: the blob SAS for a single file, else the container SAS with the
    blob name (the upload's folder + the relative path) put into its path."""
    if single:
        return str(grant["sas_uri"])
    container = urlsplit(str(grant["container_sas_uri"]))
    blob = quote(str(grant["blob_prefix"]) + file.relative, safe="/~")
    return container._replace(path=f"{container.path}/{blob}").geturl()


def block_id(index: int) -> str:
    """The id of block ``index`` (the SDK base64-encodes it): fixed width, so every id of a
    blob has the same length as the service requires."""
    return f"{index:08d}"


def _upload_file(url: str, file: WeightsFile) -> str:
    """Stage ``file`` block by block, commit, and return its sha256 (runs in a thread)."""
    digest = hashlib.sha256()
    blocks = []
    try:
        blob = BlobClient.from_blob_url(url)
        with file.path.open("rb") as handle:
            while chunk := handle.read(BLOCK_SIZE):
                blocks.append(BlobBlock(block_id=block_id(len(blocks))))
                blob.stage_block(blocks[-1].id, chunk)
                digest.update(chunk)
        blob.commit_block_list(blocks)
    except AzureError as exc:
        raise RemoteError(f"Uploading {file.relative} failed: {_storage_error(exc)}",
                          hint="Run apply again; the upload starts over.",
                          code=getattr(exc, "error_code", "") or "UploadFailed") from exc
    except OSError as exc:
        raise AimodelsError(f"Cannot read {file.path}: {exc.strerror or exc}") from exc
    return digest.hexdigest()


def _storage_error(exc: AzureError) -> str:
    """The storage error without the request URL (it carries the SAS signature)."""
    code = getattr(exc, "error_code", None)
    reason = getattr(exc, "reason", None) or type(exc).__name__
    return f"{code}: {reason}" if code else str(reason)
