"""Foreign failures turned into ours, in one place: ARM error responses and httpx exceptions.

    status / exception                  raised as
    401, 403                            AuthError (exit 4) with what to do about credentials
    404                                 NotFoundError (RemoteError, exit 5); ``get_json_or_none``
                                        turns it into None for callers that expect absence
    409                                 ConflictError (exit 6)
    412                                 ConflictError code PreconditionFailed (exit 6):
                                        "changed since the plan: run plan again"
    other 4xx / 5xx                     RemoteError (exit 5) with status, ARM code and message
    httpx.TransportError (after retries) RemoteError (exit 5) code ConnectionError or Timeout

Messages name the method and the path, never the query string (it may hold a SAS ``sig=``).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit

import httpx

from aimodels.errors import AimodelsError, AuthError, ConflictError, RemoteError
from aimodels.transport.redact import redact_text

AUTH_HINT = (
    "Run `az login`, or set AZURE_CLIENT_ID/AZURE_TENANT_ID/AZURE_CLIENT_SECRET for a service "
    "principal; for a local try, set `target: local` in the Stack."
)
FORBIDDEN_HINT = (
    "The identity is signed in but lacks a role on this scope: ask for a role assignment "
    "(e.g. Contributor on the resource group), or check the subscription in the Stack."
)


class NotFoundError(RemoteError):
    """Azure answered 404: the resource (or its parent) does not exist.

    Raised by ``request``; readers that treat absence as a normal answer should call
    ``get_json_or_none`` instead of catching this.
    """


def where(method: str, url: str) -> str:
    """``METHOD /path`` for messages: host and query string left out on purpose."""
    return f"{method.upper()} {urlsplit(url).path or '/'}"


def arm_code_and_message(body: Any, text: str) -> tuple[str, str]:
    """The ``error.code`` and ``error.message`` of an ARM error body (or a flat one)."""
    error = body.get("error", body) if isinstance(body, dict) else None
    if isinstance(error, dict):
        code = str(error.get("code") or "")
        message = str(error.get("message") or "")
        if code or message:
            return code, message
    return "", text.strip()[:300]


def error_for_response(
    status: int, body: Any, text: str, method: str, url: str, attempts: int = 1
) -> AimodelsError:
    """The aimodels error for a failed response (status >= 400)."""
    code, message = arm_code_and_message(body, text)
    detail = redact_text(f"{code}: {message}" if code else message or "no error body")
    at = where(method, url)
    tries = f" (after {attempts} attempts)" if attempts > 1 else ""
    if status == 401:
        return AuthError(f"Azure rejected the credentials for {at}: {detail}", hint=AUTH_HINT)
    if status == 403:
        return AuthError(f"Not authorized for {at}: {detail}", hint=FORBIDDEN_HINT)
    if status == 404:
        return NotFoundError(f"Not found: {at}: {detail}", code=code or "NotFound", status=404)
    if status == 412:
        return ConflictError(
            f"{at}: the resource changed since the plan: run plan again ({detail})",
            hint="Run `aimodels plan` to see the live resource, then apply the new plan.",
            code="PreconditionFailed",
            status=412,
        )
    if status == 409:
        return ConflictError(f"Conflict on {at}: {detail}", code=code or "Conflict", status=409)
    return RemoteError(f"Azure error {status} on {at}{tries}: {detail}", code=code, status=status)


@contextmanager
def mapped_transport_errors(method: str, url: str) -> Iterator[None]:
    """Turn httpx's network exceptions that escaped the retries into ``RemoteError``.

    Used around the whole retry loop, like httpx's own ``map_httpcore_exceptions``.
    """
    try:
        yield
    except httpx.TimeoutException as exc:
        raise RemoteError(
            f"Timed out on {where(method, url)}: {type(exc).__name__}",
            hint="Azure or the endpoint is slow or unreachable; try again later.",
            code="Timeout",
        ) from exc
    except httpx.TransportError as exc:
        host = urlsplit(url).netloc
        raise RemoteError(
            f"Could not reach {host} for {where(method, url)}: {type(exc).__name__}: "
            f"{redact_text(str(exc))}",
            hint="Check the network, or AIMODELS_ENDPOINT if you meant the emulator.",
            code="ConnectionError",
        ) from exc
