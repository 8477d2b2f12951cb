"""Pre-flight of FoundryDeployment writes (docs/preflight.md), pure: requests and a
catalog in, findings out.

Each planned create, update or replace becomes a ``FoundryRequest``. ``evaluate`` walks the
checks of docs/preflight.md in order (model in the subscription, in the account's region,
version, SKU, capacity range, lifecycle) and stops at the first reason the deployment cannot exist.
``check_quota`` then sums, per quota pool, what every deployment of the plan adds (an update
counts only its capacity above what it already holds in that pool, like azd's check), so two
deployments that each fit alone but not together are both flagged. Every finding names which
of the six reasons it is and what to do, with regions, SKUs and free units from the catalog.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from aimodels.errors import Diagnostic, Severity
from aimodels.plan.preflight_catalog import (
    MAX_ALTERNATIVES,
    CapacityBounds,
    FoundryCatalog,
    alternatives,
    deployable_skus,
    deployment_sku_name,
    is_gated_sku,
    same_sku,
    sku_of,
    sku_text,
    units,
    usage_name_of,
)


class Unavailability(enum.Enum):
    """The six reasons (docs/preflight.md) a model cannot deploy as asked. Values are JSON codes."""

    MODEL_NOT_IN_SUBSCRIPTION = "ModelNotInSubscription"
    MODEL_NOT_IN_REGION = "ModelNotInRegion"
    SKU_NOT_SUPPORTED = "SkuNotSupportedInRegion"
    NO_QUOTA = "NoAvailableQuota"
    VERSION_NOT_AVAILABLE = "VersionNotAvailable"
    DEPLOYMENT_TYPE_CONSTRAINT = "DeploymentTypeConstraint"

    @property
    def phrase(self) -> str:
        """The reason as docs/preflight.md names it, printed in parentheses after a summary."""
        return _PHRASES[self]


_PHRASES = {
    Unavailability.MODEL_NOT_IN_SUBSCRIPTION: "model not in subscription",
    Unavailability.MODEL_NOT_IN_REGION: "model not in deployment region",
    Unavailability.SKU_NOT_SUPPORTED: "SKU not supported in region",
    Unavailability.NO_QUOTA: "no available quota",
    Unavailability.VERSION_NOT_AVAILABLE: "version not available",
    Unavailability.DEPLOYMENT_TYPE_CONSTRAINT: "deployment type constraint",
}


@dataclass(frozen=True, slots=True)
class FoundryRequest:
    """One FoundryDeployment write as pre-flight checks it.

    ``model_version``, ``sku_name`` and ``capacity`` are None when the manifest leaves them to
    Azure (the region's default version, the SKU's default capacity); ``model_format`` None
    matches any format (the ``availability`` command takes a bare name). ``location`` is the
    account's region. ``creating`` is False for an update in place, which keeps a deprecated
    version running; the ``live_*`` fields describe what the deployment holds today, so an
    update asks only for the capacity it adds. ``keeps_live_model`` marks an update that keeps
    the live model version and SKU: it runs already, so only lifecycle and added quota are
    checked (as Azure checks an edit), not whether a new deployment could be made.
    ``version_deployed`` says the subscription already runs a deployment of the requested
    version, which is what Azure asks before it deploys a ``Deprecating`` one.
    """

    address: str
    model_name: str
    location: str
    model_format: str | None = None
    model_version: str | None = None
    sku_name: str | None = None
    capacity: int | None = None
    creating: bool = True
    live_model_name: str | None = None
    live_sku_name: str | None = None
    live_capacity: int = 0
    keeps_live_model: bool = False
    version_deployed: bool = False


@dataclass(frozen=True, slots=True)
class Finding:
    """Why a request cannot go ahead (or a warning): one diagnostic-to-be.

    ``reason`` is set for the six reasons of docs/preflight.md and None for other findings (capacity
    outside the SKU's range, lifecycle). ``path`` is the manifest field to change.
    """

    address: str
    severity: Severity
    summary: str
    detail: str
    path: str = ""
    reason: Unavailability | None = None

    def to_diagnostic(self) -> Diagnostic:
        return Diagnostic(self.severity, self.summary, self.detail, path=self.path,
                          address=self.address)


@dataclass(frozen=True, slots=True)
class Resolved:
    """A request that passed the region, version and SKU checks: what it will draw on.

    ``sku`` is the catalog's SKU under the name a deployment uses (``ProvisionedManaged`` for
    the catalog's ``Provisioned``)."""

    request: FoundryRequest
    entry: Mapping[str, Any]
    sku: Mapping[str, Any]
    capacity: int
    usage_name: str

    @property
    def label(self) -> str:
        return f"{self.entry['name']} {self.entry['version']}"

    @property
    def counted(self) -> int:
        """Capacity the live deployment already holds in this pool (freed by this write)."""
        req = self.request
        same_pool = same_sku(req.live_sku_name or "", str(self.sku["name"])) and \
            (req.live_model_name or "").lower() == str(self.entry["name"]).lower()
        return req.live_capacity if same_pool else 0

    @property
    def delta(self) -> int:
        return max(self.capacity - self.counted, 0)


def check_foundry(requests: Sequence[FoundryRequest], catalog: FoundryCatalog) -> list[Finding]:
    """Every finding for the plan's FoundryDeployment writes, quota summed per pool."""
    findings: list[Finding] = []
    resolved: list[Resolved] = []
    for request in requests:
        found, problems = evaluate(request, catalog)
        findings += problems
        if found is not None:
            resolved.append(found)
    return findings + check_quota(resolved, catalog)


def evaluate(request: FoundryRequest,
             catalog: FoundryCatalog) -> tuple[Resolved | None, list[Finding]]:
    """Seed 004 phases 2 and 3 for one request, short of quota: the first reason it fails."""
    req = request
    here = catalog.versions(req.location, req.model_format, req.model_name)
    version = req.model_version or (str(here[0]["version"]) if here else "")
    entry = catalog.entry(req.location, req.model_format, req.model_name, version)
    if entry is None and req.keeps_live_model:
        return None, []  # it runs already; whether a new one could be made is moot
    if not here:
        return None, [_not_in_region(req, catalog)]
    if entry is None:
        return None, [_version_missing(req, version, here, catalog)]
    lifecycle = _lifecycle(req, entry)
    if lifecycle and lifecycle.severity is Severity.ERROR:
        return None, [lifecycle]
    sku_name = req.sku_name or default_sku(entry)
    found = sku_of(entry, sku_name)
    if found is None and req.keeps_live_model:
        return None, [lifecycle] if lifecycle else []
    if found is None:
        return None, [_sku_missing(req, entry, sku_name, catalog)]
    sku = {**found, "name": deployment_sku_name(str(found["name"]))}
    capacity = req.capacity if req.capacity is not None else CapacityBounds.of(sku).default
    findings = [f for f in (lifecycle, _capacity_range(req, entry, sku, capacity)) if f]
    if any(f.severity is Severity.ERROR for f in findings):
        return None, findings
    return Resolved(req, entry, sku, capacity, usage_name_of(entry, str(sku["name"]))), findings


def check_quota(resolved: Iterable[Resolved], catalog: FoundryCatalog) -> list[Finding]:
    """Reasons 4 and 6: per quota pool, the capacity the plan adds against what is free."""
    pools: dict[tuple[str, str], list[Resolved]] = {}
    for item in resolved:
        if item.delta > 0:
            pools.setdefault((item.request.location.lower(), item.usage_name), []).append(item)
    findings: list[Finding] = []
    for (location, name), members in sorted(pools.items()):
        findings += _pool_findings(location, name, members, catalog)
    return findings


def free_units(catalog: FoundryCatalog, item: Resolved) -> tuple[float | None, str]:
    """What is free for ``item`` in its pool, and how we know (for the message).

    The pool's usage gives limit and use; modelCapacities may report less (regional capacity),
    in which case the smaller number wins. None when Azure told us neither.
    """
    usage = catalog.usage(item.request.location, item.usage_name)
    offer = next((o for o in catalog.offers(str(item.entry["format"]), str(item.entry["name"]),
                                            str(item.entry["version"]))
                  if o.location == item.request.location.lower()
                  and same_sku(o.sku, str(item.sku["name"]))), None)
    if usage is None and offer is None:
        return None, ""
    if usage is None:
        assert offer is not None
        return offer.available, f"available capacity {units(offer.available)}"
    known = f"limit {units(usage.limit)}, used {units(usage.current)}"
    if offer is not None and offer.available < usage.free:
        return offer.available, f"{known}, capacity available {units(offer.available)}"
    return usage.free, known


def _pool_findings(location: str, name: str, members: list[Resolved],
                   catalog: FoundryCatalog) -> list[Finding]:
    usage = catalog.usage(location, name)
    first = members[0]
    if (usage is not None and usage.blocked) or \
            (usage is not None and usage.limit == 0 and is_gated_sku(str(first.sku["name"]))):
        return [_gated(item, name, catalog) for item in members]
    free, known = free_units(catalog, first)
    needed = sum(item.delta for item in members)
    if free is None or needed <= free:
        return []
    shares = "; ".join(_share(m, named=len(members) > 1) for m in members[:MAX_SHARES])
    if len(members) > MAX_SHARES:
        # Every member of the pool gets this finding: listing them all makes N findings of N.
        shares += f"; and {len(members) - MAX_SHARES} more deployments"
    pool = f"quota pool {name} in {location}: {known}, this plan needs {needed} ({shares})."
    return [_no_quota(item, pool, needed, free, catalog) for item in members]


#: Deployments named in a pool's quota message; the rest are counted.
MAX_SHARES = 5


def _share(item: Resolved, named: bool) -> str:
    """``requested 150, already counted 0``, prefixed by the address when a pool has several."""
    share = f"requested {item.capacity}, already counted {item.counted}"
    return f"{item.request.address}: {share}" if named else share


# --- the findings, one function per reason -----------------------------------------------


def _not_in_region(req: FoundryRequest, catalog: FoundryCatalog) -> Finding:
    label = _label(req.model_name, req.model_version)
    elsewhere = catalog.regions_with(req.model_format, req.model_name)
    if not elsewhere and catalog.complete:
        return _error(req, Unavailability.MODEL_NOT_IN_SUBSCRIPTION,
                      f"{label} is not available in {req.location}", "spec.model.name",
                      f"No region of this subscription offers {req.model_name} "
                      f"({len(catalog.models)} regions checked). It may need approval (limited "
                      "access) or a subscription type this one is not: request access through "
                      "Azure support, or choose a model the subscription offers.")
    version = req.model_version or catalog.default_version(req.model_format, req.model_name)
    where = _nearby(catalog, req, version, req.sku_name, req.capacity or 1) \
        or ", ".join(elsewhere[:MAX_ALTERNATIVES])
    hint = f" Available in {where}." if where else " Other regions were not checked."
    return _error(req, Unavailability.MODEL_NOT_IN_REGION,
                  f"{label} is not available in {req.location}", "spec.account",
                  f"{req.location} (the account's region) offers no version of "
                  f"{req.model_name}.{hint} Use an account in one of those regions, or wait for "
                  f"the model to roll out to {req.location}.")


def _version_missing(req: FoundryRequest, version: str, here: list[Mapping[str, Any]],
                     catalog: FoundryCatalog) -> Finding:
    listed = ", ".join(str(m["version"]) + (" (default)" if m.get("isDefaultVersion") else "")
                       for m in here)
    listed_regions = catalog.regions_with(req.model_format, req.model_name, version)
    where = _nearby(catalog, req, version, req.sku_name, req.capacity or 1) or \
        ", ".join(listed_regions[:MAX_ALTERNATIVES])
    elsewhere = f" Version {version} is offered in {where}." if where else ""
    return _error(req, Unavailability.VERSION_NOT_AVAILABLE,
                  f"{_label(req.model_name, version)} is not available in {req.location}",
                  "spec.model.version",
                  f"Versions of {req.model_name} available in {req.location}: {listed}."
                  f"{elsewhere} Use an available version, or wait for {version} to roll out.")


def _sku_missing(req: FoundryRequest, entry: Mapping[str, Any], sku_name: str,
                 catalog: FoundryCatalog) -> Finding:
    here = ", ".join(sku_text(catalog, req.location, entry, s) for s in deployable_skus(entry))
    where = _nearby(catalog, req, str(entry["version"]), sku_name, req.capacity or 1)
    elsewhere = f" {sku_name} is offered for this version in {where}." if where else ""
    return _error(req, Unavailability.SKU_NOT_SUPPORTED,
                  f"SKU {sku_name} is not supported in {req.location} for "
                  f"{entry['name']} {entry['version']}", "spec.sku.name",
                  f"Supported here: {here or 'none'}.{elsewhere} Choose a supported SKU, or "
                  f"deploy in a region with {sku_name}.")


def _gated(item: Resolved, pool: str, catalog: FoundryCatalog) -> Finding:
    req, sku = item.request, str(item.sku["name"])
    others = _other_skus(catalog, item)
    hint = f" Other SKUs here: {others}." if others else ""
    return _error(req, Unavailability.DEPLOYMENT_TYPE_CONSTRAINT,
                  f"{item.label} cannot be deployed as {sku} in {req.location}", "spec.sku.name",
                  f"The quota pool {pool} is blocked for this subscription (limit 0): {sku} "
                  f"needs a subscription tier or an approval this subscription does not have."
                  f"{hint} Choose a widely available SKU, or request access to {sku}.")


def _no_quota(item: Resolved, pool: str, needed: int, free: float,
              catalog: FoundryCatalog) -> Finding:
    req, sku = item.request, str(item.sku["name"])
    where = _nearby(catalog, req, str(item.entry["version"]), sku, needed)
    others = _other_skus(catalog, item)
    moves = [f"lower the capacity to fit {units(free)} free units" if free else
             "wait for quota to be released", "request a quota increase"]
    if where:
        moves.append(f"deploy in {where}")
    if others:
        moves.append(f"use another SKU here: {others}")
    return _error(req, Unavailability.NO_QUOTA,
                  f"{item.label} {sku} in {req.location}: not enough quota",
                  "spec.sku.capacity", f"{pool[0].upper()}{pool[1:]} What to do: "
                  + "; or ".join(moves) + ".")


def _capacity_range(req: FoundryRequest, entry: Mapping[str, Any], sku: Mapping[str, Any],
                    capacity: int) -> Finding | None:
    bounds = CapacityBounds.of(sku)
    if bounds.fits(capacity):
        return None
    return Finding(req.address, Severity.ERROR,
                   f"{entry['name']} {entry['version']} {sku['name']}: capacity {capacity} is out "
                   f"of range", f"{sku['name']} takes a capacity of {bounds.text()} "
                   f"(default {bounds.default}). Set spec.sku.capacity accordingly.",
                   "spec.sku.capacity")


def _lifecycle(req: FoundryRequest, entry: Mapping[str, Any]) -> Finding | None:
    """A warning for a deprecating version; an error for creating a deprecated one (Azure
    refuses new deployments of it; an existing one keeps serving until retirement), and for
    creating a deprecating one in a subscription that runs none (Azure keeps those for the
    customers that already use them)."""
    status = str(entry.get("lifecycleStatus") or "")
    if status not in ("Deprecating", "Deprecated", "Legacy"):
        return None
    retires = ((entry.get("deprecation") or {}).get("inference") or "")[:10]
    when = f" (inference retires {retires})" if retires else ""
    target = entry.get("replacementConfig") or {}
    named = f"{target.get('targetModelName', '')} {target.get('targetModelVersion', '')}".strip()
    replacement = f"Replacement: {named}." if target.get("targetModelName") \
        else "Move to a newer version of the model."
    label = f"{entry['name']} {entry['version']}"
    if status == "Deprecated" and req.creating:
        return Finding(req.address, Severity.ERROR, f"{label} is deprecated{when}",
                       f"Azure refuses new deployments of a deprecated version. {replacement}",
                       "spec.model.version")
    if status == "Deprecating" and req.creating and not req.version_deployed:
        return Finding(req.address, Severity.ERROR, f"{label} is deprecating{when}",
                       "Azure deploys a deprecating version only for subscriptions that already "
                       f"run a deployment of it, and this one runs none. {replacement}",
                       "spec.model.version")
    return Finding(req.address, Severity.WARNING, f"{label} is {status.lower()}{when}",
                   f"{replacement} Plan the move before the retirement date.",
                   "spec.model.version")


# --- helpers ------------------------------------------------------------------------------


def _error(req: FoundryRequest, reason: Unavailability, summary: str, path: str,
           detail: str) -> Finding:
    return Finding(req.address, Severity.ERROR, f"{summary} ({reason.phrase})", detail, path,
                   reason)


def _label(name: str, version: str | None) -> str:
    return f"{name} {version}" if version else name


def _nearby(catalog: FoundryCatalog, req: FoundryRequest, version: str | None, sku: str | None,
            need: float) -> str:
    return alternatives(catalog, req.model_format, req.model_name, version, sku, need,
                        req.location)


def default_sku(entry: Mapping[str, Any]) -> str:
    """The SKU a request without one gets: GlobalStandard where offered, else the first (as a
    deployment names it)."""
    names = [str(s["name"]) for s in deployable_skus(entry)]
    return "GlobalStandard" if "GlobalStandard" in names or not names else names[0]


def _other_skus(catalog: FoundryCatalog, item: Resolved) -> str:
    """The version's other SKUs in the region that have quota free, with their numbers."""
    out = []
    for sku in deployable_skus(item.entry):
        if same_sku(str(sku["name"]), str(item.sku["name"])):
            continue
        usage = catalog.usage(item.request.location, usage_name_of(item.entry, str(sku["name"])))
        if usage is not None and not usage.blocked and usage.free > 0:
            out.append(sku_text(catalog, item.request.location, item.entry, sku))
    return ", ".join(out)
