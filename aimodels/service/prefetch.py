"""Live reads that start while the manifests are still being read and checked.

``plan`` and ``drift`` spend most of their CPU on the manifests (YAML, schema, rules) and most of
their wall time waiting on LISTs. Both overlap here: the manifests load in a worker thread while
this event loop waits on sockets. The loader hands over the Stack as soon as it has read it
(``load_manifests(on_stack=...)``); the Stack says where the state file and Azure are, and the
state says which parent collections the resources were in last time, so those are listed right
away, before any manifest says it needs them.

It is a speculation, never a result: a listed collection no manifest needs is dropped with
whatever error it met; the state is read again, and checked, by the command; the client is the
one the command would have opened for the same Stack. Anything that goes wrong while
speculating (no state yet, an unreadable one, no credentials) only means nothing is read
early: the command then meets the same problem where it always did, after the manifests, so
a manifest error still wins over any error of the reads.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections import defaultdict
from collections.abc import AsyncIterator, Mapping, Sequence
from types import TracebackType

from aimodels.errors import AimodelsError
from aimodels.live.reader import Listings, largest_first
from aimodels.manifest import load_manifests
from aimodels.manifest.load import LoadResult
from aimodels.model.address import ResourceAddress
from aimodels.model.desired import DesiredState, Stack
from aimodels.plan.provider import ListCollection
from aimodels.providers.registry import default_registry
from aimodels.service.connection import connect
from aimodels.state.backend import LocalBackend, local_state_path
from aimodels.transport.client import AzureClient

_log = logging.getLogger(__name__)

#: How long the loader waits for the early listings to start before it goes on regardless.
_START_WAIT_SECONDS = 5.0


class EarlyReads:
    """The manifests loaded while the state's collections are listed; then the client and the
    listings for the command's own reads. Use as ``async with EarlyReads(...) as early``."""

    def __init__(self, endpoint: str | None, parallelism: int) -> None:
        self._endpoint = endpoint
        self._parallelism = parallelism
        self._exits = contextlib.AsyncExitStack()
        self._stack: Stack | None = None
        self._client: AzureClient | None = None
        self._listings: Listings | None = None

    async def __aenter__(self) -> EarlyReads:
        return self

    async def __aexit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        if self._listings is not None:
            await self._listings.aclose()
        await self._exits.aclose()

    async def load(self, paths: Sequence[str], *, env: Mapping[str, str],
                   strict_env: bool) -> LoadResult:
        """``load_manifests`` in a worker thread, listing the state's collections meanwhile.

        The loader waits, once it has handed over the Stack, until the listings have started:
        the few steps that start them (read the state, open the client) would otherwise wait
        for the interpreter lock behind the YAML and schema work, 5 ms each time.
        """
        loop = asyncio.get_running_loop()
        seen: asyncio.Future[Stack] = loop.create_future()
        started = threading.Event()

        def hand_over(stack: Stack) -> None:  # in the event loop
            if not seen.done():
                seen.set_result(stack)

        def on_stack(stack: Stack) -> None:  # in the loader's thread
            loop.call_soon_threadsafe(hand_over, stack)
            started.wait(_START_WAIT_SECONDS)

        loading = asyncio.ensure_future(asyncio.to_thread(
            load_manifests, paths, env=env, strict_env=strict_env, on_stack=on_stack))
        try:
            await asyncio.wait((loading, seen), return_when=asyncio.FIRST_COMPLETED)
            if seen.done() and not loading.done():
                await self._start(seen.result())
            started.set()
            result: LoadResult = await loading
            return result
        finally:
            started.set()
            seen.cancel()

    @contextlib.asynccontextmanager
    async def connect(self, desired: DesiredState) -> AsyncIterator[tuple[AzureClient,
                                                                          Listings]]:
        """The client and listings for ``desired``: the early ones when they were opened for
        the same Stack, else new ones (``service.connection.connect``)."""
        if self._client is not None and self._listings is not None \
                and self._stack == desired.stack:
            yield self._client, self._listings
            return
        async with connect(desired, self._endpoint) as client:
            listings = Listings(client, self._parallelism)
            try:
                yield client, listings
            finally:
                await listings.aclose()

    async def _start(self, stack: Stack) -> None:
        """Open the client and start listing what the state holds, when that is cheap and safe:
        a local state file, and Azure or an endpoint (the embedded emulator starts with the
        parents of every manifest, so it waits for them)."""
        if stack.state.backend != "local" or not (self._endpoint or stack.target != "local"):
            return
        collections = await asyncio.to_thread(state_collections, stack)
        if not collections:
            return
        try:
            # connect() reads only the Stack when there is an endpoint or the target is Azure.
            client = await self._exits.enter_async_context(
                connect(DesiredState(stack, {}), self._endpoint))
        except (AimodelsError, OSError) as exc:
            _log.debug("no early reads: %s", exc)  # the command opens its own and says why
            return
        self._stack, self._client = stack, client
        self._listings = Listings(client, self._parallelism)
        self._listings.start(collections)


def state_collections(stack: Stack) -> list[ListCollection]:
    """The parent collections of the resources the Stack's local state records, or none when
    it cannot be read (the command reads it again and reports why)."""
    registry = default_registry()
    try:
        state = LocalBackend(local_state_path(stack)).read()
        found: dict[ListCollection, list[str]] = defaultdict(list)
        for entry in state.resources:
            address = ResourceAddress.parse(entry.address)
            collection = registry.for_address(address).collection(address, entry.resource_id)
            found[collection].append(entry.address)
    except (AimodelsError, OSError, ValueError, KeyError) as exc:
        _log.debug("no early reads from the state: %s", exc)
        return []
    return largest_first(found)
