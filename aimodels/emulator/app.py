"""The emulator as one ASGI app: the shared ``Emulator`` object, the middleware that makes it
behave like Azure (bearer auth, latency, throttling, faults), and route assembly.

Each API family lives in its own module or sub-package (``containerservice/``,
``cognitiveservices/``, ``blob/``) exposing ``routes(emu) -> list[BaseRoute]``; this module only
wires them together. The app is served by uvicorn (``server.py``) on a loopback port, or run
in-process through ``httpx.ASGITransport`` in unit tests.
"""

from __future__ import annotations

import asyncio
import random
import threading
import time
from collections.abc import Callable
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from aimodels.emulator import (
    blob,
    cognitiveservices,
    containerservice,
    inference,
    lro,
    registry,
)
from aimodels.emulator import fixtures as fixture_data
from aimodels.emulator.blob.store import BlobStore
from aimodels.emulator.config import EmulatorConfig
from aimodels.emulator.http import arm_error
from aimodels.emulator.store import Store

#: Route modules, in the order their routes are tried. Each exposes ``routes(emu)``.
ROUTE_MODULES = (lro, containerservice, cognitiveservices, registry, blob, inference)

#: Path prefixes that need an ARM-style bearer token (the others authenticate themselves:
#: SAS for blobs, api-key or bearer for inference).
BEARER_PREFIXES = ("/subscriptions/", "/datastore/", "/custom-models")

#: Path prefixes where throttling and faults are injected (not blobs: their SAS flow has its own
#: retry policy in azure-storage-blob, and resumable-upload tests inject failures themselves).
FAULTY_PREFIXES = ("/subscriptions/", "/datastore/", "/custom-models", "/openai/", "/inference/")

#: Inference paths answer a throttle the way Azure OpenAI does (error code "429"), the others
#: the way ARM does ("TooManyRequests").
INFERENCE_PREFIXES = ("/openai/", "/inference/")

#: The wait a throttled client (and one answered 503) is asked for. ``Retry-After`` carries it
#: in whole seconds, as ARM sends it (rounded up: 1); ``Retry-After-Ms`` and
#: ``x-ms-retry-after-ms`` carry it exactly, as Azure's data-plane services add. Clients that
#: read the milliseconds (aimodels' transport) wait 100 ms; clients that read ``Retry-After``
#: first (azure-core) wait a second, as they would against Azure.
THROTTLE_RETRY_MS = 100


class Emulator:
    """One emulator instance: config, store, fixtures, a clock and a seeded random source.

    Route modules receive it and keep no state of their own. ``clock`` is injectable so tests
    can move time forward instead of sleeping.
    """

    def __init__(self, config: EmulatorConfig, clock: Callable[[], float] = time.time) -> None:
        self.config = config
        self.clock = clock
        self.fixtures = fixture_data.load(config.fixtures_path)  # first: a bad file opens nothing
        db = config.data_dir / "emulator.sqlite3" if config.data_dir else None
        self.store = Store(db)
        BlobStore(self.store, clock).prepare()
        self.rng = random.Random(config.seed)
        self._rng_lock = threading.Lock()

    def now(self) -> float:
        return self.clock()

    def roll(self) -> float:
        """The next number of the seeded random sequence (thread-safe)."""
        with self._rng_lock:
            return self.rng.random()


class AzureBehaviour:
    """ASGI middleware: latency, 429/5xx injection, and the bearer-token requirement."""

    def __init__(self, app: ASGIApp, emu: Emulator) -> None:
        self.app = app
        self.emu = emu

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        if self.emu.config.latency_ms:
            await asyncio.sleep(self.emu.config.latency_ms / 1000)
        # Authentication comes first, as in ARM: throttling is counted per caller, and an
        # anonymous request is refused whatever the load.
        response = self._unauthorized(scope, path) or self._injected(path)
        if response is not None:
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)

    def _injected(self, path: str) -> Any:
        """A 429, 500 or 503 for this request, drawn from the seeded sequence, or None."""
        config = self.emu.config
        if not path.startswith(FAULTY_PREFIXES) or not (config.throttle_rate or config.fault_rate):
            return None
        roll = self.emu.roll()
        if roll < config.throttle_rate:
            return throttled(path)
        if roll < config.throttle_rate + config.fault_rate:
            message = "A transient failure injected by the emulator (--fault-rate)."
            if self.emu.roll() < 0.5:
                return arm_error(500, "InternalServerError", message)
            # A 503 says when to come back (HTTP defines Retry-After for it as for a 429);
            # a 500 names no wait.
            return arm_error(503, "ServiceUnavailable", message, retry_after_headers())
        return None

    @staticmethod
    def _unauthorized(scope: Scope, path: str) -> Any:
        if not path.startswith(BEARER_PREFIXES):
            return None
        headers = dict(scope["headers"])
        auth = headers.get(b"authorization", b"").decode("latin-1")
        scheme, _, token = auth.partition(" ")
        if scheme.lower() == "bearer" and token.strip():
            return None
        return arm_error(401, "AuthenticationFailed",
                         "Authentication failed: the Authorization header is missing or is not a "
                         "Bearer token.",
                         headers={"WWW-Authenticate": 'Bearer authorization_uri="https://login.'
                                  'microsoftonline.com/common", error="invalid_token"'})


def retry_after_headers() -> dict[str, str]:
    """The wait a throttled or unavailable answer names (``THROTTLE_RETRY_MS``)."""
    seconds = -(-THROTTLE_RETRY_MS // 1000)
    return {"Retry-After": str(seconds), "Retry-After-Ms": str(THROTTLE_RETRY_MS),
            "x-ms-retry-after-ms": str(THROTTLE_RETRY_MS)}


def throttled(path: str) -> Any:
    """The 429 of ``--throttle-rate``: ARM's shape, or Azure OpenAI's on inference paths."""
    seconds = -(-THROTTLE_RETRY_MS // 1000)
    headers = retry_after_headers()
    if path.startswith(INFERENCE_PREFIXES):
        return arm_error(429, "429", "Requests to this deployment have exceeded the rate limit "
                         f"(--throttle-rate). Please retry after {seconds} second.", headers)
    return arm_error(429, "TooManyRequests", "The request was throttled (--throttle-rate); "
                     f"retry after {seconds} second.", headers)


async def _no_route(request: Request, exc: Exception) -> Response:
    """A path or method no route serves, answered as ARM does (JSON error body)."""
    if getattr(exc, "status_code", 404) == 405:
        return arm_error(405, "MethodNotAllowed", f"The method '{request.method}' is not "
                         f"supported on '{request.url.path}'.", getattr(exc, "headers", None))
    return arm_error(404, "NotFound", f"No emulated API serves '{request.url.path}'; see "
                     "docs/emulator.md for the routes.")


def create_app(config: EmulatorConfig | None = None, *,
               emulator: Emulator | None = None) -> Starlette:
    """Build the ASGI app for ``config`` (or around an existing ``emulator``)."""
    emu = emulator or Emulator(config or EmulatorConfig())
    routes: list[Any] = []
    for module in ROUTE_MODULES:
        routes.extend(module.routes(emu))
    app = Starlette(routes=routes, exception_handlers={404: _no_route, 405: _no_route})
    app.state.emulator = emu
    app.add_middleware(AzureBehaviour, emu=emu)
    return app
