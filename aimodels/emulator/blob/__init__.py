"""Emulator routes: a Blob service endpoint that azure-storage-blob can use through a SAS URI.

Path-style URLs as Azurite serves them: ``http://127.0.0.1:PORT/aimodelsdevstore/<container>/<blob>``.
azure-storage-blob only splits the account out of the path (and keeps ``/`` in blob names) when
the host contains ``127.0.0.1`` or ``localhost``, so SAS URIs are handed out for those hosts.

Served: Put Blob, Put Block (Content-MD5 and x-ms-content-crc64 checked), Put Block List, Get
Block List, Get Blob (with ranges), Get Blob Properties, Delete Blob, Set Blob Metadata, Copy Blob
/ Copy Blob From URL / Put Blob From URL (see ``copy``), List Blobs and Get Container Properties.
Every request is authorized by a service SAS (``sas``); there is no Shared Key or Entra ID auth
here.

Bodies are streamed to disk as they arrive and downloads are streamed from disk
(``files``): a block of Azure's largest size (4000 MiB) costs about a megabyte of memory,
and the request is checked (SAS, container, conditions, block id) before its body is read.
"""

from __future__ import annotations

import base64
import hashlib
import re
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from azure.storage.blob._shared.constants import X_MS_VERSION
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from aimodels.emulator.blob.copy import open_source, redacted
from aimodels.emulator.blob.files import MIB, Written, receive
from aimodels.emulator.blob.sas import ACCOUNT_NAME, SasGrant, account_key, query_of, verify_sas
from aimodels.emulator.blob.store import (
    MAX_BLOCK_BYTES,
    MAX_PUT_BLOB_BYTES,
    BlobStore,
    BlobWrite,
    parse_metadata,
)
from aimodels.emulator.blob.xml import (
    StorageError,
    error_response,
    http_date,
    parse_block_list,
    render_blob_list,
    render_block_list,
)

Handler = Callable[[Request, SasGrant], Awaitable[Response]]

_RANGE = re.compile(r"^bytes=(\d+)-(\d*)$")
#: Azure's limits: a range with its MD5 (x-ms-range-get-content-md5) and Copy Blob From URL.
MAX_RANGE_MD5_BYTES = 4 * MIB
MAX_SYNC_COPY_BYTES = 256 * MIB
#: Copy Blob (asynchronous in Azure) has no limit of its own below a block blob's size.
MAX_COPY_BYTES = 50_000 * MAX_BLOCK_BYTES
_SETTING_HEADERS = {"x-ms-blob-content-type": "content_type",
                    "x-ms-blob-content-encoding": "content_encoding",
                    "x-ms-blob-content-language": "content_language",
                    "x-ms-blob-content-disposition": "content_disposition",
                    "x-ms-blob-cache-control": "cache_control",
                    "x-ms-blob-content-md5": "content_md5"}
_RESPONSE_SETTINGS = {"content_type": "Content-Type", "content_encoding": "Content-Encoding",
                      "content_language": "Content-Language",
                      "content_disposition": "Content-Disposition",
                      "cache_control": "Cache-Control"}


def routes(emu: Any) -> list[Route]:
    """The container and blob routes of the emulator's one storage account."""
    endpoint = BlobEndpoint(emu)
    return [
        Route(f"/{ACCOUNT_NAME}/{{container}}", endpoint.container_request,
              methods=["GET", "HEAD", "PUT", "DELETE"]),
        Route(f"/{ACCOUNT_NAME}/{{container}}/{{blob:path}}", endpoint.blob_request,
              methods=["GET", "HEAD", "PUT", "DELETE"]),
    ]


