"""``AzureClient``: the one async HTTP client for ARM, the custom-model registry and inference.

It adds what every call needs (bearer token, api-version, request id, user agent), retries
what is worth retrying, bounds the requests in flight, logs with secrets redacted, and turns
error responses into aimodels errors (``transport/errors.py``). The network itself is an
``httpx.AsyncBaseTransport``, so tests pass ``httpx.MockTransport`` or
``httpx.ASGITransport(app)``; the sleeper, clock and random source are injected too.

    async with AzureClient.from_config(ClientConfig(target="local"), transport=t) as client:
        body = await client.get_json("/subscriptions/s/resourceGroups/rg/providers/"
                                     "Microsoft.CognitiveServices/accounts/a")
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import Any

import httpx

from aimodels.transport.config import SCOPES, Api, ClientConfig, plain_http_warning
from aimodels.transport.credentials import (
    AzureIdentityTokenSource,
    StaticTokenSource,
    TokenSource,
)
from aimodels.transport.endpoints import resolve_url, with_api_version
from aimodels.transport.errors import (
    NotFoundError,
    UnexpectedResponseError,
    error_for_response,
    mapped_transport_errors,
    unexpected_answer,
    unexpected_response,
)
from aimodels.transport.redact import install_log_redaction, redact_headers, redact_text
from aimodels.transport.response import Response
from aimodels.transport.retry import (
    RetryTally,
    is_idempotent,
    next_delay,
    retry_after_seconds,
    should_retry_status,
)

logger = logging.getLogger("aimodels.transport")

Sleeper = Callable[[float], Awaitable[None]]
Clock = Callable[[], float]

# Failures that happened before the request left: safe to retry even for a POST.
_UNSENT_ERRORS = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)

# Warnings already logged by this process (a command may build several clients).
_WARNED: set[str] = set()


def _warn_once(text: str | None) -> None:
    if text and text not in _WARNED:
        _WARNED.add(text)
        logger.warning(text)


@dataclass(frozen=True, slots=True)
class HttpEvent:
    """One attempt of one request, for ``on_http`` listeners: already redacted.

    ``status`` is None when the attempt failed without a response (``error`` says why);
    ``retry_in`` is the wait before the next attempt, None when this was the last.
    """

    method: str
    url: str
    request_id: str
    attempt: int
    status: int | None
    elapsed: float
    error: str | None = None
    retry_in: float | None = None

    def describe(self) -> str:
        """One log line: ``GET https://... -> 429 in 12 ms (attempt 1, retry in 2.0 s, id ...)``."""
        outcome = str(self.status) if self.status is not None else self.error
        retry = f", retry in {self.retry_in:.3g} s" if self.retry_in is not None else ""
        return (
            f"{self.method} {self.url} -> {outcome} in {self.elapsed * 1000:.0f} ms "
            f"(attempt {self.attempt}{retry}, id {self.request_id})"
        )


