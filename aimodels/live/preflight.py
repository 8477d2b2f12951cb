"""Pre-flight: what a plan would meet in Azure, found before anything moves.

``run_preflight`` is the entry point ``plan`` calls after ``make_plan``. It reads through
this package's readers (the Foundry catalog, capacities and quota; calculateCost; AIModels and
ModelSources) and hands the answers to the pure checks of ``aimodels.plan``:
``preflight_foundry`` (the six unavailability reasons, quota summed per pool; see
docs/preflight.md), ``preflight_cost`` (ModelDeployment feasibility and hourly price),
``preflight_gated`` (a gated model needs a ModelSource with a credential). What it finds goes
back into the plan: diagnostics (errors make the plan errored, so it cannot be applied),
``Change.cost``, and ``Change.notes`` (``upload 13.5 GB``, ``weights unchanged``). The
translation from changes to check requests, and the merge back, are pure and live here.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Awaitable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from aimodels.errors import AuthError, Diagnostic, RemoteError, error, warning
from aimodels.live.availability import FoundryReader, ModelNeed
from aimodels.live.pricing import PriceReader
from aimodels.model.address import ResourceAddress
from aimodels.model.arm import arm_id, arm_parents, catalog_model_name
from aimodels.model.desired import DesiredState, Stack
from aimodels.model.kinds import CUSTOM_MODEL, FOUNDRY_DEPLOYMENT, MODEL_DEPLOYMENT, MODEL_SOURCE
from aimodels.plan.preflight_catalog import FoundryCatalog
from aimodels.plan.preflight_cost import (
    HOURS_PER_MONTH,
    CostOutcome,
    CostRequest,
    Sizing,
    evaluate_cost,
)
from aimodels.plan.preflight_foundry import FoundryRequest, check_foundry
from aimodels.plan.preflight_gated import GatedRequest, SourceState, check_gated
from aimodels.plan.values import Action, Change, LiveState, Plan
from aimodels.transport.client import AzureClient
from aimodels.transport.errors import unexpected_shapes
from aimodels.weights.source import local_root, shown_path
from aimodels.weights.units import human_size

#: Actions that write a deployment, and so must pass the availability checks.
WRITES = (Action.CREATE, Action.UPDATE, Action.REPLACE)


async def run_preflight(plan: Plan, desired: DesiredState, live: LiveState,
                        client: AzureClient) -> Plan:
    """The plan with pre-flight diagnostics, costs and notes added (flags derived again).

    ``live`` is accepted for symmetry with the planner; the changes already carry the live
    side (``Change.before``). A read that fails (other than for auth) turns into a warning
    that the check was skipped rather than failing the plan.
    """
    stack = desired.stack
    catalog = FoundryReader(client, stack.subscription_id)
    prices = PriceReader(client, stack.subscription_id)
    foundry, costs, gated = await asyncio.gather(
        _guarded("availability", _foundry_diagnostics(plan, stack, catalog)),
        _guarded("cost", _cost_outcomes(plan, stack, prices)),
        _guarded("model access", _gated_diagnostics(plan, desired, prices)))
    outcomes, cost_diags = costs.value or ({}, [])
    diagnostics = [*foundry.skipped, *costs.skipped, *gated.skipped, *(foundry.value or []),
                   *cost_diags, *(gated.value or [])]
    return with_preflight(plan, desired, diagnostics, outcomes)


@dataclass(frozen=True, slots=True)
class _Guarded:
    value: Any
    skipped: tuple[Diagnostic, ...] = ()


async def _guarded(what: str, work: Awaitable[Any]) -> _Guarded:
    try:
        # The checks read Azure's answers and the live specs: a field of the wrong type in
        # them skips the checks like any unexpected response, it does not crash the plan.
        with unexpected_shapes(f"Azure (pre-flight {what} checks)"):
            return _Guarded(await work)
    except AuthError:
        raise
    except RemoteError as exc:
        return _Guarded(None, (warning(f"pre-flight {what} checks were skipped: {exc.message}",
                                       "Azure could not be read for them; the plan is shown "
                                       "without them."),))


# --- FoundryDeployment --------------------------------------------------------------------


async def _foundry_diagnostics(plan: Plan, stack: Stack,
                               reader: FoundryReader) -> list[Diagnostic]:
    changes = [c for c in plan.changes if c.address.kind == FOUNDRY_DEPLOYMENT
               and c.action in WRITES and c.after and not _is_custom(c.after)]
    if not changes:
        return []
    accounts = sorted({str(a) for c in changes if (a := (c.after or {}).get("account"))})
    bodies = await asyncio.gather(*(reader.account(stack.resource_group, a) for a in accounts))
    regions = {a: _region(b) for a, b in zip(accounts, bodies, strict=True) if b}
    requests, diagnostics = foundry_requests(changes, regions, stack)
    if not requests:
        return diagnostics
    catalog = await reader.read_catalog(ModelNeed(r.model_name, r.location, r.model_format,
                                                  r.model_version) for r in requests)
    requests = await _with_deployed_versions(requests, catalog, reader)
    return diagnostics + [f.to_diagnostic() for f in check_foundry(requests, catalog)]


async def _with_deployed_versions(requests: list[FoundryRequest], catalog: FoundryCatalog,
                                  reader: FoundryReader) -> list[FoundryRequest]:
    """Mark the creates of a ``Deprecating`` version the subscription already runs (the
    deployments of every account are read only when the plan has such a create)."""
    keys = [_deprecating_create(r, catalog) for r in requests]
    if not any(keys):
        return requests
    running = await reader.deployed_versions()
    return [dataclasses.replace(r, version_deployed=key in running) if key else r
            for r, key in zip(requests, keys, strict=True)]


def _deprecating_create(request: FoundryRequest,
                        catalog: FoundryCatalog) -> tuple[str, str, str] | None:
    """``(format, name, version)`` lower-cased when ``request`` creates a deployment of a
    version the catalog says is ``Deprecating``; None otherwise."""
    here = catalog.versions(request.location, request.model_format, request.model_name)
    version = request.model_version or (str(here[0]["version"]) if here else "")
    entry = catalog.entry(request.location, request.model_format, request.model_name, version)
    if not (request.creating and entry and entry.get("lifecycleStatus") == "Deprecating"):
        return None
    return (str(entry.get("format", "")).lower(), str(entry.get("name", "")).lower(),
            version.lower())


def foundry_requests(changes: Iterable[Change], regions: Mapping[str, str],
                     stack: Stack) -> tuple[list[FoundryRequest], list[Diagnostic]]:
    """The check request of each FoundryDeployment write; an error where the account is missing."""
    requests, diagnostics = [], []
    for change in changes:
        after = change.after or {}
        account = str(after.get("account") or "")
        if account not in regions:
            diagnostics.append(error(
                f"Foundry account {account or '(none)'} not found in resource group "
                f"{stack.resource_group}", "A FoundryDeployment needs an existing Foundry "
                "(AIServices) account: create it, or set spec.account (or the Stack's "
                "foundryAccount) to one that exists.", address=str(change.address),
                path="spec.account"))
            continue
        requests.append(foundry_request(change, regions[account]))
    return requests, diagnostics


def foundry_request(change: Change, location: str) -> FoundryRequest:
    """One FoundryDeployment write as the checks see it; the live side counts only when it
    is in the same account (the same region and pool)."""
    after, before = change.after or {}, change.before or {}
    model, sku = after.get("model") or {}, after.get("sku") or {}
    same_account = str(before.get("account", "")).lower() == str(after.get("account")).lower()
    live_model = (before.get("model") or {}) if same_account else {}
    live_sku = (before.get("sku") or {}) if same_account else {}
    version = model.get("version")
    return FoundryRequest(
        address=str(change.address), model_name=str(model.get("name", "")), location=location,
        model_format=model.get("format"), model_version=str(version) if version else None,
        sku_name=sku.get("name"), capacity=sku.get("capacity"),
        creating=change.action is not Action.UPDATE, live_model_name=live_model.get("name"),
        live_sku_name=live_sku.get("name"), live_capacity=int(live_sku.get("capacity") or 0),
        keeps_live_model=change.action is Action.UPDATE and _same_model(model, live_model)
        and str(sku.get("name", "")).lower() == str(live_sku.get("name", "")).lower())


def _same_model(planned: Mapping[str, Any], live: Mapping[str, Any]) -> bool:
    return all(str(planned.get(k, "")).lower() == str(live.get(k, "")).lower()
               for k in ("format", "name", "version"))


def _is_custom(spec: Mapping[str, Any]) -> bool:
    """A custom model is not in the Foundry catalog: its checks are the registry's."""
    return bool((spec.get("model") or {}).get("custom"))


