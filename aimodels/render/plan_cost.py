"""Prices in plan output: one change's hourly cost, and the delta of the whole plan.

Prices come from pre-flight (``Change.cost``, from calculateCost); nothing here computes a
price. A month is 730 hours, as Azure's pricing calculator counts it. Totals are kept per
currency: prices in two currencies are never added together.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

from aimodels.plan.values import Change, CostEstimate
from aimodels.render.diagnostics import counted

#: Hours in a month, as Azure's pricing calculator counts them.
HOURS_PER_MONTH = 730

_SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£"}


@dataclass(frozen=True, slots=True)
class CostTotal:
    """How much more (negative: less) the changes of a plan cost per hour, in one currency."""

    currency: str
    hourly_delta: float
    priced: int

    @property
    def monthly_delta(self) -> float:
        return self.hourly_delta * HOURS_PER_MONTH


def money(amount: float, currency: str, *, signed: bool = False) -> str:
    """``$3.67``, ``-$3.68``, ``+$3.68`` (``signed``); cents, or 4 places for tiny prices."""
    places = 4 if 0 < abs(amount) < 0.005 else 2
    sign = "-" if amount < 0 else ("+" if signed and amount > 0 else "")
    digits = f"{abs(amount):,.{places}f}"
    unit = _SYMBOLS.get(currency)
    return f"{sign}{unit}{digits}" if unit else f"{sign}{digits} {currency}"


def hourly_delta(cost: CostEstimate) -> str:
    """``+$3.68/h``: what one change adds to the hourly bill."""
    return f"{money(cost.hourly_delta, cost.currency, signed=True)}/h"


def cost_line(cost: CostEstimate) -> str:
    """``cost: $3.67/h -> $7.35/h (+$3.68/h)``; nothing running on a side counts as zero."""
    before = money(cost.hourly_before or 0.0, cost.currency)
    after = money(cost.hourly_after or 0.0, cost.currency)
    return f"cost: {before}/h -> {after}/h ({hourly_delta(cost)})"


def cost_totals(changes: Iterable[Change]) -> list[CostTotal]:
    """The summed hourly delta of the priced changes, one total per currency, sorted."""
    by_currency: dict[str, list[float]] = {}
    for change in changes:
        if change.cost is not None:
            by_currency.setdefault(change.cost.currency, []).append(change.cost.hourly_delta)
    return [CostTotal(cur, math.fsum(deltas), len(deltas))
            for cur, deltas in sorted(by_currency.items())]


def total_line(total: CostTotal) -> str:
    """``+$3.68/h, +$2,686.40/month (730 h) over 2 priced changes``."""
    hourly = money(total.hourly_delta, total.currency, signed=True)
    monthly = money(total.monthly_delta, total.currency, signed=True)
    return (f"{hourly}/h, {monthly}/month ({HOURS_PER_MONTH} h) over "
            f"{counted(total.priced, 'priced change')}")
