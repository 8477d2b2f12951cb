"""Server-side copies for the blob endpoint: fetching the source of Copy Blob / Put Blob From URL.

Azure Storage reads the source itself, so the source URL must carry its own SAS (or be public),
or the request must pass ``x-ms-copy-source-authorization``. The emulator does the same with httpx:
``https://`` sources anywhere (e.g. a Hugging Face file), ``http://`` sources only on loopback
(our own blob endpoint, an Azurite, a test server), so an emulator cannot be used to reach into a
network over plain http. The copy finishes before the response, so its status is always
``success``. The source is streamed into a content file as it arrives (``files.receive``),
so a copy of any size holds about a megabyte in memory.
"""

from __future__ import annotations

import ipaddress
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

import httpx

from aimodels.emulator.blob.xml import StorageError

#: How long one source fetch may take; sources are model files, so this is generous.
FETCH_TIMEOUT_S = 600.0

_SETTING_HEADERS = {"content-type": "content_type", "content-encoding": "content_encoding",
                    "content-language": "content_language",
                    "content-disposition": "content_disposition", "cache-control": "cache_control"}


@dataclass(frozen=True, slots=True)
class CopySource:
    """A copy source being read: its content as chunks, its content settings and
    ``x-ms-meta-*`` metadata."""

    chunks: AsyncIterator[bytes]
    settings: dict[str, str]
    metadata: dict[str, str]


def check_source_url(url: str) -> None:
    """400 CannotVerifyCopySource unless ``url`` is https, or http on a loopback host."""
    parts = urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return
    if parts.scheme == "http" and parts.hostname and _is_loopback(parts.hostname):
        return
    raise StorageError(400, "CannotVerifyCopySource",
                       "The emulator copies from https:// URLs, or from http:// URLs on loopback "
                       f"only; it will not fetch {redacted(url)}.")


@asynccontextmanager
async def open_source(url: str, authorization: str | None) -> AsyncIterator[CopySource]:
    """GET the copy source, to be read while the context is open; a failure to reach or read
    it is reported as Azure does (CannotVerifyCopySource)."""
    check_source_url(url)
    # The bytes as the source stores them: no decoding, and nothing compressed on the way.
    headers = {"Accept-Encoding": "identity"}
    if authorization:
        headers["Authorization"] = authorization
    try:
        async with httpx.AsyncClient(follow_redirects=True, timeout=FETCH_TIMEOUT_S) as client, \
                client.stream("GET", url, headers=headers) as response:
            if response.status_code >= 300:
                raise _source_failed(url, response)
            settings = {name: response.headers[h] for h, name in _SETTING_HEADERS.items()
                        if h in response.headers}
            metadata = {h[len("x-ms-meta-"):]: v for h, v in response.headers.items()
                        if h.lower().startswith("x-ms-meta-")}
            yield CopySource(response.aiter_raw(), settings, metadata)
    except httpx.HTTPError as exc:
        raise StorageError(400, "CannotVerifyCopySource",
                           f"Could not read the copy source {redacted(url)}: {exc}.") from exc


def redacted(url: str) -> str:
    """``url`` without its query string, so a SAS signature never lands in a message."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))


def _source_failed(url: str, response: httpx.Response) -> StorageError:
    source_code = response.headers.get("x-ms-error-code", "")
    status = response.status_code if 400 <= response.status_code < 500 else 409
    return StorageError(
        status, "CannotVerifyCopySource",
        f"The copy source {redacted(url)} answered {response.status_code}"
        + (f" ({source_code})." if source_code else "."),
        headers={"x-ms-copy-source-status-code": str(response.status_code),
                 "x-ms-copy-source-error-code": source_code})


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