def _region(body: Mapping[str, Any]) -> str:
    return str(body.get("location", "")).replace(" ", "").lower()


# --- ModelDeployment ----------------------------------------------------------------------


async def _cost_outcomes(plan: Plan, stack: Stack, reader: PriceReader
                         ) -> tuple[dict[ResourceAddress, CostOutcome], list[Diagnostic]]:
    changes = [c for c in plan.changes
               if c.address.kind == MODEL_DEPLOYMENT and c.action is not Action.NOOP]
    managers = sorted({_manager(c) for c in changes} - {""})
    found = await asyncio.gather(*(reader.manager_location(stack.resource_group, m)
                                   for m in managers))
    regions = {m: loc for m, loc in zip(managers, found, strict=True) if loc}
    requests, diagnostics = cost_requests(changes, regions, stack)
    quotes = await reader.quotes(k for r in requests.values() for k in r.quote_keys())
    return {a: evaluate_cost(r, quotes) for a, r in requests.items()}, diagnostics


def cost_requests(changes: Iterable[Change], regions: Mapping[str, str], stack: Stack
                  ) -> tuple[dict[ResourceAddress, CostRequest], list[Diagnostic]]:
    """The cost request of each ModelDeployment change; an error where the AI manager is
    missing (a delete of one whose manager is gone is just not priced)."""
    requests, diagnostics = {}, []
    for change in changes:
        manager = _manager(change)
        if manager not in regions:
            if change.action is not Action.DELETE:
                diagnostics.append(error(
                    f"AI manager {manager or '(none)'} not found in resource group "
                    f"{stack.resource_group}", "A ModelDeployment needs an existing AI manager: "
                    "set spec.aiManager (or the Stack's aiManager) to one that exists.",
                    address=str(change.address), path="spec.aiManager"))
            continue
        requests[change.address] = CostRequest(str(change.address), change.action,
                                               regions[manager], sizing_of(change.before),
                                               sizing_of(change.after))
    return requests, diagnostics


