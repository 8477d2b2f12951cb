"""What a storage failure means to aimodels: the one mapping of azure-core's exceptions to ours.

- refused credentials (401, 403, ``ClientAuthenticationError``, a token that cannot be had)
  → ``AuthError`` (exit 4);
- an account that cannot be reached (connection refused, DNS, timeouts) → ``RemoteError``
  with code ``StorageUnreachable`` (exit 5);
- a condition not met (412: the blob changed since it was read) → ``ConflictError`` (exit 6);
- anything else the service answers → ``RemoteError`` with its error code and status (exit 5).

Messages name the code and the status, never a URL's query (a SAS) nor a credential.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

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


def storage_error(exc: AzureError, subject: str, hint: str = "") -> AimodelsError:
    """``exc`` as our error, about ``subject`` (``the state blob https://...``)."""
    status = getattr(exc, "status_code", None) or 0
    if isinstance(exc, ClientAuthenticationError) or status in (401, 403):
        return AuthError(f"Azure Storage refused access to {subject}: {reason(exc)}",
                         hint=hint or "Check the credential (az login, or "
                         "AZURE_STORAGE_CONNECTION_STRING) and its role on the account "
                         "(Storage Blob Data Contributor).")
    if isinstance(exc, ServiceRequestError | ServiceResponseError):
        return RemoteError(f"Cannot reach {subject}: {reason(exc)}",
                           hint=hint or UNREACHABLE_HINT, code="StorageUnreachable")
    code = error_code(exc) or type(exc).__name__
    if status == 412:
        return ConflictError(f"{subject[0].upper()}{subject[1:]} changed meanwhile: "
                             f"{reason(exc)}", hint=hint, code=code, status=status)
    return RemoteError(f"Azure Storage failed on {subject}: {reason(exc)}", hint=hint,
                       code=code, status=status)


@contextlib.contextmanager
def storage_errors(subject: str, hint: str = "") -> Iterator[None]:
    """Translate what the block raises from azure-core into our errors (``from`` the cause)."""
    try:
        yield
    except AzureError as exc:
        raise storage_error(exc, subject, hint) from exc
