"""What a storage failure means to aimodels: the one mapping of azure-core's exceptions to ours.

- refused credentials (401, 403, ``ClientAuthenticationError``, a token that cannot be had)
  → ``AuthError`` (exit 4);
- an account that cannot be reached (connection refused, DNS, timeouts) → ``RemoteError``
  with code ``StorageUnreachable`` (exit 5);
- a condition not met (412: the blob changed since it was read) → ``ConflictError`` (exit 6);
- anything else the service answers → ``RemoteError`` with its error code and status (exit 5).

Each use of storage words these outcomes its own way (``Wording``: the state and its blob
store, the registry's data store, a weights upload), but the outcomes are decided here only.
Messages name the code and the status, never a URL's query (a SAS) nor a credential.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass

from azure.core.exceptions import (
    AzureError,
    ClientAuthenticationError,
    HttpResponseError,
    ServiceRequestError,
    ServiceResponseError,
)

from aimodels.errors import AimodelsError, AuthError, ConflictError, RemoteError
from aimodels.transport.redact import redact_text

#: The hint of an unreachable account: what to check, and that nothing falls back.
UNREACHABLE_HINT = ("Check the account URL, the network and any proxy; aimodels never falls "
                    "back to anything else, so nothing was read or written.")


def reason(exc: AzureError) -> str:
    """``403 AuthorizationFailure`` for a service answer; ``ServiceRequestError: <first
    line>`` otherwise (redacted: a SAS in a URL of the message is hidden)."""
    if isinstance(exc, HttpResponseError) and exc.status_code:
        text = f"{exc.status_code} {error_code(exc) or exc.reason or ''}".strip()
    else:
        first = str(getattr(exc, "message", None) or exc).strip().splitlines()
        text = f"{type(exc).__name__}: {first[0]}" if first else type(exc).__name__
    return redact_text(text)


def error_code(exc: AzureError) -> str:
    """The storage error code (``ContainerNotFound``, ``LeaseAlreadyPresent``...), or ``""``."""
    code = getattr(exc, "error_code", None)
    return str(getattr(code, "value", code) or "")


@dataclass(frozen=True, slots=True)
class Wording:
    """What one use of storage says for each outcome of the map. ``{subject}`` and ``{reason}``
    are filled in; a hint given to ``storage_error`` replaces the refused and unreachable hints.
    ``code`` is the error code when the service names none ("": the exception's type name);
    ``unreachable_code`` that of an account that cannot be reached."""

    refused: str = "Azure Storage refused access to {subject}: {reason}"
    refused_hint: str = ("Check the credential (az login, or AZURE_STORAGE_CONNECTION_STRING) "
                         "and its role on the account (Storage Blob Data Contributor).")
    unreachable: str = "Cannot reach {subject}: {reason}"
    unreachable_hint: str = UNREACHABLE_HINT
    unreachable_code: str = "StorageUnreachable"
    failed: str = "Azure Storage failed on {subject}: {reason}"
    code: str = ""


#: The state and its blob backend (``store.BlobStore``): the subject names the blob or account.
STORAGE = Wording()

#: The registry's data store, through the SAS the registry hands out (``uploads list``,
#: ``uploads prune``): the subject is what was being done (``Listing the data store``).
_DATA_STORE_FAILED = "{subject} failed: {reason}"
DATA_STORE = Wording(
    refused="The data store refused the registry's SAS: {reason}",
    refused_hint="The SAS may have expired or the clock be off; run the command again.",
    unreachable=_DATA_STORE_FAILED, unreachable_hint="", unreachable_code="StorageError",
    failed=_DATA_STORE_FAILED, code="StorageError")

#: A weights upload (apply): what was sent is kept, so the same command resumes.
_INTERRUPTED = ("Upload interrupted: {reason}. Run the same command to resume (what was sent "
                "is kept).")
UPLOAD = Wording(
    refused="The data store refused the upload SAS: {reason}",
    refused_hint="Check the registry's data-store permissions, then run the same command to "
                 "resume.",
    unreachable=_INTERRUPTED, unreachable_hint="", unreachable_code="UploadInterrupted",
    failed=_INTERRUPTED, code="UploadFailed")


def storage_error(exc: AzureError, subject: str, hint: str = "",
                  wording: Wording = STORAGE) -> AimodelsError:
    """``exc`` as our error, about ``subject`` (``the state blob https://...``)."""
    status = getattr(exc, "status_code", None) or 0
    said = {"subject": subject, "reason": reason(exc)}
    if isinstance(exc, ClientAuthenticationError) or status in (401, 403):
        return AuthError(wording.refused.format(**said), hint=hint or wording.refused_hint)
    if isinstance(exc, ServiceRequestError | ServiceResponseError):
        return RemoteError(wording.unreachable.format(**said),
                           hint=hint or wording.unreachable_hint, code=wording.unreachable_code)
    code = error_code(exc) or wording.code or type(exc).__name__
    if status == 412:
        return ConflictError(f"{subject[0].upper()}{subject[1:]} changed meanwhile: "
                             f"{said['reason']}", hint=hint, code=code, status=status)
    return RemoteError(wording.failed.format(**said), hint=hint, code=code, status=status)


@contextlib.contextmanager
def storage_errors(subject: str, hint: str = "", wording: Wording = STORAGE) -> Iterator[None]:
    """Translate what the block raises from azure-core into our errors (``from`` the cause)."""
    try:
        yield
    except AzureError as exc:
        raise storage_error(exc, subject, hint, wording) from exc
