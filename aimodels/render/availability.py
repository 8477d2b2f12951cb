"""Tables for ``aimodels availability`` and ``aimodels cost``, as strings (rich, no I/O).

The availability table has one row per region and SKU of the selected model version (the
deployment region first), then the versions offered there and, when the model cannot be
deployed as asked, the reason and what to do. The cost table is calculateCost's ranked plans.
Colour is the caller's choice, as for plans.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from rich import box
from rich.console import Console, RenderableType
from rich.padding import Padding
from rich.table import Table
from rich.text import Text

from aimodels.plan.availability import AvailabilityReport, RegionOffer
from aimodels.plan.preflight_catalog import CapacityBounds, sku_of, units
from aimodels.plan.preflight_cost import HOURS_PER_MONTH, CostPlan, CostQuote
from aimodels.render.plan_cost import money

#: Tables: wide enough that rich never truncates a VM size. Prose wraps at a reading width.
WIDTH = 200
PROSE_WIDTH = 100


def render_availability(report: AvailabilityReport, *, color: bool = False) -> str:
    """The report as a headline, a region/SKU table, the versions, and the reason if any."""
    parts: list[RenderableType] = [_headline(report)]
    if report.offers:
        parts.append(_offers_table(report))
    if report.versions:
        parts.append(Text(f"Versions in {report.query.location}: " + ", ".join(
            _version_text(report, m) for m in report.versions)))
    prose: list[RenderableType] = []
    for finding in report.findings:
        style = "red" if finding is report.reason else "yellow"
        prose.append(Text(f"\n{finding.summary}", style=f"bold {style}"))
        prose.append(Padding(Text(finding.detail), (0, 0, 0, 2)))
    return _to_string(parts, color) + (_to_string(prose, color, PROSE_WIDTH) if prose else "")


def _headline(report: AvailabilityReport) -> Text:
    query = report.query
    what = " ".join(p for p in (query.model_name, report.version) if p)
    fmt = f" ({report.model_format})" if report.model_format else ""
    if report.available:
        return Text(f"{what}{fmt} can be deployed in {query.location} as {report.sku}.",
                    style="bold green")
    return Text(f"{what}{fmt} cannot be deployed in {query.location}"
                f"{' as ' + report.sku if report.sku else ''}.", style="bold red")


def _offers_table(report: AvailabilityReport) -> Table:
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
    for column in ("Region", "SKU", "Supported", "Quota", "Free units", "Capacity"):
        table.add_column(column, justify="right" if column == "Free units" else "left")
    for offer in report.offers:
        quota = "blocked" if offer.blocked else _yes(offer.has_quota)
        table.add_row(offer.location, offer.sku, _yes(offer.is_supported), quota,
                      _free(offer), _capacity(report, offer),
                      style="bold" if offer.sku == report.sku else None)
    return table


def _free(offer: RegionOffer) -> str:
    return "?" if offer.available is None else units(offer.available)


def _capacity(report: AvailabilityReport, offer: RegionOffer) -> str:
    """min-max and default: known for the deployment region's SKUs (from its models)."""
    home = offer.location == report.query.location.lower()
    sku = sku_of(report.entry, offer.sku) if home and report.entry else None
    if sku is None:
        return "-"
    bounds = CapacityBounds.of(sku)
    return f"{bounds.text()}, default {bounds.default}"


def _version_text(report: AvailabilityReport, model: Mapping[str, Any]) -> str:
    notes = [n for n in ("default" if model.get("isDefaultVersion") else "",
                         str(model.get("lifecycleStatus") or "")) if n]
    return f"{model['version']} ({', '.join(notes)})" if notes else str(model["version"])


@dataclass(frozen=True, slots=True)
class CostView:
    """What ``aimodels cost`` shows: the model, where it was priced, and calculateCost's answer."""

    model: str
    location: str
    quote: CostQuote
    price_as_of: str | None = None


def render_cost(view: CostView, *, color: bool = False) -> str:
    """calculateCost's plans ranked (feasible first, cheapest first), one row each."""
    quote = view.quote
    replicas = f"{quote.replicas} replica" + ("s" if quote.replicas != 1 else "")
    as_of = f", prices as of {view.price_as_of[:10]}" if view.price_as_of else ""
    head = Text(f"{view.model} in {view.location}, {replicas} ({quote.currency}{as_of})",
                style="bold")
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
    for column in _COST_COLUMNS:
        table.add_column(column, justify="right" if column in _NUMERIC else "left")
    for rank, plan in enumerate(quote.plans, start=1):
        table.add_row(*_cost_row(rank, plan, quote), style=None if plan.feasible else "dim")
    why = [Text(f"{p.vm_size}: {p.infeasible_message}") for p in quote.plans
           if not p.feasible and p.infeasible_message]
    notes = _to_string([Text(""), *why], color, PROSE_WIDTH) if why else ""
    return _to_string([head, table], color) + notes


_COST_COLUMNS = ("#", "VM size", "GPUs/replica", "Quantization", "VMs/replica", "Per VM/h",
                 "Total/h", "Per month", "Feasible")
_NUMERIC = {"#", "VMs/replica", "Per VM/h", "Total/h", "Per month"}


def _cost_row(rank: int, plan: CostPlan, quote: CostQuote) -> tuple[str, ...]:
    hourly = plan.hourly(quote.replicas)
    gpus = "-"
    if plan.gpus_per_vm:
        gpus = f"{plan.gpus_per_vm * plan.vms_per_replica}x {plan.gpu_type or 'GPU'}"
    feasible = "yes" if plan.feasible else f"no: {plan.infeasible_code or 'infeasible'}"
    return (str(rank), plan.vm_size, gpus, plan.quantization or "-", str(plan.vms_per_replica),
            money(plan.vm_hourly_price, quote.currency), money(hourly, quote.currency),
            money(hourly * HOURS_PER_MONTH, quote.currency), feasible)


def _yes(value: bool) -> str:
    return "yes" if value else "no"


def _to_string(parts: list[RenderableType], color: bool, width: int = WIDTH) -> str:
    sink = io.StringIO()
    console = Console(file=sink, force_terminal=color, color_system="standard" if color else None,
                      width=width, no_color=not color, highlight=False, emoji=False,
                      markup=False)
    for part in parts:
        console.print(part)
    lines = [line.rstrip() for line in sink.getvalue().splitlines()]
    return "\n".join(lines).rstrip() + "\n"
