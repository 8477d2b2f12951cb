"""``read_live``: what exists in Azure for the addresses of the manifests and the state.

One LIST per parent collection (an AI manager's model sources, a namespace's deployments, an
account's deployments, the registry's custom models), all in parallel under a bound, following
``nextLink``: never a GET per resource when a LIST serves. A parent that does not exist (404)
lists as empty and is reported, so the plan can say "namespace prod does not exist" instead of
failing at apply time.

Every body that matches an address is checked here, once, before anything plans with it: the
ARM envelope fields the planner and drift read have their JSON types, and the provider's
``from_live`` reads it without error. A body that fails is an unexpected response (exit 5),
never a crash later in the planner and never "deleted outside aimodels".
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence, Sized
from dataclasses import dataclass
from typing import Any, TypeVar

from aimodels.errors import Diagnostic, error
from aimodels.model.address import ResourceAddress
from aimodels.model.desired import DesiredState
from aimodels.plan.provider import ListCollection, ProviderContext, ProviderRegistry
from aimodels.plan.values import LiveObject, LiveState, PriorResource, ResolvedInputs
from aimodels.transport.client import AzureClient
from aimodels.transport.errors import NotFoundError, unexpected_shapes

#: Fields of a live body that the planner and drift read as objects when they are set.
_OBJECT_FIELDS = ("properties", "sku", "systemData", "tags")


@dataclass(frozen=True, slots=True)
class LiveRead:
    """The live state found, plus problems found while reading (missing parents)."""

    live: LiveState
    diagnostics: tuple[Diagnostic, ...] = ()


T = TypeVar("T")


class Listings:
    """Parent collections listed once each, at most ``parallelism`` at a time, following
    ``nextLink``; None for a collection whose parent does not exist.

    A caller may ``start`` collections before it knows it needs them (``plan`` starts those of
    the state while the manifests are still being checked); ``read_live`` then takes the ones it
    needs, starts the others, and drops what it does not need unseen, errors included.
    """

    def __init__(self, client: AzureClient, parallelism: int = 10) -> None:
        self._client = client
        self._slots = asyncio.Semaphore(parallelism)
        self._tasks: dict[ListCollection, asyncio.Task[list[Any] | None]] = {}
        self._dropped: list[asyncio.Task[list[Any] | None]] = []

    def start(self, collections: Iterable[ListCollection]) -> None:
        """Start listing ``collections`` (each once), in this order."""
        for collection in collections:
            if collection not in self._tasks:
                self._tasks[collection] = asyncio.ensure_future(self._list(collection))

    async def read(self, collections: Sequence[ListCollection],
                   then: Callable[[ListCollection, list[Any] | None], T]) -> list[T]:
        """``then`` of each of ``collections`` and its items (None: no such parent), in that
        order, each called as soon as its listing is done (so the work on the first lists
        overlaps the wait for the last); any other started listing is dropped."""
        self.start(collections)
        self.drop(set(self._tasks) - set(collections))

        async def done(collection: ListCollection) -> T:
            return then(collection, await self._tasks[collection])

        return await asyncio.gather(*(done(c) for c in collections))

    def drop(self, collections: Iterable[ListCollection]) -> None:
        """Cancel these listings and forget them, and whatever error they ended with."""
        for collection in collections:
            task = self._tasks.pop(collection)
            task.cancel()
            self._dropped.append(task)  # aclose collects it: its error is no one's error

    async def aclose(self) -> None:
        """Stop every listing still running (before the client closes)."""
        self.drop(list(self._tasks))
        dropped, self._dropped = self._dropped, []
        await asyncio.gather(*dropped, return_exceptions=True)

    async def _list(self, collection: ListCollection) -> list[Any] | None:
        async with self._slots:
            return await _list_or_none(self._client, collection)


async def read_live(desired: DesiredState, prior: Mapping[ResourceAddress, PriorResource],
                    client: AzureClient, *, registry: ProviderRegistry,
                    inputs: ResolvedInputs | None = None, parallelism: int = 10,
                    listings: Listings | None = None) -> LiveRead:
    """List every parent collection the addresses live in and match the items to addresses.
    ``registry`` says where each kind is listed (its provider's ``collection``); ``listings``
    is where the lists come from when some were started early (on ``client``)."""
    ids = resource_ids(desired, prior, registry, inputs)
    wanted: dict[ListCollection, dict[str, ResourceAddress]] = defaultdict(dict)
    for address, resource_id in ids.items():
        collection = registry.for_address(address).collection(address, resource_id)
        wanted[collection][address.name.lower()] = address
    own = listings is None
    listings = listings or Listings(client, parallelism)

    def matched(collection: ListCollection, items: list[Any] | None
                ) -> tuple[list[LiveObject], list[Diagnostic]]:
        if items is None:
            return [], _missing_parent(collection.url, wanted[collection], desired)
        return [checked_live(found, registry, f"GET {collection.url}")
                for found in _match(items, wanted[collection], ids, prior).values()], []

    try:
        listings.start(largest_first(wanted))
        results = await listings.read(sorted(wanted), matched)
    finally:
        if own:
            await listings.aclose()
    objects: dict[ResourceAddress, LiveObject] = {}
    diagnostics: list[Diagnostic] = []
    for found, missing in results:
        objects.update((live.address, live) for live in found)
        diagnostics += missing
    return LiveRead(LiveState(objects), tuple(diagnostics))


def largest_first(sizes: Mapping[ListCollection, Sized]) -> list[ListCollection]:
    """The collections, those with the most resources first: they are the likeliest to need
    several pages, one after another, so they start before the one-page lists that can fill
    the other slots meanwhile (the longest jobs first keeps the last round short)."""
    return sorted(sizes, key=lambda collection: (-len(sizes[collection]), collection))


def resource_ids(desired: DesiredState, prior: Mapping[ResourceAddress, PriorResource],
                 registry: ProviderRegistry, inputs: ResolvedInputs | None
                 ) -> dict[ResourceAddress, str]:
    """Where each address lives: from the manifest when declared, else from the state.

    The manifest wins: when a parent changed, the planner needs what lives at the new place
    (the old one is known from the state's resource id and deleted by the replace).
    """
    ctx = ProviderContext(desired.stack, inputs or ResolvedInputs(), desired.resources)
    ids = {address: p.resource_id for address, p in prior.items()}
    for address, resource in desired.resources.items():
        provider = registry.for_address(address)
        spec = provider.normalize(resource, ctx)
        ids[address] = provider.resource_id(address, spec, desired.stack)
    return ids


async def _list_or_none(client: AzureClient, collection: ListCollection) -> list[Any] | None:
    try:
        return await client.list_all(collection.url, api=collection.api)
    except NotFoundError:
        return None


def _match(items: list[Any], wanted: Mapping[str, ResourceAddress],
           ids: Mapping[ResourceAddress, str],
           prior: Mapping[ResourceAddress, PriorResource]) -> dict[ResourceAddress, LiveObject]:
    """The listed items that are ours, by case-insensitive name (ARM compares names so)."""
    candidates: dict[ResourceAddress, list[Mapping[str, Any]]] = defaultdict(list)
    for item in items:
        if isinstance(item, dict) and (address := wanted.get(str(item.get("name", "")).lower())):
            candidates[address].append(item)
    found = {}
    for address, bodies in candidates.items():
        body = _tracked_version(bodies, prior.get(address))
        found[address] = LiveObject(address, ids[address], body,
                                    body.get("eTag") or body.get("etag"))
    return found


def checked_live(found: LiveObject, registry: ProviderRegistry, source: str) -> LiveObject:
    """``found`` when its body can be planned with; an unexpected response from ``source``
    (``METHOD URL``) otherwise. Every live body passes here before a planner or drift sees it."""
    body = found.body
    with unexpected_shapes(source, body):
        for key in _OBJECT_FIELDS:
            if body.get(key) is not None and not isinstance(body[key], Mapping):
                raise TypeError(f"{key!r} of {found.address.name!r} is not an object")
        if found.etag is not None and not isinstance(found.etag, str):
            raise TypeError(f"the etag of {found.address.name!r} is not a string")
        registry.for_address(found.address).from_live(body)
    return found


def _tracked_version(bodies: list[Mapping[str, Any]],
                     prior: PriorResource | None) -> Mapping[str, Any]:
    """One body per address: ARM has one; of a custom model's versions, the one the state
    applied when it is still there, else the newest."""
    applied = str((prior.applied_spec if prior else {}).get("version", ""))
    same = [b for b in bodies if applied and str(b.get("version")) == applied]
    return same[0] if same else max(bodies, key=lambda b: str(b.get("created_at", "")))


def _missing_parent(collection: str, wanted: Mapping[str, ResourceAddress],
                    desired: DesiredState) -> list[Diagnostic]:
    """An error per declared resource whose parent collection does not exist."""
    parent = collection.rsplit("/", 1)[0]
    if parent.strip("/"):
        problem = f"its parent {_describe(parent)} does not exist"
        hint = ("Create it first (aimodels manages deployments, not AI managers, namespaces or "
                f"accounts), or point the manifest at an existing one. Looked for: {parent}")
    else:  # a top-level collection: the registry's custom models
        problem = f"the endpoint has no {collection} collection (it answered 404)"
        hint = ("The custom-model registry is not where the Stack says: check its target, or "
                "AIMODELS_ENDPOINT if it is set.")
    return [error(problem, hint, address=str(address), source=desired.resources[address].source)
            for address in sorted(wanted.values()) if address in desired.resources]


def _describe(parent_id: str) -> str:
    parts = parent_id.strip("/").split("/")
    return f"{parts[-2][:-1] if parts[-2].endswith('s') else parts[-2]} {parts[-1]!r}" \
        if len(parts) >= 2 else parent_id