class BlobEndpoint:
    """Dispatches Blob REST operations (by method and ``comp``) to the BlobStore."""

    def __init__(self, emu: Any) -> None:
        self.emu = emu
        self.blobs = BlobStore(emu.store, emu.now)
        self._key: str | None = None  # the account key never changes for a store: read it once
        self._blob_ops: dict[tuple[str, str], Handler] = {
            ("PUT", ""): self.put_blob, ("PUT", "block"): self.put_block,
            ("PUT", "blocklist"): self.put_block_list, ("PUT", "metadata"): self.set_metadata,
            ("GET", "blocklist"): self.get_block_list, ("GET", ""): self.get_blob,
            ("HEAD", ""): self.get_properties, ("DELETE", ""): self.delete_blob,
        }

    async def container_request(self, request: Request) -> Response:
        return await self._answer(request, self._container_op(request))

    async def blob_request(self, request: Request) -> Response:
        op = self._blob_ops.get((request.method, request.query_params.get("comp", "")))
        return await self._answer(request, op)

    def _container_op(self, request: Request) -> Handler | None:
        if request.query_params.get("restype") != "container":
            return None
        comp = request.query_params.get("comp", "")
        if request.method == "GET" and comp == "list":
            return self.list_blobs
        if request.method in ("GET", "HEAD") and not comp:
            return self.container_properties
        return None

    async def _answer(self, request: Request, op: Handler | None) -> Response:
        request_id = str(uuid.uuid4())
        headers = {"x-ms-request-id": request_id,
                   "x-ms-version": request.headers.get("x-ms-version", X_MS_VERSION)}
        try:
            if op is None:
                raise StorageError(501, "NotImplemented", "The requested operation is not "
                                   "implemented on the specified resource.")
            response = await op(request, self._authorize(request))
        except StorageError as err:
            return error_response(err, request_id, self.emu.now(), request.method == "HEAD",
                                  headers)
        except ClientDisconnect:
            # The client went away mid-body (a killed upload): nobody reads the answer, and a
            # traceback in the emulator's terminal would only alarm. The partial file is gone.
            return Response(status_code=400, headers=headers)
        response.headers.update(headers)
        return response

    def _authorize(self, request: Request) -> SasGrant:
        blob = request.path_params.get("blob")
        client = request.client.host if request.client else None
        if self._key is None:
            self._key = account_key(self.emu.store)
        return verify_sas(query_of(request.url.query), self._key,
                          request.path_params["container"], blob, self.emu.now(),
                          request.url.scheme, client)

    # -- container operations ---------------------------------------------------------------

    async def list_blobs(self, request: Request, grant: SasGrant) -> Response:
        grant.require("l")
        container = request.path_params["container"]
        self.blobs.require_container(container)
        query = dict(request.query_params)
        limit = _int_param(query, "maxresults", 5000, 1, 5000)
        page = self.blobs.listing(container, query.get("prefix", ""), query.get("marker", ""),
                                  limit, query.get("delimiter", ""))
        include = query.get("include", "").split(",")
        endpoint = f"{request.url.scheme}://{request.url.netloc}/{ACCOUNT_NAME}"
        body = render_blob_list(endpoint, container, query, page.blobs, page.prefixes,
                                page.next_marker, "metadata" in include)
        return Response(body, 200, media_type="application/xml")

    async def container_properties(self, request: Request, grant: SasGrant) -> Response:
        grant.require("rl")
        doc = self.blobs.require_container(request.path_params["container"])
        return Response(status_code=200, headers={
            "ETag": doc["etag"], "Last-Modified": http_date(doc["created"]),
            "x-ms-lease-status": "unlocked", "x-ms-lease-state": "available",
            "x-ms-has-immutability-policy": "false", "x-ms-has-legal-hold": "false"})

    # -- writes -----------------------------------------------------------------------------

    async def put_blob(self, request: Request, grant: SasGrant) -> Response:
        container, name = self._target(request)
        self._check_write(request, grant, container, name)
        if "x-ms-copy-source" in request.headers:
            return await self._copy(request, container, name)
        blob_type = request.headers.get("x-ms-blob-type", "BlockBlob")
        if blob_type != "BlockBlob":
            raise StorageError(400, "InvalidHeaderValue", f"The emulator stores block blobs "
                               f"only, not x-ms-blob-type {blob_type}.")
        content = await self._receive(request, MAX_PUT_BLOB_BYTES, "5000 MiB for Put Blob")
        doc = await run_in_threadpool(self.blobs.put_blob, container, name, content,
                                      _write_of(request))
        return _written(doc, 201, {"Content-MD5": _b64(content.md5)})

    async def put_block(self, request: Request, grant: SasGrant) -> Response:
        grant.require("wc")
        container, name = self._target(request)
        block_id = request.query_params.get("blockid", "")
        self.blobs.check_block(container, name, block_id)
        content = await self._receive(request, MAX_BLOCK_BYTES, "4000 MiB for a block")
        await run_in_threadpool(self.blobs.stage_block, container, name, block_id, content)
        headers = {"Content-MD5": _b64(content.md5), "x-ms-request-server-encrypted": "true"}
        if content.crc64 is not None:
            headers["x-ms-content-crc64"] = _b64(content.crc64)
        return Response(status_code=201, headers=headers)

    async def put_block_list(self, request: Request, grant: SasGrant) -> Response:
        container, name = self._target(request)
        self._check_write(request, grant, container, name)
        entries = parse_block_list(await _checked_body(request))
        doc = await run_in_threadpool(self.blobs.commit_blocks, container, name, entries,
                                      _write_of(request))
        return _written(doc, 201)

    async def set_metadata(self, request: Request, grant: SasGrant) -> Response:
        grant.require("w")
        container, name = self._target(request)
        _check_conditions(request, self.blobs.committed(container, name))
        doc = self.blobs.set_metadata(container, name, parse_metadata(dict(request.headers)))
        return _written(doc, 200)

    async def delete_blob(self, request: Request, grant: SasGrant) -> Response:
        grant.require("d")
        container, name = self._target(request)
        _check_conditions(request, self.blobs.committed(container, name))
        await run_in_threadpool(self.blobs.delete, container, name)
        return Response(status_code=202, headers={"x-ms-delete-type-permanent": "true"})

    async def _copy(self, request: Request, container: str, name: str) -> Response:
        """Copy Blob, Copy Blob From URL (``x-ms-requires-sync``) or Put Blob From URL."""
        source_url = request.headers["x-ms-copy-source"]
        put_from_url = "x-ms-blob-type" in request.headers
        limit, what = _copy_limit(request, put_from_url)
        async with open_source(source_url,
                               request.headers.get("x-ms-copy-source-authorization")) as source:
            content = await receive(self.blobs.files, source.chunks, limit, what)
        metadata = parse_metadata(dict(request.headers))
        settings = _write_of(request).settings if put_from_url else {}
        write = BlobWrite({**source.settings, **settings}, metadata or source.metadata)
        await run_in_threadpool(self.blobs.put_blob, container, name, content, write)
        copy = {"id": str(uuid.uuid4()), "status": "success", "source": redacted(source_url),
                "progress": f"{content.size}/{content.size}",
                "completion_time": http_date(self.emu.now())}
        doc = self.blobs.record_copy(container, name, copy)
        if put_from_url:
            return _written(doc, 201, {"Content-MD5": _b64(content.md5)})
        return _written(doc, 202, {"x-ms-copy-id": copy["id"], "x-ms-copy-status": "success"})

    # -- reads ------------------------------------------------------------------------------

    async def get_block_list(self, request: Request, grant: SasGrant) -> Response:
        grant.require("r")
        container, name = self._target(request)
        doc = self.blobs.find(container, name)
        if doc is None:
            raise StorageError(404, "BlobNotFound", "The specified blob does not exist.")
        which = request.query_params.get("blocklisttype", "committed").lower()
        committed = doc["blocks"] if which in ("all", "committed") else None
        uncommitted = self.blobs.uncommitted(container, name) \
            if which in ("all", "uncommitted") else None
        headers = {"x-ms-blob-content-length": str(doc["size"])}
        if doc["committed"]:
            headers.update({"ETag": doc["etag"], "Last-Modified": http_date(doc["modified"])})
        return Response(render_block_list(committed, uncommitted), 200, headers=headers,
                        media_type="application/xml")

    async def get_properties(self, request: Request, grant: SasGrant) -> Response:
        grant.require("r")
        container, name = self._target(request)
        doc = self.blobs.committed(container, name)
        not_modified = _check_conditions(request, doc)
        headers = _properties_headers(doc, full_md5=True)
        headers["Content-Length"] = str(doc["size"])
        return Response(status_code=304 if not_modified else 200, headers=headers)

    async def get_blob(self, request: Request, grant: SasGrant) -> Response:
        grant.require("r")
        container, name = self._target(request)
        doc = self.blobs.committed(container, name)
        if _check_conditions(request, doc):
            return Response(status_code=304, headers=_properties_headers(doc, full_md5=False))
        wanted = request.headers.get("x-ms-range") or request.headers.get("range")
        if not wanted:
            headers = _properties_headers(doc, full_md5=True)
            headers["Content-Length"] = str(doc["size"])
            return StreamingResponse(self.blobs.read(doc, 0, doc["size"] - 1), 200,
                                     headers=headers)
        start, end = _parse_range(wanted, doc["size"])
        headers = _properties_headers(doc, full_md5=False)
        headers["Content-Range"] = f"bytes {start}-{end}/{doc['size']}"
        if request.headers.get("x-ms-range-get-content-md5", "").lower() == "true":
            if end - start + 1 > MAX_RANGE_MD5_BYTES:
                raise StorageError(400, "OutOfRangeInput", "The range must be 4 MiB or less "
                                   "when x-ms-range-get-content-md5 is true.")
            part = b"".join(self.blobs.read(doc, start, end))
            headers["Content-MD5"] = _md5(part)
            return Response(part, 206, headers=headers)
        headers["Content-Length"] = str(end - start + 1)
        return StreamingResponse(self.blobs.read(doc, start, end), 206, headers=headers)

    # -- helpers ----------------------------------------------------------------------------

    def _target(self, request: Request) -> tuple[str, str]:
        container = request.path_params["container"]
        self.blobs.require_container(container)
        return container, request.path_params["blob"]

    def _check_write(self, request: Request, grant: SasGrant, container: str, name: str) -> None:
        """Creating a blob needs ``c`` or ``w``, replacing one needs ``w`` (Azure's SAS rules)."""
        doc = self.blobs.find(container, name)
        existing = doc if doc and doc["committed"] else None
        grant.require("w" if existing else "cw")
        _check_conditions(request, existing)

    async def _receive(self, request: Request, limit: int, what: str) -> Written:
        """The request body, streamed to a content file as it arrives; 413 before reading a
        body whose Content-Length is past ``limit``; 400 Md5Mismatch or Crc64Mismatch (and the
        file deleted) when a Content-MD5 or an x-ms-content-crc64 was sent and the body does not
        match it (Azure Storage's CRC64, as azure-storage-extensions computes it)."""
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            raise StorageError(413, "RequestBodyTooLarge", "The request body is too large and "
                               f"exceeds the maximum permissible limit ({what}).")
        sent_crc64 = request.headers.get("x-ms-content-crc64")
        content = await receive(self.blobs.files, request.stream(), limit, what,
                                with_crc64=sent_crc64 is not None)
        sent = request.headers.get("content-md5")
        if sent and sent != _b64(content.md5):
            self.blobs.files.remove([content.token])
            raise _md5_mismatch()
        if content.crc64 is not None and sent_crc64 != _b64(content.crc64):
            self.blobs.files.remove([content.token])
            raise StorageError(400, "Crc64Mismatch", "The CRC64 value specified in the request "
                               "did not match with the CRC64 value calculated by the server.")
        return content


