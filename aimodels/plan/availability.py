"""The availability report of ``aimodels availability`` (docs/preflight.md phase 4), pure.

``availability_report`` takes a query (model, optional version, SKU and region) and a catalog
snapshot, runs the same checks as plan pre-flight (``preflight_foundry``: the six reasons, at
the SKU's default capacity), and builds the response Azure's availability check gives: SKU options
with ``isSupported``/``hasQuota``, version options, the capacity range, the regions where the
selected SKU is offered, plus what we add: the reason and what to do, and one row per region
and SKU with the units free.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from aimodels.errors import Severity
from aimodels.plan.preflight_catalog import (
    CapacityBounds,
    FoundryCatalog,
    deployable_skus,
    format_anywhere,
    sku_of,
    usage_name_of,
)
from aimodels.plan.preflight_foundry import (
    Finding,
    FoundryRequest,
    check_quota,
    default_sku,
    evaluate,
)


@dataclass(frozen=True, slots=True)
class AvailabilityQuery:
    """What ``aimodels availability`` was asked; None leaves the choice to Azure's defaults.
    ``version_deployed``: the subscription runs a deployment of the version already (Azure's
    condition for deploying a ``Deprecating`` one)."""

    model_name: str
    location: str
    model_format: str | None = None
    model_version: str | None = None
    sku_name: str | None = None
    version_deployed: bool = False


@dataclass(frozen=True, slots=True)
class RegionOffer:
    """One row of the report: a SKU of the selected version in a region, and its free units.

    ``available`` is None when Azure gave no number for it (a SKU of the home region whose
    pool does not appear in the usages). ``blocked`` marks a pool the subscription may not use
    at all (known for the deployment region, from its usages).
    """

    location: str
    sku: str
    is_supported: bool
    available: float | None
    blocked: bool = False

    @property
    def has_quota(self) -> bool:
        return bool(self.available)


@dataclass(frozen=True, slots=True)
class AvailabilityReport:
    """The availability check's answer to one query; ``to_dict`` is the ``--output json`` shape.

    ``version`` and ``sku`` are what the query resolves to (given, or Azure's defaults);
    ``entry`` is that version in the query's region (None when not offered there);
    ``versions`` every version offered there; ``offers`` the selected version per region and
    SKU; ``findings`` the reason it is unavailable (an error) and lifecycle warnings.
    """

    query: AvailabilityQuery
    model_format: str | None
    version: str | None
    sku: str | None
    entry: Mapping[str, Any] | None
    versions: tuple[Mapping[str, Any], ...]
    offers: tuple[RegionOffer, ...]
    findings: tuple[Finding, ...]

    @property
    def reason(self) -> Finding | None:
        """Why the model cannot be deployed as asked (None: it can)."""
        return next((f for f in self.findings if f.severity is Severity.ERROR), None)

    @property
    def available(self) -> bool:
        return self.reason is None

    @property
    def sku_supported(self) -> bool:
        return self.entry is not None and self.sku is not None \
            and sku_of(self.entry, self.sku) is not None

    def home_offers(self) -> list[RegionOffer]:
        return [o for o in self.offers if o.location == self.query.location.lower()]

    def to_dict(self) -> dict[str, Any]:
        """Seed 004's response, plus ``modelName``, ``available``, ``reason``, ``warnings``
        and ``regions`` (one item per region and SKU)."""
        reason = self.reason
        return {
            "modelFormat": self.model_format, "modelName": self.query.model_name,
            "skuSupported": self.sku_supported, "deploymentCategory": _category(self.model_format),
            "deploymentLocation": self.query.location.lower(), "available": self.available,
            "reason": _reason_dict(reason) if reason else None,
            "warnings": [{"summary": f.summary, "detail": f.detail} for f in self.findings
                         if f.severity is Severity.WARNING],
            "sku": self._sku_dict(), "version": self._version_dict(),
            "capacity": self._capacity_dict(),
            "regions": [{"location": o.location, "sku": o.sku, "isSupported": o.is_supported,
                         "hasQuota": o.has_quota, "availableCapacity": o.available,
                         "blocked": o.blocked} for o in self.offers],
        }

    def _sku_dict(self) -> dict[str, Any]:
        home = {o.sku: o for o in self.home_offers()}
        names = sorted({o.sku for o in self.offers}, key=lambda n: (n not in home, n))
        regions = sorted({o.location for o in self.offers if o.sku == self.sku and o.is_supported})
        return {"defaultSelection": self.sku,
                "options": [{"name": n, "isSupported": n in home and home[n].is_supported,
                             "hasQuota": n in home and home[n].has_quota} for n in names],
                "selectedSkuSupportedRegions": regions}

    def _version_dict(self) -> dict[str, Any]:
        return {"defaultSelection": self.version,
                "options": [{"name": str(m["version"]),
                             "isDefault": bool(m.get("isDefaultVersion")),
                             "lifecycleStatus": m.get("lifecycleStatus"),
                             "hasQuota": self._version_has_quota(m)} for m in self.versions]}

    def _capacity_dict(self) -> dict[str, Any] | None:
        sku = sku_of(self.entry, self.sku) if self.entry and self.sku else None
        if sku is None:
            return None
        bounds = CapacityBounds.of(sku)
        return {"defaultSelection": bounds.default, "minimum": bounds.minimum,
                "maximum": bounds.maximum, "step": bounds.step}

    def _version_has_quota(self, model: Mapping[str, Any]) -> bool:
        return any(o.has_quota for o in self.home_offers()
                   if sku_of(model, o.sku) is not None)


def availability_report(query: AvailabilityQuery, catalog: FoundryCatalog) -> AvailabilityReport:
    """Seed 004 phase 4 for ``query``: options, regions and the reason it is unavailable."""
    request = FoundryRequest(address="", model_name=query.model_name, location=query.location,
                             model_format=query.model_format, model_version=query.model_version,
                             sku_name=query.sku_name, version_deployed=query.version_deployed)
    resolved, findings = evaluate(request, catalog)
    if resolved is not None:
        findings += check_quota([resolved], catalog)
    here = catalog.versions(query.location, query.model_format, query.model_name)
    version = query.model_version or (str(here[0]["version"]) if here else
                                      catalog.default_version(query.model_format,
                                                              query.model_name))
    entry = catalog.entry(query.location, query.model_format, query.model_name, version or "")
    fmt = str(entry["format"]) if entry else \
        query.model_format or format_anywhere(catalog, query.model_name)
    sku = query.sku_name or (default_sku(entry) if entry else None)
    return AvailabilityReport(query, fmt, version, sku, entry, tuple(here),
                              _offers(catalog, query, fmt, version, entry), tuple(findings))


def _offers(catalog: FoundryCatalog, query: AvailabilityQuery, fmt: str | None,
            version: str | None, entry: Mapping[str, Any] | None) -> tuple[RegionOffer, ...]:
    """Per region and SKU, from modelCapacities; the home region's SKUs from its models and
    usages (so a SKU offered here but absent from modelCapacities still shows)."""
    home = query.location.lower()
    rows = {(o.location, o.sku): RegionOffer(o.location, o.sku, True, o.available)
            for o in (catalog.offers(fmt, query.model_name, version) if fmt and version else ())}
    for sku in deployable_skus(entry or {}):
        name = str(sku["name"])
        usage = catalog.usage(home, usage_name_of(entry or {}, name))
        listed = rows.get((home, name))
        free = listed.available if listed else None if usage is None else usage.free
        blocked = bool(usage and usage.blocked)
        rows[(home, name)] = RegionOffer(home, name, True, 0.0 if blocked else free, blocked)
    return tuple(sorted(rows.values(), key=lambda o: (o.location != home, o.location, o.sku)))


def _category(model_format: str | None) -> str:
    """Seed 004's ``deploymentCategory``: ``AOAI`` for Azure OpenAI, else ``AIServices``."""
    return "AOAI" if (model_format or "").lower() == "openai" else "AIServices"


def _reason_dict(finding: Finding) -> dict[str, Any]:
    return {"code": finding.reason.value if finding.reason else "Unavailable",
            "phrase": finding.reason.phrase if finding.reason else None,
            "summary": finding.summary, "detail": finding.detail}
