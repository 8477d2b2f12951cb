"""Block blobs through a container SAS, for the resumable upload (``apply/upload_blocks.py``):
open a blob, list the blocks it holds, stage one block with the checksum the service verifies,
commit the block list. The upload logic (reading, hashing, resuming, workers, progress) stays
in ``apply/``; this is only what azure-storage-blob is asked.

Every blob opened by one ``BlockBlobs`` shares its pooled HTTP session (one connection per
worker, reused across blocks and SAS renewals). Failures become aimodels errors through the
one map (``errors.storage_error``, worded ``errors.UPLOAD``); a refusal that another try may
cure (an expired SAS, a block corrupted on the way) is raised as ``BlockRefused``, for the
caller to try again or give up with the error it carries.

Blocking calls (azure-storage-blob's sync client), made from the upload's worker threads.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import requests
from azure.core.exceptions import AzureError, HttpResponseError, ResourceNotFoundError
from azure.core.pipeline.transport import RequestsTransport
from azure.storage.blob import BlobBlock, BlobClient, ExponentialRetry

from aimodels.blob.client import blob_url
from aimodels.blob.errors import UPLOAD, error_code, storage_error
from aimodels.errors import AimodelsError

#: What a failure of the upload is about, in its message.
SUBJECT = "the upload"

#: A per-block checksum as azure-storage-blob's ``validate_content`` sends it: Azure Storage's
#: CRC64 (``x-ms-content-crc64``), the MD5 (``Content-MD5``), or none.
Check = Literal["crc64", "md5"] | None

#: What may cure a refusal: a fresh SAS (``sas``), or sending the block again (``checksum``).
Cure = Literal["sas", "checksum"]


class BlockRefused(Exception):
    """The service refused one request in a way another try may cure. Never shown as such:
    the caller tries again, or raises ``error`` (what the refusal means to the user, its
    ``__cause__`` the storage SDK's exception) once it gives up."""

    def __init__(self, cure: Cure, error: AimodelsError) -> None:
        super().__init__(error.message)
        self.cure, self.error = cure, error


@dataclass(frozen=True, slots=True)
class BlockList:
    """The blocks a blob holds, each as (id, size): those of its committed content, in order,
    and those staged but not committed yet."""

    committed: tuple[tuple[str, int], ...]
    uncommitted: tuple[tuple[str, int], ...]


@dataclass(frozen=True, slots=True)
class BlockOptions:
    """How the blobs are reached: ``connections`` pooled per scheme (one per worker and a
    spare or two), ``retry_total`` azure-storage-blob's per-request retry count (None: its
    default), ``request_hook`` azure-core's ``raw_request_hook`` (tests count and corrupt
    requests with it), ``unsupported_check_hint`` what to do when the data store does not
    take the blocks' CRC64."""

    connections: int = 10
    retry_total: int | None = None
    request_hook: Callable[[Any], None] | None = field(default=None, compare=False)
    unsupported_check_hint: str = ""


class BlockBlob:
    """One block blob of the data store, through the SAS it was opened with."""

    def __init__(self, client: BlobClient, unsupported_check_hint: str) -> None:
        self._client, self._hint = client, unsupported_check_hint

    def block_list(self) -> BlockList | None:
        """The blocks the blob holds; None when there is no such blob yet."""
        with _translated():
            try:
                committed, uncommitted = self._client.get_block_list("all")
            except ResourceNotFoundError:
                return None
        return BlockList(tuple((b.id, b.size) for b in committed),
                         tuple((b.id, b.size) for b in uncommitted))

    def stage(self, block_id: str, data: bytes, check: Check) -> None:
        """Stage ``data`` as block ``block_id`` (the SDK base64-encodes the id), carrying
        ``check`` for the service to verify: bytes that do not match it are refused
        (``BlockRefused`` with the cure ``checksum``)."""
        with _translated(checked=True, unsupported_check_hint=self._hint):
            self._client.stage_block(block_id, data, length=len(data), validate_content=check)

    def commit(self, block_ids: Sequence[str], metadata: Mapping[str, str] | None) -> None:
        """Make the blob the blocks ``block_ids``, in order, with ``metadata``."""
        blocks = [BlobBlock(block_id=block) for block in block_ids]
        with _translated():
            self._client.commit_block_list(
                blocks, metadata=dict(metadata) if metadata is not None else None)


class BlockBlobs:
    """Opens the block blobs of container SAS URLs over one pooled HTTP session; ``close``
    ends the session (the blobs opened are unusable then)."""

    def __init__(self, options: BlockOptions) -> None:
        self._options = options
        self._session = requests.Session()
        for scheme in ("http://", "https://"):
            self._session.mount(scheme, requests.adapters.HTTPAdapter(
                pool_maxsize=options.connections))
        self._transport = RequestsTransport(session=self._session, session_owner=False,
                                            connection_timeout=20, read_timeout=120)

    def open(self, container_url: str, blob_name: str) -> BlockBlob:
        """The blob ``blob_name`` of the container at ``container_url`` (with its SAS query);
        no request is sent yet."""
        options: dict[str, Any] = {"retry_policy": _retry(self._options.retry_total)}
        if self._options.request_hook is not None:
            options["raw_request_hook"] = self._options.request_hook
        client = BlobClient.from_blob_url(blob_url(container_url, blob_name),
                                          transport=self._transport, **options)
        return BlockBlob(client, self._options.unsupported_check_hint)

    def close(self) -> None:
        self._session.close()


class _UploadRetry(ExponentialRetry):
    """azure-storage-blob's retry, except for an answer that no retry changes: a service that
    does not support what was sent (Azurite's 500 FeatureNotSupported for
    ``x-ms-content-crc64``) fails at once, not after a minute of back-off."""

    def increment(self, settings: dict[str, Any], request: Any, response: Any = None,
                  error: Any = None) -> bool:
        if response is not None and \
                response.headers.get("x-ms-error-code") == "FeatureNotSupported":
            return False
        return bool(super().increment(settings, request, response, error))


def _retry(retry_total: int | None) -> _UploadRetry:
    return _UploadRetry() if retry_total is None else _UploadRetry(retry_total=retry_total)


@contextlib.contextmanager
def _translated(checked: bool = False, unsupported_check_hint: str = "") -> Iterator[None]:
    """What the block raises from azure-core, as ours (``from`` the cause): ``BlockRefused``
    for a SAS that no longer holds and, when ``checked``, for a block whose bytes do not match
    its checksum; the hint for a CRC64 the service does not take."""
    try:
        yield
    except HttpResponseError as exc:
        if sas_refused(exc):
            raise BlockRefused("sas", _caused(storage_error(exc, SUBJECT, wording=UPLOAD),
                                              exc)) from exc
        if checked and check_refused(exc):
            raise BlockRefused("checksum", _caused(
                storage_error(exc, SUBJECT, wording=UPLOAD), exc)) from exc
        if checked and crc64_unsupported(exc):  # never falls back to MD5 by itself
            raise storage_error(exc, SUBJECT, unsupported_check_hint, UPLOAD) from exc
        raise storage_error(exc, SUBJECT, wording=UPLOAD) from exc
    except AzureError as exc:
        raise storage_error(exc, SUBJECT, wording=UPLOAD) from exc


def _caused(error: AimodelsError, cause: BaseException) -> AimodelsError:
    """``error`` with ``cause`` as its ``__cause__``, as ``raise error from cause`` would."""
    error.__cause__ = cause
    return error


def check_refused(exc: HttpResponseError) -> bool:
    """A 400 saying the block's bytes do not match the checksum sent with them: Azure's
    Crc64Mismatch or Md5Mismatch, or Azurite's InvalidOperation "Provided contentMD5 doesn't
    match"."""
    if exc.status_code != 400:
        return False
    code = error_code(exc)
    return code in ("Crc64Mismatch", "Md5Mismatch") or \
        (code == "InvalidOperation" and "contentmd5" in str(exc.message).lower())


def crc64_unsupported(exc: HttpResponseError) -> bool:
    """Azurite's answer to ``x-ms-content-crc64`` in its default (strict) mode: 500
    FeatureNotSupported (Azure Storage checks the header; loose Azurite ignores it)."""
    return error_code(exc) == "FeatureNotSupported" and \
        "x-ms-content-crc64" in str(exc.message).lower()


def sas_refused(exc: HttpResponseError) -> bool:
    """A 403 saying the signature does not hold (expired): Azure's AuthenticationFailed,
    Azurite's AuthorizationFailure. A permission mismatch is not cured by a new SAS."""
    return exc.status_code == 403 and error_code(exc) in ("AuthenticationFailed",
                                                           "AuthorizationFailure")
