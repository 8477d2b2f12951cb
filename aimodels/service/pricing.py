"""``cost`` and ``availability``: what a catalog model costs on each GPU size, and where a
Foundry model can be deployed. Both read the catalog of the Stack's region only (no state, no
credential from the environment needed: ``run_on_stack``); ``live.pricing`` and
``live.availability`` do the reading."""

from __future__ import annotations

from aimodels.live.availability import check_availability
from aimodels.live.pricing import PricedModel, price_model
from aimodels.plan.availability import AvailabilityReport
from aimodels.service.reading import ReadTarget, run_on_stack


def cost(target: ReadTarget, model: str, replicas: int) -> PricedModel:
    """calculateCost for the catalog model ``model`` (``microsoft/Phi-4-mini-instruct``) in the
    region of the Stack's AI manager; AimodelsError (exit 1) when the catalog has no such
    model."""
    return run_on_stack(target, lambda client, stack: price_model(client, stack, model,
                                                                  replicas))


def availability(target: ReadTarget, model: str, *, version: str | None = None,
                 sku: str | None = None, location: str | None = None) -> AvailabilityReport:
    """Where ``model`` (``gpt-4o`` or ``OpenAI/gpt-4o``) can be deployed: region (``location``,
    else the Stack's Foundry account's), SKU, version and quota."""
    return run_on_stack(target, lambda client, stack: check_availability(
        client, stack, model, version=version, sku=sku, location=location))
