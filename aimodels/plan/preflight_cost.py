"""Pre-flight and cost of ModelDeployment changes through calculateCost (docs/preflight.md), pure.

A ``CostRequest`` says how a deployment is sized before and after the change (``Sizing``); it
names the calculateCost quotes it needs (``quote_keys``), and ``evaluate_cost`` turns those
quotes into the change's ``CostEstimate``, notes and findings. Prices are computed here as
``replicas x vmsPerReplica x vmHourlyPrice`` rather than read from ``totalHourlyPrice``, which
Azure omits for infeasible plans (the live size of a running deployment is often "infeasible"
only because the deployment itself holds the quota).

Feasibility, per action: a create is checked at the replicas it reserves (``maxReplicas``
under autoscale, since quota is held for the ceiling); an update only for the replicas it adds
(the running ones already hold their GPUs); a replace like a create, except that a shortage
of quota is a warning, because the replaced deployment's GPUs are released first and
calculateCost cannot credit them. ``InefficientDeployment`` is a warning (it deploys; it is
not recommended); ``RegionUnavailable``, ``InsufficientQuota`` and a size calculateCost does not
list are errors.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from aimodels.errors import Diagnostic, error, warning
from aimodels.plan.values import Action, CostEstimate

HOURS_PER_MONTH = 730
#: How many feasible alternatives a finding lists.
MAX_ALTERNATIVES = 3


@dataclass(frozen=True, slots=True)
class CostPlan:
    """One ranked plan of calculateCost: a VM size, how the model fits it, what it costs."""

    vm_size: str
    vm_hourly_price: float
    vms_per_replica: int = 1
    quantization: str | None = None
    total_hourly_price: float | None = None
    feasible: bool = True
    infeasible_code: str | None = None
    infeasible_message: str | None = None
    gpus_per_vm: int | None = None
    gpu_type: str | None = None

    def hourly(self, replicas: int) -> float:
        """The price of ``replicas`` replicas on this size, per hour."""
        return round(replicas * self.vms_per_replica * self.vm_hourly_price, 6)

    def describe(self) -> str:
        """``Standard_NC24ads_A100_v4 ($3.67/h per replica, fp16, 1 VM per replica)``."""
        quant = f", {self.quantization}" if self.quantization else ""
        vms = "VM" if self.vms_per_replica == 1 else "VMs"
        return (f"{self.vm_size} ({money(self.hourly(1))}/h per replica{quant}, "
                f"{self.vms_per_replica} {vms} per replica)")


@dataclass(frozen=True, slots=True)
class CostQuote:
    """calculateCost's answer for one model, location and replica count."""

    replicas: int
    currency: str
    plans: tuple[CostPlan, ...]

    def plan_for(self, vm_size: str) -> CostPlan | None:
        return next((p for p in self.plans if p.vm_size.lower() == vm_size.lower()), None)

    def cheapest_feasible(self, limit: int = MAX_ALTERNATIVES) -> list[CostPlan]:
        feasible = [p for p in self.plans if p.feasible]
        return sorted(feasible, key=lambda p: (p.hourly(self.replicas), p.vm_size))[:limit]


def parse_quote(body: Mapping[str, Any]) -> CostQuote:
    """A CostQuote from the calculateCost response body."""
    return CostQuote(int(body.get("replicas") or 1), str(body.get("currency") or "USD"),
                     tuple(_plan(p) for p in body.get("plans") or ()))


def _plan(item: Mapping[str, Any]) -> CostPlan:
    return CostPlan(
        vm_size=str(item["vmSize"]), vm_hourly_price=float(item.get("vmHourlyPrice") or 0),
        vms_per_replica=int(item.get("vmsPerReplica") or 1), quantization=item.get("quantization"),
        total_hourly_price=item.get("totalHourlyPrice"), feasible=bool(item.get("feasible")),
        infeasible_code=item.get("infeasibleCode"),
        infeasible_message=item.get("infeasibleMessage"),
        gpus_per_vm=item.get("gpusPerVm"), gpu_type=item.get("gpuType"))


@dataclass(frozen=True, slots=True)
class Sizing:
    """How a ModelDeployment is sized: model, VM size, replicas.

    ``model`` is the AIModel resource name (None for a custom model, which calculateCost cannot
    price); ``model_label`` what to print. ``floor`` is the replica count (``minReplicas``
    under autoscale); ``ceiling`` is ``maxReplicas`` (None when the service derives it).
    """

    model: str | None
    model_label: str
    vm_size: str
    floor: int
    ceiling: int | None
    autoscale: bool = False

    @property
    def reserved(self) -> int:
        """The replicas whose GPUs the deployment holds quota for."""
        return self.ceiling if self.autoscale and self.ceiling else self.floor


@dataclass(frozen=True, slots=True)
class QuoteKey:
    """One calculateCost call: which model, where, for how many replicas."""

    model: str
    location: str
    replicas: int


@dataclass(frozen=True, slots=True)
class CostRequest:
    """A ModelDeployment change to price and check. ``location`` is its AI manager's region."""

    address: str
    action: Action
    location: str
    before: Sizing | None
    after: Sizing | None

    @property
    def added_replicas(self) -> int:
        """What an update adds over the live replicas (what it must find quota for)."""
        if self.before is None or self.after is None:
            return 0
        return self.after.reserved - self.before.reserved

    def check_key(self) -> QuoteKey | None:
        """The quote that says whether the planned side is feasible (None: nothing to check)."""
        after = self.after
        if after is None or after.model is None or self.action is Action.DELETE:
            return None
        if self.action is Action.UPDATE:
            return QuoteKey(after.model, self.location, max(self.added_replicas, 1))
        return QuoteKey(after.model, self.location, after.reserved)

    def price_key(self) -> QuoteKey | None:
        """A quote that prices the live side (prices do not depend on the replica count)."""
        before, check = self.before, self.check_key()
        if before is None or before.model is None:
            return None
        if check is not None and check.model == before.model:
            return check
        return QuoteKey(before.model, self.location, 1)

    def quote_keys(self) -> set[QuoteKey]:
        return {k for k in (self.check_key(), self.price_key()) if k is not None}


