"""Service SAS for the emulator's blob endpoint: the account key, minting, and verification.

Tokens are real HMAC-SHA256 service SAS signatures, minted with azure-storage-blob's
``generate_container_sas`` over a per-emulator account key (kept in the store, so a SAS survives a
restart with ``--data``). Verification recomputes the signature from the token's own query
parameters with the SDK's signer, then checks time, protocol and source IP the way Azure Storage
does. Only container (``sr=c``) and blob (``sr=b``) SAS are understood; stored access policies,
user delegation and directory SAS are not (they fail with 403 like a bad signature).
"""

from __future__ import annotations

import base64
import hmac
import ipaddress
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import formatdate
from typing import TypedDict
from urllib.parse import parse_qs

from azure.storage.blob import generate_container_sas
from azure.storage.blob._shared_access_signature import BlobSharedAccessSignature

from aimodels.emulator.blob.xml import StorageError
from aimodels.emulator.store import Store

#: The one storage account our blob endpoint serves (path-style, as Azurite serves
#: devstoreaccount1). Not a word the other route families use, so paths cannot collide.
ACCOUNT_NAME = "aimodelsdevstore"

_KEY_COLLECTION = "blob.account"

#: The response-header overrides a SAS may carry; they are part of the signed string.


class _SignedFields(TypedDict):
    """The SDK signer's keyword arguments a token carries itself (``sp``, ``se``, ``st``...,
    the ``rsc*`` response-header overrides), and the hook that sees the string it signs."""

    permission: str
    expiry: str
    start: str | None
    ip: str | None
    protocol: str | None
    sts_hook: Callable[[str], None]
    encryption_scope: str | None
    cache_control: str | None
    content_disposition: str | None
    content_encoding: str | None
    content_language: str | None
    content_type: str | None


@dataclass(frozen=True, slots=True)
class SasGrant:
    """What a verified SAS allows: its permission letters (``racwdl``...) and when it expires."""

    permissions: str
    expiry: float

    def require(self, letters: str) -> None:
        """Raise 403 AuthorizationPermissionMismatch unless one of ``letters`` is granted."""
        if not any(letter in self.permissions for letter in letters):
            raise StorageError(403, "AuthorizationPermissionMismatch",
                             "This request is not authorized to perform this operation using "
                             "this permission.")


def account_key(store: Store) -> str:
    """This emulator's account key (base64 of 64 random bytes), created on first use."""
    with store.transaction():
        doc = store.get(_KEY_COLLECTION, ACCOUNT_NAME)
        if doc is None:
            doc = {"name": ACCOUNT_NAME, "key": base64.b64encode(secrets.token_bytes(64)).decode()}
            store.put(_KEY_COLLECTION, ACCOUNT_NAME, doc)
    return str(doc["key"])


def mint_container_sas(account: str, key: str, container: str, permission: str,
                       start: float, expiry: float) -> str:
    """A container SAS token (no leading ``?``) valid from ``start`` to ``expiry`` (epoch s).

    The protocol is ``https,http`` because the emulator and Azurite serve plain http.
    """
    return generate_container_sas(
        account, container, account_key=key, permission=permission,
        start=datetime.fromtimestamp(start, UTC), expiry=datetime.fromtimestamp(expiry, UTC),
        protocol="https,http")


def verify_sas(query: Mapping[str, str], key: str, container: str, blob: str | None,
               now: float, scheme: str, client_ip: str | None) -> SasGrant:
    """Check the SAS in ``query`` for a request on ``container``/``blob``.

    Raises StorageError: 401 NoAuthenticationInformation without a SAS, 403 AuthenticationFailed
    for a bad signature or an expired token, 403 Authorization*Mismatch for protocol or IP.
    """
    if "sig" not in query:
        raise StorageError(401, "NoAuthenticationInformation",
                         "Server failed to authenticate the request. Please refer to the "
                         "information in the www-authenticate header.")
    _check_fields(query)
    _check_signature(query, key, container, blob)
    expiry = _check_times(query, now)
    _check_protocol(query, scheme)
    _check_ip(query, client_ip)
    return SasGrant(permissions=query["sp"], expiry=expiry)


def query_of(raw_query: str) -> dict[str, str]:
    """The query string as a dict (first value of each name), as the SAS checks read it."""
    return {name: values[0] for name, values in parse_qs(raw_query, keep_blank_values=True).items()}


