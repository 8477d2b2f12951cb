"""Reading prices and feasibility for ModelDeployments: calculateCost (docs/preflight.md), and the
AIModels and ModelSources that say whether a gated model can be pulled.

``PriceReader`` finds the region of each AI manager (one GET each) and POSTs calculateCost on
the catalog's AIModel once per (model, region, replicas), in parallel and bounded; a model the
catalog does not know is answered as None rather than an error, so pre-flight reports it next
to every other finding. calculateCost only reads (Azure Retail Prices and quota), so the POST
is retried like a GET. ``ai_model`` and ``model_source`` GET one resource each, once per run.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from aimodels.errors import AimodelsError
from aimodels.live.availability import PARALLEL_READS, ReadCache
from aimodels.model.arm import catalog_model_name
from aimodels.model.desired import Stack
from aimodels.plan.preflight_cost import CostQuote, QuoteKey, parse_quote
from aimodels.transport.client import AzureClient
from aimodels.transport.errors import NotFoundError

RP = "Microsoft.ContainerService"
#: An AIModel resource name: the first 16 hex digits of sha256(modelId).
_AI_MODEL_NAME = re.compile(r"[0-9a-f]{16}")

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

    async def ai_model(self, location: str, model: str) -> Mapping[str, Any] | None:
        """The catalog's AIModel ``model`` (resource name) in ``location``, None if unknown."""
        path = ai_model_path(self.subscription, location, model)
        return await self._once(("model", path.lower()),
                                lambda: self.client.get_json_or_none(path))

    async def model_source(self, resource_id: str) -> Mapping[str, Any] | None:
        """The ModelSource ``resource_id`` names, None if it does not exist."""
        return await self._once(("source", resource_id.lower()),
                                lambda: self.client.get_json_or_none(resource_id))

    async def calculate(self, key: QuoteKey) -> Mapping[str, Any] | None:
        """The calculateCost response body for ``key``; None when the catalog has no such
        model there."""
        return await self._once(("quote", key), lambda: self._calculate(key))

    async def quote(self, key: QuoteKey) -> CostQuote | None:
        """calculateCost for ``key``, parsed; None when the catalog has no such model there."""
        body = await self.calculate(key)
        return None if body is None else parse_quote(body)

    async def quotes(self, keys: Iterable[QuoteKey]) -> Mapping[QuoteKey, CostQuote | None]:
        ordered = sorted(set(keys), key=lambda k: (k.model, k.location, k.replicas))
        found = await asyncio.gather(*(self.quote(k) for k in ordered))
        return dict(zip(ordered, found, strict=True))

    async def _calculate(self, key: QuoteKey) -> Mapping[str, Any] | None:
        path = ai_model_path(self.subscription, key.location, key.model) + "/calculateCost"
        try:
            return await self.client.request_json("POST", path, json={"replicas": key.replicas},
                                                  idempotent=True)
        except NotFoundError:
            return None

    async def _once(self, key: tuple[Any, ...], call: Callable[[], Awaitable[T]]) -> T:
        return await self._cache.once(key, call)


@dataclass(frozen=True, slots=True)
class PricedModel:
    """What ``aimodels cost`` found: the model, the region it was priced in, the raw answer,
    and the answer read (its quote, and the date of its prices)."""

    model: str
    location: str
    body: Mapping[str, Any]
    quote: CostQuote
    price_as_of: str | None = None


async def price_model(client: AzureClient, stack: Stack, model: str,
                      replicas: int) -> PricedModel:
    """calculateCost for a catalog model in the Stack's AI manager region (else the Stack's).

    ``model`` is a catalog id (``microsoft/Phi-4-mini-instruct``) or an AIModel resource name.
    Raises AimodelsError (exit 1) when the catalog has no such model there.
    """
    reader = PriceReader(client, stack.subscription_id)
    location = stack.location.lower()
    if stack.ai_manager:
        location = await reader.manager_location(stack.resource_group, stack.ai_manager) \
            or location
    name = model if _AI_MODEL_NAME.fullmatch(model) else catalog_model_name(model)
    body = await reader.calculate(QuoteKey(name, location, replicas))
    if body is None:
        raise AimodelsError(f"{model} is not in the model catalog of {location}",
                            hint="List the catalog with `aimodels models list --type base`.")
    return PricedModel(model, location, body, parse_quote(body), _price_date(body))


def _price_date(body: Mapping[str, Any]) -> str | None:
    """The answer's ``priceAsOf``, else the first plan's."""
    first = next((p["priceAsOf"] for p in body.get("plans") or () if p.get("priceAsOf")), None)
    return body.get("priceAsOf") or first
