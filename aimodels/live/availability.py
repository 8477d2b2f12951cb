"""Reading the Foundry catalog, capacities and quota for pre-flight (docs/preflight.md phases 1-3).

``FoundryReader`` makes each GET at most once per run (one per account, per region's models,
per model version's capacities, per region's usages; concurrent callers share the request in
flight) and runs them in parallel, bounded. ``read_catalog`` decides what a set of
``ModelNeed``s requires: the models and usages of the deployment regions, the subscription-wide
modelCapacities of each version (every region at once), and, only when some model or version is
missing from its region, the models of every AIServices region, to suggest alternatives and to
tell "in no region" (reason 1) from "not here" (reason 2).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from functools import partial
from typing import Any, TypeVar
from urllib.parse import urlencode

from aimodels.errors import AuthError, RemoteError
from aimodels.live.catalog_cache import CatalogCache, catalog_cache_for
from aimodels.model.desired import Stack
from aimodels.plan.availability import AvailabilityQuery, AvailabilityReport, availability_report
from aimodels.plan.preflight_catalog import FoundryCatalog, capacity_key, catalog_from_wire
from aimodels.transport.client import AzureClient
from aimodels.transport.config import ARM_API_VERSIONS

RP = "Microsoft.CognitiveServices"
#: The api-version location models are read with (a cache key part: shapes change with it).
RP_API_VERSION = ARM_API_VERSIONS[RP.lower()]

#: Regions where Azure offers AIServices accounts (Microsoft.Compute/skus lists them; the set
#: changes rarely, so a table saves a call). Regions of the subscription's accounts are added.
AISERVICES_REGIONS: tuple[str, ...] = (
    "australiaeast", "brazilsouth", "canadacentral", "canadaeast", "centralus", "eastus",
    "eastus2", "francecentral", "germanywestcentral", "italynorth", "japaneast", "koreacentral",
    "northcentralus", "norwayeast", "polandcentral", "southafricanorth", "southcentralus",
    "southindia", "spaincentral", "swedencentral", "switzerlandnorth", "uaenorth", "uksouth",
    "westeurope", "westus", "westus3",
)

#: Requests in flight at once for one reader (the client has its own, wider bound).
PARALLEL_READS = 8

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class ModelNeed:
    """A model a check is about, in a region: what the reader must fetch for it."""

    model_name: str
    location: str
    model_format: str | None = None
    model_version: str | None = None


class ReadCache:
    """Each keyed read runs once per run; concurrent callers share the request in flight, and
    at most ``parallel`` run at a time. Errors are cached too: a run does not retry a read the
    transport already retried."""

    def __init__(self, parallel: int = PARALLEL_READS) -> None:
        self._slots = asyncio.Semaphore(parallel)
        self._tasks: dict[tuple[Any, ...], asyncio.Task[Any]] = {}

    async def once(self, key: tuple[Any, ...], call: Callable[[], Awaitable[T]]) -> T:
        task: asyncio.Task[T] | None = self._tasks.get(key)  # a key is always the same call
        if task is None:
            task = asyncio.ensure_future(self._bounded(call))
            self._tasks[key] = task
        return await task

    async def _bounded(self, call: Callable[[], Awaitable[T]]) -> T:
        async with self._slots:
            return await call()


class FoundryReader:
    """Cached, bounded reads of one subscription's Foundry catalog and quota.

    Location models are also kept on disk (``catalog_cache``): by default the cache the
    environment asks for (``aimodels.live.catalog_cache``), off against an endpoint override.
    """

    def __init__(self, client: AzureClient, subscription: str,
                 parallel: int = PARALLEL_READS,
                 catalog_cache: CatalogCache | None | bool = True) -> None:
        self.client = client
        self.subscription = subscription
        self._cache = ReadCache(parallel)
        self._disk = catalog_cache_for(client.config.origin, client.clock) \
            if catalog_cache is True else catalog_cache or None

    @property
    def scope(self) -> str:
        return f"/subscriptions/{self.subscription}/providers/{RP}"

    async def account(self, resource_group: str, account: str) -> Mapping[str, Any] | None:
        """The account (phase 1: its ``location`` is the deployment region), None if missing."""
        path = (f"/subscriptions/{self.subscription}/resourceGroups/{resource_group}"
                f"/providers/{RP}/accounts/{account}")
        return await self._once(("account", path.lower()),
                                lambda: self.client.get_json_or_none(path))

    async def location_models(self, location: str) -> list[Any]:
        """A region's location models: one page of ~700 KB against Azure, so kept on disk."""
        loc = location.lower()
        path = f"{self.scope}/locations/{loc}/models"
        return await self._once(("models", loc), lambda: self._cached_list(path))

    async def _cached_list(self, path: str) -> list[Any]:
        key = f"{self.client.config.origin or 'azure'}{path}?api-version={RP_API_VERSION}"
        found = self._disk.get(key) if self._disk else None
        if found is None:
            found = await self.client.list_all(path)
            if self._disk:
                self._disk.put(key, found)
        return found

    async def capacities(self, model_format: str, name: str, version: str) -> list[Any]:
        """modelCapacities of one model version in every region (the subscription-wide form)."""
        # The query goes into the URL: the client's ``params`` would replace its api-version.
        query = urlencode({"modelFormat": model_format, "modelName": name,
                           "modelVersion": version})
        return await self._once(("capacities", *capacity_key(model_format, name, version)),
                                lambda: self.client.list_all(
                                    f"{self.scope}/modelCapacities?{query}"))

    async def usages(self, location: str) -> list[Any]:
        loc = location.lower()
        path = f"{self.scope}/locations/{loc}/usages"
        return await self._once(("usages", loc), lambda: self.client.list_all(path))

    async def account_regions(self) -> set[str]:
        """Regions of the subscription's Cognitive Services accounts."""
        items = await self._once(("accounts",),
                                 lambda: self.client.list_all(f"{self.scope}/accounts"))
        return {str(a.get("location", "")).replace(" ", "").lower() for a in items} - {""}

    async def deployed_versions(self) -> set[tuple[str, str, str]]:
        """``(format, name, version)`` of every deployment of the subscription, lower-cased:
        Azure deploys a ``Deprecating`` version only for subscriptions already running it.
        One GET per account, so read only when a plan creates such a deployment."""
        accounts = await self._once(("accounts",),
                                    lambda: self.client.list_all(f"{self.scope}/accounts"))
        ids = sorted({str(a["id"]) for a in accounts if isinstance(a, Mapping) and a.get("id")})
        found = await self._gather(self._once(("deployments", i.lower()),
                                              partial(self.client.list_all, i + "/deployments"))
                                   for i in ids)
        return {capacity_key(str(model.get("format", "")), str(model.get("name", "")),
                             str(model.get("version", "")))
                for items in found for d in items if isinstance(d, Mapping)
                and isinstance(model := (d.get("properties") or {}).get("model"), Mapping)}

    async def read_catalog(self, needs: Iterable[ModelNeed],
                           every_region: bool = False) -> FoundryCatalog:
        """The catalog snapshot the checks of ``needs`` read (see the module docstring)."""
        needs = list(needs)
        homes = sorted({n.location.lower() for n in needs})
        models = dict(zip(homes, await self._gather(self.location_models(h) for h in homes),
                          strict=True))
        complete = every_region or any(_missing(n, models) for n in needs)
        if complete:
            models.update(await self._other_regions(set(homes)))
        keys = sorted({k for n in needs if (k := _version_key(n, models)) is not None})
        capacities = await self._gather(self.capacities(*k) for k in keys)
        usages = await self._gather(self.usages(h) for h in homes)
        by_key = {capacity_key(*k): found for k, found in zip(keys, capacities, strict=True)}
        return catalog_from_wire(models, by_key,
                                 dict(zip(homes, usages, strict=True)), complete)

    async def _other_regions(self, known: set[str]) -> dict[str, list[Any]]:
        regions = sorted((set(AISERVICES_REGIONS) | await self.account_regions()) - known)
        found = await self._gather(self._models_or_empty(r) for r in regions)
        return dict(zip(regions, found, strict=True))

    async def _models_or_empty(self, location: str) -> list[Any]:
        """A region that cannot be read only loses its suggestions (auth errors still stop)."""
        try:
            return await self.location_models(location)
        except AuthError:
            raise
        except RemoteError:
            return []

    async def _gather(self, calls: Iterable[Awaitable[T]]) -> list[T]:
        return list(await asyncio.gather(*calls))

    async def _once(self, key: tuple[str, ...], call: Callable[[], Awaitable[T]]) -> T:
        return await self._cache.once(key, call)