@dataclass(frozen=True, slots=True)
class CostOutcome:
    """What pre-flight found for one ModelDeployment change."""

    estimate: CostEstimate | None
    notes: tuple[str, ...] = ()
    diagnostics: tuple[Diagnostic, ...] = ()


def evaluate_cost(request: CostRequest,
                  quotes: Mapping[QuoteKey, CostQuote | None]) -> CostOutcome:
    """Price the change before and after, and check the planned size is feasible."""
    check = request.check_key()
    quote = quotes.get(check) if check else None
    price = request.price_key()
    live_quote = quotes.get(price) if price else None
    diagnostics = _feasibility(request, quote) if check else []
    before = _price(request.before, live_quote)
    after = _price(request.after, quote) if request.action is not Action.DELETE else None
    notes = _notes(request, quote, live_quote)
    priced = quote or live_quote
    currency = priced.currency if priced else "USD"
    if before is None and after is None:
        return CostOutcome(None, notes, tuple(diagnostics))
    return CostOutcome(CostEstimate(currency, before, after), notes, tuple(diagnostics))


def _price(sizing: Sizing | None, quote: CostQuote | None) -> float | None:
    if sizing is None or quote is None:
        return None
    plan = quote.plan_for(sizing.vm_size)
    return plan.hourly(sizing.floor) if plan else None


def _feasibility(request: CostRequest, quote: CostQuote | None) -> list[Diagnostic]:
    after = request.after
    assert after is not None  # check_key() is set only with a planned side
    if request.action is Action.UPDATE and request.added_replicas <= 0:
        return []  # the running replicas already hold their size and quota
    where = dict(address=request.address, path="spec.vmSize")
    if quote is None:
        return [error(f"{after.model_label} is not in the model catalog of {request.location}",
                      "calculateCost found no AIModel of that name there; list the catalog with "
                      "`aimodels models list --type base`.", address=request.address,
                      path="spec.model.catalog")]
    plan = quote.plan_for(after.vm_size)
    if plan is None:
        return [error(f"{after.vm_size} cannot host {after.model_label} in {request.location}",
                      f"calculateCost lists no plan on {after.vm_size} for this model."
                      f"{_cheapest(quote)}", **where)]
    if plan.feasible:
        return []
    return [_infeasible(request, after, plan, quote, where)]


def _infeasible(request: CostRequest, after: Sizing, plan: CostPlan, quote: CostQuote,
                where: dict[str, str]) -> Diagnostic:
    code = plan.infeasible_code or "Infeasible"
    scope = (f"adding {request.added_replicas} replica(s)" if request.action is Action.UPDATE
             else f"{quote.replicas} replica(s)")
    summary = f"{after.vm_size} is not feasible for {after.model_label} in {request.location} " \
              f"({code}, {scope})"
    detail = f"{plan.infeasible_message or 'calculateCost marks this plan infeasible.'}" \
             f"{_cheapest(quote)}"
    if code == "InefficientDeployment":
        return warning(summary, detail + " It deploys, but is not recommended.", **where)
    if code == "InsufficientQuota" and request.action is Action.REPLACE:
        return warning(summary, detail + " The replaced deployment releases its GPUs first, "
                       "which calculateCost does not count: apply may still succeed.", **where)
    return error(summary, detail, **where)


def _cheapest(quote: CostQuote) -> str:
    options = quote.cheapest_feasible()
    if not options:
        return " No size is feasible for this model here."
    return " Cheapest feasible: " + ", ".join(p.describe() for p in options) + "."


def _notes(request: CostRequest, quote: CostQuote | None,
           live_quote: CostQuote | None) -> tuple[str, ...]:
    notes = []
    for side, sizing in (("live", request.before), ("planned", request.after)):
        if sizing is not None and sizing.model is None:
            notes.append(f"{side} cost not estimated: calculateCost prices catalog models only "
                         f"({sizing.model_label})")
    after = request.after
    if after is not None and after.autoscale and request.action is not Action.DELETE:
        notes.append(_autoscale_note(after, quote))
    return tuple(notes)


def _autoscale_note(after: Sizing, quote: CostQuote | None) -> str:
    plan = quote.plan_for(after.vm_size) if quote else None
    floor = f" ({money(plan.hourly(after.floor))}/h)" if plan else ""
    if after.ceiling is None:
        return (f"autoscale: priced at minReplicas {after.floor}{floor}; the service derives "
                "maxReplicas from the GPU quota, so the ceiling is not known")
    ceiling = f" ({money(plan.hourly(after.ceiling))}/h)" if plan else ""
    return (f"autoscale: priced at minReplicas {after.floor}{floor}; up to maxReplicas "
            f"{after.ceiling}{ceiling}")


def money(amount: float) -> str:
    """``$3.67``; a negative amount as ``-$3.67``."""
    sign = "-" if amount < 0 else ""
    return f"{sign}${abs(amount):,.2f}"