async def _checked_body(request: Request) -> bytes:
    """A small request body (a block list), after its Content-MD5 (when sent) is checked."""
    data = await request.body()
    sent = request.headers.get("content-md5")
    if sent and sent != _md5(data):
        raise _md5_mismatch()
    return data


def _md5_mismatch() -> StorageError:
    return StorageError(400, "Md5Mismatch", "The MD5 value specified in the request did not "
                        "match with the MD5 value calculated by the server.")


def _copy_limit(request: Request, put_from_url: bool) -> tuple[int, str]:
    """The largest source a copy takes, and how the 413 names it."""
    if put_from_url:
        return MAX_PUT_BLOB_BYTES, "5000 MiB for Put Blob From URL"
    if request.headers.get("x-ms-requires-sync", "").lower() == "true":
        return MAX_SYNC_COPY_BYTES, "256 MiB for Copy Blob From URL"
    return MAX_COPY_BYTES, "the size of a block blob"


def _write_of(request: Request) -> BlobWrite:
    headers = request.headers
    settings = {name: headers[h] for h, name in _SETTING_HEADERS.items() if h in headers}
    settings.setdefault("content_type", "application/octet-stream")
    return BlobWrite(settings, parse_metadata(dict(headers)))


def _check_conditions(request: Request, doc: dict[str, Any] | None) -> bool:
    """If-Match / If-None-Match: 412 ConditionNotMet, or True when a read is not modified."""
    etag = doc["etag"] if doc else None
    if_match = request.headers.get("if-match")
    if_none_match = request.headers.get("if-none-match")
    failed = if_match is not None and (etag is None or if_match not in ("*", etag))
    matched = if_none_match is not None and etag is not None and if_none_match in ("*", etag)
    if matched and request.method in ("GET", "HEAD"):
        return True
    if failed or matched:
        raise StorageError(412, "ConditionNotMet", "The condition specified using HTTP "
                           "conditional header(s) is not met.")
    return False


