"""The XML the blob endpoint speaks: Storage error bodies, block lists and blob listings.

Shapes follow the Blob service REST reference closely enough for azure-storage-blob's generated
deserializers (element names, order and date formats). Built and parsed with ElementTree.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from email.utils import formatdate
from typing import Any

from starlette.responses import Response

#: Put Block List element names and what each may refer to.
BLOCK_LIST_KINDS = ("Latest", "Committed", "Uncommitted")


class StorageError(Exception):
    """An error the blob endpoint answers with: status, Storage error code, message (+ detail).

    Rendered as ``<Error><Code>..</Code><Message>..</Message></Error>`` with ``x-ms-error-code``;
    ``detail`` becomes ``AuthenticationErrorDetail`` as Azure sends on 403 AuthenticationFailed.
    """

    def __init__(self, status: int, code: str, message: str, detail: str | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.detail = detail
        self.headers = headers or {}


def http_date(ts: float) -> str:
    """An RFC 1123 date (``Tue, 01 Jul 2025 10:00:00 GMT``), as Storage writes dates."""
    return formatdate(ts, usegmt=True)


def error_response(err: StorageError, request_id: str, now: float, head: bool,
                   headers: dict[str, str]) -> Response:
    """The Storage error response for ``err``; HEAD answers carry the code in headers only."""
    merged = {**headers, **err.headers, "x-ms-error-code": err.code}
    if head:
        return Response(status_code=err.status, headers=merged)
    root = ET.Element("Error")
    ET.SubElement(root, "Code").text = err.code
    stamp = datetime.fromtimestamp(now, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f0Z")
    ET.SubElement(root, "Message").text = f"{err.message}\nRequestId:{request_id}\nTime:{stamp}"
    if err.detail:
        ET.SubElement(root, "AuthenticationErrorDetail").text = err.detail
    return Response(_serialize(root), err.status, headers=merged, media_type="application/xml")


def parse_block_list(body: bytes) -> list[tuple[str, str]]:
    """A Put Block List body as ``[(kind, block_id)]`` in order; 400 InvalidXmlDocument if bad."""
    try:
        root = ET.fromstring(body)
    except ET.ParseError as exc:
        raise StorageError(400, "InvalidXmlDocument",
                           "XML specified is not syntactically valid.") from exc
    if root.tag != "BlockList":
        raise StorageError(400, "InvalidXmlDocument", "The root element must be BlockList.")
    entries = []
    for child in root:
        if child.tag not in BLOCK_LIST_KINDS:
            raise StorageError(400, "InvalidXmlNodeValue",
                               f"The value for one of the XML nodes is not in the correct "
                               f"format: {child.tag}.")
        entries.append((child.tag, (child.text or "").strip()))
    return entries


def render_block_list(committed: Sequence[Sequence[Any]] | None,
                      uncommitted: Sequence[Sequence[Any]] | None) -> bytes:
    """A Get Block List answer; None leaves that section out (``blocklisttype`` filter)."""
    root = ET.Element("BlockList")
    for tag, blocks in (("CommittedBlocks", committed), ("UncommittedBlocks", uncommitted)):
        if blocks is None:
            continue
        section = ET.SubElement(root, tag)
        for block_id, size in blocks:
            block = ET.SubElement(section, "Block")
            ET.SubElement(block, "Name").text = block_id
            ET.SubElement(block, "Size").text = str(size)
    return _serialize(root)


def render_blob_list(endpoint: str, container: str, query: dict[str, str],
                     blobs: Iterable[dict[str, Any]], prefixes: Iterable[str],
                     next_marker: str, include_metadata: bool) -> bytes:
    """A List Blobs answer (``EnumerationResults``) for docs of committed blobs."""
    root = ET.Element("EnumerationResults", ServiceEndpoint=endpoint + "/",
                      ContainerName=container)
    for name in ("prefix", "marker", "maxresults", "delimiter"):
        if query.get(name):
            tag = {"maxresults": "MaxResults"}.get(name, name.capitalize())
            ET.SubElement(root, tag).text = query[name]
    section = ET.SubElement(root, "Blobs")
    for doc in blobs:
        section.append(_blob_item(doc, include_metadata))
    for prefix in prefixes:
        ET.SubElement(ET.SubElement(section, "BlobPrefix"), "Name").text = prefix
    ET.SubElement(root, "NextMarker").text = next_marker
    return _serialize(root)


def _blob_item(doc: dict[str, Any], include_metadata: bool) -> ET.Element:
    item = ET.Element("Blob")
    ET.SubElement(item, "Name").text = doc["name"]
    props = ET.SubElement(item, "Properties")
    for tag, value in _listed_properties(doc):
        if value is not None:
            ET.SubElement(props, tag).text = value
    if include_metadata:
        metadata = ET.SubElement(item, "Metadata")
        for key, value in sorted(doc.get("metadata", {}).items()):
            ET.SubElement(metadata, key).text = value
    return item


def _listed_properties(doc: dict[str, Any]) -> list[tuple[str, str | None]]:
    settings = doc.get("settings", {})
    return [
        ("Creation-Time", http_date(doc["created"])),
        ("Last-Modified", http_date(doc["modified"])),
        ("Etag", doc["etag"]),
        ("Content-Length", str(doc["size"])),
        ("Content-Type", settings.get("content_type")),
        ("Content-Encoding", settings.get("content_encoding")),
        ("Content-Language", settings.get("content_language")),
        ("Content-CRC64", None),
        ("Content-MD5", settings.get("content_md5")),
        ("Cache-Control", settings.get("cache_control")),
        ("Content-Disposition", settings.get("content_disposition")),
        ("BlobType", "BlockBlob"),
        ("AccessTier", "Hot"),
        ("AccessTierInferred", "true"),
        ("LeaseStatus", "unlocked"),
        ("LeaseState", "available"),
        ("ServerEncrypted", "true"),
    ]


def _serialize(root: ET.Element) -> bytes:
    data: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)  # bytes: not "unicode"
    return data
