"""The one map of storage errors (``aimodels.blob.errors``): each outcome (refused, unreachable,
changed, failed) in each wording (the state's blob store, the registry's data store, a weights
upload), with the exact messages, codes and exit codes the commands show, and never a SAS."""

from __future__ import annotations

import pytest
from azure.core.exceptions import (
    AzureError,
    ClientAuthenticationError,
    HttpResponseError,
    ServiceRequestError,
)

from aimodels.blob.errors import DATA_STORE, STORAGE, UPLOAD, Wording, storage_error, storage_errors
from aimodels.errors import AimodelsError, AuthError, ConflictError, RemoteError

SAS_URL = "https://acct.blob.core.windows.net/uploads/m/1/w?sv=2024-08-04&sig=SeCrEt%2Bvalue"


def answered(status: int, code: str | None, kind: type[HttpResponseError] = HttpResponseError
             ) -> HttpResponseError:
    """A service answer as azure-storage-blob raises it: status and storage error code set."""
    exc = kind(message=f"{code} at {SAS_URL}")
    exc.status_code, exc.error_code = status, code  # type: ignore[attr-defined]
    return exc


UNREACHABLE = ServiceRequestError(f"Connection refused: {SAS_URL}")

CASES = [
    # wording, subject, exception -> class, message, code, status
    (STORAGE, "the blob https://acct/state.json", answered(403, "AuthorizationFailure"),
     AuthError, "Azure Storage refused access to the blob https://acct/state.json: "
     "403 AuthorizationFailure", "", 0),
    (STORAGE, "the storage account https://acct", UNREACHABLE, RemoteError,
     "Cannot reach the storage account https://acct: ServiceRequestError: Connection refused: "
     "https://acct.blob.core.windows.net/uploads/m/1/w?sv=2024-08-04&sig=REDACTED",
     "StorageUnreachable", 0),
    (STORAGE, "the blob https://acct/state.json", answered(412, "ConditionNotMet"),
     ConflictError, "The blob https://acct/state.json changed meanwhile: 412 ConditionNotMet",
     "ConditionNotMet", 412),
    (STORAGE, "the blob https://acct/state.json", answered(500, None), RemoteError,
     "Azure Storage failed on the blob https://acct/state.json: 500", "HttpResponseError", 500),
    (DATA_STORE, "Listing the data store",
     answered(403, "AuthenticationFailed", ClientAuthenticationError), AuthError,
     "The data store refused the registry's SAS: 403 AuthenticationFailed", "", 0),
    (DATA_STORE, "Listing the data store", UNREACHABLE, RemoteError,
     "Listing the data store failed: ServiceRequestError: Connection refused: "
     "https://acct.blob.core.windows.net/uploads/m/1/w?sv=2024-08-04&sig=REDACTED",
     "StorageError", 0),
    (DATA_STORE, "Deleting from the data store", answered(409, "LeaseIdMissing"), RemoteError,
     "Deleting from the data store failed: 409 LeaseIdMissing", "LeaseIdMissing", 409),
    (DATA_STORE, "Listing the data store", answered(500, None), RemoteError,
     "Listing the data store failed: 500", "StorageError", 500),
    (UPLOAD, "the upload", answered(403, "AuthorizationPermissionMismatch"), AuthError,
     "The data store refused the upload SAS: 403 AuthorizationPermissionMismatch", "", 0),
    (UPLOAD, "the upload", UNREACHABLE, RemoteError,
     "Upload interrupted: ServiceRequestError: Connection refused: https://acct.blob.core."
     "windows.net/uploads/m/1/w?sv=2024-08-04&sig=REDACTED. Run the same command to resume "
     "(what was sent is kept).", "UploadInterrupted", 0),
    (UPLOAD, "the upload", answered(500, None), RemoteError,
     "Upload interrupted: 500. Run the same command to resume (what was sent is kept).",
     "UploadFailed", 500),
]


@pytest.mark.parametrize(("wording", "subject", "exc", "kind", "message", "code", "status"),
                         CASES)
def test_each_outcome_in_each_wording(wording: Wording, subject: str, exc: AzureError,
                                      kind: type[AimodelsError], message: str, code: str,
                                      status: int) -> None:
    error = storage_error(exc, subject, wording=wording)
    assert type(error) is kind
    assert error.message == message
    assert "SeCrEt" not in str(error) + error.hint
    if isinstance(error, RemoteError):
        assert (error.code, error.status) == (code, status)


def test_hints_and_the_context_manager() -> None:
    refused = answered(403, "AuthorizationFailure")
    assert storage_error(refused, "x", wording=UPLOAD).hint.startswith(
        "Check the registry's data-store permissions")
    assert storage_error(refused, "x", "Try again.", wording=DATA_STORE).hint == "Try again."
    assert storage_error(UNREACHABLE, "x").hint.startswith("Check the account URL")
    with pytest.raises(AuthError) as raised, storage_errors("Listing the data store",
                                                            wording=DATA_STORE):
        raise refused
    assert raised.value.__cause__ is refused
    assert raised.value.exit_code == 4