def _parse_range(wanted: str, size: int) -> tuple[int, int]:
    match = _RANGE.match(wanted.strip())
    if not match:
        raise StorageError(400, "InvalidRange", f"The range {wanted} is not valid.")
    start = int(match.group(1))
    end = min(int(match.group(2)) if match.group(2) else size - 1, size - 1)
    if start >= size or end < start:
        raise StorageError(416, "InvalidRange", "The range specified is invalid for the current "
                           "size of the resource.", headers={"Content-Range": f"bytes */{size}"})
    return start, end


def _properties_headers(doc: dict[str, Any], full_md5: bool) -> dict[str, str]:
    settings = doc.get("settings", {})
    headers = {"ETag": doc["etag"], "Last-Modified": http_date(doc["modified"]),
               "x-ms-creation-time": http_date(doc["created"]), "x-ms-blob-type": "BlockBlob",
               "Accept-Ranges": "bytes", "x-ms-lease-status": "unlocked",
               "x-ms-lease-state": "available", "x-ms-server-encrypted": "true",
               "x-ms-access-tier": "Hot", "x-ms-access-tier-inferred": "true"}
    headers.update({h: settings[s] for s, h in _RESPONSE_SETTINGS.items() if settings.get(s)})
    if settings.get("content_md5"):
        headers["Content-MD5" if full_md5 else "x-ms-blob-content-md5"] = settings["content_md5"]
    headers.update({f"x-ms-meta-{k}": v for k, v in doc.get("metadata", {}).items()})
    headers.update({f"x-ms-copy-{k.replace('_', '-')}": v for k, v in doc.get("copy", {}).items()})
    if doc["blocks"]:
        headers["x-ms-blob-committed-block-count"] = str(len(doc["blocks"]))
    return headers


def _written(doc: dict[str, Any], status: int, extra: dict[str, str] | None = None) -> Response:
    headers = {"ETag": doc["etag"], "Last-Modified": http_date(doc["modified"]),
               "x-ms-request-server-encrypted": "true", **(extra or {})}
    return Response(status_code=status, headers=headers)


def _md5(data: bytes) -> str:
    return _b64(hashlib.md5(data).digest())


def _b64(digest: bytes) -> str:
    return base64.b64encode(digest).decode()


def _int_param(query: dict[str, str], name: str, default: int, low: int, high: int) -> int:
    try:
        value = int(query.get(name, default))
    except ValueError:
        value = -1
    if not low <= value <= high:
        raise StorageError(400, "OutOfRangeQueryParameterValue",
                           "One of the query parameters specified in the request URI is outside "
                           f"the permissible range: {name}.")
    return value
