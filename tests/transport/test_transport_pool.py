"""The real connection pool (httpx over httpcore, a loopback emulator): what each request costs.

httpcore asks ``sniffio`` which event loop runs on every pool event (``current_async_library``
imports it each time). anyio 4.16 no longer installs sniffio, so without aimodels requiring it
each of those imports failed after searching the whole ``sys.path``, several times per request:
about a quarter of the client's CPU per request (``benchmarks/http_client.py``,
docs/performance.md "apply: scale").
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from importlib.abc import MetaPathFinder
from typing import Any

import pytest

from aimodels.emulator.config import EmulatorConfig
from aimodels.emulator.server import RunningEmulator, start_in_thread
from aimodels.transport.client import AzureClient
from aimodels.transport.config import ClientConfig

SOURCES = ("/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-quickstart/"
           "providers/Microsoft.ContainerService/aiManagers/quickstart/modelSources")


class ImportSearches(MetaPathFinder):
    """Counts the module searches (imports not already in ``sys.modules``) made by one thread;
    finds nothing itself, so every import goes on as usual."""

    def __init__(self, thread: int) -> None:
        self.thread = thread
        self.names: list[str] = []

    def find_spec(self, fullname: str, path: Any, target: Any = None) -> None:
        if threading.get_ident() == self.thread:
            self.names.append(fullname)


@pytest.fixture
def emulator() -> Iterator[RunningEmulator]:
    with start_in_thread(EmulatorConfig(lro_seconds=0)) as running:
        yield running


def test_requests_through_the_pool_search_no_module(
        emulator: RunningEmulator, monkeypatch: pytest.MonkeyPatch) -> None:
    """Thirty reads, ten at a time, over real sockets: once the first request has loaded what
    it needs, no request makes Python search for a module (a failed import searches every
    entry of ``sys.path`` each time it is tried)."""
    import sys

    searches = ImportSearches(threading.get_ident())

    async def run() -> set[int]:
        config = ClientConfig(target="local", endpoint=emulator.url, max_concurrency=10)
        async with AzureClient.from_config(config) as client:
            await client.request("GET", SOURCES)  # warm: the connection, lazy imports
            monkeypatch.setattr(sys, "meta_path", [searches, *sys.meta_path])
            answers = await asyncio.gather(*(client.request("GET", SOURCES)
                                             for _ in range(30)))
            return {answer.status for answer in answers}

    assert asyncio.run(run()) == {200}
    assert searches.names == []