async def check_availability(client: AzureClient, stack: Stack, model: str, *,
                             version: str | None = None, sku: str | None = None,
                             location: str | None = None) -> AvailabilityReport:
    """Seed 004's whole flow for ``aimodels availability``: the region (``location``, else the
    Stack's Foundry account's, else the Stack's), its catalog and quota, then the report.

    The target region is read first; the other regions' models (about 19 MB against Azure)
    only when the model or version is missing there. The subscription-wide modelCapacities
    already says where else a version and SKU can go, with the units free."""
    reader = FoundryReader(client, stack.subscription_id)
    region = (location or await _account_region(reader, stack) or stack.location).lower()
    model_format, _, name = model.rpartition("/")
    query = AvailabilityQuery(name, region, model_format or None, version, sku)
    need = ModelNeed(name, region, query.model_format, version)
    catalog = await reader.read_catalog([need])
    here = catalog.versions(region, query.model_format, name)
    entry = catalog.entry(region, query.model_format, name,
                          version or (str(here[0]["version"]) if here else ""))
    if entry and entry.get("lifecycleStatus") == "Deprecating":
        key = tuple(str(entry.get(k, "")).lower() for k in ("format", "name", "version"))
        query = replace(query, version_deployed=key in await reader.deployed_versions())
    return availability_report(query, catalog)