class AzureClient:
    """Async client for every aimodels HTTP call. Use as ``async with``; not thread-safe."""

    def __init__(
        self,
        config: ClientConfig,
        tokens: TokenSource,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        sleep: Sleeper = asyncio.sleep,
        clock: Clock = time.time,
        rng: random.Random | None = None,
        on_http: Callable[[HttpEvent], None] | None = None,
    ) -> None:
        self.config = config
        self.sleep = sleep
        self.clock = clock
        self.tokens = tokens
        self._rng = rng or random.Random()
        self._on_http = on_http
        self._slots = asyncio.Semaphore(config.max_concurrency)
        timeout = httpx.Timeout(config.read_timeout, connect=config.connect_timeout)
        self._http = httpx.AsyncClient(transport=transport, timeout=timeout)
        install_log_redaction()
        _warn_once(plain_http_warning(config.endpoint))

    @classmethod
    def from_config(
        cls, config: ClientConfig, *, clock: Clock = time.time, **kwargs: Any
    ) -> AzureClient:
        """A client with the token source the config calls for: the static dev token for the
        emulator (local target or an explicit endpoint), azure-identity otherwise."""
        tokens: TokenSource = (
            AzureIdentityTokenSource(clock=clock)
            if config.uses_azure_identity
            else StaticTokenSource()
        )
        return cls(config, tokens, clock=clock, **kwargs)

    async def __aenter__(self) -> AzureClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the HTTP connections and the credential."""
        await self._http.aclose()
        self.tokens.close()

    async def request(
        self,
        method: str,
        url_or_path: str,
        *,
        api: Api = "arm",
        json: Any = None,
        headers: Mapping[str, str] | None = None,
        params: Mapping[str, str] | None = None,
        idempotent: bool | None = None,
        add_api_version: bool = True,
        deadline: float | None = None,
    ) -> Response:
        """Send one request (with retries) and return the response; raises on status >= 400,
        and ``UnexpectedResponseError`` for a redirect or a body that is not a JSON object.

        ``url_or_path`` is a path (joined to the API's base URL) or an absolute URL (moved to
        the endpoint override when one is set). ARM and inference URLs get their api-version
        unless they carry one, or ``add_api_version`` is False (LRO URLs are used as given).
        ``idempotent`` overrides the method's default retry class (see ``retry.py``).
        ``deadline`` (epoch seconds) replaces the policy's attempt count and time budget:
        transient failures are retried, as long as the next wait ends before it. It is for the
        reads that follow a write Azure accepted (``transport.lro``), which only the
        operation's own deadline should end; not for first attempts at anything.
        """
        method = method.upper()
        url = resolve_url(self.config, api, url_or_path)
        if add_api_version:
            url = with_api_version(api, url)
        with mapped_transport_errors(method, url):
            http_request = await self._build(method, url, api, json, headers, params)
            response, attempts = await self._send_with_retries(
                http_request, is_idempotent(method, idempotent), deadline
            )
        result = Response.from_httpx(response)
        if result.status == 404 and (unexpected := unexpected_answer(result)) is not None:
            # "Not found" makes a plan create the resource, or call it deleted outside
            # aimodels: only an API's own answer may say so, never an HTML page from a proxy
            # or another server at the endpoint. Azure's 404s carry a JSON error (or nothing).
            raise unexpected
        if result.status >= 400:
            raise error_for_response(result.status, result.body, result.text, method, url,
                                     attempts, api=api,
                                     retry_after=retry_after_seconds(result.headers, self.clock()))
        unexpected = unexpected_answer(result)
        if unexpected is not None:
            raise unexpected
        return result

    async def request_json(self, method: str, url_or_path: str, **kwargs: Any) -> dict[str, Any]:
        """``request`` for an answer that must have a body (a GET, a read-only POST action
        such as listAccessInfo): its JSON object; an empty body is an unexpected answer."""
        response = await self.request(method, url_or_path, **kwargs)
        if response.body is None:
            raise _unexpected(response, "the body is empty, a JSON object was expected")
        return dict(response.body)

    async def get_json(self, url_or_path: str, *, api: Api = "arm",
                       **kwargs: Any) -> dict[str, Any]:
        """GET and return the JSON object of the body (see ``request_json``)."""
        return await self.request_json("GET", url_or_path, api=api, **kwargs)

    async def get_json_or_none(self, url_or_path: str, *, api: Api = "arm",
                               **kwargs: Any) -> dict[str, Any] | None:
        """GET and return the JSON body, or None when the resource does not exist (404).

        None means a 404 and nothing else: any other answer that is not a JSON object raises.
        """
        try:
            return await self.get_json(url_or_path, api=api, **kwargs)
        except NotFoundError:
            return None

    async def list_all(self, url_or_path: str, *, api: Api = "arm",
                       **kwargs: Any) -> list[dict[str, Any]]:
        """Every item of a list operation, following ``nextLink`` page after page.

        Each page must be ``{"value": [objects...], "nextLink": url or null}``: anything else
        is an unexpected answer, never an empty list.
        """
        items: list[dict[str, Any]] = []
        seen: set[str] = set()
        next_url: str | None = url_or_path
        while next_url and next_url not in seen:
            seen.add(next_url)
            page = await self.request("GET", next_url, api=api, **kwargs)
            value, next_url = _page_of(page)
            items.extend(value)
            kwargs.pop("params", None)  # nextLink already carries the query
        return items

    async def _build(
        self,
        method: str,
        url: str,
        api: Api,
        json: Any,
        headers: Mapping[str, str] | None,
        params: Mapping[str, str] | None,
    ) -> httpx.Request:
        merged = {
            "User-Agent": self.config.user_agent,
            "x-ms-client-request-id": str(uuid.uuid4()),
            "Accept": "application/json",
        }
        merged.update(headers or {})
        lowered = {name.lower() for name in merged}
        if not lowered & {"authorization", "api-key"}:
            merged["Authorization"] = "Bearer " + await self.tokens.token(SCOPES[api])
        # Merge rather than pass ``params=``: httpx would replace the URL's query, and with it
        # the api-version already in the URL.
        target = httpx.URL(url).copy_merge_params(params) if params else httpx.URL(url)
        return self._http.build_request(method, target, json=json, headers=merged)

    async def _send_with_retries(
        self, request: httpx.Request, idempotent: bool, deadline: float | None
    ) -> tuple[httpx.Response, int]:
        tally = RetryTally(self.clock())
        attempt = 0
        while True:
            attempt += 1
            sent_at = self.clock()
            try:
                response = await self._send_once(request)
            except httpx.TransportError as exc:
                if not (idempotent or isinstance(exc, _UNSENT_ERRORS)):
                    self._emit(request, attempt, sent_at, None, exc, None)
                    raise
                delay = self._next_delay(tally, None, deadline)
                self._emit(request, attempt, sent_at, None, exc, delay)
                if delay is None:
                    raise
            else:
                retryable = should_retry_status(response.status_code, idempotent)
                delay = self._next_delay(tally, response, deadline) if retryable else None
                self._emit(request, attempt, sent_at, response, None, delay)
                if delay is None:
                    return response, attempt
            await self.sleep(delay)

    async def _send_once(self, request: httpx.Request) -> httpx.Response:
        async with self._slots:
            response = await self._http.send(request)
            await response.aread()
            return response

    def _next_delay(
        self, tally: RetryTally, response: httpx.Response | None, deadline: float | None
    ) -> float | None:
        """The wait before the next attempt, or None when retries are used up (``retry.py``)."""
        now = self.clock()
        if response is None:
            return next_delay(self.config.retry, tally, None, None, now, self._rng, deadline)
        asked = retry_after_seconds(response.headers, now)
        return next_delay(
            self.config.retry, tally, response.status_code, asked, now, self._rng, deadline
        )

    def _emit(
        self,
        request: httpx.Request,
        attempt: int,
        sent_at: float,
        response: httpx.Response | None,
        exc: Exception | None,
        retry_in: float | None,
    ) -> None:
        event = HttpEvent(
            method=request.method,
            url=redact_text(str(request.url)),
            request_id=request.headers["x-ms-client-request-id"],
            attempt=attempt,
            status=response.status_code if response is not None else None,
            elapsed=self.clock() - sent_at,
            error=redact_text(f"{type(exc).__name__}: {exc}") if exc else None,
            retry_in=retry_in,
        )
        if logger.isEnabledFor(logging.DEBUG):
            logger.debug("%s headers=%s", event.describe(), redact_headers(dict(request.headers)))
        if self._on_http is not None:
            self._on_http(event)


def _page_of(page: Response) -> tuple[list[dict[str, Any]], str | None]:
    """The items and the next link of one page of a list, or UnexpectedResponseError."""
    body = page.body if isinstance(page.body, dict) else {}
    value, next_link = body.get("value"), body.get("nextLink")
    if not isinstance(value, list):
        raise _unexpected(page, "a list answer without a \"value\" list")
    if not all(isinstance(item, dict) for item in value):
        raise _unexpected(page, "an item of \"value\" is not a JSON object")
    if next_link is not None and not isinstance(next_link, str):
        raise _unexpected(page, "\"nextLink\" is not a URL")
    return value, next_link or None


def _unexpected(response: Response, problem: str) -> UnexpectedResponseError:
    return unexpected_response(f"{response.method} {response.url}", problem,
                               content_type=response.header("content-type") or "",
                               sample=response.text)
