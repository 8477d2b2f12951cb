"""Hand-made Azure answers for the pure pre-flight tests, in the wire shapes of
azure-contracts.md §1.5 (location models, modelCapacities, usages) and docs/preflight.md
(calculateCost)."""

from __future__ import annotations

from typing import Any

from aimodels.plan.preflight_catalog import FoundryCatalog, capacity_key, catalog_from_wire


def sku(name: str, low: int = 1, high: int = 1000, step: int = 1, default: int = 10,
        usage: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"name": name, "capacity": {"minimum": low, "maximum": high,
                                                      "step": step, "default": default}}
    if usage:
        out["usageName"] = usage
    return out


def version(name: str, ver: str, skus: list[dict[str, Any]], fmt: str = "OpenAI",
            default: bool = True, **extra: Any) -> dict[str, Any]:
    """A location-models item (the model wrapped in ``model``, as Azure sends it)."""
    model = {"format": fmt, "name": name, "version": ver, "isDefaultVersion": default,
             "lifecycleStatus": "GenerallyAvailable", "skus": skus, **extra}
    return {"kind": "OpenAI", "skuName": "S0", "model": model}


def capacity(location: str, sku_name: str, available: float, name: str = "gpt-4o",
             ver: str = "2024-11-20", fmt: str = "OpenAI") -> dict[str, Any]:
    return {"name": sku_name, "location": location,
            "properties": {"model": {"format": fmt, "name": name, "version": ver},
                           "skuName": sku_name, "availableCapacity": available}}


def usage(name: str, current: float, limit: float, status: str = "Included") -> dict[str, Any]:
    return {"name": {"value": name, "localizedValue": name}, "currentValue": current,
            "limit": limit, "unit": "Count", "status": status}


GPT4O = version("gpt-4o", "2024-11-20", [sku("GlobalStandard", high=10000, default=50),
                                         sku("Standard", high=100),
                                         sku("ProvisionedManaged", 50, 1000, 50, 50,
                                             usage="OpenAI.ProvisionedManaged")])
GPT4O_OLD = version("gpt-4o", "2024-08-06", [sku("GlobalStandard")], default=False,
                    lifecycleStatus="Deprecating",
                    deprecation={"inference": "2027-03-31T00:00:00Z"},
                    replacementConfig={"targetModelName": "gpt-4.1",
                                       "targetModelVersion": "2025-04-14"})
RETIRED = version("gpt-35-turbo", "0125", [sku("Standard")], lifecycleStatus="Deprecated",
                  deprecation={"inference": "2025-11-14T00:00:00Z"},
                  replacementConfig={"targetModelName": "gpt-4o-mini",
                                     "targetModelVersion": "2024-07-18"})
O3 = version("o3-mini", "2025-01-31", [sku("GlobalStandard")])


def catalog(complete: bool = True, eastus_usages: list[dict[str, Any]] | None = None,
            **capacities: list[dict[str, Any]]) -> FoundryCatalog:
    """eastus offers gpt-4o (two versions) and gpt-35-turbo; swedencentral offers gpt-4o and
    o3-mini; quota in eastus: GlobalStandard 400 of 450 used, Standard 0 of 300, PTU blocked."""
    models = {"eastus": [GPT4O, GPT4O_OLD, RETIRED], "swedencentral": [GPT4O, O3]}
    usages = eastus_usages if eastus_usages is not None else [
        usage("OpenAI.GlobalStandard.gpt-4o", 400, 450),
        usage("OpenAI.Standard.gpt-4o", 0, 300),
        usage("OpenAI.ProvisionedManaged", 0, 0, status="Blocked"),
        usage("OpenAI.Standard.gpt-35-turbo", 0, 300),
    ]
    caps = {
        capacity_key("OpenAI", "gpt-4o", "2024-11-20"): [
            capacity("eastus", "GlobalStandard", 50), capacity("eastus", "Standard", 300),
            capacity("swedencentral", "GlobalStandard", 450),
            capacity("westus3", "GlobalStandard", 120)],
        capacity_key("OpenAI", "o3-mini", "2025-01-31"): [
            capacity("swedencentral", "GlobalStandard", 450, "o3-mini", "2025-01-31")],
    }
    for key, items in capacities.items():
        caps[capacity_key(*key.split("|"))] = items
    return catalog_from_wire(models, caps, {"eastus": usages}, complete)


def cost_body(replicas: int = 1, infeasible: dict[str, tuple[str, str]] | None = None
              ) -> dict[str, Any]:
    """A calculateCost answer over three sizes; ``infeasible`` maps a size to (code, message)."""
    sizes = [("Standard_NC24ads_A100_v4", 3.673, 1, "fp16"),
             ("Standard_NC48ads_A100_v4", 7.346, 1, "fp16"),
             ("Standard_NC4as_T4_v3", 0.526, 2, "awq-int4")]
    plans = []
    for name, price, vms, quant in sizes:
        plan: dict[str, Any] = {"vmSize": name, "vmHourlyPrice": price, "vmsPerReplica": vms,
                                "quantization": quant, "feasible": True}
        bad = (infeasible or {}).get(name)
        if bad:
            plan.update(feasible=False, infeasibleCode=bad[0], infeasibleMessage=bad[1])
        else:
            plan["totalHourlyPrice"] = round(price * vms * replicas, 4)
        plans.append(plan)
    return {"replicas": replicas, "currency": "USD", "plans": plans}