async def _account_region(reader: FoundryReader, stack: Stack) -> str | None:
    if not stack.foundry_account:
        return None
    body = await reader.account(stack.resource_group, stack.foundry_account)
    return str(body["location"]).replace(" ", "").lower() if body and body.get("location") \
        else None


def _entries(models: Mapping[str, list[Any]], need: ModelNeed, location: str) -> list[Any]:
    out = []
    for item in models.get(location, ()):
        model = item.get("model") if isinstance(item.get("model"), Mapping) else item
        if str(model.get("name", "")).lower() != need.model_name.lower():
            continue
        if need.model_format and str(model.get("format", "")).lower() != need.model_format.lower():
            continue
        out.append(model)
    return sorted(out, key=lambda m: not m.get("isDefaultVersion"))


def _missing(need: ModelNeed, models: Mapping[str, list[Any]]) -> bool:
    """The model (or its version) is not offered in the need's own region."""
    here = _entries(models, need, need.location.lower())
    if not here:
        return True
    wanted = (need.model_version or "").lower()
    return bool(wanted) and all(str(m["version"]).lower() != wanted for m in here)


def _version_key(need: ModelNeed, models: Mapping[str, list[Any]]) -> tuple[str, str, str] | None:
    """The (format, name, version) whose capacities the need's check reads."""
    regions = [need.location.lower(), *sorted(models)]
    for region in regions:
        entries = _entries(models, need, region)
        if need.model_version:
            entries = [m for m in entries
                       if str(m["version"]).lower() == need.model_version.lower()]
        if entries:
            model = entries[0]
            return (str(model["format"]), str(model["name"]), str(model["version"]))
    return None