def _authentication_failed(detail: str) -> StorageError:
    return StorageError(403, "AuthenticationFailed",
                      "Server failed to authenticate the request. Make sure the value of "
                      "Authorization header is formed correctly including the signature.", detail)


def _check_fields(query: Mapping[str, str]) -> None:
    for name in ("sv", "se", "sp", "sr"):
        if not query.get(name):
            raise _authentication_failed(f"{name} is mandatory. Cannot be empty")
    if query["sr"] not in ("c", "b"):
        raise _authentication_failed(
            f"The emulator understands container (sr=c) and blob (sr=b) SAS, not sr={query['sr']}.")
    if query.get("si") or query.get("skoid"):
        raise _authentication_failed(
            "Stored access policies and user delegation SAS are not supported by the emulator.")


def _check_signature(query: Mapping[str, str], key: str, container: str, blob: str | None) -> None:
    signed: list[str] = []
    expected = _recompute(query, key, container, blob, signed.append)
    if not hmac.compare_digest(expected, query["sig"]):
        string_to_sign = signed[0] if signed else ""
        raise _authentication_failed(
            f"Signature did not match. String to sign used was {string_to_sign}")


def _recompute(query: Mapping[str, str], key: str, container: str, blob: str | None,
               hook: Callable[[str], None]) -> str:
    """The signature the token should carry, from its own signed fields (the SDK's signer)."""
    signer = BlobSharedAccessSignature(ACCOUNT_NAME, key)
    signer.x_ms_version = query["sv"]  # sign with the token's version, not the SDK's default
    common = _SignedFields(
        permission=query["sp"], expiry=query["se"], start=query.get("st"), ip=query.get("sip"),
        protocol=query.get("spr"), sts_hook=hook, encryption_scope=query.get("ses"),
        cache_control=query.get("rscc"), content_disposition=query.get("rscd"),
        content_encoding=query.get("rsce"), content_language=query.get("rscl"),
        content_type=query.get("rsct"))
    if query["sr"] == "b":
        if blob is None:
            return ""
        token = signer.generate_blob(container, blob, **common)
    else:
        token = signer.generate_container(container, **common)
    return query_of(token).get("sig", "")


def _check_times(query: Mapping[str, str], now: float) -> float:
    expiry = _parse_time(query["se"])
    if expiry is None:
        raise _authentication_failed(f"se is not a valid ISO 8601 time: {query['se']}")
    if now >= expiry:
        raise _authentication_failed(
            f"Signed expiry time [{_rfc1123(expiry)}] must be after signed start time "
            f"[{_rfc1123(now)}]")
    start = _parse_time(query["st"]) if query.get("st") else None
    if query.get("st") and start is None:
        raise _authentication_failed(f"st is not a valid ISO 8601 time: {query['st']}")
    if start is not None and now < start:
        raise _authentication_failed(
            f"Signed start time [{_rfc1123(start)}] is after the current time [{_rfc1123(now)}]")
    return expiry


def _check_protocol(query: Mapping[str, str], scheme: str) -> None:
    allowed = {p.strip() for p in query.get("spr", "https,http").split(",")}
    if scheme not in allowed:
        raise StorageError(403, "AuthorizationProtocolMismatch",
                         "This request is not authorized to perform this operation using this "
                         "protocol.")


def _check_ip(query: Mapping[str, str], client_ip: str | None) -> None:
    sip = query.get("sip")
    if not sip or client_ip is None:
        return
    low, _, high = sip.partition("-")
    try:
        address, first, last = (ipaddress.ip_address(a) for a in (client_ip, low, high or low))
        if not address.version == first.version == last.version:
            raise ValueError("an IPv4 and an IPv6 address do not compare")
    except ValueError as exc:
        raise _authentication_failed(f"sip is not a valid IP address or range: {sip}") from exc
    if not int(first) <= int(address) <= int(last):
        raise StorageError(403, "AuthorizationSourceIPMismatch",
                         f"This request is not authorized to perform this operation using this "
                         f"source IP {client_ip}.")


def _parse_time(text: str) -> float | None:
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.timestamp()


def _rfc1123(ts: float) -> str:
    return formatdate(ts, usegmt=True)
