"""The Foundry model catalog and quota of the emulator: location and account model lists,
modelCapacities (subscription-wide and per location) and usages.

All of it derives from the fixtures (``cognitiveServices.models`` and ``.quota``) plus the
deployments in the store: a pool's current usage is the fixture's initial usage in that region
(deployments of the subscription the emulator does not model) plus the capacity of every
deployment of the subscription in that region drawing on the pool. ``availableCapacity`` is the
pool's limit minus that usage, 0 when the subscription lacks the feature a pool requires.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from aimodels.emulator import lro
from aimodels.emulator.cognitiveservices.common import (
    ACCOUNTS,
    DEPLOYMENTS,
    PROVIDER,
    RG_SCOPE,
    SUB_SCOPE,
    find_account,
    paged,
    region,
    section,
    versioned,
)
from aimodels.emulator.http import arm_error, json_response

_FILTER = re.compile(r"name\.value\s+eq\s+'([^']*)'", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Pool:
    """One quota pool (a usage name) of a subscription in a region."""

    name: str
    location: str
    limit: int
    current: int
    feature: str | None  # the subscription feature the pool needs and lacks (None: not blocked)

    @property
    def available(self) -> int:
        return 0 if self.feature else max(self.limit - self.current, 0)

    @property
    def label(self) -> str:
        return usage_label(self.name)


def subscription_features(emu: Any) -> set[str]:
    return set(section(emu).get("subscriptionFeatures", []))


def visible_models(emu: Any) -> list[dict[str, Any]]:
    """Catalog entries this subscription may see (limited-access models need their feature)."""
    features = subscription_features(emu)
    return [m for m in section(emu).get("models", [])
            if not m.get("requiresFeature") or m["requiresFeature"] in features]


def usage_name(model: dict[str, Any], sku_name: str) -> str:
    """The quota pool a SKU of a model draws on (fixture override, else Azure's naming)."""
    sku = model["skus"].get(sku_name, {})
    if sku.get("usageName"):
        return str(sku["usageName"])
    prefix = "OpenAI" if model["format"] == "OpenAI" else "AIServices"
    return f"{prefix}.{sku_name}.{model['name']}"


#: The localizedValue of the model-independent pools (tests/fixtures/azure, usages).
_SHARED_POOL_LABELS = {
    "GlobalProvisionedManaged": "Global Provisioned Managed Throughput Unit",
    "DataZoneProvisionedManaged": "Data Zone Provisioned Managed Throughput Unit",
}


def usage_label(name: str) -> str:
    """The localizedValue Azure shows for a usage name."""
    parts = name.split(".", 2)
    if len(parts) < 3:
        return _SHARED_POOL_LABELS.get(parts[-1], name)
    _, sku, model = parts
    if sku == "Provisioned":
        return f"Provisioned Throughput Unit - {model}"
    if sku == "GlobalBatch":
        return f"Enqueued tokens (thousands) - {model}"
    suffix = "" if sku == "Standard" else f" - {sku}"
    return f"Tokens Per Minute (thousands) - {model}{suffix}"


def skus_in(model: dict[str, Any], location: str) -> dict[str, dict[str, Any]]:
    """The SKUs of a model version offered in ``location``."""
    loc = region(location)
    return {n: s for n, s in model["skus"].items()
            if loc in (region(r) for r in s.get("regions", []))}


def regions_of(model: dict[str, Any]) -> list[str]:
    return sorted({region(r) for s in model["skus"].values() for r in s.get("regions", [])})


def pool_limit(emu: Any, location: str, name: str) -> int:
    quota = section(emu).get("quota", {})
    limits = quota.get("limits", {})
    for scope in (region(location), "*"):
        if name in limits.get(scope, {}):
            return int(limits[scope][name])
    parts = name.split(".")
    return int(quota.get("defaultLimits", {}).get(parts[1] if len(parts) > 1 else name, 0))


def pool(emu: Any, sub: str, location: str, name: str, now: float) -> Pool:
    """Pool ``name`` of subscription ``sub`` in ``location``, as deployments use it at ``now``."""
    quota = section(emu).get("quota", {})
    loc = region(location)
    current = int(quota.get("initialUsage", {}).get(loc, {}).get(name, 0))
    for doc in emu.store.list(DEPLOYMENTS, sub.lower() + "/"):
        draws = doc.get("_location") == loc and doc.get("_usageName") == name
        if draws and not lro.is_gone(doc, now):
            current += int(doc["sku"].get("capacity", 0))
    needed = quota.get("poolFeatures", {}).get(name)
    blocked = needed if needed and needed not in subscription_features(emu) else None
    return Pool(name, loc, pool_limit(emu, loc, name), current, blocked)


def account_model(model: dict[str, Any], location: str | None = None) -> dict[str, Any]:
    """A model version in the flat shape of ``accounts/{a}/models`` (SKUs of ``location`` only)."""
    skus = skus_in(model, location) if location else model["skus"]
    fields = ("format", "name", "version", "isDefaultVersion", "lifecycleStatus", "capabilities",
              "finetuneCapabilities", "deprecation", "replacementConfig")
    out = {f: model[f] for f in fields if f in model}
    out["maxCapacity"] = model.get("maxCapacity") or max(
        (s["capacity"]["maximum"] for s in model["skus"].values()), default=0)
    registry = "azure-openai" if model["format"] == "OpenAI" \
        else f"azureml-{model['format'].split()[0].lower()}"
    out["modelCatalogAssetId"] = \
        f"azureml://registries/{registry}/models/{model['name']}/versions/{model['version']}"
    out["skus"] = [_sku_item(model, name, sku) for name, sku in skus.items()]
    return out


#: How the location-model catalog spells a SKU a deployment names otherwise: the regional
#: provisioned SKU is ``Provisioned`` there and ``ProvisionedManaged`` in a deployment
#: (tests/fixtures/azure). The fixtures key SKUs by the deployment's name.
CATALOG_SKU_NAMES = {"ProvisionedManaged": "Provisioned"}


def _sku_item(model: dict[str, Any], name: str, sku: dict[str, Any]) -> dict[str, Any]:
    item: dict[str, Any] = {"name": CATALOG_SKU_NAMES.get(name, name),
                            "usageName": usage_name(model, name)}
    if sku.get("deprecationDate"):
        item["deprecationDate"] = sku["deprecationDate"]
    item["capacity"] = dict(sku["capacity"])
    return item


def location_model(model: dict[str, Any], location: str) -> dict[str, Any]:
    """A model version in the ``locations/{l}/models`` shape (wrapped in ``model``)."""
    return {"kind": "OpenAI" if model["format"] == "OpenAI" else "AIServices", "skuName": "S0",
            "description": None, "model": account_model(model, location)}


def capacity_items(emu: Any, sub: str, query: dict[str, str],
                   location: str | None) -> list[dict[str, Any]]:
    """modelCapacities items: one per (region, SKU) offering the queried model version."""
    now = emu.now()
    items = []
    for model in visible_models(emu):
        if not _matches(model, query):
            continue
        for loc in [region(location)] if location else regions_of(model):
            for sku_name in skus_in(model, loc):
                found = pool(emu, sub, loc, usage_name(model, sku_name), now)
                items.append(_capacity_item(sub, loc, model, sku_name, found.available))
    return items


def _matches(model: dict[str, Any], query: dict[str, str]) -> bool:
    wanted = {"format": query.get("modelFormat"), "name": query.get("modelName"),
              "version": query.get("modelVersion")}
    return all(v is None or model[k].lower() == v.lower() for k, v in wanted.items())


def _capacity_item(sub: str, loc: str, model: dict[str, Any], sku: str,
                   available: int) -> dict[str, Any]:
    ref = f"{model['format']}.{model['name']}.{model['version']}"
    scope = f"/subscriptions/{sub}/providers/{PROVIDER}/locations/{loc}"
    return {
        "id": f"{scope}/models/{ref}/skuCapacities/{sku}",
        "type": f"{PROVIDER}/locations/models/skuCapacities", "name": sku, "location": loc,
        "properties": {"model": {k: model[k] for k in ("format", "name", "version")},
                       "skuName": sku, "availableCapacity": available,
                       "availableFinetuneCapacity": 0},
    }


def usage_items(emu: Any, sub: str, location: str) -> list[dict[str, Any]]:
    """The usages of a region: every pool a model offered there draws on, plus AccountCount."""
    loc = region(location)
    quota = section(emu).get("quota", {})
    names = {usage_name(m, s) for m in visible_models(emu) for s in skus_in(m, loc)}
    names |= set(quota.get("limits", {}).get(loc, {}))
    names |= set(quota.get("initialUsage", {}).get(loc, {}))
    now = emu.now()
    items = [_usage_item(pool(emu, sub, loc, n, now)) for n in sorted(names)]
    accounts = [a for a in emu.store.list(ACCOUNTS, sub.lower() + "/") if a["location"] == loc]
    label = "Cognitive Services total account limit"
    items.append({"name": {"value": "AccountCount", "localizedValue": label},
                  "currentValue": len(accounts), "limit": 200, "unit": "Count"})
    return items


def _usage_item(found: Pool) -> dict[str, Any]:
    """A usage as Azure sends it: no ``status`` (the recordings never carry one), so a pool
    the subscription may not use shows as limit 0, nothing more."""
    return {"name": {"value": found.name, "localizedValue": found.label},
            "currentValue": found.current, "limit": 0 if found.feature else found.limit,
            "unit": "Count"}


def routes(emu: Any) -> list[Route]:
    """Catalog and quota routes."""

    async def location_models(request: Request) -> Response:
        # One page, as Azure sends a region's models (~700 KB, no nextLink: the recording).
        loc = request.path_params["location"]
        items = [location_model(m, loc) for m in visible_models(emu) if skus_in(m, loc)]
        return json_response({"value": items})

    async def account_models(request: Request) -> Response:
        p = request.path_params
        account = find_account(emu, p["sub"], p["rg"], p["account"])
        if isinstance(account, Response):
            return account
        loc = account["location"]
        items = [account_model(m, loc) for m in visible_models(emu) if skus_in(m, loc)]
        return json_response(paged(request, emu, items))

    async def capacities(request: Request) -> Response:
        query = dict(request.query_params)
        if not query.get("modelFormat") or not query.get("modelName"):
            return arm_error(400, "BadRequest", "The query parameters modelFormat, modelName and "
                             "modelVersion are required.")
        p = request.path_params
        items = capacity_items(emu, p["sub"], query, p.get("location"))
        return json_response(paged(request, emu, items))

    async def usages(request: Request) -> Response:
        items = usage_items(emu, request.path_params["sub"], request.path_params["location"])
        wanted = _FILTER.search(request.query_params.get("$filter", ""))
        if wanted:
            items = [u for u in items if u["name"]["value"] == wanted.group(1)]
        return json_response(paged(request, emu, items))

    located = SUB_SCOPE + "/locations/{location}"
    return [
        Route(located + "/models", versioned(location_models), methods=["GET"]),
        Route(SUB_SCOPE + "/modelCapacities", versioned(capacities), methods=["GET"]),
        Route(located + "/modelCapacities", versioned(capacities), methods=["GET"]),
        Route(located + "/usages", versioned(usages), methods=["GET"]),
        Route(RG_SCOPE + "/accounts/{account}/models", versioned(account_models), methods=["GET"]),
    ]
