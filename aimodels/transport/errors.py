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

Inference endpoints (``api="inference"``: Azure OpenAI deployments, AI manager namespace
gateways) have their own rules, in the words of seed 002, after the transport's retries:

    401, 403                            AuthError (exit 4) "authentication failed at ENDPOINT"
    404 DeploymentNotFound              NotFoundError (exit 5) "deployment X not found at
                                        ENDPOINT (check the name; ...)"
    404 other                           NotFoundError (exit 5), naming the api-version sent
    429                                 RemoteError (exit 5) "rate limited", with the wait the
                                        service asked for (Retry-After) when it named one
    5xx                                 RemoteError (exit 5) "the service failed"
    other                               RemoteError (exit 5); a 409 is not a plan conflict here

Messages name the method and the path, never the query string (it may hold a SAS ``sig=``);
inference messages name the endpoint (scheme, host and path; no query either).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import parse_qs, urlsplit, urlunsplit

import httpx

from aimodels.errors import AimodelsError, AuthError, ConflictError, RemoteError
from aimodels.transport.config import Api
from aimodels.transport.redact import redact_text

AUTH_HINT = (
    "Run `az login`, or set AZURE_CLIENT_ID/AZURE_TENANT_ID/AZURE_CLIENT_SECRET for a service "
    "principal; for a local try, set `target: local` in the Stack."
)
FORBIDDEN_HINT = (
    "The identity is signed in but lacks a role on this scope: ask for a role assignment "
    "(e.g. Contributor on the resource group), or check the subscription in the Stack."
)

INFERENCE_AUTH_HINT = (
    "A key may have been rotated just now: run the command again. An Entra ID token needs a "
    "data-plane role on the account (e.g. Cognitive Services OpenAI User); `aimodels chat "
    "--auth key` or `--auth entra` picks the other way in."
)
KEYS_DISABLED_HINT = (
    "The account accepts Microsoft Entra ID tokens only (disableLocalAuth): use "
    "`aimodels chat --auth entra`."
)
INFERENCE_404_HINT = "A deployment serves once it has finished provisioning."

#: The deployment name in an Azure OpenAI data-plane path.
_DEPLOYMENT_IN_PATH = re.compile(r"/openai/deployments/([^/]+)/", re.IGNORECASE)


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
    status: int, body: Any, text: str, method: str, url: str, attempts: int = 1, *,
    api: Api = "arm", retry_after: float | None = None,
) -> AimodelsError:
    """The aimodels error for a failed response (status >= 400).

    ``retry_after`` is the wait the response asked for (seconds), which a message about a
    throttled inference call repeats; ``api`` picks the rules (see the module docstring).
    """
    code, message = arm_code_and_message(body, text)
    detail = redact_text(f"{code}: {message}" if code else message or "no error body")
    tries = f" (after {attempts} attempts)" if attempts > 1 else ""
    if api == "inference":
        return inference_error(status, code, detail, url, tries, retry_after)
    at = where(method, url)
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


def inference_error(status: int, code: str, detail: str, url: str, tries: str,
                    retry_after: float | None) -> AimodelsError:
    """The error of a failed chat completion (or any inference call), per seed 002."""
    at = endpoint_of(url)
    if status in (401, 403):
        hint = KEYS_DISABLED_HINT if code == "AuthenticationTypeDisabled" else INFERENCE_AUTH_HINT
        return AuthError(f"authentication failed at {at}: {detail}", hint=hint)
    if status == 404:
        return _inference_not_found(code, detail, url)
    if status == 429:
        wait = f"; the service asks to wait {_seconds(retry_after)} before the next request" \
            if retry_after is not None else ""
        return RemoteError(f"rate limited at {at}{tries}: {detail}{wait}",
                           hint="Wait, then run the command again; a deployment with more "
                           "capacity (tokens per minute) is throttled less.",
                           code=code or "TooManyRequests", status=429)
    if status >= 500:
        return RemoteError(f"the service failed at {at}{tries}: {detail}",
                           hint="Usually transient: run the command again in a minute.",
                           code=code, status=status)
    return RemoteError(f"error {status} at {at}: {detail}", code=code, status=status)


def _inference_not_found(code: str, detail: str, url: str) -> NotFoundError:
    at = endpoint_of(url)
    if code == "DeploymentNotFound" or not code:
        found = _DEPLOYMENT_IN_PATH.search(urlsplit(url).path)
        name = f"deployment {found.group(1)}" if found else "deployment"
        return NotFoundError(f"{name} not found at {at} (check the name; list with `aimodels "
                             f"deployments list`): {detail}", hint=INFERENCE_404_HINT,
                             code=code or "DeploymentNotFound", status=404)
    version = parse_qs(urlsplit(url).query).get("api-version", [""])[0]
    sent = f" with api-version {version}" if version else ""
    return NotFoundError(f"not found at {at}{sent}: {detail}",
                         hint="An api-version the service does not support answers 404: "
                         "check --api-version." if version else INFERENCE_404_HINT,
                         code=code, status=404)


def endpoint_of(url: str) -> str:
    """``scheme://host/path`` of ``url``: the query (api-version, a SAS) left out."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))


def _seconds(value: float) -> str:
    return f"{value:.0f} s" if value >= 10 else f"{value:.3g} s"


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
