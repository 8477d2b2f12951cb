"""``blob.blocks``, the storage side of the block upload: what each answer of the service
becomes. A refusal another try may cure (an expired SAS; a block whose bytes do not match its
checksum, only when staging) is a ``BlockRefused`` carrying the user's error; anything else is
our error at once, through the one map, worded for an upload and never with the SAS."""

from __future__ import annotations

from typing import Any

import pytest
from azure.core.exceptions import (
    ClientAuthenticationError,
    HttpResponseError,
    ResourceNotFoundError,
    ServiceRequestError,
)

from aimodels.blob.blocks import BlockBlob, BlockList, BlockRefused
from aimodels.errors import AimodelsError, AuthError, RemoteError

SAS_URL = "https://acct.blob.core.windows.net/uploads/m/1/w?sv=2024-08-04&sig=SeCrEt%2Bvalue"
HINT = "Set AIMODELS_UPLOAD_BLOCK_CHECK=md5"


def answered(status: int, code: str, message: str = "",
             kind: type[HttpResponseError] = HttpResponseError) -> HttpResponseError:
    """A service answer as azure-storage-blob raises it: status and storage error code set."""
    exc = kind(message=f"{message or code} at {SAS_URL}")
    exc.status_code, exc.error_code = status, code  # type: ignore[attr-defined]
    return exc


class Failing:
    """A BlobClient whose every call raises ``error``."""

    def __init__(self, error: Exception) -> None:
        self.error = error

    def __getattr__(self, name: str) -> Any:
        def call(*args: Any, **kwargs: Any) -> Any:
            raise self.error
        return call


def blob(error: Exception) -> BlockBlob:
    return BlockBlob(Failing(error), HINT)  # type: ignore[arg-type]


EXPIRED = [answered(403, "AuthenticationFailed", kind=ClientAuthenticationError),
           answered(403, "AuthorizationFailure")]


@pytest.mark.parametrize("exc", EXPIRED)
@pytest.mark.parametrize("action", ["block_list", "stage", "commit"])
def test_a_sas_that_no_longer_holds_may_be_cured_by_a_fresh_one(exc: HttpResponseError,
                                                                 action: str) -> None:
    calls = {"block_list": lambda b: b.block_list(),
             "stage": lambda b: b.stage("00000000", b"x", "crc64"),
             "commit": lambda b: b.commit(["00000000"], None)}
    with pytest.raises(BlockRefused) as refused:
        calls[action](blob(exc))

    assert refused.value.cure == "sas"
    assert isinstance(refused.value.error, AuthError)
    assert refused.value.error.message == \
        f"The data store refused the upload SAS: 403 {exc.error_code}"  # type: ignore[attr-defined]
    assert refused.value.error.__cause__ is exc


@pytest.mark.parametrize(("exc", "code"), [
    (answered(400, "Crc64Mismatch"), "Crc64Mismatch"),
    (answered(400, "Md5Mismatch"), "Md5Mismatch"),
    (answered(400, "InvalidOperation", "Provided contentMD5 doesn't match."), "InvalidOperation"),
])
def test_a_block_refused_for_its_checksum_may_be_sent_again(exc: HttpResponseError,
                                                            code: str) -> None:
    with pytest.raises(BlockRefused) as refused:
        blob(exc).stage("00000003", b"x", "md5")

    assert refused.value.cure == "checksum"
    error = refused.value.error
    assert isinstance(error, RemoteError) and (error.code, error.status) == (code, 400)
    assert error.message == (f"Upload interrupted: 400 {code}. Run the same command to resume "
                             "(what was sent is kept).")


def test_a_checksum_refusal_outside_staging_is_final() -> None:
    with pytest.raises(RemoteError) as failed:
        blob(answered(400, "Md5Mismatch")).commit(["00000000"], {"sha256": "ab"})
    assert failed.value.code == "Md5Mismatch"


@pytest.mark.parametrize(("exc", "kind", "message", "hint"), [
    (answered(403, "AuthorizationPermissionMismatch"), AuthError,
     "The data store refused the upload SAS: 403 AuthorizationPermissionMismatch",
     "Check the registry's data-store permissions"),
    (answered(500, "FeatureNotSupported", "x-ms-content-crc64 is not supported"), RemoteError,
     "Upload interrupted: 500 FeatureNotSupported. Run the same command to resume (what was "
     "sent is kept).", HINT),
    (ServiceRequestError(f"Connection refused: {SAS_URL}"), RemoteError,
     "Upload interrupted: ServiceRequestError: Connection refused: https://acct.blob.core."
     "windows.net/uploads/m/1/w?sv=2024-08-04&sig=REDACTED. Run the same command to resume "
     "(what was sent is kept).", ""),
])
def test_what_no_other_try_cures_is_our_error_at_once(exc: Exception, kind: type[AimodelsError],
                                                      message: str, hint: str) -> None:
    with pytest.raises(kind) as failed:
        blob(exc).stage("00000000", b"x", "crc64")

    assert failed.value.message == message and failed.value.hint.startswith(hint)
    assert failed.value.__cause__ is exc
    assert "SeCrEt" not in failed.value.message + failed.value.hint


def test_a_blob_not_there_yet_holds_no_blocks() -> None:
    assert blob(ResourceNotFoundError("BlobNotFound")).block_list() is None


def test_the_block_list_is_plain_values() -> None:
    class Listed:
        def get_block_list(self, kind: str) -> Any:
            assert kind == "all"
            block = type("Block", (), {})
            done, staged = block(), block()
            done.id, done.size, staged.id, staged.size = "00000000", 8, "00000001", 3
            return [done], [staged]

    held = BlockBlob(Listed(), HINT).block_list()  # type: ignore[arg-type]
    assert held == BlockList((("00000000", 8),), (("00000001", 3),))
