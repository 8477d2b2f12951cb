"""The emulator as one ASGI app: the shared ``Emulator`` object, the middleware that makes it
behave like Azure (bearer auth, latency, throttling, faults), and route assembly.

Each API family lives in its own module exposing ``routes(emu) -> list[BaseRoute]``; this module
only wires them together. The app is served by uvicorn (``server.py``) on a loopback port, or run
in-process through ``httpx.ASGITransport`` in unit tests.
"""

from __future__ import annotations

import asyncio
import importlib
import random
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.types import ASGIApp, Receive, Scope, Send

from aimodels.emulator import fixtures as fixture_data
from aimodels.emulator.config import EmulatorConfig
from aimodels.emulator.http import arm_error
from aimodels.emulator.store import Store

#: Route modules, in the order their routes are tried. Each exposes ``routes(emu)``.
ROUTE_MODULES = (
    "aimodels.emulator.lro",
    "aimodels.emulator.containerservice",
    "aimodels.emulator.cognitiveservices",
    "aimodels.emulator.registry",
    "aimodels.emulator.blob",
    "aimodels.emulator.inference",
)

#: Path prefixes that need an ARM-style bearer token (the others authenticate themselves:
#: SAS for blobs, api-key or bearer for inference).
BEARER_PREFIXES = ("/subscriptions/", "/datastore/", "/custom-models")

#: Path prefixes where throttling and faults are injected (not blobs: their SAS flow has its own
#: retry policy in azure-storage-blob, and resumable-upload tests inject failures themselves).
FAULTY_PREFIXES = ("/subscriptions/", "/datastore/", "/custom-models", "/openai/", "/inference/")


class Emulator:
    """One emulator instance: config, store, fixtures, a clock and a seeded random source.

    Route modules receive it and keep no state of their own. ``clock`` is injectable so tests
    can move time forward instead of sleeping.
    """

    def __init__(self, config: EmulatorConfig, clock: Callable[[], float] = time.time) -> None:
        self.config = config
        self.clock = clock
        db = config.data_dir / "emulator.sqlite3" if config.data_dir else None
        self.store = Store(db)
        self.fixtures = fixture_data.load(config.fixtures_path)
        self.rng = random.Random(config.seed)
        self._rng_lock = threading.Lock()
        #: Serializes writes per Cognitive Services account (Azure answers 409 to a second one).
        self.account_writes: dict[str, float] = {}

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
        config = self.emu.config
        path: str = scope["path"]
        if config.latency_ms:
            await asyncio.sleep(config.latency_ms / 1000)
        response = self._injected(path) or self._unauthorized(scope, path)
        if response is not None:
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)

    def _injected(self, path: str) -> Any:
        config = self.emu.config
        if not path.startswith(FAULTY_PREFIXES) or not (config.throttle_rate or config.fault_rate):
            return None
        roll = self.emu.roll()
        if roll < config.throttle_rate:
            return arm_error(429, "TooManyRequests", "The request was throttled; retry later.",
                             headers={"Retry-After": "1", "Retry-After-Ms": "100"})
        if roll < config.throttle_rate + config.fault_rate:
            status = 500 if self.emu.roll() < 0.5 else 503
            return arm_error(status, "InternalServerError" if status == 500 else "ServiceUnavailable",
                             "A transient failure injected by the emulator (--fault-rate).")
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


def create_app(config: EmulatorConfig | None = None, *, emulator: Emulator | None = None) -> Starlette:
    """Build the ASGI app for ``config`` (or around an existing ``emulator``)."""
    emu = emulator or Emulator(config or EmulatorConfig())
    routes: list[Any] = []
    for name in ROUTE_MODULES:
        routes.extend(importlib.import_module(name).routes(emu))
    app = Starlette(routes=routes)
    app.state.emulator = emu
    app.add_middleware(AzureBehaviour, emu=emu)
    return app


def data_dir_of(path: str | Path | None) -> Path | None:
    """``--data DIR`` as a Path (None keeps state in memory)."""
    return Path(path) if path else None