def sizing_of(spec: Mapping[str, Any] | None) -> Sizing | None:
    """How a ModelDeployment spec (desired or live, normalized) is sized."""
    if not spec or not spec.get("vmSize"):
        return None
    model = spec.get("model") or {}
    scale = spec.get("scale") or {}
    auto = scale.get("autoscale")
    floor = int((auto or {}).get("minReplicas") or 1) if auto else int(scale.get("replicas") or 1)
    ceiling = (auto or {}).get("maxReplicas") if auto else floor
    name, label = _model_name(model)
    return Sizing(name, label, str(spec["vmSize"]), floor,
                  int(ceiling) if ceiling is not None else None, bool(auto))


def _model_name(model: Mapping[str, Any]) -> tuple[str | None, str]:
    """(AIModel resource name, label): a catalog id or name, or None for a custom model."""
    if model.get("custom"):
        return None, f"custom model {model['custom']}"
    catalog = str(model.get("catalog") or "")
    if catalog.startswith("/"):
        name = arm_parents(catalog).get("aimodels") or catalog.rsplit("/", 1)[-1]
        return name, f"AIModel {name}"
    return catalog_model_name(catalog), catalog


def _manager(change: Change) -> str:
    spec = change.after or change.before or {}
    return str(spec.get("aiManager") or "")


async def _gated_diagnostics(plan: Plan, desired: DesiredState,
                             reader: PriceReader) -> list[Diagnostic]:
    """Gated catalog models without a ModelSource that has a credential (preflight_gated).
    A deployment whose AI manager is missing is left to the cost check, which says so."""
    changes = [c for c in plan.changes if c.address.kind == MODEL_DEPLOYMENT
               and c.action in WRITES and c.after]
    managers = sorted({_manager(c) for c in changes} - {""})
    found = await asyncio.gather(*(reader.manager_location(desired.stack.resource_group, m)
                                   for m in managers))
    regions = {m: loc for m, loc in zip(managers, found, strict=True) if loc}
    requests = await asyncio.gather(*(gated_request(c, desired, regions[_manager(c)], reader)
                                      for c in changes if _manager(c) in regions))
    return check_gated(list(requests))


async def gated_request(change: Change, desired: DesiredState, location: str,
                        reader: PriceReader) -> GatedRequest:
    """What the gated check needs of one ModelDeployment write: the AIModel's restriction and
    license, and the state of the ModelSource it names."""
    after = change.after or {}
    name, label = _model_name(after.get("model") or {})
    ai_model = await reader.ai_model(location, name) if name else None
    spec = ((ai_model or {}).get("properties") or {}).get("spec") or {}
    source = after.get("modelSource")
    state, declared = await _source_state(str(source) if source else None, _manager(change),
                                          desired, reader)
    return GatedRequest(
        address=str(change.address), model=label,
        restricted=bool(spec.get("isRestricted")) if ai_model else None,
        license=spec.get("license"), source=str(source) if source else None,
        source_state=state, ai_manager=_manager(change), declared=declared)


