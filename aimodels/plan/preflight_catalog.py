"""The Foundry catalog facts pre-flight reasons over, as one inert snapshot (pre-flight phases 2-3).

``FoundryCatalog`` holds what Azure answered, parsed from the wire shapes of
``azure-contracts.md`` §1.5: the model versions each region offers (``locations/{l}/models``),
the free capacity per region and SKU of each model version (the subscription-wide
``modelCapacities``), and the quota pools of each region (``usages``). It is built by
``aimodels.live.availability`` and read by the pure checks of ``preflight_foundry``; nothing
here does I/O, so tests build one from JSON.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

#: How many alternative regions a finding lists.
MAX_ALTERNATIVES = 5

#: SKUs whose quota a subscription only gets with a tier or an approval (pre-flight's sixth reason):
#: a pool of these at limit 0 is a deployment-type constraint, not an empty quota.
GATED_SKU_MARKERS = ("Provisioned", "Batch")

CapacityKey = tuple[str, str, str]


def capacity_key(model_format: str, name: str, version: str) -> CapacityKey:
    """How capacities are keyed: names compare case-insensitively in ARM."""
    return (model_format.lower(), name.lower(), version.lower())


@dataclass(frozen=True, slots=True)
class Usage:
    """One quota pool of a region (``usages`` item): ``limit`` units, ``current`` in use."""

    name: str
    limit: float
    current: float
    status: str | None = None

    @property
    def free(self) -> float:
        return max(self.limit - self.current, 0)

    @property
    def blocked(self) -> bool:
        """The subscription may not draw on this pool at all (Azure's ``status: Blocked``)."""
        return (self.status or "").lower() == "blocked"


@dataclass(frozen=True, slots=True)
class Offer:
    """A model version offered in a region with a SKU, and the capacity free there."""

    location: str
    sku: str
    available: float


@dataclass(frozen=True, slots=True)
class FoundryCatalog:
    """What Azure said about models, capacities and quota, for one pre-flight run.

    ``models`` maps a region to the model versions it offers (the flat model shape, with
    ``skus``). ``capacities`` maps ``capacity_key(format, name, version)`` to the offers of
    that version across the subscription. ``usages`` maps a region to its pools by name.
    ``complete`` is True when ``models`` covers every region the subscription can use, which
    is what it takes to say a model is in no region (reason 1) rather than not found nearby.
    """

    models: Mapping[str, tuple[Mapping[str, Any], ...]] = field(default_factory=dict)
    capacities: Mapping[CapacityKey, tuple[Offer, ...]] = field(default_factory=dict)
    usages: Mapping[str, Mapping[str, Usage]] = field(default_factory=dict)
    complete: bool = False

    def versions(self, location: str, model_format: str | None,
                 name: str) -> list[Mapping[str, Any]]:
        """The versions of a model offered in ``location``, the default first."""
        found = [m for m in self.models.get(location.lower(), ())
                 if same_model(m, model_format, name)]
        return sorted(found, key=lambda m: (not m.get("isDefaultVersion"), str(m["version"])))

    def entry(self, location: str, model_format: str | None, name: str,
              version: str) -> Mapping[str, Any] | None:
        """One model version in ``location``, if offered there."""
        return next((m for m in self.versions(location, model_format, name)
                     if str(m["version"]).lower() == version.lower()), None)

    def regions_with(self, model_format: str | None, name: str,
                     version: str | None = None) -> list[str]:
        """Regions (of those read) offering the model, or that version of it."""
        return sorted(loc for loc, models in self.models.items()
                      if any(same_model(m, model_format, name)
                             and (version is None or str(m["version"]).lower() == version.lower())
                             for m in models))

    def default_version(self, model_format: str | None, name: str,
                        prefer: str = "") -> str | None:
        """The version Azure deploys when none is given: ``prefer``'s default, else any region's."""
        for loc in (prefer.lower(), *sorted(self.models)):
            versions = self.versions(loc, model_format, name) if loc else []
            if versions:
                return str(versions[0]["version"])
        return None

    def offers(self, model_format: str, name: str, version: str) -> tuple[Offer, ...]:
        """Where that version can be deployed, per region and SKU (modelCapacities)."""
        return self.capacities.get(capacity_key(model_format, name, version), ())

    def usage(self, location: str, usage_name: str) -> Usage | None:
        """The quota pool ``usage_name`` of ``location`` (names compare case-insensitively)."""
        pools = self.usages.get(location.lower(), {})
        return pools.get(usage_name) or next(
            (u for n, u in pools.items() if n.lower() == usage_name.lower()), None)


def same_model(entry: Mapping[str, Any], model_format: str | None, name: str) -> bool:
    """Whether a catalog entry is the named model (any format when ``model_format`` is None)."""
    if str(entry.get("name", "")).lower() != name.lower():
        return False
    return model_format is None or str(entry.get("format", "")).lower() == model_format.lower()


#: The catalog names a deployment SKU goes by, when they differ from the deployment's own. Azure's
#: location models call the regional provisioned SKU ``Provisioned`` (``provisioned`` in the
#: spec examples; ``Provisioned_MultiModal`` and ``Provisioned_Image`` are variants of it with
#: larger minimums), while a deployment of it says ``sku.name: ProvisionedManaged``; a few
#: versions list ``ProvisionedManaged`` itself, which then wins (tests/fixtures/azure).
CATALOG_SKU_ALIASES: Mapping[str, tuple[str, ...]] = {
    "provisionedmanaged": ("ProvisionedManaged", "Provisioned"),
}


def deployment_sku_name(catalog_name: str) -> str:
    """The ``sku.name`` a deployment uses for a catalog SKU: ``Provisioned`` is
    ``ProvisionedManaged``, the rest keep their name."""
    for deployment_name, aliases in CATALOG_SKU_ALIASES.items():
        if catalog_name.lower() in (a.lower() for a in aliases):
            return next(a for a in aliases if a.lower() == deployment_name)
    return catalog_name


def same_sku(a: str, b: str) -> bool:
    """Whether two SKU names (deployment or catalog spelling, any case) are the same SKU."""
    return deployment_sku_name(a).lower() == deployment_sku_name(b).lower()


def sku_of(entry: Mapping[str, Any], sku_name: str) -> Mapping[str, Any] | None:
    """The SKU a deployment naming ``sku_name`` uses, of a model version in the region it was
    read for: the catalog's own spelling first, then its aliases (``Provisioned``)."""
    skus = list(entry.get("skus") or ())
    names = CATALOG_SKU_ALIASES.get(sku_name.lower(), (sku_name,))
    for name in names:
        found: Mapping[str, Any] | None = next(
            (s for s in skus if str(s.get("name", "")).lower() == name.lower()), None)
        if found is not None:
            return found
    return None


def deployable_skus(entry: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The SKUs of a model version as a deployment names them, one per deployment SKU (a
    version listing both ``ProvisionedManaged`` and ``Provisioned`` offers one SKU; the
    ``Provisioned_MultiModal``/``Provisioned_Image`` variants are no SKU a deployment names)."""
    seen: dict[str, Mapping[str, Any]] = {}
    for sku in entry.get("skus") or ():
        if str(sku.get("name", "")).lower().startswith("provisioned_"):
            continue
        name = deployment_sku_name(str(sku.get("name", "")))
        chosen = sku_of(entry, name)
        if name.lower() not in seen and chosen is not None:
            seen[name.lower()] = {**chosen, "name": name}
    return list(seen.values())


@dataclass(frozen=True, slots=True)
class CapacityBounds:
    """A SKU's ``capacity`` with Azure's gaps filled: real catalogs often leave out ``minimum``
    and ``step`` (Standard, GlobalStandard, Batch) or ``default`` (Global and DataZone
    provisioned). A missing minimum or step is 1; a missing default is the minimum, which is
    what a deployment that names no capacity gets. ``maximum`` None: no upper bound given."""

    minimum: int
    maximum: int | None
    step: int
    default: int
    allowed: tuple[int, ...] = ()

    @classmethod
    def of(cls, sku: Mapping[str, Any]) -> CapacityBounds:
        capacity = sku.get("capacity")
        raw: Mapping[str, Any] = capacity if isinstance(capacity, Mapping) else {}
        minimum = _whole(raw.get("minimum"), 1)
        maximum = raw.get("maximum")
        return cls(minimum, None if maximum is None else _whole(maximum, 0),
                   max(_whole(raw.get("step"), 1), 1), _whole(raw.get("default"), minimum),
                   tuple(_whole(v, 0) for v in raw.get("allowedValues") or ()))

    def fits(self, capacity: int) -> bool:
        if self.allowed:
            return capacity in self.allowed
        within = self.minimum <= capacity and (self.maximum is None or capacity <= self.maximum)
        return within and capacity % self.step == 0

    def text(self) -> str:
        """``15-30000 in steps of 5``, ``1-1000000``, ``one of 1, 2``: for people."""
        if self.allowed:
            return "one of " + ", ".join(map(str, self.allowed))
        high = "" if self.maximum is None else str(self.maximum)
        steps = f" in steps of {self.step}" if self.step > 1 else ""
        return f"{self.minimum}-{high}{steps}" if high else f"at least {self.minimum}{steps}"


def _whole(value: Any, fallback: int) -> int:
    """A capacity number as an int (Azure may send ``15.0``); ``fallback`` when absent."""
    if value is None or isinstance(value, bool):
        return fallback
    try:
        return int(float(value))
    except (TypeError, ValueError):
        return fallback


def usage_name_of(entry: Mapping[str, Any], sku_name: str) -> str:
    """The quota pool a SKU draws on: ``skus[].usageName``, else Azure's naming convention
    (which spells the regional provisioned pool ``OpenAI.Provisioned.<model>``)."""
    sku = sku_of(entry, sku_name)
    if sku and sku.get("usageName"):
        return str(sku["usageName"])
    prefix = "OpenAI" if str(entry.get("format")) == "OpenAI" else "AIServices"
    pool = "Provisioned" if same_sku(sku_name, "ProvisionedManaged") else sku_name
    return f"{prefix}.{pool}.{entry.get('name')}"


def is_gated_sku(sku_name: str) -> bool:
    return any(marker.lower() in sku_name.lower() for marker in GATED_SKU_MARKERS)


# --- parsing the wire shapes --------------------------------------------------------------


def catalog_from_wire(location_models: Mapping[str, Iterable[Mapping[str, Any]]],
                      capacities: Mapping[CapacityKey, Iterable[Mapping[str, Any]]],
                      usages: Mapping[str, Iterable[Mapping[str, Any]]],
                      complete: bool = False) -> FoundryCatalog:
    """A catalog from the raw ``value`` items of each list operation."""
    return FoundryCatalog(
        models={loc.lower(): tuple(unwrap_model(i) for i in items)
                for loc, items in location_models.items()},
        capacities={key: tuple(_offer(i) for i in items) for key, items in capacities.items()},
        usages={loc.lower(): {u.name: u for u in (_usage(i) for i in items)}
                for loc, items in usages.items()},
        complete=complete,
    )


def unwrap_model(item: Mapping[str, Any]) -> Mapping[str, Any]:
    """A model version of a catalog listing: location models wrap each in ``model``; account
    models do not."""
    model = item.get("model")
    return model if isinstance(model, Mapping) else item


def _offer(item: Mapping[str, Any]) -> Offer:
    props = item.get("properties") or {}
    location = str(item.get("location") or "").replace(" ", "").lower()
    sku = deployment_sku_name(str(props.get("skuName") or item.get("name") or ""))
    return Offer(location, sku, _number(props.get("availableCapacity")))


def _usage(item: Mapping[str, Any]) -> Usage:
    name = item.get("name") or {}
    value = name.get("value") if isinstance(name, Mapping) else str(name)
    return Usage(str(value), _number(item.get("limit")), _number(item.get("currentValue")),
                 item.get("status"))


def _number(value: Any) -> float:
    """Azure types capacities as floats; keep whole numbers whole so JSON shows ``300``."""
    number = float(value or 0)
    return int(number) if number.is_integer() else number


# --- describing offers to people -----------------------------------------------------------


def alternatives(catalog: FoundryCatalog, model_format: str | None, name: str,
                 version: str | None, sku: str | None, need: float, exclude: str) -> str:
    """Other regions offering that version (with ``sku`` when given) and ``need`` units free."""
    if version is None:
        return ""
    entry_format = model_format or format_anywhere(catalog, name)
    offers = [o for o in catalog.offers(entry_format or "", name, version)
              if o.location != exclude.lower() and o.available >= need
              and (sku is None or same_sku(o.sku, sku))]
    by_region: dict[str, list[str]] = {}
    for offer in sorted(offers, key=lambda o: (-o.available, o.location, o.sku)):
        by_region.setdefault(offer.location, []).append(
            f"{offer.sku}, {units(offer.available)} units free")
    picked = list(by_region.items())[:MAX_ALTERNATIVES]
    return ", ".join(f"{loc} ({'; '.join(skus)})" for loc, skus in picked)


def format_anywhere(catalog: FoundryCatalog, name: str) -> str | None:
    """The format of a model named ``name`` in any region read (for a request without one)."""
    for models in catalog.models.values():
        for model in models:
            if str(model.get("name", "")).lower() == name.lower():
                return str(model.get("format"))
    return None


def sku_text(catalog: FoundryCatalog, location: str, entry: Mapping[str, Any],
             sku: Mapping[str, Any]) -> str:
    """``Standard (capacity 1-100, 300 units free)``: a SKU of a version in a region."""
    usage = catalog.usage(location, usage_name_of(entry, str(sku["name"])))
    free = "" if usage is None else ", blocked for this subscription" if usage.blocked \
        else f", {units(usage.free)} units free"
    name = deployment_sku_name(str(sku["name"]))
    return f"{name} (capacity {CapacityBounds.of(sku).text()}{free})"


def units(value: float) -> str:
    """A capacity as people write it: ``450``, not ``450.0``."""
    return str(int(value)) if float(value).is_integer() else f"{value:g}"
