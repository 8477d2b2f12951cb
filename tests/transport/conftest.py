"""Fixtures for transport tests: a fake clock and sleeper, and a client factory over any
``httpx`` transport (MockTransport handlers or an ASGI app)."""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from transport_support import FakeTime

from aimodels.transport.client import AzureClient
from aimodels.transport.config import ClientConfig
from aimodels.transport.credentials import StaticTokenSource, TokenSource


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime()


MakeClient = Callable[..., AzureClient]


@pytest.fixture
def make_client(fake_time: FakeTime) -> MakeClient:
    """``make_client(handler_or_transport, tokens=..., on_http=..., **config)``."""

    def make(
        handler: Any,
        *,
        tokens: TokenSource | None = None,
        on_http: Any = None,
        **config: Any,
    ) -> AzureClient:
        transport = (
            handler
            if isinstance(handler, httpx.AsyncBaseTransport)
            else httpx.MockTransport(handler)
        )
        config.setdefault("target", "local")
        return AzureClient(
            ClientConfig(**config),
            tokens or StaticTokenSource(),
            transport=transport,
            sleep=fake_time.sleep,
            clock=fake_time.clock,
            rng=random.Random(7),
            on_http=on_http,
        )

    return make