async def _source_state(source: str | None, manager: str, desired: DesiredState,
                        reader: PriceReader) -> tuple[SourceState, bool]:
    """(state, declared in the manifests) of the ModelSource a deployment names."""
    if not source:
        return SourceState.NONE, False
    if not source.startswith("/"):
        mine = desired.resources.get(ResourceAddress(MODEL_SOURCE, source))
        if mine is not None:
            has = bool(mine.spec.get("credential"))
            return (SourceState.CREDENTIAL if has else SourceState.NO_CREDENTIAL), True
    resource_id = source if source.startswith("/") else arm_id(
        desired.stack, "Microsoft.ContainerService", "aiManagers", manager, "modelSources",
        source)
    live = await reader.model_source(resource_id)
    if live is None:
        return SourceState.MISSING, False
    has = bool((live.get("properties") or {}).get("credential"))
    return (SourceState.CREDENTIAL if has else SourceState.NO_CREDENTIAL), False


# --- CustomModel --------------------------------------------------------------------------


def custom_model_notes(change: Change, source: str | None = None) -> tuple[str, ...]:
    """What moves for a CustomModel, and from where: ``upload 13.5 GB from
    weights/llama.safetensors (sha256 3f2a…)``, or ``weights unchanged
    (weights/llama.safetensors, sha256 3f2a…)``. ``source`` is the resolved local path as
    ``weights_source`` shows it (None: not said)."""
    if change.address.kind != CUSTOM_MODEL or change.action is Action.DELETE:
        return ()
    weights = (change.after or {}).get("weights") or {}
    if not weights.get("sha256"):
        return ()
    digest = f"sha256 {weights['sha256'][:4]}…"
    live = (change.before or {}).get("weights") or {}
    if change.action in (Action.CREATE, Action.REPLACE) or live.get("sha256") != weights["sha256"]:
        origin = f" from {source}" if source else ""
        return (f"upload {human_size(int(weights.get('size') or 0))}{origin} ({digest})",)
    return (f"weights unchanged ({source + ', ' if source else ''}{digest})",)


def weights_source(desired: DesiredState, address: ResourceAddress) -> str | None:
    """Where a CustomModel's local weights really are (links resolved): relative to the Stack's
    folder under it, else absolute, so a reviewer of the plan sees which files would go."""
    resource = desired.resources.get(address)
    root = local_root(resource) if resource is not None else None
    return shown_path(root, desired.stack.base_dir) if root is not None else None


# --- merging back -------------------------------------------------------------------------


def with_preflight(plan: Plan, desired: DesiredState, diagnostics: Sequence[Diagnostic],
                   costs: Mapping[ResourceAddress, CostOutcome]) -> Plan:
    """The plan with costs, notes and diagnostics added; diagnostics get the manifest location
    of the field they name, so they print as ``file:line:col``."""
    changes = tuple(_updated(c, costs.get(c.address), weights_source(desired, c.address))
                    for c in plan.changes)
    extra = [*diagnostics, *(d for o in costs.values() for d in o.diagnostics)]
    located = [_located(d, desired) for d in extra]
    return dataclasses.replace(plan, changes=changes).with_diagnostics(located)


def _updated(change: Change, outcome: CostOutcome | None, source: str | None) -> Change:
    notes = custom_model_notes(change, source) + (outcome.notes if outcome else ())
    cost = outcome.estimate if outcome and outcome.estimate else change.cost
    if not notes and cost is change.cost:
        return change
    return dataclasses.replace(change, cost=cost, notes=change.notes + notes)


def _located(diag: Diagnostic, desired: DesiredState) -> Diagnostic:
    if diag.source is not None or not diag.address:
        return diag
    try:
        resource = desired.resources.get(ResourceAddress.parse(diag.address))
    except ValueError:
        return diag
    if resource is None:
        return diag
    source = resource.field_sources.get(diag.path) or resource.source
    return dataclasses.replace(diag, source=source)


@dataclass(frozen=True, slots=True)
class PlanCost:
    """The compute price of everything a plan prices, before and after, per hour and month."""

    currency: str
    hourly_before: float
    hourly_after: float

    @property
    def hourly_delta(self) -> float:
        return round(self.hourly_after - self.hourly_before, 6)

    @property
    def monthly_delta(self) -> float:
        """The hourly delta over a 730-hour month (Azure's pricing-calculator month)."""
        return round(self.hourly_delta * HOURS_PER_MONTH, 2)

    def to_dict(self) -> dict[str, Any]:
        return {"currency": self.currency, "hourlyAfter": round(self.hourly_after, 6),
                "hourlyBefore": round(self.hourly_before, 6), "hourlyDelta": self.hourly_delta,
                "monthlyDelta": self.monthly_delta}


def plan_cost(plan: Plan) -> PlanCost | None:
    """The plan's total cost delta, or None when pre-flight priced nothing."""
    priced = [c.cost for c in plan.changes if c.cost is not None]
    if not priced:
        return None
    return PlanCost(priced[0].currency, sum(c.hourly_before or 0.0 for c in priced),
                    sum(c.hourly_after or 0.0 for c in priced))
