"""SAS enforcement on the blob endpoint: expiry, permissions, signatures, scope, protocol.

The emulator runs on a fake clock so that a SAS can expire without sleeping.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from urllib.parse import urlencode

import httpx
import pytest
from azure.core.exceptions import ClientAuthenticationError, HttpResponseError
from azure.storage.blob import (
    BlobClient,
    ContainerClient,
    generate_blob_sas,
    generate_container_sas,
)
from hand_clock import Clock

from aimodels.emulator.app import Emulator
from aimodels.emulator.blob.sas import (
    ACCOUNT_NAME,
    account_key,
    mint_container_sas,
    query_of,
    verify_sas,
)
from aimodels.emulator.blob.store import BlobStore
from aimodels.emulator.blob.xml import StorageError
from aimodels.emulator.config import EmulatorConfig
from aimodels.emulator.server import RunningEmulator, start_in_thread


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def emulator(clock: Clock) -> Iterator[RunningEmulator]:
    emu = Emulator(EmulatorConfig(), clock=clock)
    for container in ("uploads", "other"):
        BlobStore(emu.store, emu.now).ensure_container(container)
    with start_in_thread(emulator=emu) as running:
        yield running


def token(running: RunningEmulator, permission: str, lifetime: float = 3600,
          container: str = "uploads") -> str:
    now = running.emulator.now()
    return mint_container_sas(ACCOUNT_NAME, account_key(running.emulator.store), container,
                              permission, now - 60, now + lifetime)


def blob(running: RunningEmulator, name: str, sas: str, container: str = "uploads") -> BlobClient:
    return BlobClient.from_blob_url(f"{running.url}/{ACCOUNT_NAME}/{container}/{name}?{sas}")


def test_expired_sas_is_refused_with_authentication_failed(
        emulator: RunningEmulator, clock: Clock) -> None:
    client = blob(emulator, "m/expiring.bin", token(emulator, "rcwl", lifetime=1800))
    client.upload_blob(b"before expiry")
    clock.now += 1801
    with pytest.raises(ClientAuthenticationError) as caught:
        client.upload_blob(b"after expiry", overwrite=True)
    assert caught.value.status_code == 403
    assert caught.value.error_code == "AuthenticationFailed"
    assert "Signed expiry time" in str(caught.value)
    assert "must be after signed start time" in str(caught.value)


def test_sas_not_yet_valid_is_refused(emulator: RunningEmulator) -> None:
    now = emulator.emulator.now()
    early = mint_container_sas(ACCOUNT_NAME, account_key(emulator.emulator.store), "uploads",
                               "rl", now + 600, now + 3600)
    with pytest.raises(ClientAuthenticationError) as caught:
        list(ContainerClient.from_container_url(
            f"{emulator.url}/{ACCOUNT_NAME}/uploads?{early}").list_blobs())
    assert caught.value.error_code == "AuthenticationFailed"


def test_read_only_sas_is_refused_for_writes(emulator: RunningEmulator) -> None:
    client = blob(emulator, "m/readonly.bin", token(emulator, "rl"))
    with pytest.raises(HttpResponseError) as caught:
        client.upload_blob(b"nope")
    assert caught.value.status_code == 403
    assert caught.value.error_code == "AuthorizationPermissionMismatch"
    with pytest.raises(HttpResponseError) as staged:
        client.stage_block("MDA=", b"nope")
    assert staged.value.error_code == "AuthorizationPermissionMismatch"


def test_create_only_sas_cannot_overwrite_or_delete(emulator: RunningEmulator) -> None:
    client = blob(emulator, "m/create-only.bin", token(emulator, "c"))
    client.upload_blob(b"first")
    with pytest.raises(HttpResponseError) as overwrite:
        client.upload_blob(b"second", overwrite=True)
    assert overwrite.value.error_code == "AuthorizationPermissionMismatch"
    with pytest.raises(HttpResponseError) as delete:
        client.delete_blob()
    assert delete.value.error_code == "AuthorizationPermissionMismatch"
    with pytest.raises(HttpResponseError) as read:
        client.download_blob()
    assert read.value.error_code == "AuthorizationPermissionMismatch"


def test_tampered_signature_is_refused(emulator: RunningEmulator) -> None:
    fields = query_of(token(emulator, "rcwl"))
    signature = fields["sig"]
    fields["sig"] = signature[:5] + ("A" if signature[5] != "A" else "B") + signature[6:]
    tampered = urlencode(fields)
    with pytest.raises(ClientAuthenticationError) as caught:
        blob(emulator, "m/tampered.bin", tampered).upload_blob(b"x")
    assert caught.value.error_code == "AuthenticationFailed"
    assert "Signature did not match" in str(caught.value)


def test_widened_permissions_break_the_signature(emulator: RunningEmulator) -> None:
    sas = token(emulator, "rl").replace("sp=rl", "sp=rcwl")
    with pytest.raises(ClientAuthenticationError) as caught:
        blob(emulator, "m/widened.bin", sas).upload_blob(b"x")
    assert caught.value.error_code == "AuthenticationFailed"


def test_sas_of_one_container_does_not_open_another(emulator: RunningEmulator) -> None:
    sas = token(emulator, "rcwl", container="uploads")
    with pytest.raises(ClientAuthenticationError) as caught:
        blob(emulator, "m/x.bin", sas, container="other").upload_blob(b"x")
    assert caught.value.error_code == "AuthenticationFailed"


def test_key_of_another_account_is_refused(emulator: RunningEmulator) -> None:
    now = emulator.emulator.now()
    foreign = generate_container_sas(ACCOUNT_NAME, "uploads", account_key="c2VjcmV0" * 8,
                                     permission="rcwl", expiry=_dt(now + 3600))
    with pytest.raises(ClientAuthenticationError):
        blob(emulator, "m/foreign.bin", foreign).upload_blob(b"x")


def test_blob_sas_opens_only_its_blob(emulator: RunningEmulator) -> None:
    now = emulator.emulator.now()
    key = account_key(emulator.emulator.store)
    sas = generate_blob_sas(ACCOUNT_NAME, "uploads", "m/only.bin", account_key=key,
                            permission="cw", expiry=_dt(now + 3600), protocol="https,http")
    blob(emulator, "m/only.bin", sas).upload_blob(b"mine")
    with pytest.raises(ClientAuthenticationError):
        blob(emulator, "m/another.bin", sas).upload_blob(b"not mine")


def test_https_only_sas_is_refused_over_http(emulator: RunningEmulator) -> None:
    now = emulator.emulator.now()
    sas = generate_container_sas(ACCOUNT_NAME, "uploads",
                                 account_key=account_key(emulator.emulator.store),
                                 permission="rcwl", expiry=_dt(now + 3600), protocol="https")
    with pytest.raises(HttpResponseError) as caught:
        blob(emulator, "m/https.bin", sas).upload_blob(b"x")
    assert caught.value.error_code == "AuthorizationProtocolMismatch"


def test_missing_sas_is_401_with_storage_xml(emulator: RunningEmulator) -> None:
    response = httpx.put(f"{emulator.url}/{ACCOUNT_NAME}/uploads/m/anonymous.bin",
                         content=b"x", headers={"x-ms-blob-type": "BlockBlob"})
    assert response.status_code == 401
    assert response.headers["x-ms-error-code"] == "NoAuthenticationInformation"
    assert response.headers["content-type"].startswith("application/xml")
    assert b"<Error><Code>NoAuthenticationInformation</Code>" in response.content
    head = httpx.head(f"{emulator.url}/{ACCOUNT_NAME}/uploads/m/anonymous.bin")
    assert head.status_code == 401
    assert head.headers["x-ms-error-code"] == "NoAuthenticationInformation"


def test_error_body_carries_authentication_detail(emulator: RunningEmulator,
                                                  clock: Clock) -> None:
    sas = token(emulator, "rl", lifetime=60)
    clock.now += 120
    response = httpx.get(f"{emulator.url}/{ACCOUNT_NAME}/uploads?restype=container&comp=list&{sas}")
    assert response.status_code == 403
    assert response.headers["x-ms-error-code"] == "AuthenticationFailed"
    assert b"<AuthenticationErrorDetail>Signed expiry time [" in response.content


def test_unsupported_operation_is_501(emulator: RunningEmulator) -> None:
    sas = token(emulator, "racwdl")
    response = httpx.put(f"{emulator.url}/{ACCOUNT_NAME}/uploads/m/x.bin?comp=lease&{sas}")
    assert response.status_code == 501
    assert response.headers["x-ms-error-code"] == "NotImplemented"


def _dt(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


@pytest.mark.parametrize(("sip", "client_ip", "code"), [
    ("127.0.0.1-127.0.0.9", "127.0.0.5", None),
    ("127.0.0.7", "127.0.0.7", None),
    ("::1", "::1", None),
    ("127.0.0.1-127.0.0.9", "127.0.0.20", "AuthorizationSourceIPMismatch"),
    ("::1", "127.0.0.1", "AuthenticationFailed"),  # an IPv6 range never holds an IPv4 client
    ("127.0.0.1-::ffff", "127.0.0.5", "AuthenticationFailed"),
    ("not-an-address", "127.0.0.1", "AuthenticationFailed"),
])
def test_sas_source_ip_range_is_enforced(sip: str, client_ip: str, code: str | None) -> None:
    """``sip``: a client inside the range is let in, outside is refused (403
    AuthorizationSourceIPMismatch); a range that is no range of one IP version is a bad token."""
    key = "c2VjcmV0" * 8
    now = datetime(2030, 1, 1, tzinfo=UTC)
    sas = generate_container_sas(ACCOUNT_NAME, "uploads", account_key=key, permission="r",
                                 start=now, expiry=datetime(2030, 1, 2, tzinfo=UTC), ip=sip,
                                 protocol="https,http")
    query, when = query_of(sas), now.timestamp() + 60
    if code is None:
        assert verify_sas(query, key, "uploads", None, when, "http", client_ip).permissions == "r"
        return
    with pytest.raises(StorageError) as refused:
        verify_sas(query, key, "uploads", None, when, "http", client_ip)
    assert (refused.value.status, refused.value.code) == (403, code)
