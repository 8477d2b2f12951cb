"""Reading prices and feasibility for ModelDeployments: calculateCost (seed 003 §6).

``PriceReader`` finds the region of each AI manager (one GET each) and POSTs calculateCost on
the catalog's AIModel once per (model, region, replicas), in parallel and bounded; a model the
catalog does not know is answered as None rather than an error, so pre-flight reports it next
to every other finding. calculateCost only reads (Azure Retail Prices and quota), so the POST
is retried like a GET.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any, TypeVar

from aimodels.live.availability import PARALLEL_READS, ReadCache
from aimodels.plan.preflight_cost import CostQuote, QuoteKey, parse_quote
from aimodels.transport.client import AzureClient
from aimodels.transport.errors import NotFoundError

RP = "Microsoft.ContainerService"

T = TypeVar("T")


def ai_model_path(subscription: str, location: str, model: str) -> str:
    """The AIModel of the catalog in ``location`` (``model`` is its resource name)."""
    return (f"/subscriptions/{subscription}/providers/{RP}/locations/{location.lower()}"
            f"/aiModels/{model}")


class PriceReader:
    """Cached, bounded calculateCost calls and AI manager lookups for one subscription."""

    def __init__(self, client: AzureClient, subscription: str,
                 parallel: int = PARALLEL_READS) -> None:
        self.client = client
        self.subscription = subscription
        self._cache = ReadCache(parallel)

    async def manager_location(self, resource_group: str, ai_manager: str) -> str | None:
        """The region of an AI manager (where its deployments run), None if it is missing."""
        path = (f"/subscriptions/{self.subscription}/resourceGroups/{resource_group}"
                f"/providers/{RP}/aiManagers/{ai_manager}")
        body = await self._once(("manager", path.lower()),
                                lambda: self.client.get_json_or_none(path))
        location = (body or {}).get("location")
        return str(location).replace(" ", "").lower() if location else None

    async def quote(self, key: QuoteKey) -> CostQuote | None:
        """calculateCost for ``key``; None when the catalog has no such model there."""
        return await self._once(("quote", key), lambda: self._calculate(key))

    async def quotes(self, keys: Iterable[QuoteKey]) -> Mapping[QuoteKey, CostQuote | None]:
        ordered = sorted(set(keys), key=lambda k: (k.model, k.location, k.replicas))
        found = await asyncio.gather(*(self.quote(k) for k in ordered))
        return dict(zip(ordered, found, strict=True))

    async def _calculate(self, key: QuoteKey) -> CostQuote | None:
        path = ai_model_path(self.subscription, key.location, key.model) + "/calculateCost"
        try:
            response = await self.client.request("POST", path, json={"replicas": key.replicas},
                                                 idempotent=True)
        except NotFoundError:
            return None
        return parse_quote(response.body or {})

    async def _once(self, key: tuple[Any, ...], call: Callable[[], Awaitable[T]]) -> T:
        return await self._cache.once(key, call)
