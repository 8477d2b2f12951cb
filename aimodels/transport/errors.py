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
    3xx; below 400, a body that is not   UnexpectedResponseError (RemoteError, exit 5): not
    a JSON object (a portal's HTML,      Azure's answer, so never read as "does not exist"
    cut-off JSON, a string, a list)
    a field of the wrong type in a body  UnexpectedResponseError, by ``unexpected_shapes``
                                         around the code that reads the body

Inference endpoints (``api="inference"``: Azure OpenAI deployments, AI manager namespace
gateways) have their own rules, as docs/commands.md (``chat``) states them, after the
transport's retries:

    401, 403                            AuthError (exit 4) "authentication failed at ENDPOINT"
    404 DeploymentNotFound              NotFoundError (exit 5) "deployment X not found at
                                        ENDPOINT (check the name; ...)"
    404 other                           NotFoundError (exit 5), naming the api-version sent
    429                                 RemoteError (exit 5) "rate limited", with the wait the
                                        service asked for (Retry-After) when it named one
    5xx                                 RemoteError (exit 5) "the service failed"
    other                               RemoteError (exit 5); a 409 is not a plan conflict here

Messages of failed responses name the method and the path, never the query string (it may
hold a SAS ``sig=``); inference messages name the endpoint (scheme, host and path; no query
either); an unexpected response names the whole URL, redacted, since the host is then the
first thing to check.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit, urlunsplit

import httpx

from aimodels.errors import AimodelsError, AuthError, ConflictError, RemoteError
from aimodels.transport.config import Api
from aimodels.transport.redact import redact_json, redact_text

if TYPE_CHECKING:
    from aimodels.transport.response import Response

logger = logging.getLogger("aimodels.transport")

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


class UnexpectedResponseError(RemoteError):
    """Something answered that is not what the API returns: a redirect, a body that is not a
    JSON object (a captive portal's HTML page, truncated JSON), or a field of the wrong type.

    Never read as "the resource does not exist": exit 5 like any Azure error, with the URL,
    the content type and the first bytes of the answer (redacted) so a person sees who answered.
    """


UNEXPECTED_HINT = (
    "Something between aimodels and Azure may have answered instead (a captive portal, a "
    "proxy, a firewall page), or AIMODELS_ENDPOINT points at something that is not Azure or "
    "the emulator. Check the network and the endpoint; -vv logs every request."
)

#: How much of an unexpected body a message shows.
SAMPLE_LENGTH = 80

#: What reading a body with a field of the wrong type raises in our code.
SHAPE_ERRORS = (TypeError, KeyError, AttributeError, ValueError, IndexError)


def unexpected_response(source: str, problem: str, *, content_type: str = "",
                        sample: str | None = None) -> UnexpectedResponseError:
    """The error for an answer that is not the API's: ``source`` is ``METHOD URL`` (redacted
    here) or a description, ``sample`` the body (only its first bytes are shown, redacted)."""
    shown = "" if sample is None else \
        f"; content-type {content_type or '(none)'}, first bytes {first_bytes(sample)}"
    return UnexpectedResponseError(
        redact_text(f"unexpected response from {source}: {problem}") + shown,
        hint=UNEXPECTED_HINT, code="UnexpectedResponse")


def first_bytes(text: str, limit: int = SAMPLE_LENGTH) -> str:
    """The start of ``text`` for a message: redacted first, then printable characters only
    (whitespace runs as one space), cut at ``limit``, in quotes."""
    flat = " ".join(redact_text(text).split())
    printable = "".join(c if c.isprintable() else "?" for c in flat)
    cut = printable[:limit] + ("…" if len(printable) > limit else "")
    return "'" + cut.replace("'", "\\'") + "'"


def unexpected_answer(response: Response) -> UnexpectedResponseError | None:
    """Why a response below 400 is not an answer of the API, or None when it is one: a
    redirect (we never follow one: ARM does not send them), or a body that is not a JSON
    object. An empty body is fine here (201, 202, 204); ``get_json`` requires one."""
    source = f"{response.method} {response.url}"
    content_type = response.header("content-type") or ""
    if 300 <= response.status < 400:
        target = response.header("location") or "nowhere"
        return unexpected_response(source, f"status {response.status}, a redirect to "
                                   f"{target} (aimodels does not follow redirects)",
                                   content_type=content_type, sample=response.text)
    if not response.text.strip() or isinstance(response.body, dict):
        return None
    return unexpected_response(source, f"status {response.status}, {_not_object(response)}",
                               content_type=content_type, sample=response.text)


def _not_object(response: Response) -> str:
    try:
        json.loads(response.text)
    except ValueError as exc:
        # The parser's complaint helps with cut-off JSON, not with an HTML page.
        looks_like_json = response.text.lstrip()[:1] in ('{', '[', '"')
        return f"the body is not valid JSON ({exc})" if looks_like_json else \
            "the body is not JSON"
    return f"the body is {_json_type(response.body)} in JSON, not an object"


def _json_type(value: Any) -> str:
    names = {str: "a string", list: "a list", bool: "a boolean", int: "a number",
             float: "a number", type(None): "null"}
    return names.get(type(value), type(value).__name__)


@contextmanager
def unexpected_shapes(source: str, body: Any = None) -> Iterator[None]:
    """Around code that reads fields out of a parsed answer: a field missing or of the wrong
    type there (``SHAPE_ERRORS``) is an unexpected response (exit 5), not a bug (exit 70).

    Use it at the boundary where a body becomes our value (the live reader, the read
    commands), never around code that does not read bodies: there it would hide our bugs.
    The traceback is logged at debug level (``-vv``) in case it is ours after all.
    """
    try:
        yield
    except SHAPE_ERRORS as exc:
        logger.debug("reading the answer of %s failed", source, exc_info=True)
        # Secret-named fields hidden too: the body is parsed, so we know which ones they are.
        sample = None if body is None else json.dumps(redact_json(body), default=str)
        raise unexpected_response(
            source, f"a field is missing or has the wrong type ({type(exc).__name__}: {exc})",
            content_type="application/json" if sample is not None else "", sample=sample,
        ) from exc


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
    """The error of a failed chat completion (or any inference call), per the table above."""
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
